// The state and helpers of one kernel's code generation, shared by the codegen_*.cpp files:
// codegen.cpp (functions, statements, loops), codegen_parallel.cpp (outlined parallel bodies),
// codegen_vector.cpp (explicit vectorization), codegen_expr.cpp (expressions),
// codegen_memory.cpp (loads, stores, dtype representations), codegen_math.cpp (math calls),
// codegen_inline_math.cpp, codegen_bessel.cpp, codegen_polygamma.cpp and codegen_ndtri.cpp
// (math as inline arithmetic), codegen_dot_pairs.cpp and codegen_dot_quads.cpp (dot-product
// instructions).
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "backends/llvm/codegen.h"
#include "core/ir/functor.h"
#include "core/ir/simplify.h"
#include "core/ir/target.h"
#include "core/support/error.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"

namespace kiln::llvm_backend {

/// How values live in registers: bool is i1, i32/i64 are themselves, f16/bf16/f32 are float
/// (16-bit floats compute in f32), f64 is double. Inside an explicit vector loop a value that
/// depends on the loop variable is an LLVM vector of these.
/// Elements allocated past the end of every Allocate'd buffer (the widest explicit vector).
constexpr int64_t kVectorSlack = 64;

/// `e` as a floating-point multiply (a candidate for fusing into an FMA), or null.
const BinaryNode* as_float_mul(const Expr& e);

/// A store acc = acc + a * b (either order): the accumulator's load and the factors.
struct Accumulation {
  Expr acc, a, b;
};
/// `store` as an Accumulation into a tensor of `dtype` whose element does not depend on `group`
/// (the loop of a dot product's group), or nothing (codegen_dot_pairs.cpp).
std::optional<Accumulation> as_accumulation(const StoreNode* store, const VarNode* group,
                                            DType dtype);
/// Whether `store` writes one accumulator per lane of the vector loop over `lanes`, not one the
/// lanes would race on.
bool per_lane(const StoreNode* store, const VarNode* lanes);

class KernelCodegen {
 public:
  KernelCodegen(const LoweredFunc& f, const CodegenTarget& target, llvm::Module& m);
  void emit_entry(const std::string& name);

 private:
  /// What the function being emitted can see: loop variables (i64) and buffer base pointers.
  struct Scope {
    llvm::Function* fn = nullptr;
    std::unordered_map<const VarNode*, llvm::Value*> vars;
    std::unordered_map<const TensorNode*, llvm::Value*> buffers;
  };
  /// The explicit vector loop being emitted, if any.
  struct VectorLoop {
    const VarNode* var = nullptr;
    int width = 0;
    llvm::Value* mask = nullptr;  ///< <width x i1> of the active lanes under a select, or null.
  };

  // codegen.cpp
  llvm::Function* new_function(const std::string& name, llvm::FunctionType* type, bool internal);
  /// An internal function whose pointer parameters are `noalias` buffers and whose i64
  /// parameters are `vars` followed by `extra` more; `body` fills it given the extra values.
  llvm::Function* emit_closure(const std::string& name, const std::vector<const TensorNode*>& bufs,
                               const std::vector<const VarNode*>& vars, int extra,
                               const std::function<void(std::vector<llvm::Value*>)>& body);
  llvm::AllocaInst* entry_alloca(llvm::Type* type, uint64_t align, const std::string& name);
  void emit(const Stmt& s);
  void emit_for(const ForNode* n);
  void emit_loop_of_kind(const ForNode* n);
  /// for (var = begin; var < end; ++var) body, with `loop_md` properties on the back edge.
  void emit_loop(const ForNode* n, llvm::Value* begin, llvm::Value* end,
                 const std::vector<llvm::Metadata*>& loop_md);
  void emit_if(const IfThenElseNode* n);
  /// `body` under a lane-dependent `cond` with no mask outside: unmasked where every lane
  /// holds, masked where only some do.
  void emit_lane_guard(llvm::Value* cond, const Stmt& body);
  /// Whether every lane of the i1 vector `cond` is `value` (one scalar i1).
  llvm::Value* lanes_all(llvm::Value* cond, bool value);
  void emit_allocate(const AllocateNode* n);
  [[noreturn]] void fail(const std::string& what) const;

  // codegen_parallel.cpp
  void emit_parallel(const ForNode* n);

