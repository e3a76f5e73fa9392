// Quads of int8 products summed into int32 lanes in one instruction: AVX512-VNNI's vpdpbusd,
// 64 products per instruction (four times the f32 FMA's 16). It multiplies unsigned bytes by
// signed ones, so a schedule exposes it where one factor of each product is a signed byte plus
// 128 (aten._int_mm is written so: core/ops/contraction.cpp), its reduction split by four, the
// quad loop unrolled inside the explicit vector loop:
//
//   for q in 0..4 unrolled { acc[.., l] = acc[.., l] + i32(x(l, q)) * (i32(y(l, q)) + 128) }
//
// with x and y int8 loads and the accumulator independent of q. y + 128 is y's byte with its
// sign bit flipped, read as unsigned: each lane l then takes the four products in one
// instruction, exactly (int32 sums wrap alike in either order). Without the instruction the loop
// runs as it reads.
#include <bit>

#include "backends/llvm/codegen_impl.h"
#include "llvm/Analysis/VectorUtils.h"
#include "llvm/IR/IntrinsicsX86.h"

namespace kiln::llvm_backend {

namespace {

struct DotQuadStep {
  Expr acc;
  Expr signed_bytes;    ///< The int8 load whose bytes are taken as they are.
  Expr unsigned_bytes;  ///< The int8 load whose bytes + 128 are taken as unsigned.
};

// `e` as i32(load of an int8 tensor): the load, or an undefined Expr.
Expr int8_operand(const Expr& e) {
  const auto* cast = e.as<CastNode>();
  if (!cast || cast->dtype != DType::I32) return {};
  const auto* load = cast->value.as<LoadNode>();
  return load && load->tensor->dtype == DType::I8 ? cast->value : Expr();
}

// `e` as i32(load of an int8 tensor) + 128 (either order): the load, or an undefined Expr.
Expr shifted_int8_operand(const Expr& e) {
  const auto* add = e.as<BinaryNode>();
  if (!add || add->op != BinaryOp::Add) return {};
  for (bool load_first : {true, false}) {
    const auto* bias = (load_first ? add->b : add->a).as<IntImmNode>();
    Expr load = int8_operand(load_first ? add->a : add->b);
    if (bias && bias->value == 128 && load.defined()) return load;
  }
  return {};
}

std::optional<DotQuadStep> as_dot_quad_step(const StoreNode* store, const VarNode* quad) {
  std::optional<Accumulation> step = as_accumulation(store, quad, DType::I32);
  if (!step) return std::nullopt;
  for (bool signed_first : {true, false}) {
    Expr s = int8_operand(signed_first ? step->a : step->b);
    Expr u = shifted_int8_operand(signed_first ? step->b : step->a);
    if (s.defined() && u.defined()) return DotQuadStep{step->acc, s, u};
  }
  return std::nullopt;
}

}  // namespace

bool KernelCodegen::emit_dot_quads(const ForNode* quad) {
  int width = vec_.width;
  // 16 lanes per zmm instruction; 8 and 4 need AVX512-VL's ymm and xmm forms.
  bool widths_fit = (width % 16 == 0 && std::has_single_bit(static_cast<unsigned>(width))) ||
                    ((width == 8 || width == 4) && has_cpu_feature(target_.features, "avx512vl"));
  if (!vec_.var || vec_.mask || quad->extent != 4 || !widths_fit ||
      !has_cpu_feature(target_.features, "avx512vnni"))
    return false;
  const auto* store = quad->body.as<StoreNode>();
  std::optional<DotQuadStep> step = store ? as_dot_quad_step(store, quad->var.get()) : std::nullopt;
  if (!step || !per_lane(store, vec_.var)) return false;
  llvm::Value* acc = widen(emit(step->acc));
  llvm::Value* s = byte_quads(step->signed_bytes, quad->var.get());
  llvm::Value* u = byte_quads(step->unsigned_bytes, quad->var.get());
  u = b_.CreateXor(u, llvm::ConstantInt::get(u->getType(), 0x80));  // y + 128, unsigned
  int chunk = std::min(width, 16);
  llvm::Intrinsic::ID id = chunk == 16  ? llvm::Intrinsic::x86_avx512_vpdpbusd_512
                           : chunk == 8 ? llvm::Intrinsic::x86_avx512_vpdpbusd_256
                                        : llvm::Intrinsic::x86_avx512_vpdpbusd_128;
  auto* words = llvm::FixedVectorType::get(b_.getInt32Ty(), chunk);
  std::vector<llvm::Value*> sums;
  for (int start = 0; start < width; start += chunk) {
    auto lanes = llvm::createSequentialMask(start, chunk, 0);
    auto quad_lanes = llvm::createSequentialMask(4 * start, 4 * chunk, 0);
    llvm::Value* a = chunk == width ? acc : b_.CreateShuffleVector(acc, lanes);
    llvm::Value* us = b_.CreateBitCast(b_.CreateShuffleVector(u, quad_lanes), words);
    llvm::Value* ss = b_.CreateBitCast(b_.CreateShuffleVector(s, quad_lanes), words);
    sums.push_back(b_.CreateIntrinsic(id, {}, {a, us, ss}));  // unsigned, then signed bytes
  }
  vector_store(store, concatenated(std::move(sums)));
  return true;
}

llvm::Value* KernelCodegen::byte_quads(const Expr& load, const VarNode* quad) {
  const auto* n = load.as<LoadNode>();
  const Tensor& t = n->tensor;
  int width = vec_.width;
  llvm::Type* i8 = b_.getInt8Ty();
  auto* quads_type = llvm::FixedVectorType::get(i8, 4 * width);
  Expr flat = kiln::flat_index(t, n->indices);
  std::optional<int64_t> along_lanes = affine_coefficient(flat, vec_.var);
  std::optional<int64_t> along_quad = affine_coefficient(flat, quad);
  llvm::Align align(1);
  auto address = [&](int64_t q) { return lane_zero_address(n, quad, q, i8); };
  // The quads one contiguous run (a panel packed with quads innermost).
  if (along_quad == 1 && along_lanes == 4)
    return b_.CreateAlignedLoad(quads_type, address(0), align, t->name);
  if (along_lanes == 0) {
    // One quad every lane shares (a row of A): one 32-bit broadcast, loaded whole where the
    // quad is adjacent.
    llvm::Value* word;
    if (along_quad == 1) {
      word = b_.CreateAlignedLoad(b_.getInt32Ty(), address(0), align, t->name);
    } else {
      word = b_.getInt32(0);
      for (int64_t q = 0; q < 4; ++q) {
        llvm::Value* byte =
            b_.CreateZExt(b_.CreateAlignedLoad(i8, address(q), align), b_.getInt32Ty());
        word = b_.CreateOr(word, b_.CreateShl(byte, static_cast<uint64_t>(8 * q)));
      }
    }
    return b_.CreateBitCast(b_.CreateVectorSplat(width, word), quads_type);
  }
  // Otherwise each element of the quad as the loop would read it (rows of B: four vectors),
  // interleaved.
  std::vector<llvm::Value*> rows;
  for (int64_t q = 0; q < 4; ++q) {
    scope_.vars[quad] = b_.getInt64(q);
    rows.push_back(b_.CreateTrunc(widen(emit(load)), llvm::FixedVectorType::get(i8, width)));
  }
  scope_.vars.erase(quad);
  auto pair_of = [&](int first) {
    return b_.CreateShuffleVector(rows[first], rows[first + 1],
                                  llvm::createSequentialMask(0, 2 * width, 0));
  };
  llvm::Value* low = pair_of(0);
  llvm::Value* high = pair_of(2);
  std::vector<int> interleaved;
  for (int l = 0; l < width; ++l)
    for (int q = 0; q < 4; ++q) interleaved.push_back(q * width + l);
  return b_.CreateShuffleVector(low, high, interleaved);
}

}  // namespace kiln::llvm_backend
