// Groups of products summed into each lane in one instruction. Pairs of bf16 products into f32
// lanes: AVX512-BF16's vdpbf16ps, twice the f32 FMA's rate. Quads of int8 products into int32
// lanes: AVX512-VNNI's vpdpbusd (64 products per instruction), below.
//
// Pairs of bf16 products: A schedule exposes them by splitting a bf16 contraction's
// reduction by two, the pair loop unrolled inside the explicit vector loop:
//
//   for p in 0..2 unrolled { acc[.., l] = acc[.., l] + f32(x(l, p)) * f32(y(l, p)) }
//
// with x and y bf16 loads and the accumulator independent of p. Each lane l then takes
// x(l, 0) y(l, 0) + x(l, 1) y(l, 1) in one instruction. bf16 products are exact in f32; the
// instruction adds the pair's second product first and flushes denormals, a reduction order
// the loop leaves unspecified anyway. Without the instruction the loop runs as it reads.
#include <bit>

#include "backends/llvm/codegen_impl.h"
#include "llvm/Analysis/VectorUtils.h"
#include "llvm/IR/IntrinsicsX86.h"

namespace kiln::llvm_backend {

std::optional<Accumulation> as_accumulation(const StoreNode* store, const VarNode* group,
                                            DType dtype) {
  const auto* add = store->value.as<BinaryNode>();
  if (!add || add->op != BinaryOp::Add || store->tensor->dtype != dtype) return std::nullopt;
  for (const Expr& i : store->indices)
    if (uses_var(i, group)) return std::nullopt;
  for (bool acc_first : {true, false}) {
    const Expr& acc = acc_first ? add->a : add->b;
    const auto* load = acc.as<LoadNode>();
    const auto* mul = (acc_first ? add->b : add->a).as<BinaryNode>();
    if (!load || !mul || mul->op != BinaryOp::Mul || !load->tensor.same_as(store->tensor) ||
        load->indices.size() != store->indices.size())
      continue;
    bool same = true;
    for (size_t d = 0; d < load->indices.size(); ++d)
      same &= identical(load->indices[d], store->indices[d]);
    if (same) return Accumulation{acc, mul->a, mul->b};
  }
  return std::nullopt;
}

bool per_lane(const StoreNode* store, const VarNode* lanes) {
  for (const Expr& i : store->indices)
    if (uses_var(i, lanes)) return true;
  return false;
}

namespace {

struct DotPairStep {
  Expr acc, x, y;  ///< The accumulator's load and the two bf16 loads.
};

// `e` as f32(load of a bf16 tensor): the load, or an undefined Expr.
Expr bf16_operand(const Expr& e) {
  const auto* cast = e.as<CastNode>();
  if (!cast || cast->dtype != DType::F32) return {};
  const auto* load = cast->value.as<LoadNode>();
  return load && load->tensor->dtype == DType::BF16 ? cast->value : Expr();
}

// `store` as acc = acc + f32(x) * f32(y) with acc not depending on `pair`.
std::optional<DotPairStep> as_dot_pair_step(const StoreNode* store, const VarNode* pair) {
  std::optional<Accumulation> step = as_accumulation(store, pair, DType::F32);
  if (!step) return std::nullopt;
  Expr x = bf16_operand(step->a), y = bf16_operand(step->b);
  if (!x.defined() || !y.defined()) return std::nullopt;
  return DotPairStep{step->acc, x, y};
}

}  // namespace

bool KernelCodegen::emit_dot_pairs(const ForNode* pair) {
  int width = vec_.width;
  // 16 lanes per zmm instruction; 8 and 4 need AVX512-VL's ymm and xmm forms.
  bool widths_fit = (width % 16 == 0 && std::has_single_bit(static_cast<unsigned>(width))) ||
                    ((width == 8 || width == 4) && has_cpu_feature(target_.features, "avx512vl"));
  if (!vec_.var || vec_.mask || pair->extent != 2 || !widths_fit ||
      !has_cpu_feature(target_.features, "avx512bf16"))
    return false;
  const auto* store = pair->body.as<StoreNode>();
  std::optional<DotPairStep> step = store ? as_dot_pair_step(store, pair->var.get()) : std::nullopt;
  if (!step || !per_lane(store, vec_.var)) return false;
  llvm::Value* acc = widen(emit(step->acc));
  llvm::Value* x = bf16_pairs(step->x, pair->var.get());
  llvm::Value* y = bf16_pairs(step->y, pair->var.get());
  int chunk = std::min(width, 16);
  llvm::Intrinsic::ID id = chunk == 16  ? llvm::Intrinsic::x86_avx512bf16_dpbf16ps_512
                           : chunk == 8 ? llvm::Intrinsic::x86_avx512bf16_dpbf16ps_256
                                        : llvm::Intrinsic::x86_avx512bf16_dpbf16ps_128;
  auto* pairs_type = llvm::FixedVectorType::get(b_.getBFloatTy(), 2 * chunk);
  std::vector<llvm::Value*> sums;
  for (int start = 0; start < width; start += chunk) {
    auto lanes = llvm::createSequentialMask(start, chunk, 0);
    auto pair_lanes = llvm::createSequentialMask(2 * start, 2 * chunk, 0);
    llvm::Value* a = chunk == width ? acc : b_.CreateShuffleVector(acc, lanes);
    llvm::Value* xs = b_.CreateBitCast(b_.CreateShuffleVector(x, pair_lanes), pairs_type);
    llvm::Value* ys = b_.CreateBitCast(b_.CreateShuffleVector(y, pair_lanes), pairs_type);
    sums.push_back(b_.CreateIntrinsic(id, {}, {a, xs, ys}));
  }
  vector_store(store, concatenated(std::move(sums)));
  return true;
}

llvm::Value* KernelCodegen::concatenated(std::vector<llvm::Value*> parts) {
  while (parts.size() > 1) {  // concatenated pairwise, in lane order
    std::vector<llvm::Value*> joined;
    auto* half = llvm::cast<llvm::FixedVectorType>(parts[0]->getType());
    auto both = llvm::createSequentialMask(0, 2 * half->getNumElements(), 0);
    for (size_t i = 0; i < parts.size(); i += 2)
      joined.push_back(b_.CreateShuffleVector(parts[i], parts[i + 1], both));
    parts = std::move(joined);
  }
  return parts[0];
}

llvm::Value* KernelCodegen::lane_zero_address(const LoadNode* n, const VarNode* group,
                                              int64_t element, llvm::Type* type) {
  llvm::Value* lanes = scope_.vars[vec_.var];
  scope_.vars[vec_.var] = b_.getInt64(0);
  scope_.vars[group] = b_.getInt64(element);
  VectorLoop saved = vec_;
  vec_.var = nullptr;
  llvm::Value* ptr =
      b_.CreateInBoundsGEP(type, buffer(n->tensor), flat_index(n->tensor, n->indices));
  vec_ = saved;
  scope_.vars[vec_.var] = lanes;
  scope_.vars.erase(group);
  return ptr;
}

llvm::Value* KernelCodegen::bf16_pairs(const Expr& load, const VarNode* pair) {
  const auto* n = load.as<LoadNode>();
  const Tensor& t = n->tensor;
  int width = vec_.width;
  llvm::Type* i16 = b_.getInt16Ty();
  auto* pairs_type = llvm::FixedVectorType::get(i16, 2 * width);
  Expr flat = kiln::flat_index(t, n->indices);
  std::optional<int64_t> along_lanes = affine_coefficient(flat, vec_.var);
  std::optional<int64_t> along_pair = affine_coefficient(flat, pair);
  llvm::Align align(2);
  auto address = [&](int64_t p) { return lane_zero_address(n, pair, p, i16); };
  // The pairs one contiguous run (a panel packed with pairs innermost).
  if (along_pair == 1 && along_lanes == 2)
    return b_.CreateAlignedLoad(pairs_type, address(0), align, t->name);
  if (along_lanes == 0) {
    // One pair every lane shares (a row of A, a convolution's input pixel): one 32-bit
    // broadcast, loaded whole where the pair is adjacent.
    llvm::Value* both;
    if (along_pair == 1) {
      both = b_.CreateAlignedLoad(b_.getInt32Ty(), address(0), align, t->name);
    } else {
      llvm::Value* low =
          b_.CreateZExt(b_.CreateAlignedLoad(i16, address(0), align), b_.getInt32Ty());
      llvm::Value* high =
          b_.CreateZExt(b_.CreateAlignedLoad(i16, address(1), align), b_.getInt32Ty());
      both = b_.CreateOr(low, b_.CreateShl(high, 16));
    }
    return b_.CreateBitCast(b_.CreateVectorSplat(width, both), pairs_type);
  }
  // Otherwise each half of the pair as the loop would read it, interleaved: the float a bf16
  // load becomes is its bits shifted up, shifted back down here (LLVM folds the round trip).
  std::vector<llvm::Value*> halves;
  for (int64_t p = 0; p < 2; ++p) {
    scope_.vars[pair] = b_.getInt64(p);
    llvm::Value* v = widen(emit(load));
    llvm::Value* bits = b_.CreateBitCast(v, like(b_.getInt32Ty(), v));
    halves.push_back(b_.CreateTrunc(b_.CreateLShr(bits, 16), like(i16, bits)));
  }
  scope_.vars.erase(pair);
  std::vector<int> interleaved;
  for (int l = 0; l < width; ++l) {
    interleaved.push_back(l);
    interleaved.push_back(width + l);
  }
  return b_.CreateShuffleVector(halves[0], halves[1], interleaved);
}

}  // namespace kiln::llvm_backend
