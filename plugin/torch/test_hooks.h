// Hooks for Kiln's own tests, outside the plugin's API (kiln_torch.h): exported from
// libkiln_torch.so so that the C++ tests and kiln._C._testing reach them, never used by Kiln.
#pragma once

#include "plugin/torch/kiln_torch.h"

namespace kiln::test_hooks {

/// Recompiles the slot's current loop IR into a new kernel and swaps it in (version + 1), while
/// other threads may be launching the slot: the hot-swap under load, without waiting for the
/// tuning service to find a faster kernel. Throws Error for an unknown slot.
KILN_TORCH_API void swap_kernel(int64_t slot);

}  // namespace kiln::test_hooks
