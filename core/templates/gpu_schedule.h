// The first schedule for NVIDIA GPUs: correct everywhere the op classes below reach, fast only
// where the work is elementwise. Its job is to give the CUDA backend (backends/cuda) loop IR to
// generate code from; GPU spaces with shared-memory tiles and tensor cores are the next step.
#pragma once

#include <vector>

#include "core/schedule/schedule.h"

namespace kiln {

/// Threads per block of gpu_schedule's loops.
inline constexpr int64_t kGpuThreadsPerBlock = 256;

/// Schedules `outputs` for a GPU: injective producers are inlined; every remaining stage (the
/// outputs, reductions, scans) stays a root whose spatial axes are fused into one loop, split
/// into blocks of kGpuThreadsPerBlock threads (x), each thread computing one element with its
/// reduce loops serial (a scan: one row, its scan axis the serial loop inside). Each root becomes
/// a kernel of its own, launched in order (the stream is the barrier between them). Throws
/// ScheduleError for scatters, which have no GPU schedule yet (their updates run in lowering's
/// own loops, which no thread binding reaches).
Schedule gpu_schedule(const std::vector<Tensor>& outputs);

}  // namespace kiln
