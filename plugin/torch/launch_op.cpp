// The operator torch.ops.kiln.launch(slot, inputs) -> outputs and its CPU kernel. Its fake
// (meta) kernel is registered from Python (kiln.backend), built from kiln._C.slot_output_types.
#include <ATen/ATen.h>
#include <c10/util/SmallVector.h>
#include <torch/library.h>

#include <algorithm>
#include <optional>
#include <utility>

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

/// The smallest and largest value of integer tensor `t` (not empty).
std::pair<int64_t, int64_t> value_range(const at::Tensor& t) {
  auto scan = [](const auto* data, int64_t n) {
    int64_t lo = data[0], hi = data[0];
    for (int64_t i = 1; i < n; ++i) {
      lo = std::min<int64_t>(lo, data[i]);
      hi = std::max<int64_t>(hi, data[i]);
    }
    return std::pair{lo, hi};
  };
  if (t.is_contiguous() && t.scalar_type() == at::kLong) return scan(t.const_data_ptr<int64_t>(), t.numel());
  if (t.is_contiguous() && t.scalar_type() == at::kInt) return scan(t.const_data_ptr<int32_t>(), t.numel());
  auto [lo, hi] = at::aminmax(t);
  return {lo.item<int64_t>(), hi.item<int64_t>()};
}

/// Raises as eager would when an input breaks a check of the slot (value_check.h): a kernel
/// cannot raise, and would clamp the index or divide by zero.
void check_inputs(const SlotEntry& entry, at::TensorList inputs) {
  for (const InputCheck& c : entry.checks) {
    const at::Tensor& t = inputs[c.input];
    if (t.numel() == 0 || at::isFloatingType(t.scalar_type())) continue;
    if (c.check.rule == ValueCheck::Rule::NonZero) {
      TORCH_CHECK(!(t == 0).any().item<bool>(), value_check_message(c.check, 0), " (kiln: ", c.op,
                  ": an integer division by zero)");
      continue;
    }
    auto [lo, hi] = value_range(t);
    if (lo >= 0 && hi < c.check.size) continue;
    int64_t bad = lo < 0 ? lo : hi;
    std::string why = str_cat(value_check_message(c.check, bad), " (kiln: ", c.op, ", index ", bad,
                              ", dimension ", c.check.dim, " of size ", c.check.size, ")");
    TORCH_CHECK_INDEX(c.check.rule != ValueCheck::Rule::Index, why);
    TORCH_CHECK(false, why);
  }
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
  check_inputs(entry, inputs);
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
