// The operator torch.ops.kiln.launch(slot, inputs) -> outputs and its CPU kernel. Its fake
// (meta) kernel is registered from Python (kiln.backend), built from kiln._C.slot_output_types.
#include <ATen/ATen.h>
#include <c10/util/SmallVector.h>
#include <torch/library.h>

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "core/runtime/tensor_layout.h"
#include "core/support/error.h"
#include "core/support/log.h"
#include "plugin/torch/aten_served_kernel.h"
#include "plugin/torch/kiln_torch.h"
#include "plugin/torch/slot_launch.h"
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

/// Whether every value of dtype `from` is exactly a value of `to` (bf16 in f32, i32 in i64).
bool widens_exactly(at::ScalarType from, at::ScalarType to) {
  if (from == to) return true;
  if (at::isFloatingType(from) && at::isFloatingType(to))
    return at::elementSize(from) < at::elementSize(to) &&
           !(from == at::kHalf && to == at::kBFloat16);
  bool int_from = at::isIntegralType(from, /*includeBool=*/true) && from != at::kByte;
  return int_from && at::isIntegralType(to, false) && to != at::kByte &&
         at::elementSize(from) < at::elementSize(to);
}

/// `t` as `type` was traced, when `t` holds the same values otherwise: in another layout
/// (AOTAutograd's traced strides of a saved tensor can differ from what arrives) or in a narrower
/// dtype whose values the traced one holds exactly (an ATen op whose meta function promises f32
/// and returns bf16, as batch norm's running statistics): a copy. Nothing where the kernel could
/// not read it right: another shape or device, a dtype that does not widen exactly, or values
/// that vary along a dimension the trace broadcasts (stride 0).
std::optional<at::Tensor> in_traced_layout(const at::Tensor& t, const TensorType& type) {
  if (!t.device().is_cpu() || !kiln_dtype(t.scalar_type()) ||
      !widens_exactly(t.scalar_type(), torch_dtype(type.dtype)) ||
      t.sizes() != at::IntArrayRef(type.shape))
    return std::nullopt;
  at::Tensor compact = t;
  std::vector<int64_t> strides = type.strides;
  for (size_t d = 0; d < type.shape.size(); ++d) {
    if (type.strides[d] != 0 || type.shape[d] == 1) continue;
    if (t.stride(d) != 0) return std::nullopt;
    compact = compact.narrow(static_cast<int64_t>(d), 0, 1);
    strides[d] = 1;
  }
  try {
    at::Tensor copy =
        at::empty_strided(compact.sizes(), strides, t.options().dtype(torch_dtype(type.dtype)));
    copy.copy_(compact);
    return copy.as_strided(type.shape, type.strides);
  } catch (const c10::Error&) {
    return std::nullopt;  // traced strides that overlap: no copy can have them
  }
}

/// `t` with its expanded dimensions (stride 0) cut to one element: the same values, each once
/// (an index expanded along a scatter's rows is read once, not once per column).
at::Tensor without_repeats(at::Tensor t) {
  for (int64_t d = 0; d < t.dim(); ++d)
    if (t.stride(d) == 0 && t.size(d) > 1) t = t.narrow(d, 0, 1);
  return t;
}

/// The smallest and largest value of integer tensor `expanded` (not empty).
std::pair<int64_t, int64_t> value_range(const at::Tensor& expanded) {
  at::Tensor t = without_repeats(expanded);
  // A large tensor through ATen's reduction, which runs in parallel and in vectors; a small one
  // by a plain loop, which allocates nothing.
  constexpr int64_t kLargeScan = int64_t{1} << 16;
  if (t.numel() >= kLargeScan) {
    auto [lo, hi] = at::aminmax(t);
    return {lo.item<int64_t>(), hi.item<int64_t>()};
  }
  auto scan = [](const auto* data, int64_t n) {
    int64_t lo = data[0], hi = data[0];
    for (int64_t i = 1; i < n; ++i) {
      lo = std::min<int64_t>(lo, data[i]);
      hi = std::max<int64_t>(hi, data[i]);
    }
    return std::pair{lo, hi};
  };
  if (t.is_contiguous() && t.scalar_type() == at::kLong)
    return scan(t.const_data_ptr<int64_t>(), t.numel());
  if (t.is_contiguous() && t.scalar_type() == at::kInt)
    return scan(t.const_data_ptr<int32_t>(), t.numel());
  auto [lo, hi] = at::aminmax(t);
  return {lo.item<int64_t>(), hi.item<int64_t>()};
}

