#include "backends/cuda/cuda_source.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "backends/cuda/cuda_preamble.h"
#include "core/ir/simplify.h"
#include "core/support/error.h"

namespace kiln::cuda {

namespace {

bool is_half(DType t) {
  return t == DType::F16 || t == DType::BF16;
}

/// The type a value of `t` is computed in (f16 and bf16 in f32).
const char* c_compute_type(DType t) {
  switch (t) {
    case DType::Bool: return "bool";
    case DType::I8: return "signed char";
    case DType::I16: return "short";
    case DType::I32: return "int";
    case DType::I64: return "long long";
    case DType::F16:
    case DType::BF16:
    case DType::F32: return "float";
    case DType::F64: return "double";
  }
  return "float";
}

/// The type a tensor of `t` is stored as.
const char* c_storage_type(DType t) {
  return is_half(t) ? "unsigned short" : c_compute_type(t);
}

std::string float_literal(double v, DType t) {
  bool single = t != DType::F64;
  if (std::isnan(v))
    return single ? "__int_as_float(0x7fc00000)" : "__longlong_as_double(0x7ff8000000000000LL)";
  if (std::isinf(v)) {
    std::string inf =
        single ? "__int_as_float(0x7f800000)" : "__longlong_as_double(0x7ff0000000000000LL)";
    return v < 0 ? str_cat("(-", inf, ")") : inf;
  }
  std::ostringstream os;
  os << std::hexfloat << (single ? static_cast<double>(static_cast<float>(v)) : v);
  std::string s = os.str() + (single ? "f" : "");
  return v < 0 || (v == 0 && std::signbit(v)) ? str_cat("(", s, ")") : s;
}

class SourceWriter {
 public:
  explicit SourceWriter(const LoweredFunc& f) : f_(f) {}

  CudaModule write() {
    CudaModule m;
    Stmt body = f_.body;
    // Intermediates the nests pass to each other live in global memory the launcher allocates.
    while (auto* a = body.as<AllocateNode>()) {
      if (a->scope != MemoryScope::Global) break;
      m.workspace.push_back(a->tensor);
      body = a->body;
    }
    std::vector<Stmt> nests;
    if (auto* seq = body.as<SeqNode>())
      nests = seq->stmts;
    else
      nests.push_back(body);
    std::vector<Tensor> params = f_.params;
    params.insert(params.end(), m.workspace.begin(), m.workspace.end());
    for (size_t k = 0; k < params.size(); ++k) name_of(params[k].get());

    out_ << kPreamble;
    for (size_t k = 0; k < nests.size(); ++k) {
      CudaKernel kernel;
      kernel.name = str_cat("kiln_", sanitized(f_.name), "_", k);
      launch_dims(nests[k], kernel);
      kernel_ = &kernel;
      out_ << "\nextern \"C\" __global__ void __launch_bounds__(" << threads(kernel) << ") "
           << kernel.name << "(";
      for (size_t p = 0; p < params.size(); ++p) {
        bool input = static_cast<int>(p) < f_.num_inputs;
        out_ << (p ? ", " : "") << (input ? "const " : "") << c_storage_type(params[p]->dtype)
             << "* __restrict__ " << name_of(params[p].get());
      }
      out_ << ") {\n";
      depth_ = 1;
      stmt(nests[k]);
      out_ << "}\n";
      m.kernels.push_back(kernel);
    }
    m.source = out_.str();
    return m;
  }

 private:
  static int64_t threads(const CudaKernel& k) { return k.block[0] * k.block[1] * k.block[2]; }

  /// Grid and block sizes: per axis, the largest extent of the loops bound to it.
  static void launch_dims(const Stmt& s, CudaKernel& k) {
    switch (s.kind()) {
      case StmtKind::For: {
        auto* n = s.as<ForNode>();
        if (n->for_kind == ForKind::GpuBlock)
          k.grid[n->thread_axis] = std::max(k.grid[n->thread_axis], n->extent);
        if (n->for_kind == ForKind::GpuThread)
          k.block[n->thread_axis] = std::max(k.block[n->thread_axis], n->extent);
        return launch_dims(n->body, k);
      }
      case StmtKind::Allocate: return launch_dims(s.as<AllocateNode>()->body, k);
      case StmtKind::Seq:
        for (const Stmt& x : s.as<SeqNode>()->stmts) launch_dims(x, k);
        return;
      case StmtKind::IfThenElse: {
        auto* n = s.as<IfThenElseNode>();
        launch_dims(n->then_case, k);
        if (n->else_case.defined()) launch_dims(n->else_case, k);
        return;
      }
      case StmtKind::Store: return;
    }
  }

