// Shared helpers of the LLVM backend tests: one compiler, and loop IR built by hand.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "backends/llvm/llvm_compiler.h"
#include "core/ir/stmt.h"
#include "core/reference/interpreter.h"
#include "core/runtime/host_tensor.h"
#include "core/support/error.h"

namespace kiln::testing {

/// One compiler for the whole test binary (its JIT lives as long as the kernels need it).
inline LLVMCompiler& compiler() {
  static std::unique_ptr<LLVMCompiler> c = LLVMCompiler::create();
  return *c;
}

/// The loop nest of a compute tensor without reductions: one loop per axis, the innermost of
/// kind `inner`, storing the body. Params: its placeholders, then the tensor.
inline LoweredFunc lower_elementwise(const Tensor& out, ForKind inner = ForKind::Serial,
                                     ForKind outer = ForKind::Serial) {
  std::vector<Expr> index;
  for (const IterVar& a : out->axes) index.push_back(a.var);
  Stmt body = StoreNode::make(out, index, out->body);
  for (int d = out->rank() - 1; d >= 0; --d) {
    ForKind kind = d == out->rank() - 1 ? inner : outer;
    body = ForNode::make(out->axes[d].var, out->axes[d].extent, kind, body);
  }
  LoweredFunc f;
  f.name = out->name;
  f.params = placeholders_of({out});
  f.num_inputs = static_cast<int>(f.params.size());
  f.params.push_back(out);
  f.body = body;
  return f;
}

/// Runs `f` on `inputs` and returns its (last) output, freshly zeroed before the call.
inline HostTensor run(const Kernel& k, const std::vector<HostTensor>& inputs) {
  const Tensor& out = k.func().params.back();
  HostTensor result = HostTensor::zeros(out->shape, out->dtype);
  std::vector<const HostTensor*> args;
  for (const HostTensor& t : inputs) args.push_back(&t);
  args.push_back(&result);
  run_kernel(k, args);
  return result;
}

/// Compiles the elementwise loop nest of `out` and checks it against the interpreter.
inline void expect_matches_interpreter(const Tensor& out, const std::vector<HostTensor>& inputs,
                                       ForKind inner = ForKind::Serial) {
  std::unique_ptr<Kernel> k = compiler().compile(lower_elementwise(out, inner));
  HostTensor got = run(*k, inputs);
  HostTensor want = interpret({out}, inputs)[0];
  double atol, rtol;
  default_tolerance(out->dtype, &atol, &rtol);
  EXPECT_LE(max_relative_error(got, want, atol, rtol), 1.0) << out;
}

}  // namespace kiln::testing
