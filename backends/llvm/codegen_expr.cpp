// Expressions, with the semantics documented in core/ir/expr.h (the interpreter's).
#include "backends/llvm/codegen_impl.h"
#include "core/ir/bound.h"
#include "core/ir/simplify.h"

namespace kiln::llvm_backend {

namespace {

// Whether evaluating `e` can fault when its value is not wanted: a load whose indices are not
// provably inside its tensor over the enclosing loops (e.g. in padding, or read from data), or
// an integer division by anything but a positive constant (the divisor may be zero). Loads
// that stay in bounds do not count, so a select between two functions of the same elements
// (erfinv's two polynomials) is a plain select whose sides share their loads and math, not two
// masked evaluations.
bool may_fault(const Expr& e, const VarExtents& loops) {
  struct Finder : ExprVisitor {
    const VarExtents* loops = nullptr;
    bool found = false;
    void visit_load(const LoadNode* n) override {
      const std::vector<int64_t>& shape = n->tensor->shape;
      if (n->indices.size() != shape.size()) {
        found = true;
        return;
      }
      for (size_t d = 0; d < shape.size(); ++d) {
        auto range = const_bounds(n->indices[d], *loops);
        if (!range || range->first < 0 || range->second >= shape[d]) found = true;
      }
      ExprVisitor::visit_load(n);  // what the indices compute (a load, a division) may fault too
    }
    void visit_binary(const BinaryNode* n) override {
      bool division = n->op == BinaryOp::Div || n->op == BinaryOp::FloorDiv ||
                      n->op == BinaryOp::FloorMod || n->op == BinaryOp::Mod;
      auto divisor = as_const_int(n->b);
      if (division && !is_float(n->a.dtype()) && !(divisor && *divisor > 0)) found = true;
      ExprVisitor::visit_binary(n);
    }
  } finder;
  finder.loops = &loops;
  finder.visit(e);
  return finder.found;
}

}  // namespace

const BinaryNode* as_float_mul(const Expr& e) {
  const BinaryNode* n = e.as<BinaryNode>();
  return n && n->op == BinaryOp::Mul && is_float(n->dtype) ? n : nullptr;
}

llvm::Value* KernelCodegen::emit(const Expr& e) {
  switch (e.kind()) {
    case ExprKind::IntImm: {
      // Exact: through a double, INT64_MAX (the identity of an int64 min) would become 2^63,
      // which wraps to INT64_MIN.
      int64_t v = e.as<IntImmNode>()->value;
      if (is_float(e.dtype())) return constant(e.dtype(), static_cast<double>(v));
      return llvm::ConstantInt::get(reg_type(e.dtype()), v, /*IsSigned=*/true);
    }
    case ExprKind::FloatImm: return constant(e.dtype(), e.as<FloatImmNode>()->value);
    case ExprKind::Var: return emit_var(e.as<VarNode>());
    case ExprKind::Binary: return emit_binary(e.as<BinaryNode>());
    case ExprKind::Unary: return emit_unary(e.as<UnaryNode>());
    case ExprKind::Select: return emit_select(e.as<SelectNode>());
    case ExprKind::Cast: {
      const CastNode* n = e.as<CastNode>();
      return emit_cast(emit(n->value), n->value.dtype(), n->dtype);
    }
    case ExprKind::Load: return emit_load(e.as<LoadNode>());
    case ExprKind::Reduce: fail(str_cat("a reduction is left in the loop IR: ", e));
  }
  throw InternalError(str_cat(__FILE__, ": ", "unknown expression kind"));
}

llvm::Value* KernelCodegen::emit_var(const VarNode* n) {
  auto it = scope_.vars.find(n);
  if (it == scope_.vars.end()) fail(str_cat("variable '", n->name, "' is not bound by a loop"));
  llvm::Value* v = it->second;
  if (n->dtype == DType::I32) return b_.CreateTrunc(v, like(b_.getInt32Ty(), v));
  KILN_CHECK(n->dtype == DType::I64, "loop variable ", n->name, " of dtype ", n->dtype);
  return v;
}

llvm::Value* KernelCodegen::emit_binary(const BinaryNode* n) {
  DType t = n->a.dtype();
  if (is_float(t) && (n->op == BinaryOp::Add || n->op == BinaryOp::Sub)) {
    // a*b + c and a*b - c as one fused multiply-add where the target has one.
    const BinaryNode* mul = as_float_mul(n->a);
    Expr addend = n->b;
    if (!mul && n->op == BinaryOp::Add) {
      mul = as_float_mul(n->b);
      addend = n->a;
    }
    if (mul) {
      llvm::Value* x = emit(mul->a);
      llvm::Value* y = emit(mul->b);
      llvm::Value* c = emit(addend);
      if (n->op == BinaryOp::Sub) c = b_.CreateFNeg(c);
      unify(x, y);
      unify(x, c);
      unify(y, c);
      return call_intrinsic(llvm::Intrinsic::fmuladd, {x, y, c});
    }
  }
  if (llvm::Value* lanes = lane_compare(n)) return lanes;
  llvm::Value* a = emit(n->a);
  llvm::Value* b = emit(n->b);
  unify(a, b);
  if (n->op >= BinaryOp::Eq && n->op <= BinaryOp::Ge) return emit_compare(n->op, t, a, b);
  return emit_arith(n->op, t, a, b);
}

// max/min as PyTorch computes them: a NaN in either operand wins; of two equal values (+0 and
// -0) either may come back. x86 does the select in one vmaxps/vminps and the NaN in a compare
// and a masked move, two instructions fewer than llvm.maximum, which also orders the zeros.
llvm::Value* KernelCodegen::nan_propagating_extreme(llvm::CmpInst::Predicate wins, llvm::Value* a,
                                                    llvm::Value* b) {
  llvm::Value* extreme = b_.CreateSelect(b_.CreateFCmp(wins, a, b), a, b);
  return b_.CreateSelect(b_.CreateFCmpUNO(a, b), b_.CreateFAdd(a, b), extreme);
}

llvm::Value* KernelCodegen::emit_arith(BinaryOp op, DType t, llvm::Value* a, llvm::Value* b) {
  using llvm::Intrinsic::ID;
  llvm::Value* zero = llvm::Constant::getNullValue(a->getType());
  if (is_float(t)) {
    switch (op) {
      case BinaryOp::Add: return b_.CreateFAdd(a, b);
      case BinaryOp::Sub: return b_.CreateFSub(a, b);
      case BinaryOp::Mul: return b_.CreateFMul(a, b);
      case BinaryOp::Div: return b_.CreateFDiv(a, b);
      case BinaryOp::Mod: return b_.CreateFRem(a, b);
      case BinaryOp::FloorDiv: return float_floor_div(a, b);
      case BinaryOp::FloorMod: {
        llvm::Value* r = b_.CreateFRem(a, b);
        llvm::Value* fix =
            b_.CreateAnd(b_.CreateFCmpUNE(r, zero),
                         b_.CreateXor(b_.CreateFCmpOLT(r, zero), b_.CreateFCmpOLT(b, zero)));
        return b_.CreateSelect(fix, b_.CreateFAdd(r, b), r);
      }
      case BinaryOp::Min: return nan_propagating_extreme(llvm::CmpInst::FCMP_OLT, a, b);
      case BinaryOp::Max: return nan_propagating_extreme(llvm::CmpInst::FCMP_OGT, a, b);
      case BinaryOp::Pow: return call_libm("pow", t, {a, b});
      case BinaryOp::Atan2:
      case BinaryOp::Hypot: return call_libm(std::string(binary_op_name(op)), t, {a, b});
      case BinaryOp::Copysign: return call_intrinsic(llvm::Intrinsic::copysign, {a, b});
      case BinaryOp::Zeta: return call_libm("kiln_zeta", t, {a, b});  // special_math.h
      default: break;
    }
  } else {
    // Integers wrap like the interpreter's (no nsw); divisions truncate like C.
    switch (op) {
      case BinaryOp::Add: return b_.CreateAdd(a, b);
      case BinaryOp::Sub: return b_.CreateSub(a, b);
      case BinaryOp::Mul: return b_.CreateMul(a, b);
      case BinaryOp::Div:
      case BinaryOp::Mod:
      case BinaryOp::FloorDiv:
      case BinaryOp::FloorMod: {
        // A kernel never traps: x / 0 gives 0 (the interpreter reports it as an error), and
        // x / -1 is computed as -x so that INT_MIN / -1 wraps as in the interpreter.
        llvm::Value* by_minus_one =
            b_.CreateICmpEQ(b, llvm::Constant::getAllOnesValue(b->getType()));
        llvm::Value* by_zero = b_.CreateICmpEQ(b, zero);
        llvm::Value* divisor = b_.CreateSelect(b_.CreateOr(by_minus_one, by_zero),
                                               llvm::ConstantInt::get(b->getType(), 1), b);
        llvm::Value* q = b_.CreateSelect(by_minus_one, b_.CreateNeg(a), b_.CreateSDiv(a, divisor));
        q = b_.CreateSelect(by_zero, zero, q);
        llvm::Value* r =
            b_.CreateSelect(b_.CreateOr(by_minus_one, by_zero), zero, b_.CreateSRem(a, divisor));
        if (op == BinaryOp::Div) return q;
        if (op == BinaryOp::Mod) return r;
        // The remainder and the divisor differ in sign: C rounded up, Python rounds down.
        llvm::Value* fix =
            b_.CreateAnd(b_.CreateICmpNE(r, zero), b_.CreateICmpSLT(b_.CreateXor(r, b), zero));
        if (op == BinaryOp::FloorMod) return b_.CreateSelect(fix, b_.CreateAdd(r, b), r);
        return b_.CreateSub(q, b_.CreateZExt(fix, a->getType()));
      }
      case BinaryOp::Min: return call_intrinsic(llvm::Intrinsic::smin, {a, b});
      case BinaryOp::Max: return call_intrinsic(llvm::Intrinsic::smax, {a, b});
      case BinaryOp::Pow: return int_pow(a, b);
      case BinaryOp::And: return b_.CreateAnd(a, b);
      case BinaryOp::Or: return b_.CreateOr(a, b);
      case BinaryOp::Xor: return b_.CreateXor(a, b);
      default: break;
    }
  }
  throw InternalError(str_cat(__FILE__, ": ", "binary op ", op, " on ", t));
}

llvm::Value* KernelCodegen::float_floor_div(llvm::Value* a, llvm::Value* b) {
  // Python's a // b the way c10::div_floor_floating (and the interpreter) computes it.
  llvm::Value* zero = llvm::Constant::getNullValue(a->getType());
  llvm::Value* one = llvm::ConstantFP::get(a->getType(), 1.0);
  llvm::Value* quotient = b_.CreateFDiv(a, b);
  llvm::Value* mod = b_.CreateFRem(a, b);
  llvm::Value* div = b_.CreateFDiv(b_.CreateFSub(a, mod), b);
  llvm::Value* fix =
      b_.CreateAnd(b_.CreateFCmpUNE(mod, zero),
                   b_.CreateXor(b_.CreateFCmpOLT(b, zero), b_.CreateFCmpOLT(mod, zero)));
  div = b_.CreateSelect(fix, b_.CreateFSub(div, one), div);
  llvm::Value* floor = call_intrinsic(llvm::Intrinsic::floor, {div});
  llvm::Value* up =
      b_.CreateFCmpOGT(b_.CreateFSub(div, floor), llvm::ConstantFP::get(a->getType(), 0.5));
  llvm::Value* result = b_.CreateSelect(up, b_.CreateFAdd(floor, one), floor);
  llvm::Value* signed_zero = call_intrinsic(llvm::Intrinsic::copysign, {zero, quotient});
  result = b_.CreateSelect(b_.CreateFCmpOEQ(div, zero), signed_zero, result);
  return b_.CreateSelect(b_.CreateFCmpOEQ(b, zero), quotient, result);
}

llvm::Value* KernelCodegen::emit_compare(BinaryOp op, DType t, llvm::Value* a, llvm::Value* b) {
  using P = llvm::CmpInst::Predicate;
  static constexpr P kFloat[] = {P::FCMP_OEQ, P::FCMP_UNE, P::FCMP_OLT,
                                 P::FCMP_OLE, P::FCMP_OGT, P::FCMP_OGE};
  static constexpr P kSigned[] = {P::ICMP_EQ,  P::ICMP_NE,  P::ICMP_SLT,
                                  P::ICMP_SLE, P::ICMP_SGT, P::ICMP_SGE};
  static constexpr P kBool[] = {P::ICMP_EQ,  P::ICMP_NE,  P::ICMP_ULT,
                                P::ICMP_ULE, P::ICMP_UGT, P::ICMP_UGE};  // false < true
  int i = static_cast<int>(op) - static_cast<int>(BinaryOp::Eq);
  if (is_float(t)) return b_.CreateFCmp(kFloat[i], a, b);
  return b_.CreateICmp(t == DType::Bool ? kBool[i] : kSigned[i], a, b);
}

llvm::Value* KernelCodegen::inline_f32(UnaryOp op, llvm::Value* a) {
  switch (op) {
    case UnaryOp::Exp: return exp_f32(a);
    case UnaryOp::Tanh: return tanh_f32(a);
    case UnaryOp::Erf: return erf_f32(a);
    case UnaryOp::Atanh: return atanh_f32(a);
    case UnaryOp::I0:
    case UnaryOp::I0e:
    case UnaryOp::I1:
    case UnaryOp::I1e: return bessel_f32(op, a);
    case UnaryOp::Digamma: return digamma_f32(a);
    case UnaryOp::Trigamma: return trigamma_f32(a);
    case UnaryOp::Ndtri: return ndtri_f32(a);
    default: return nullptr;
  }
}

llvm::Value* KernelCodegen::emit_unary(const UnaryNode* n) {
  DType t = n->a.dtype();
  llvm::Value* a = emit(n->a);
  using I = llvm::Intrinsic::ID;
  auto intrinsic = [&](I id) { return call_intrinsic(id, {a}); };
  // NOTE: F16 and BF16 ops compute in f32, so only F32 and F64 reach the float cases below.
  if (t == DType::F32)
    if (llvm::Value* v = inline_f32(n->op, a)) return v;
  if (!is_float(t)) {
    switch (n->op) {
      case UnaryOp::Neg: return b_.CreateNeg(a);
      case UnaryOp::Not: return b_.CreateNot(a);
      case UnaryOp::Abs: return call_intrinsic(llvm::Intrinsic::abs, {a, b_.getFalse()});
      case UnaryOp::Floor:
      case UnaryOp::Ceil:
      case UnaryOp::Round:
      case UnaryOp::Trunc: return a;
      case UnaryOp::IsNan: return llvm::Constant::getNullValue(like(b_.getInt1Ty(), a));
      default: break;
    }
  }
  switch (n->op) {
    case UnaryOp::Neg: return b_.CreateFNeg(a);
    case UnaryOp::Abs: return intrinsic(llvm::Intrinsic::fabs);
    case UnaryOp::Exp: return call_libm("exp", t, {a});
    case UnaryOp::Exp2: return call_libm("exp2", t, {a});
    case UnaryOp::Log: return call_libm("log", t, {a});
    case UnaryOp::Log1p: return call_libm("log1p", t, {a});
    case UnaryOp::Expm1: return call_libm("expm1", t, {a});
    case UnaryOp::Sin: return call_libm("sin", t, {a});
    case UnaryOp::Cos: return call_libm("cos", t, {a});
    case UnaryOp::Tanh: return call_libm("tanh", t, {a});
    case UnaryOp::Erf: return call_libm("erf", t, {a});
    case UnaryOp::Atanh: return call_libm("atanh", t, {a});
    case UnaryOp::Sqrt: return intrinsic(llvm::Intrinsic::sqrt);
    case UnaryOp::Rsqrt:
      return b_.CreateFDiv(llvm::ConstantFP::get(a->getType(), 1.0),
                           intrinsic(llvm::Intrinsic::sqrt));
    case UnaryOp::Floor: return intrinsic(llvm::Intrinsic::floor);
    case UnaryOp::Ceil: return intrinsic(llvm::Intrinsic::ceil);
    case UnaryOp::Round: return intrinsic(llvm::Intrinsic::roundeven);
    case UnaryOp::Trunc: return intrinsic(llvm::Intrinsic::trunc);
    case UnaryOp::IsNan: return b_.CreateFCmpUNO(a, a);
    // The IR names these ops as the C library does.
    case UnaryOp::Asin:
    case UnaryOp::Acos:
    case UnaryOp::Atan:
    case UnaryOp::Sinh:
    case UnaryOp::Cosh:
    case UnaryOp::Tan:
    case UnaryOp::Asinh:
    case UnaryOp::Acosh:
    case UnaryOp::Log2:
    case UnaryOp::Log10:
    case UnaryOp::Erfc:
    case UnaryOp::Lgamma: return call_libm(std::string(unary_op_name(n->op)), t, {a});
    case UnaryOp::I0:
    case UnaryOp::I0e:
    case UnaryOp::I1:
    case UnaryOp::I1e:
    case UnaryOp::Digamma:
    case UnaryOp::Trigamma:
    case UnaryOp::Ndtri:
    // Kiln's own (core/ir/special_math.h), which the JIT engine resolves by address.
    case UnaryOp::Erfinv: return call_libm(str_cat("kiln_", unary_op_name(n->op)), t, {a});
    case UnaryOp::Not: break;
  }
  throw InternalError(str_cat(__FILE__, ": ", "unary op ", n->op, " on ", t));
}

llvm::Value* KernelCodegen::emit_select(const SelectNode* n) {
  llvm::Value* cond = emit(n->cond);
  if (may_fault(n->true_value, loop_extents_) || may_fault(n->false_value, loop_extents_))
    return emit_guarded_select(n, cond);
  llvm::Value* t = emit(n->true_value);
  llvm::Value* f = emit(n->false_value);
  unify(t, f);
  if (cond->getType()->isVectorTy()) {
    t = widen(t);
    f = widen(f);
  }
  return b_.CreateSelect(cond, t, f);
}

llvm::Value* KernelCodegen::emit_lane_select(const SelectNode* n, llvm::Value* cond) {
  // Lanes mostly agree (a padding's interior, a tail's full vectors): where all take one side it
  // runs unmasked; masked loads, about 12 cycles each on AMD's Zen 3, only where they differ.
  auto block = [&](const char* name) { return llvm::BasicBlock::Create(ctx_, name, scope_.fn); };
  llvm::BasicBlock *all_true = block("lanes.true"), *not_all = block("lanes.not_true"),
                   *all_false = block("lanes.false"), *mixed = block("lanes.mixed"),
                   *merge = block("lanes.end");
  b_.CreateCondBr(lanes_all(cond, true), all_true, not_all);
  b_.SetInsertPoint(not_all);
  b_.CreateCondBr(lanes_all(cond, false), all_false, mixed);
  std::vector<std::pair<llvm::Value*, llvm::BasicBlock*>> incoming;
  auto finish = [&](llvm::Value* v) {
    incoming.push_back({widen(v), b_.GetInsertBlock()});
    b_.CreateBr(merge);
  };
  b_.SetInsertPoint(all_true);
  finish(emit(n->true_value));
  b_.SetInsertPoint(all_false);
  finish(emit(n->false_value));
  b_.SetInsertPoint(mixed);
  vec_.mask = cond;
  llvm::Value* t = widen(emit(n->true_value));
  vec_.mask = b_.CreateNot(cond);
  llvm::Value* f = widen(emit(n->false_value));
  vec_.mask = nullptr;
  finish(b_.CreateSelect(cond, t, f));
  b_.SetInsertPoint(merge);
  llvm::PHINode* phi = b_.CreatePHI(incoming[0].first->getType(), 3);
  for (auto& [v, bb] : incoming) phi->addIncoming(v, bb);
  return phi;
}

llvm::Value* KernelCodegen::emit_guarded_select(const SelectNode* n, llvm::Value* cond) {
  if (cond->getType()->isVectorTy()) {
    if (!vec_.mask) return emit_lane_select(n, cond);
    // Lanes differ: each side runs under the mask of its lanes (masked loads, safe divisors).
    llvm::Value* outer = vec_.mask;
    llvm::Value* all = outer ? outer : llvm::Constant::getAllOnesValue(cond->getType());
    vec_.mask = b_.CreateAnd(all, cond);
    llvm::Value* t = widen(emit(n->true_value));
    vec_.mask = b_.CreateAnd(all, b_.CreateNot(cond));
    llvm::Value* f = widen(emit(n->false_value));
    vec_.mask = outer;
    return b_.CreateSelect(cond, t, f);
  }
  // One condition for all lanes: a real branch, so the untaken side never runs.
  bool vector_result = is_vector(n->true_value) || is_vector(n->false_value);
  auto* then_bb = llvm::BasicBlock::Create(ctx_, "select.true", scope_.fn);
  auto* else_bb = llvm::BasicBlock::Create(ctx_, "select.false", scope_.fn);
  auto* merge = llvm::BasicBlock::Create(ctx_, "select.end", scope_.fn);
  b_.CreateCondBr(cond, then_bb, else_bb);
  auto side = [&](llvm::BasicBlock* bb, const Expr& e, llvm::BasicBlock** end) {
    b_.SetInsertPoint(bb);
    llvm::Value* v = emit(e);
    if (vector_result) v = widen(v);
    *end = b_.GetInsertBlock();
    b_.CreateBr(merge);
    return v;
  };
  llvm::BasicBlock *then_end, *else_end;
  llvm::Value* t = side(then_bb, n->true_value, &then_end);
  llvm::Value* f = side(else_bb, n->false_value, &else_end);
  b_.SetInsertPoint(merge);
  llvm::PHINode* phi = b_.CreatePHI(t->getType(), 2);
  phi->addIncoming(t, then_end);
  phi->addIncoming(f, else_end);
  return phi;
}

llvm::Value* KernelCodegen::emit_cast(llvm::Value* v, DType from, DType to) {
  if (from == to) return v;
  llvm::Type* dst = like(reg_type(to), v);
  if (to == DType::Bool) {
    llvm::Value* zero = llvm::Constant::getNullValue(v->getType());
    return is_float(from) ? b_.CreateFCmpUNE(v, zero) : b_.CreateICmpNE(v, zero);  // NaN is true
  }
  if (is_float(to)) {
    llvm::Value* r;
    if (from == DType::Bool)
      r = b_.CreateUIToFP(v, dst);
    else if (!is_float(from))
      r = b_.CreateSIToFP(v, dst);
    else
      r = b_.CreateFPCast(v, dst);  // f16/bf16 are floats already: only f32 <-> f64 converts
    return round_to(r, to);
  }
  if (is_float(from)) return b_.CreateFPToSI(v, dst);
  if (from == DType::Bool) return b_.CreateZExt(v, dst);
  return b_.CreateSExtOrTrunc(v, dst);
}

}  // namespace kiln::llvm_backend