  /// `name` with every character C does not allow in identifiers made '_'.
  static std::string sanitized(const std::string& name) {
    std::string id;
    for (char c : name) id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    if (id.empty() || std::isdigit(static_cast<unsigned char>(id[0]))) id = "v_" + id;
    return id;
  }

  /// Names the generated code uses or C++ reserves, which no tensor or variable may take.
  static bool reserved(const std::string& id) {
    static const std::set<std::string> names = [] {
      std::set<std::string> r = {
          "auto",          "bool",       "break",     "case",     "char",     "class",
          "const",         "continue",   "default",   "delete",   "do",       "double",
          "else",          "enum",       "extern",    "false",    "float",    "for",
          "goto",          "if",         "inline",    "int",      "long",     "new",
          "operator",      "private",    "protected", "public",   "return",   "short",
          "signed",        "sizeof",     "static",    "struct",   "switch",   "template",
          "this",          "throw",      "true",      "try",      "typedef",  "typename",
          "union",         "unsigned",   "using",     "void",     "volatile", "while",
          "and",           "or",         "not",       "xor",      "asm",      "blockIdx",
          "threadIdx",     "blockDim",   "gridDim",   "warpSize", "fabs",     "fmod",
          "pow",           "atan2",      "hypot",     "copysign", "rint",     "cyl_bessel_i0",
          "cyl_bessel_i1", "normcdfinv", "isnan",     "min",      "max"};
      for (int op = 0; op <= static_cast<int>(UnaryOp::Ndtri); ++op)
        r.insert(std::string(unary_op_name(static_cast<UnaryOp>(op))));
      std::set<std::string> with_f;
      for (const std::string& n : r) with_f.insert(n + "f");
      r.insert(with_f.begin(), with_f.end());
      return r;
    }();
    return names.count(id) || id.rfind("kiln_", 0) == 0 || id.rfind("__", 0) == 0;
  }

  /// A C identifier for `name`, unique in the module and never a reserved one.
  std::string identifier(const std::string& name) {
    std::string id = sanitized(name);
    std::string unique = id;
    for (int n = 1; reserved(unique) || !used_.insert(unique).second; ++n)
      unique = str_cat(id, "_", n);
    return unique;
  }
  const std::string& name_of(const TensorNode* t) {
    auto it = tensor_names_.find(t);
    if (it == tensor_names_.end()) it = tensor_names_.emplace(t, identifier(t->name)).first;
    return it->second;
  }
  const std::string& name_of(const VarNode* v) {
    auto it = var_names_.find(v);
    if (it == var_names_.end()) it = var_names_.emplace(v, identifier(v->name)).first;
    return it->second;
  }

  std::ostream& line() { return out_ << std::string(2 * depth_, ' '); }

  void stmt(const Stmt& s) {
    switch (s.kind()) {
      case StmtKind::For: return loop(s.as<ForNode>());
      case StmtKind::Store: {
        auto* n = s.as<StoreNode>();
        std::string value = expr(n->value);
        if (n->tensor->dtype == DType::F16) value = str_cat("kiln_f32_to_f16(", value, ")");
        if (n->tensor->dtype == DType::BF16) value = str_cat("kiln_f32_to_bf16(", value, ")");
        line() << name_of(n->tensor.get()) << "["
               << expr(simplify(flat_index(n->tensor, n->indices))) << "] = " << value << ";\n";
        return;
      }
      case StmtKind::Allocate: {
        auto* n = s.as<AllocateNode>();
        if (n->scope == MemoryScope::Global)
          throw CompileError(str_cat("CUDA: ", f_.name, " allocates ", n->tensor->name,
                                     " in global memory inside a kernel; only intermediates "
                                     "between loop nests can live there"));
        line() << "{\n";
        ++depth_;
        line() << (n->scope == MemoryScope::Shared ? "__shared__ " : "")
               << c_storage_type(n->tensor->dtype) << " " << name_of(n->tensor.get()) << "["
               << std::max<int64_t>(n->tensor->numel(), 1) << "];\n";
        stmt(n->body);
        --depth_;
        line() << "}\n";
        return;
      }
      case StmtKind::Seq:
        for (const Stmt& x : s.as<SeqNode>()->stmts) stmt(x);
        return;
      case StmtKind::IfThenElse: {
        auto* n = s.as<IfThenElseNode>();
        line() << "if (" << expr(n->cond) << ") {\n";
        block(n->then_case);
        if (n->else_case.defined()) {
          line() << "} else {\n";
          block(n->else_case);
        }
        line() << "}\n";
        return;
      }
    }
  }

