#include "plugin/torch/kernel_timing.h"

#include <ATen/ATen.h>

#include <chrono>
#include <limits>

#include "plugin/torch/torch_types.h"

namespace kiln {

namespace {

std::vector<at::Tensor> random_arguments(const LoweredFunc& f) {
  std::vector<at::Tensor> buffers;
  for (const Tensor& p : f.params) {
    at::Tensor t = empty_tensor(param_type(p));
    buffers.push_back(is_float(p->dtype) ? t.normal_() : t.zero_());
  }
  return buffers;
}

}  // namespace

std::vector<double> fastest_of_runs(const std::vector<const Kernel*>& kernels, int runs) {
  // NOTE: the backend compiles while Dynamo's FakeTensorMode (a Python dispatch mode) is
  // active; these are real tensors on real memory, made and used below those modes.
  c10::impl::ExcludeDispatchKeyGuard no_python_modes(
      c10::DispatchKeySet({c10::DispatchKey::Python, c10::DispatchKey::PythonTLSSnapshot,
                           c10::DispatchKey::PythonDispatcher, c10::DispatchKey::Functionalize}));
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  std::vector<at::Tensor> buffers = random_arguments(kernels[0]->func());
  std::vector<void*> args;
  for (at::Tensor& b : buffers) args.push_back(b.data_ptr());
  for (const Kernel* k : kernels) k->launch(args.data());
  std::vector<double> best(kernels.size(), std::numeric_limits<double>::infinity());
  for (int run = 0; run < runs; ++run)
    for (size_t i = 0; i < kernels.size(); ++i) {
      auto t0 = std::chrono::steady_clock::now();
      kernels[i]->launch(args.data());
      best[i] = std::min(
          best[i], std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  return best;
}

}  // namespace kiln
