#include "plugin/torch/torch_kernel_timing.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "core/runtime/kernel_timing.h"
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

/// `kernel` launched as a slot with constant inputs launches it (ConstantInputs): what it
/// prepares from them kept from call to call.
class KeepingKernel final : public Kernel {
 public:
  KeepingKernel(const Kernel& kernel, const std::vector<bool>& constant)
      : Kernel(kernel.func()), kernel_(kernel), constant_(constant) {}
  void launch(void* const* args) const override { kernel_.launch_keeping(args, kept_, constant_); }

 private:
  const Kernel& kernel_;
  const std::vector<bool>& constant_;
  mutable PreparedBuffers kept_;
};

}  // namespace

std::vector<double> fastest_of_runs(const std::vector<const Kernel*>& given, int runs,
                                    const std::vector<bool>& constant) {
  std::vector<std::unique_ptr<KeepingKernel>> keeping;
  std::vector<const Kernel*> kernels = given;
  if (std::find(constant.begin(), constant.end(), true) != constant.end()) {
    for (const Kernel*& k : kernels) {
      if (k->func().prepared.empty()) continue;
      keeping.push_back(std::make_unique<KeepingKernel>(*k, constant));
      k = keeping.back().get();
    }
  }
  // NOTE: the backend compiles while Dynamo's FakeTensorMode (a Python dispatch mode) is
  // active; these are real tensors on real memory, made and used below those modes.
  c10::impl::ExcludeDispatchKeyGuard no_python_modes(
      c10::DispatchKeySet({c10::DispatchKey::Python, c10::DispatchKey::PythonTLSSnapshot,
                           c10::DispatchKey::PythonDispatcher, c10::DispatchKey::Functionalize}));
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  std::vector<at::Tensor> buffers = random_arguments(kernels[0]->func());
  std::vector<void*> args;
  for (at::Tensor& b : buffers) args.push_back(b.data_ptr());
  for (const Kernel* k : kernels) k->launch(args.data());  // warm-up: caches, page faults
  return fastest_side_by_side(kernels, args.data(), runs);
}

}  // namespace kiln