  void block(const Stmt& s) {
    ++depth_;
    stmt(s);
    --depth_;
  }

  void loop(const ForNode* n) {
    const std::string& v = name_of(n->var.get());
    switch (n->for_kind) {
      case ForKind::GpuBlock:
      case ForKind::GpuThread: {
        bool block_loop = n->for_kind == ForKind::GpuBlock;
        const char* index = block_loop ? "blockIdx" : "threadIdx";
        int64_t launched = (block_loop ? kernel_->grid : kernel_->block)[n->thread_axis];
        line() << "{\n";
        ++depth_;
        line() << "const long long " << v << " = " << index << "." << "xyz"[n->thread_axis]
               << ";\n";
        if (n->extent < launched) {
          line() << "if (" << v << " < " << n->extent << "LL) {\n";
          block(n->body);
          line() << "}\n";
        } else {
          stmt(n->body);
        }
        --depth_;
        line() << "}\n";
        return;
      }
      case ForKind::Parallel:
        throw CompileError(str_cat("CUDA: loop ", n->var.name(), " of ", f_.name,
                                   " runs on CPU threads (parallel); bind it to GPU blocks or "
                                   "threads instead"));
      case ForKind::Unrolled: line() << "#pragma unroll\n"; [[fallthrough]];
      case ForKind::Serial:
      case ForKind::Vectorized:
        line() << "for (long long " << v << " = 0; " << v << " < " << n->extent << "LL; ++" << v
               << ") {\n";
        block(n->body);
        line() << "}\n";
        return;
    }
  }

  std::string expr(const Expr& e) {
    switch (e.kind()) {
      case ExprKind::IntImm: {
        auto* n = e.as<IntImmNode>();
        if (n->dtype == DType::Bool) return n->value ? "true" : "false";
        std::string v = std::to_string(n->value) + (n->dtype == DType::I64 ? "LL" : "");
        return n->value < 0 ? str_cat("(", v, ")") : v;
      }
      case ExprKind::FloatImm: return float_literal(e.as<FloatImmNode>()->value, e.dtype());
      case ExprKind::Var: return name_of(e.as<VarNode>());
      case ExprKind::Binary: return binary(e.as<BinaryNode>());
      case ExprKind::Unary: return unary(e.as<UnaryNode>());
      case ExprKind::Select: {
        auto* n = e.as<SelectNode>();
        return str_cat("(", expr(n->cond), " ? ", expr(n->true_value), " : ", expr(n->false_value),
                       ")");
      }
      case ExprKind::Cast: return cast(e.dtype(), e.as<CastNode>()->value);
      case ExprKind::Load: {
        auto* n = e.as<LoadNode>();
        std::string load = name_of(n->tensor.get()) + "[" +
                           expr(simplify(flat_index(n->tensor, n->indices))) + "]";
        if (n->tensor->dtype == DType::F16) return str_cat("kiln_f16_to_f32(", load, ")");
        if (n->tensor->dtype == DType::BF16) return str_cat("kiln_bf16_to_f32(", load, ")");
        return load;
      }
      case ExprKind::Reduce: break;
    }
    throw CompileError(str_cat("CUDA: ", f_.name, " still holds a reduction expression ", e,
                               "; lowering should have turned it into loops"));
  }

  std::string cast(DType to, const Expr& value) {
    DType from = value.dtype();
    std::string v = expr(value);
    if (to == DType::Bool) return str_cat("(", v, " != 0)");
    if (to == DType::F16) return str_cat("kiln_f16_to_f32(kiln_f32_to_f16((float)(", v, ")))");
    if (to == DType::BF16) return str_cat("kiln_bf16_to_f32(kiln_f32_to_bf16((float)(", v, ")))");
    if (std::string(c_compute_type(to)) == c_compute_type(from)) return v;
    return str_cat("((", c_compute_type(to), ")(", v, "))");
  }

  /// The C math function for a float operation: `name`, with an "f" for single precision.
  static std::string math(const std::string& name, DType t) {
    return t == DType::F64 ? name : name + "f";
  }

