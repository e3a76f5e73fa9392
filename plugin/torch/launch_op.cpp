// The operator torch.ops.kiln.launch(slot, inputs) -> outputs and its CPU kernel. Its fake
// (meta) kernel is registered from Python (kiln.backend), built from kiln._C.slot_output_types.
#include <ATen/ATen.h>
#include <c10/util/SmallVector.h>
#include <torch/library.h>

#include <optional>

#include "core/ir/error.h"
#include "core/runtime/tensor_layout.h"
#include "plugin/torch/aten_served_kernel.h"
#include "plugin/torch/kiln_torch.h"
#include "plugin/torch/slot_registry.h"
#include "plugin/torch/torch_types.h"

namespace kiln {

namespace {

/// "f32[4, 8] strides [8, 1] on cpu".
std::string describe(const TensorType& t) {
  return layout_string(t.dtype, t.shape, t.strides) + " on " + t.device;
}

std::string describe(const at::Tensor& t) {
  std::vector<int64_t> shape(t.sizes().begin(), t.sizes().end());
  std::vector<int64_t> strides(t.strides().begin(), t.strides().end());
  std::optional<DType> dtype = kiln_dtype(t.scalar_type());
  std::string layout = dtype ? layout_string(*dtype, shape, strides)
                             : str_cat(c10::toString(t.scalar_type()), dims_string(shape),
                                       " strides ", dims_string(strides));
  return layout + " on " + t.device().str();
}

}  // namespace

std::vector<at::Tensor> launch_slot(int64_t slot, at::TensorList inputs) {
  SlotEntry& entry = SlotRegistry::global().get(slot);
  const std::string& ops = entry.slot.description();
  TORCH_CHECK(inputs.size() == entry.inputs.size(), "kiln::launch: slot ", slot, " (", ops,
              ") takes ", entry.inputs.size(), " inputs, got ", inputs.size());
  c10::SmallVector<void*, 16> args;
  for (size_t i = 0; i < inputs.size(); ++i) {
    TORCH_CHECK(inputs[i].defined(), "kiln::launch: slot ", slot, " (", ops, ") input ", i,
                " is an undefined tensor");
    // NOTE: a kernel reads exactly the layout it was compiled for; anything else would read the
    // wrong elements, so a mismatch is an error, never a best effort.
    TORCH_CHECK(laid_out_as(inputs[i], entry.inputs[i]), "kiln::launch: slot ", slot, " (", ops,
                ") input ", i, ": expected ", describe(entry.inputs[i]), ", got ",
                describe(inputs[i]));
    // data_ptr() includes the storage offset: it points at element 0, as kernels expect.
    args.push_back(const_cast<void*>(inputs[i].const_data_ptr()));
  }
  std::vector<at::Tensor> outputs;
  entry.slot.run([&](const Kernel& kernel) {
    auto* served = dynamic_cast<const AtenServedKernel*>(&kernel);
    if (served) {
      outputs = served->run(inputs);
      return;
    }
    outputs.reserve(entry.outputs.size());
    for (const TensorType& type : entry.outputs) {
      outputs.push_back(empty_tensor(type));
      args.push_back(outputs.back().data_ptr());
    }
    kernel.launch(args.data());
  });
  return outputs;
}

}  // namespace kiln

// Functional: no input is written or aliased by an output, so Dynamo and AOTAutograd can trace
// and reorder it like any ATen op.
TORCH_LIBRARY(kiln, m) {
  m.def("launch(int slot, Tensor[] inputs) -> Tensor[]", {at::Tag::pt2_compliant_tag});
}

TORCH_LIBRARY_IMPL(kiln, CPU, m) {
  m.impl("launch", &kiln::launch_slot);
}
