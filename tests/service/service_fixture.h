// What the tuning-service tests share: a JIT, a fresh cache file, a host that times kernels on
// host tensors, slots that start with a deliberately slow kernel, and a miscompiling compiler.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <limits>
#include <thread>

#include "backends/llvm/llvm_compiler.h"
#include "core/runtime/thread_pool.h"
#include "core/schedule/lower.h"
#include "core/templates/default_schedule.h"
#include "core/tune/kernel_pipeline.h"
#include "core/tune/tuning_service.h"
#include "tests/tune/workloads.h"
#include "tuning_cache/sqlite_record_store.h"

namespace kiln::service_test {

/// Host tensors for each parameter of `f`: random inputs from `seed`, zero outputs.
inline std::vector<HostTensor> arguments(const LoweredFunc& f, uint64_t seed) {
  std::vector<HostTensor> args;
  for (size_t i = 0; i < f.params.size(); ++i) {
    const TensorNode& p = *f.params[i].get();
    args.push_back(static_cast<int>(i) < f.num_inputs
                       ? HostTensor::random(p.shape, p.dtype, seed + i, -1, 1, p.strides)
                       : HostTensor::zeros(p.shape, p.dtype));
  }
  return args;
}

inline std::vector<void*> pointers(const std::vector<HostTensor>& args) {
  std::vector<void*> ptrs;
  for (auto& a : args) ptrs.push_back(a.data());
  return ptrs;
}

/// The slot's outputs on inputs from `seed` against `expected`'s (max_relative_error, 1e-3).
inline double slot_disagreement(const KernelSlot& slot, const Kernel& expected, uint64_t seed) {
  std::vector<HostTensor> a = arguments(expected.func(), seed),
                          b = arguments(expected.func(), seed);
  slot.launch(pointers(a).data());
  expected.launch(pointers(b).data());
  double worst = 0;
  for (size_t i = expected.func().num_inputs; i < a.size(); ++i)
    worst = std::max(worst, max_relative_error(a[i], b[i], 1e-3, 1e-3));
  return worst;
}

/// A kernel of `outputs` with no schedule at all: serial scalar loops, easy to beat.
inline std::shared_ptr<const Kernel> naive_kernel(const KernelCompiler& c,
                                                  const std::vector<Tensor>& outputs) {
  return c.compile(lower(Schedule(outputs), "naive"));
}

/// Times kernels on host tensors on this thread.
class TestHost : public TuningHost {
 public:
  std::vector<double> time_in_process(const std::vector<const Kernel*>& kernels) override {
    std::vector<HostTensor> args = arguments(kernels[0]->func(), 1);
    std::vector<void*> ptrs = pointers(args);
    std::vector<double> best(kernels.size(), std::numeric_limits<double>::infinity());
    for (int run = 0; run < 5; ++run)
      for (size_t i = 0; i < kernels.size(); ++i) {
        auto t0 = std::chrono::steady_clock::now();
        kernels[i]->launch(ptrs.data());
        best[i] = std::min(
            best[i], std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
    return best;
  }
  void log(bool, const std::string& message) override { messages.push_back(message); }
  std::vector<std::string> messages;
};

/// Compiles like `inner`, but every kernel except a reference adds 1000 to its first output
/// element: a miscompiling backend, which verification must catch.
class WrongCompiler : public KernelCompiler {
 public:
  explicit WrongCompiler(const KernelCompiler& inner) : inner_(inner) {}
  std::unique_ptr<Kernel> compile(const LoweredFunc& f) const override {
    std::unique_ptr<Kernel> k = inner_.compile(f);
    if (f.name.ends_with("_reference")) return k;
    return std::make_unique<Corrupting>(std::move(k));
  }
  const Target& target() const override { return inner_.target(); }

 private:
  struct Corrupting : Kernel {
    explicit Corrupting(std::unique_ptr<Kernel> k) : Kernel(k->func()), inner(std::move(k)) {}
    void launch(void* const* args) const override {
      inner->launch(args);
      static_cast<float*>(args[func().num_inputs])[0] += 1000;
    }
    std::unique_ptr<Kernel> inner;
  };
  const KernelCompiler& inner_;
};

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // NOTE: ctest runs test binaries side by side; a parallel loop whose second thread is
    // descheduled waits a scheduler quantum, which would swamp the in-process timings here.
    set_default_pool_threads(1);
    compiler = LLVMCompiler::create();
    dir = std::filesystem::temp_directory_path() /
          ("kiln-service-test-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    store = SqliteRecordStore::open((dir / "tuning.sqlite").string());
    target = fingerprint_of(compiler->target(), "llvm test", 1);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  TuningServiceOptions options(int trials) const {
    TuningServiceOptions o;
    o.trials = trials;
    o.workload_seconds = 60;
    o.budget_seconds = 0;
    o.early_stop = 0;
    o.measure.threads = 1;
    o.measure.repeats = 3;
    o.measure.min_repeat_seconds = 0.002;
    o.kiln_version = "test";
    // NOTE: at SCHED_IDLE the service waits for idle CPU, which tests running side by side (and
    // eight calling threads) never leave; what these tests check does not depend on priority.
    o.idle_priority = false;
    return o;
  }

  /// The default schedule's kernel: the ground truth the tests compare against.
  std::shared_ptr<const Kernel> reference(const std::vector<Tensor>& outputs) const {
    return compiler->compile(lower(default_schedule(outputs, compiler->target()), "reference"));
  }

  /// Calls the slot `n` times, so the service sees it run.
  void call(const KernelSlot& slot, int n) const {
    std::vector<HostTensor> args = arguments(slot.current()->func(), 1);
    for (int i = 0; i < n; ++i) slot.launch(pointers(args).data());
  }

  /// Polls `done` every 10 ms for up to `seconds`.
  static bool wait_for(const std::function<bool()>& done, double seconds) {
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < until) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
  }

  /// Kernels of `c` with this test's store, for `fingerprint`.
  KernelSource source(const KernelCompiler& c, const TargetFingerprint& fingerprint) const {
    KernelSource s;
    s.compiler = &c;
    s.store = store.get();
    s.target = fingerprint;
    return s;
  }

  std::string lower_trace_of_default(const std::vector<Tensor>& outputs) const {
    return default_schedule(outputs, compiler->target()).trace().to_text();
  }

  /// A record from elsewhere ("unverified") of `outputs`' default schedule, claiming `seconds`.
  TuningRecord imported_default(const std::vector<Tensor>& outputs, double seconds,
                                const std::string& source) const {
    TuningRecord r;
    r.workload = describe_workload(outputs).key;
    r.target = target;
    r.trace = lower_trace_of_default(outputs);
    r.seconds = seconds;
    r.status = "unverified";
    r.source = source;
    return r;
  }

  /// The status of record `id` of workload `key` ("" when there is none).
  std::string status_of(const WorkloadKey& key, int64_t id) const {
    std::string status;
    store->for_each({key, std::nullopt, "", false}, [&](const TuningRecord& r) {
      if (r.id == id) status = r.status;
    });
    return status;
  }

  std::unique_ptr<LLVMCompiler> compiler;
  std::filesystem::path dir;
  std::unique_ptr<SqliteRecordStore> store;
  TargetFingerprint target;
  TestHost host;
};

}  // namespace kiln::service_test
