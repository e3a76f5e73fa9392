// Kiln in one page: an MLP layer y = gelu(x @ W + b) from the op library, fused into one kernel
// by the default schedule, compiled by the LLVM backend, checked against the reference
// interpreter and timed.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "backends/llvm/llvm_compiler.h"
#include "core/ir/structural.h"
#include "core/ops/op_registry.h"
#include "core/reference/interpreter.h"
#include "core/schedule/lower.h"
#include "core/templates/default_schedule.h"

int main() {
  using namespace kiln;
  const int64_t batch = 64, in = 256, out = 512;
  const OpRegistry& ops = OpRegistry::global();

  // 1. Compute definitions, as the PyTorch plugin will build them from an FX graph.
  Tensor x = placeholder("x", {batch, in}, DType::F32);
  Tensor w = placeholder("w", {in, out}, DType::F32);
  Tensor b = placeholder("b", {out}, DType::F32);
  Tensor h = ops.lower("aten.addmm.default", {b, x, w, int64_t{1}, int64_t{1}})[0];
  Tensor y = ops.lower("aten.gelu.default", {h, std::string("none")})[0];
  std::cout << "== compute definitions ==\n" << y;
  std::printf("workload key: %016llx\n\n", static_cast<unsigned long long>(structural_hash({y})));

  // 2. The default schedule (a replayable trace) and the loop IR it lowers to.
  auto compiler = LLVMCompiler::create();
  Schedule schedule = default_schedule({y}, compiler->target());
  std::cout << "== default schedule for " << compiler->target().cpu << " ==\n" << schedule.trace();
  LoweredFunc f = lower(schedule, "mlp_layer");
  std::cout << "\n== loop IR ==\n" << f << "\n";

  // 3. JIT-compile, run, and check against the reference interpreter.
  auto t0 = std::chrono::steady_clock::now();
  auto kernel = compiler->compile(f);
  double compile_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::vector<HostTensor> inputs = {HostTensor::random(x->shape, x->dtype, 1),
                                    HostTensor::random(w->shape, w->dtype, 2),
                                    HostTensor::random(b->shape, b->dtype, 3)};
  HostTensor result = HostTensor::zeros(y->shape, y->dtype);
  run_kernel(*kernel, {&inputs[0], &inputs[1], &inputs[2], &result});
  HostTensor expected = interpret({y}, inputs)[0];
  double error = max_relative_error(result, expected, 1e-4, 1e-4);

  const int calls = 200;
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i)
    run_kernel(*kernel, {&inputs[0], &inputs[1], &inputs[2], &result});
  double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() /
      calls;
  std::printf(
      "compiled in %.1f ms; %.1f us per call (%.1f GFLOP/s); matches the interpreter: %s "
      "(error %.3f of tolerance)\n",
      compile_ms, us, 2.0 * batch * in * out / us / 1e3, error <= 1 ? "yes" : "NO", error);
  return error <= 1 ? 0 : 1;
}