  std::string binary(const BinaryNode* n) {
    DType t = n->a.dtype();
    std::string a = expr(n->a), b = expr(n->b);
    auto infix = [&](const char* op) { return str_cat("(", a, " ", op, " ", b, ")"); };
    auto call = [&](const std::string& fn) { return str_cat(fn, "(", a, ", ", b, ")"); };
    switch (n->op) {
      case BinaryOp::Add: return infix("+");
      case BinaryOp::Sub: return infix("-");
      case BinaryOp::Mul: return infix("*");
      case BinaryOp::Div: return infix("/");
      case BinaryOp::FloorDiv: return call(is_float(t) ? "kiln_float_floordiv" : "kiln_floordiv");
      case BinaryOp::FloorMod: return call(is_float(t) ? "kiln_float_floormod" : "kiln_floormod");
      case BinaryOp::Mod: return is_float(t) ? call(math("fmod", t)) : infix("%");
      case BinaryOp::Min: return call("kiln_min");
      case BinaryOp::Max: return call("kiln_max");
      case BinaryOp::Pow: return is_float(t) ? call(math("pow", t)) : call("kiln_ipow");
      case BinaryOp::Eq: return infix("==");
      case BinaryOp::Ne: return infix("!=");
      case BinaryOp::Lt: return infix("<");
      case BinaryOp::Le: return infix("<=");
      case BinaryOp::Gt: return infix(">");
      case BinaryOp::Ge: return infix(">=");
      case BinaryOp::And: return infix(t == DType::Bool ? "&&" : "&");
      case BinaryOp::Or: return infix(t == DType::Bool ? "||" : "|");
      case BinaryOp::Xor: return infix(t == DType::Bool ? "!=" : "^");
      case BinaryOp::Atan2: return call(math("atan2", t));
      case BinaryOp::Hypot: return call(math("hypot", t));
      case BinaryOp::Copysign: return call(math("copysign", t));
      case BinaryOp::Zeta: break;
    }
    throw CompileError(str_cat("CUDA: ", binary_op_name(n->op), " in ", f_.name,
                               " has no CUDA form yet (CUDA's math library lacks it)"));
  }

  std::string unary(const UnaryNode* n) {
    DType t = n->a.dtype();
    std::string a = expr(n->a);
    auto call = [&](const std::string& fn) { return str_cat(fn, "(", a, ")"); };
    switch (n->op) {
      case UnaryOp::Neg: return str_cat("(-", a, ")");
      case UnaryOp::Not: return str_cat(t == DType::Bool ? "(!" : "(~", a, ")");
      case UnaryOp::Abs:
        return is_float(t) ? call(math("fabs", t)) : str_cat("(", a, " < 0 ? -", a, " : ", a, ")");
      case UnaryOp::Floor:
      case UnaryOp::Ceil:
      case UnaryOp::Trunc:
        return is_float(t) ? call(math(std::string(unary_op_name(n->op)), t)) : a;
      case UnaryOp::Round: return is_float(t) ? call(math("rint", t)) : a;
      case UnaryOp::IsNan: return is_float(t) ? str_cat("(", a, " != ", a, ")") : "false";
      // 1 / sqrt, correctly rounded twice as on the CPU (CUDA's rsqrt is within 2 ulp).
      case UnaryOp::Rsqrt:
        return str_cat("(", float_literal(1.0, t), " / ", call(math("sqrt", t)), ")");
      case UnaryOp::I0: return call(math("cyl_bessel_i0", t));
      case UnaryOp::I1: return call(math("cyl_bessel_i1", t));
      case UnaryOp::Ndtri: return call(math("normcdfinv", t));
      case UnaryOp::Digamma:
      case UnaryOp::Trigamma:
      case UnaryOp::I0e:
      case UnaryOp::I1e:
        throw CompileError(str_cat("CUDA: ", unary_op_name(n->op), " in ", f_.name,
                                   " has no CUDA form yet (CUDA's math library lacks it)"));
      default:  // the C library's names: exp, log1p, tanh, erfinv, lgamma, ...
        return call(math(std::string(unary_op_name(n->op)), t));
    }
  }

  const LoweredFunc& f_;
  std::ostringstream out_;
  int depth_ = 0;
  CudaKernel* kernel_ = nullptr;
  std::set<std::string> used_;
  std::map<const TensorNode*, std::string> tensor_names_;
  std::map<const VarNode*, std::string> var_names_;
};

}  // namespace

CudaModule cuda_source(const LoweredFunc& f) {
  return SourceWriter(f).write();
}

}  // namespace kiln::cuda
