// Loop IR → CUDA C: the source NVRTC compiles (nvrtc.h). One lowered function becomes one
// kernel per top-level loop nest, launched in order on one stream (the stream orders them, as a
// grid-wide barrier would); intermediates that the nests pass to each other become workspace
// buffers the launcher allocates. Needs no CUDA installation: it only writes text.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "core/ir/stmt.h"

namespace kiln::cuda {

/// One __global__ function of a module and how to launch it.
struct CudaKernel {
  std::string name;
  std::array<int64_t, 3> grid{1, 1, 1};   ///< Blocks along x, y, z.
  std::array<int64_t, 3> block{1, 1, 1};  ///< Threads per block along x, y, z.
};

/// The CUDA C of a lowered function, with what its launcher needs.
struct CudaModule {
  std::string source;
  std::vector<CudaKernel> kernels;  ///< In launch order.
  /// Every kernel takes the function's parameters, then these buffers (the intermediates one
  /// kernel writes and a later one reads), each of its tensor's shape and dtype.
  std::vector<Tensor> workspace;
};

/// CUDA C for `f`, whose loops the schedule bound to blocks and threads (gpu_schedule.h).
/// Arithmetic on f16 and bf16 runs in f32, as on the CPU; loads and stores convert. Throws
/// CompileError naming what has no CUDA form: a loop run by CPU threads (Parallel), a local
/// buffer of dynamic size, or a function CUDA's math library lacks (digamma, trigamma, i0e, i1e,
/// zeta).
CudaModule cuda_source(const LoweredFunc& f);

}  // namespace kiln::cuda
