// Scratch memory for kernels' heap buffers (loop IR allocations too big for the stack), kept per
// thread for the next call. Allocated with malloc and freed after each call, a buffer of a few MB
// came back from the kernel's thread's malloc arena as fresh pages every call: MobileNetV2 took
// 2320 page faults per forward pass and ran 20-30% slower than with the same kernels and a
// malloc that never returned memory. Kernels allocate and free on the same thread.
#pragma once

#include <cstddef>

/// At least `bytes` bytes, aligned to 64, for the caller's thread until kiln_scratch_free. C
/// linkage so that the JIT can bind it by address. Aborts with a message when memory is out.
extern "C" void* kiln_scratch_alloc(size_t bytes);

/// Gives back a block of kiln_scratch_alloc, on the thread that took it; kept for reuse when it
/// is not too large (kScratchKeepBytes) and the thread keeps few blocks.
extern "C" void kiln_scratch_free(void* block);