  // codegen_vector.cpp
  /// Whether `n` is emitted as explicit vector code (see llvm_compiler.h for the rules).
  bool vectorizes_explicitly(const ForNode* n) const;
  void emit_explicit_vector(const ForNode* n);
  void emit_forced_vectorized_loop(const ForNode* n);
  /// Emits a square block copy that transposes (see codegen_vector.cpp) as shuffles of whole
  /// vectors; false, emitting nothing, when `rows` is not one.
  bool emit_transposing_copy(const ForNode* rows);
  // codegen_dot_pairs.cpp
  /// Emits a pair loop of bf16 products summed into f32 lanes (see codegen_dot_pairs.cpp) as
  /// AVX512-BF16 dot products; false, emitting nothing, where `pair` is not one or the target
  /// lacks them.
  bool emit_dot_pairs(const ForNode* pair);
  /// The bf16 elements `load` reads at (lane l, pair p) as one <2 x width x i16> vector, element
  /// 2l + p.
  llvm::Value* bf16_pairs(const Expr& load, const VarNode* pair);
  /// The scalar address, in elements of `type`, of what load `n` reads in lane 0 of the vector
  /// loop at element `element` of a dot-product group's loop `group`.
  llvm::Value* lane_zero_address(const LoadNode* n, const VarNode* group, int64_t element,
                                 llvm::Type* type);
  /// Vectors of equal width concatenated in order (a power of two of them).
  llvm::Value* concatenated(std::vector<llvm::Value*> parts);
  // codegen_dot_quads.cpp
  /// Emits a quad loop of int8 products summed into int32 lanes (see codegen_dot_quads.cpp) as
  /// AVX512-VNNI dot products; false, emitting nothing, where `quad` is not one or the target
  /// lacks them.
  bool emit_dot_quads(const ForNode* quad);
  /// The int8 elements `load` reads at (lane l, quad element q) as one <4 x width x i8> vector,
  /// element 4l + q.
  llvm::Value* byte_quads(const Expr& load, const VarNode* quad);
  bool is_vector(const Expr& e) const { return vec_.var && uses_var(e, vec_.var); }
  /// `v` as a vector of the current width (a splat when it is a scalar).
  llvm::Value* widen(llvm::Value* v);
  /// Both operands as vectors when either is one.
  void unify(llvm::Value*& a, llvm::Value*& b);
  llvm::Value* vector_load(const LoadNode* n);
  /// An integer comparison that is affine in the explicit vector loop's lane (a tail guard, a
  /// padding's bounds test) as the lane numbers against one scalar bound, in 32 bits; null
  /// where it is not one.
  llvm::Value* lane_compare(const BinaryNode* n);
  void vector_store(const StoreNode* n, llvm::Value* value);
  /// A contiguous vector store to a streamed output: non-temporal where the address is aligned.
  void streaming_store(llvm::Value* value, llvm::Value* ptr, llvm::Align align);
  /// Ends a function that may have issued streaming stores (they need a fence to be seen).
  void return_void();
  /// `bytes` from the thread's scratch blocks (core/runtime/scratch.h), and giving them back.
  llvm::Value* scratch_alloc(uint64_t bytes, const std::string& name);
  void scratch_free(llvm::Value* buffer);

  // codegen_expr.cpp
  llvm::Value* emit(const Expr& e);
  llvm::Value* emit_var(const VarNode* n);
  llvm::Value* emit_binary(const BinaryNode* n);
  llvm::Value* emit_stored_value(const StoreNode* n);
  llvm::Value* emit_arith(BinaryOp op, DType t, llvm::Value* a, llvm::Value* b);
  llvm::Value* nan_propagating_extreme(llvm::CmpInst::Predicate wins, llvm::Value* a,
                                       llvm::Value* b);
  llvm::Value* float_floor_div(llvm::Value* a, llvm::Value* b);
  llvm::Value* emit_compare(BinaryOp op, DType t, llvm::Value* a, llvm::Value* b);
  llvm::Value* emit_unary(const UnaryNode* n);
  llvm::Value* emit_select(const SelectNode* n);
  /// A select on a lane-dependent condition outside any mask: one side unmasked where every
  /// lane takes it, both under masks where lanes differ.
  llvm::Value* emit_lane_select(const SelectNode* n, llvm::Value* cond);
  llvm::Value* emit_guarded_select(const SelectNode* n, llvm::Value* cond);
  llvm::Value* emit_cast(llvm::Value* v, DType from, DType to);