/// Whether integer tensor `t` holds a 0: a scan where it is dense (no temporary per call).
bool has_zero(const at::Tensor& expanded) {
  at::Tensor t = without_repeats(expanded);
  auto scan = [](const auto* data, int64_t n) { return std::find(data, data + n, 0) != data + n; };
  if (t.is_contiguous() && t.scalar_type() == at::kLong)
    return scan(t.const_data_ptr<int64_t>(), t.numel());
  if (t.is_contiguous() && t.scalar_type() == at::kInt)
    return scan(t.const_data_ptr<int32_t>(), t.numel());
  return (t == 0).any().item<bool>();
}

/// Raises as eager would when an input breaks a check of the slot (value_check.h): a kernel
/// cannot raise, and would clamp the index or divide by zero.
void check_inputs(const SlotEntry& entry, at::TensorList inputs) {
  for (const InputCheck& c : entry.checks) {
    const at::Tensor& t = inputs[c.input];
    if (t.numel() == 0 || at::isFloatingType(t.scalar_type())) continue;
    if (c.check.rule == ValueCheck::Rule::NonZero) {
      TORCH_CHECK(!has_zero(t), value_check_message(c.check, 0), " (kiln: ", c.op,
                  ": an integer division by zero)");
      continue;
    }
    auto [lo, hi] = value_range(t);
    int64_t lowest = c.check.rule == ValueCheck::Rule::Wrapped ? -c.check.size : 0;
    if (lo >= lowest && hi < c.check.size) continue;
    int64_t bad = lo < lowest ? lo : hi;
    std::string why = str_cat(value_check_message(c.check, bad), " (kiln: ", c.op, ", index ", bad,
                              ", dimension ", c.check.dim, " of size ", c.check.size, ")");
    TORCH_CHECK_INDEX(c.check.rule == ValueCheck::Rule::Bounds, why);
    TORCH_CHECK(false, why);
  }
}

}  // namespace

std::vector<at::Tensor> launch_slot(int64_t slot, at::TensorList inputs) {
  // Held for the call: the graph may be freed (and its slots released) while it runs.
  std::shared_ptr<SlotEntry> held = SlotRegistry::global().get(slot);
  return launch_entry(slot, *held, inputs);
}

std::vector<at::Tensor> launch_entry(int64_t slot, SlotEntry& entry, at::TensorList inputs) {
  const std::string& ops = entry.slot.description();
  TORCH_CHECK(inputs.size() == entry.inputs.size(), "kiln::launch: slot ", slot, " (", ops,
              ") takes ", entry.inputs.size(), " inputs, got ", inputs.size());
  c10::SmallVector<void*, 16> args;
  at::TensorList given = inputs;  // what a kept buffer's input is checked on (not a copy of it)
  std::optional<std::vector<at::Tensor>> copied;  // the inputs, where one had to be copied
  for (size_t i = 0; i < inputs.size(); ++i) {
    TORCH_CHECK(inputs[i].defined(), "kiln::launch: slot ", slot, " (", ops, ") input ", i,
                " is an undefined tensor");
    // NOTE: a kernel reads exactly the layout it was compiled for; anything else would read the
    // wrong elements. The same values in another layout or a narrower dtype are copied into the
    // traced one; what cannot be (another shape, a lossy dtype) is an error, never a best effort.
    if (!laid_out_as(inputs[i], entry.inputs[i])) {
      std::optional<at::Tensor> copy = in_traced_layout(inputs[i], entry.inputs[i]);
      TORCH_CHECK(copy.has_value(), "kiln::launch: slot ", slot, " (", ops, ") input ", i,
                  ": expected ", describe(entry.inputs[i]), ", got ", describe(inputs[i]));
      if (!entry.logged_layout_copy.exchange(true))
        log_message(LogLevel::Info,
                    str_cat("kiln: slot ", slot, " input ", i, " arrives as ", describe(inputs[i]),
                            ", traced as ", describe(entry.inputs[i]), ": converted on each call"));
      if (!copied) copied.emplace(inputs.begin(), inputs.end());
      (*copied)[i] = std::move(*copy);
    }
    const at::Tensor& input = copied ? (*copied)[i] : inputs[i];
    // data_ptr() includes the storage offset: it points at element 0, as kernels expect.
    args.push_back(const_cast<void*>(input.const_data_ptr()));
  }
  if (copied) inputs = *copied;
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
    if (entry.constants)
      entry.constants->launch(kernel, args.data(), given);
    else
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
