// Launching a slot whose entry the caller already holds (the graph executor resolves its slots
// once, not on every call). Private to plugin/torch.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "plugin/torch/slot_registry.h"

namespace kiln {

/// launch_slot (kiln_torch.h) for slot `slot`, whose entry is `entry`; the caller keeps the
/// entry alive for the call.
std::vector<at::Tensor> launch_entry(int64_t slot, SlotEntry& entry, at::TensorList inputs);

}  // namespace kiln
