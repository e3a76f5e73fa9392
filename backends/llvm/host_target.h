// Detection of the machine this process runs on, as the Target a CPU schedule is made for.
#pragma once

#include "core/ir/target.h"

namespace kiln {

/// The host CPU as LLVM sees it: cpu name ("znver5"), every feature it has ("+avx512f,..."), the
/// widest vector register (512 bits with AVX-512F, 256 with AVX, else 128), the hardware thread
/// count, and the cache line and L1d/L2 sizes the C library reports (defaults where it does not).
Target host_target();

}  // namespace kiln
