// The machine's roofline measured in the same run as the kernels it judges: a STREAM-style triad
// for bandwidth and an independent-FMA loop for peak FLOP/s, on 1..n threads of Kiln's pool.
// kernel_benchmark.cpp keeps reference figures from a quiet machine; these say what it gives now.
#pragma once

namespace kiln::bench {

/// Best of several STREAM triads (a = b + s * c over 3 x 64 MiB of f32) in GB/s, counting 12
/// bytes per element; each rep is run with ordinary and with streaming stores and the faster one
/// kept.
double measure_triad_gbs(int threads);

/// FP32 FLOP/s of a loop of independent AVX-512 (else AVX2) FMAs, in GFLOP/s.
double measure_fma_gflops(int threads);

}  // namespace kiln::bench