  // codegen_memory.cpp
  llvm::Type* reg_type(DType t);
  llvm::Type* mem_type(DType t);
  llvm::Type* like(llvm::Type* scalar, llvm::Value* shape_of);
  llvm::Value* constant(DType t, double value);
  llvm::Value* to_memory(llvm::Value* v, DType t);
  llvm::Value* from_memory(llvm::Value* v, DType t);
  /// The bf16 bits of `v` (f32 registers) where it holds a bf16 value exactly: a bf16 load
  /// widened by from_memory, a constant bf16 holds, a select or a guarded load's phi of such
  /// values. Null otherwise.
  llvm::Value* exact_bf16_bits(llvm::Value* v);
  /// `v` (float registers) rounded to the precision of f16/bf16; other dtypes unchanged.
  llvm::Value* round_to(llvm::Value* v, DType t);
  llvm::Value* buffer(const Tensor& t);
  /// True for an Allocate'd buffer of this kernel (an alloca), false for a parameter.
  bool is_private_buffer(const Tensor& t);
  /// sum(index[d] * stride[d]) in i64; a vector when an index depends on the vector variable.
  llvm::Value* flat_index(const Tensor& t, const std::vector<Expr>& indices);
  llvm::Value* emit_load(const LoadNode* n);
  void emit_store(const StoreNode* n);
  /// Runs `load` only when some lane of the current mask is active; zero otherwise.
  llvm::Value* guard_by_mask(llvm::Type* type, const std::function<llvm::Value*()>& load);

  // codegen_math.cpp
  /// The libm function `name` ("exp", "erf"; the f32 variant gets its 'f') on scalars or vectors.
  llvm::Value* call_libm(const std::string& name, DType t, std::vector<llvm::Value*> args);
  llvm::Value* call_intrinsic(llvm::Intrinsic::ID id, std::vector<llvm::Value*> args);
  llvm::Value* int_pow(llvm::Value* base, llvm::Value* exponent);

  /// `op` on f32 scalars or vectors as inline vector code, or null where the op has none (and
  /// goes to the math library or a plain instruction).
  llvm::Value* inline_f32(UnaryOp op, llvm::Value* a);
  // codegen_inline_math.cpp: f32 scalars or vectors.
  llvm::Value* exp_f32(llvm::Value* x);
  llvm::Value* erf_f32(llvm::Value* x);
  llvm::Value* tanh_f32(llvm::Value* x);
  llvm::Value* atanh_f32(llvm::Value* x);
  // codegen_bessel.cpp: f32 scalars or vectors.
  /// i0, i0e, i1 or i1e of `x`.
  llvm::Value* bessel_f32(UnaryOp op, llvm::Value* x);
  /// Half the sum of c[i] T_i(y / 2), the zero-order term last (Cephes's chbevl).
  llvm::Value* chebyshev_f32(llvm::Value* y, std::span<const float> c);
  // codegen_polygamma.cpp: f32 scalars or vectors.
  llvm::Value* digamma_f32(llvm::Value* x);
  llvm::Value* trigamma_f32(llvm::Value* x);
  /// c[0] x^n + c[1] x^(n-1) + ... + c[n], by Horner's rule as Cephes's polevl: a multiply,
  /// then an add.
  llvm::Value* polynomial_f32(llvm::Value* x, std::span<const float> c);
  // codegen_ndtri.cpp: f32 scalars or vectors.
  llvm::Value* ndtri_f32(llvm::Value* y);
  /// y * 2^n with AVX-512's vscalefps when the target has it and y is whole 16-lane vectors.
  llvm::Value* scale_by_pow2_avx512(llvm::Value* y, llvm::Value* n);
  llvm::Value* odd_rational_f32(llvm::Value* x, float limit, std::initializer_list<float> p,
                                std::initializer_list<float> q);

  const LoweredFunc& func_;
  CodegenTarget target_;
  llvm::Module& module_;
  llvm::LLVMContext& ctx_;
  llvm::IRBuilder<> b_;
  Scope scope_;
  /// The extents of the loops around what is being emitted (each variable in [0, extent)).
  std::unordered_map<const VarNode*, int64_t> loop_extents_;
  VectorLoop vec_;
  std::string entry_name_;
  std::unordered_set<const TensorNode*> streamed_;  ///< Outputs written with streaming stores.
  int num_closures_ = 0;
};

}  // namespace kiln::llvm_backend
