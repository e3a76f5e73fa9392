// Default-schedule kernels on this CPU against its roofline: GFLOP/s and the fraction of the FMA
// peak for matmul, GB/s and the fraction of triad bandwidth for memory-bound kernels, and JIT
// compile time. Fractions are given of the reference figures below (a quiet machine) and of
// the roofline measured in this same run (what a shared machine gives now). Each figure is the
// median of repeats; the thread counts run side by side in one process.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "backends/llvm/llvm_compiler.h"
#include "benchmarks/roofline.h"
#include "core/ops/op_registry.h"
#include "core/runtime/thread_pool.h"
#include "core/schedule/lower.h"
#include "core/templates/default_schedule.h"

namespace kiln {
namespace {

// Reference: measured on a quiet development machine (Zen 4): AVX-512 FMA loop, STREAM-style triad.
constexpr double kPeakGflops[] = {0, 220, 410};
constexpr double kTriadGBs[] = {0, 36, 70};
// The same, measured now (filled in by main).
double measured_gflops[3], measured_triad[3];

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Workload {
  std::string name;
  std::function<std::vector<Tensor>()> build;
  double flops;      ///< 0 for memory-bound kernels
  double bytes;      ///< compulsory traffic: inputs read once, outputs written once
  const char* kind;  ///< for the compile-time target
};

/// Runs `kernel` for at least `min_seconds` per repeat, returns the median seconds per call.
double time_kernel(const Kernel& kernel, const std::vector<void*>& args, int repeats) {
  kernel.launch(args.data());  // warm-up: page faults, caches
  std::vector<double> samples;
  for (int r = 0; r < repeats; ++r) {
    int calls = 0;
    auto t0 = std::chrono::steady_clock::now();
    do {
      kernel.launch(args.data());
      ++calls;
    } while (seconds_since(t0) < 0.05);
    samples.push_back(seconds_since(t0) / calls);
  }
  return median(samples);
}

void run(const Workload& w, const LLVMCompiler& compiler) {
  std::vector<Tensor> outputs = w.build();
  std::vector<double> compile_ms;
  std::unique_ptr<Kernel> kernel;
  for (int i = 0; i < 5; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    LoweredFunc f = lower(default_schedule(outputs, compiler.target()), w.name);
    kernel = compiler.compile(f);
    compile_ms.push_back(seconds_since(t0) * 1e3);
  }
  std::vector<HostTensor> buffers;
  for (auto& p : placeholders_of(outputs))
    buffers.push_back(
        HostTensor::random(p->shape, p->dtype, buffers.size() + 1, -1, 1, p->strides));
  for (auto& o : outputs) buffers.push_back(HostTensor::zeros(o->shape, o->dtype));
  std::vector<void*> args;
  for (auto& b : buffers) args.push_back(b.data());

  std::printf("%-26s compile %6.1f ms (median of 5)", w.name.c_str(), median(compile_ms));
  for (int threads : {1, 2}) {
    set_default_pool_threads(threads);
    double s = time_kernel(*kernel, args, 7);
    if (w.flops > 0) {
      double gflops = w.flops / s / 1e9;
      std::printf(" | %dT %7.3f ms %6.1f GFLOP/s %3.0f%% peak (%3.0f%% now)", threads, s * 1e3,
                  gflops, 100 * gflops / kPeakGflops[threads],
                  100 * gflops / measured_gflops[threads]);
    } else {
      double gbs = w.bytes / s / 1e9;
      std::printf(" | %dT %7.3f ms %6.1f GB/s %3.0f%% triad (%3.0f%% now)", threads, s * 1e3, gbs,
                  100 * gbs / kTriadGBs[threads], 100 * gbs / measured_triad[threads]);
    }
  }
  std::printf("\n");
  std::fflush(stdout);
}

/// What a parallel loop costs to start, beside what a thread would: the pool must be far cheaper.
void report_dispatch_cost() {
  set_default_pool_threads(2);
  std::atomic<int64_t> sink{0};
  auto body = [&](int64_t begin, int64_t end) { sink.fetch_add(end - begin); };
  auto micros = [](int reps, const std::function<void()>& fn) {
    std::vector<double> samples;
    for (int r = 0; r < reps; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      fn();
      samples.push_back(seconds_since(t0) * 1e6);
    }
    return median(samples);
  };
  double dispatch = micros(2000, [&] { current_thread_pool().parallel_for(2, body); });
  double spawn = micros(200, [&] { std::thread([&] { body(0, 1); }).join(); });
  std::printf("parallel_for over 2 threads %.2f us, thread spawn + join %.2f us (medians)\n",
              dispatch, spawn);
}

std::vector<Tensor> op(const std::string& name, const std::vector<OpArg>& args) {
  return OpRegistry::global().lower(name, args);
}

std::vector<Workload> workloads() {
  std::vector<Workload> w;
  for (int64_t n : {512, 1024}) {
    w.push_back({"matmul " + std::to_string(n) + "^3",
                 [n] {
                   return op("aten.mm.default", {placeholder("a", {n, n}, DType::F32),
                                                 placeholder("b", {n, n}, DType::F32)});
                 },
                 2.0 * n * n * n, 0, "matmul"});
  }
  // BERT-base's FFN down projection as nn.Linear computes it: x @ W.T, W stored [out, in].
  w.push_back({"linear 128x768x3072 W.T",
               [] {
                 Tensor wt = op("aten.permute.default", {placeholder("w", {768, 3072}, DType::F32),
                                                         std::vector<int64_t>{1, 0}})[0];
                 return op("aten.mm.default", {placeholder("x", {128, 3072}, DType::F32), wt});
               },
               2.0 * 128 * 768 * 3072, 0, "matmul"});
  const int64_t rows = 4096, cols = 1024;
  w.push_back({"softmax 4096x1024",
               [=] {
                 return op("aten._softmax.default",
                           {placeholder("x", {rows, cols}, DType::F32), int64_t{-1}, false});
               },
               0, 2.0 * rows * cols * 4, "reduction"});
  w.push_back({"layer_norm 4096x1024",
               [=] {
                 auto outs = op("aten.native_layer_norm.default",
                                {placeholder("x", {rows, cols}, DType::F32),
                                 std::vector<int64_t>{cols}, placeholder("w", {cols}, DType::F32),
                                 placeholder("b", {cols}, DType::F32), 1e-5});
                 return outs;
               },
               0, 2.0 * rows * cols * 4, "reduction"});
  const int64_t n = 16 << 20;
  w.push_back({"gelu 16M",
               [=] {
                 return op("aten.gelu.default",
                           {placeholder("x", {n}, DType::F32), std::string("none")});
               },
               0, 2.0 * n * 4, "elementwise"});
  return w;
}

}  // namespace
}  // namespace kiln

int main() {
  using namespace kiln;
  auto compiler = LLVMCompiler::create();
  const Target& t = compiler->target();
  for (int threads : {1, 2}) {
    measured_gflops[threads] = bench::measure_fma_gflops(threads);
    measured_triad[threads] = bench::measure_triad_gbs(threads);
  }
  std::printf("Kiln kernel benchmark: default schedules, %s (%d-bit vectors)\n", t.cpu.c_str(),
              t.vector_bits);
  std::printf(
      "roofline on 1/2 threads: reference %.0f/%.0f GFLOP/s FMA peak, %.0f/%.0f GB/s triad; "
      "measured now %.0f/%.0f GFLOP/s, %.1f/%.1f GB/s\n",
      kPeakGflops[1], kPeakGflops[2], kTriadGBs[1], kTriadGBs[2], measured_gflops[1],
      measured_gflops[2], measured_triad[1], measured_triad[2]);
  for (auto& w : workloads()) run(w, *compiler);
  report_dispatch_cost();
  return 0;
}
