#include "benchmarks/roofline.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>

#include "core/runtime/thread_pool.h"

namespace kiln::bench {

namespace {

double seconds(const std::function<void()>& fn) {
  auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

__attribute__((target("avx512f"))) void triad_avx512(float* a, const float* b, const float* c,
                                                     int64_t begin, int64_t end, bool stream) {
  const __m512 s = _mm512_set1_ps(3.0f);
  for (int64_t i = begin; i < end; i += 16) {
    __m512 v = _mm512_fmadd_ps(s, _mm512_load_ps(c + i), _mm512_load_ps(b + i));
    if (stream)
      _mm512_stream_ps(a + i, v);
    else
      _mm512_store_ps(a + i, v);
  }
  if (stream) _mm_sfence();
}

void triad_scalar(float* a, const float* b, const float* c, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) a[i] = b[i] + 3.0f * c[i];
}

__attribute__((target("avx512f"))) double fma_loop_avx512(int64_t iters) {
  __m512 acc[12];
  for (int k = 0; k < 12; ++k) acc[k] = _mm512_set1_ps(1.0f + k);
  const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
  for (int64_t i = 0; i < iters; ++i)
    for (int k = 0; k < 12; ++k) acc[k] = _mm512_fmadd_ps(acc[k], m, a);
  float out[16];
  __m512 sum = acc[0];
  for (int k = 1; k < 12; ++k) sum = _mm512_add_ps(sum, acc[k]);
  _mm512_storeu_ps(out, sum);
  return out[0];  // keeps the loop alive
}

__attribute__((target("avx2,fma"))) double fma_loop_avx2(int64_t iters) {
  __m256 acc[12];
  for (int k = 0; k < 12; ++k) acc[k] = _mm256_set1_ps(1.0f + k);
  const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
  for (int64_t i = 0; i < iters; ++i)
    for (int k = 0; k < 12; ++k) acc[k] = _mm256_fmadd_ps(acc[k], m, a);
  float out[8];
  __m256 sum = acc[0];
  for (int k = 1; k < 12; ++k) sum = _mm256_add_ps(sum, acc[k]);
  _mm256_storeu_ps(out, sum);
  return out[0];
}

}  // namespace

double measure_triad_gbs(int threads) {
  const int64_t n = 16 << 20;  // 64 MiB per array: far beyond the last-level cache
  auto alloc = [&] {
    auto* p = static_cast<float*>(std::aligned_alloc(64, n * sizeof(float)));
    std::memset(p, 0, n * sizeof(float));
    return std::unique_ptr<float, decltype(&std::free)>(p, &std::free);
  };
  auto a = alloc(), b = alloc(), c = alloc();
  set_default_pool_threads(threads);
  bool avx512 = __builtin_cpu_supports("avx512f");
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    for (bool stream : {false, true}) {
      double s = seconds([&] {
        current_thread_pool().parallel_for(n / 16, [&](int64_t begin, int64_t end) {
          if (avx512)
            triad_avx512(a.get(), b.get(), c.get(), begin * 16, end * 16, stream);
          else
            triad_scalar(a.get(), b.get(), c.get(), begin * 16, end * 16);
        });
      });
      best = std::max(best, 12.0 * n / s / 1e9);  // two floats read, one written
    }
  }
  return best;
}

double measure_fma_gflops(int threads) {
  const int64_t iters = 20'000'000;
  bool avx512 = __builtin_cpu_supports("avx512f");
  double flops_per_iter = 12.0 * (avx512 ? 16 : 8) * 2;
  set_default_pool_threads(threads);
  double best = 0;
  std::atomic<double> sink{0};  // the loops' results are used, so they cannot be optimized away
  for (int rep = 0; rep < 3; ++rep) {
    double s = seconds([&] {
      current_thread_pool().parallel_for(threads, [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t)
          sink.store(sink.load() + (avx512 ? fma_loop_avx512 : fma_loop_avx2)(iters));
      });
    });
    best = std::max(best, flops_per_iter * iters * threads / s / 1e9);
  }
  return best;
}

}  // namespace kiln::bench
