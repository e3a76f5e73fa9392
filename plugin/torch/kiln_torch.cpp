// The exported C++ API of kiln_torch.h (launch_slot lives with the operator in launch_op.cpp).
#include "plugin/torch/kiln_torch.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "backends/cuda/cuda_driver.h"
#include "backends/cuda/nvrtc.h"
#include "core/runtime/thread_pool.h"
#include "core/support/error.h"
#include "plugin/torch/aten_served_kernel.h"
#include "plugin/torch/build_identity.h"
#include "plugin/torch/compile_service.h"
#include "plugin/torch/slot_registry.h"
#include "plugin/torch/tuning_runtime.h"

#ifndef KILN_VERSION
#error "the build defines KILN_VERSION and KILN_LLVM_VERSION"
#endif

namespace kiln {

CompiledGraph compile_graph(const Graph& g, const CompileOptions& options) {
  CompiledGraph c = CompileService::global().compile(g, options);
  for (CompiledGroup& group : c.groups) group.served_by = slot_info(group.slot).served_by;
  return c;
}

SlotInfo slot_info(int64_t slot) {
  std::shared_ptr<const SlotEntry> held = SlotRegistry::global().get(slot);
  const SlotEntry& entry = *held;
  std::shared_ptr<const Kernel> kernel = entry.slot.current();
  auto* aten = dynamic_cast<const AtenServedKernel*>(kernel.get());
  std::string served_by = aten              ? aten->description()
                          : kernel->tuned() ? "Kiln kernel (tuned)"
                                            : "Kiln kernel";
  return {slot,
          entry.slot.description(),
          entry.key,
          entry.inputs,
          entry.outputs,
          served_by,
          entry.slot.stats(),
          entry.constants ? entry.constants->fills() : 0,
          entry.constants ? entry.constants->bytes() : 0};
}

std::vector<SlotInfo> all_slots() {
  std::vector<SlotInfo> slots;
  for (int64_t s : SlotRegistry::global().live()) {
    try {
      slots.push_back(slot_info(s));
    } catch (const Error&) {
      // released since live() listed it
    }
  }
  return slots;
}

int64_t live_jit_kernels() {
  return LLVMCompiler::live_kernels();
}

void release_slots(const std::vector<int64_t>& slots) {
  for (int64_t s : slots) SlotRegistry::global().release(s);
}

namespace {
constexpr std::pair<TuneMode, std::string_view> kTuneModes[] = {
    {TuneMode::Off, "off"},
    {TuneMode::CacheOnly, "cache-only"},
    {TuneMode::Background, "background"}};
}  // namespace

TuneMode tune_mode_from_name(std::string_view name) {
  for (auto [mode, n] : kTuneModes)
    if (name == n) return mode;
  throw Error(str_cat("kiln: tune must be 'background', 'cache-only' or 'off', not '", name, "'"));
}

std::string_view tune_mode_name(TuneMode mode) {
  for (auto [m, name] : kTuneModes)
    if (m == mode) return name;
  return "?";
}

std::vector<SlotTuningInfo> tuning_stats() {
  std::vector<SlotTuningInfo> infos;
  TuningService* service = TuningRuntime::global().service();
  if (!service) return infos;
  for (const auto& [slot, t] : service->slots())
    infos.push_back({slot, t.state, t.trials, t.first_seconds * 1e3, t.best_seconds * 1e3, t.swaps,
                     t.rollbacks, t.default_won, t.detail});
  return infos;
}

std::vector<SwapEvent> tuning_swaps() {
  TuningService* service = TuningRuntime::global().service();
  return service ? service->swaps() : std::vector<SwapEvent>{};
}

TuningCost tuning_cost() {
  TuningService* service = TuningRuntime::global().service();
  return service ? TuningCost{service->model_slowdown(), service->duty()} : TuningCost{};
}

void observe_model_call(uint64_t ns) {
  if (TuningService* service = TuningRuntime::global().service()) service->observe_model_call(ns);
}

void stop_tuning() {
  TuningRuntime::global().stop();
}

void pause_tuning(bool paused) {
  TuningRuntime::global().pause(paused);
}

bool tuning_paused() {
  return TuningRuntime::global().paused();
}

int64_t flush_fleet(double timeout_s) {
  return static_cast<int64_t>(TuningRuntime::global().flush_fleet(timeout_s));
}

bool tune_now(double budget_s,
              const std::function<void(const std::string&, int, int, double, double)>& progress) {
  TuningService* service = TuningRuntime::global().service();
  if (!service) return false;
  service->tune_all(budget_s, [&](const std::string& name, const TuneProgress& p) {
    if (progress) progress(name, p.trial, p.trials, p.best_gflops, p.elapsed_seconds);
  });
  return true;
}

namespace {

/// Runs a parallel loop of a few chunks per thread; returns how many threads ran them.
int threads_running_a_parallel_loop() {
  std::mutex mutex;
  std::set<std::thread::id> ids;
  current_thread_pool().parallel_for(4 * at::get_num_threads(), [&](int64_t, int64_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // no thread takes every chunk
    std::lock_guard lock(mutex);
    ids.insert(std::this_thread::get_id());
  });
  return static_cast<int>(ids.size());
}

}  // namespace

namespace {

/// NVRTC and the GPU the CUDA backend would use, or why there is none (both load at run time).
std::string cuda_backend_line() {
  std::string why;
  std::optional<cuda::Nvrtc> nvrtc = cuda::Nvrtc::load(&why);
  std::string compiler = nvrtc ? str_cat("NVRTC ", nvrtc->version()) : str_cat("no NVRTC: ", why);
  std::optional<cuda::CudaDevice> device = cuda::CudaDevice::open(&why);
  if (!device) return str_cat(compiler, "; no GPU: ", why);
  return str_cat(compiler, "; ", device->name(), " (", device->arch(), ")");
}

}  // namespace

DoctorReport doctor() {
  const Target& t = CompileService::global().target();
  return {t.cpu,
          t.features,
          t.vector_bits,
          at::get_num_threads(),
          threads_running_a_parallel_loop(),
          KILN_LLVM_VERSION,
          KILN_VERSION,
          build_identity(),
          cuda_backend_line()};
}

std::string version() {
  return KILN_VERSION;
}

void set_log_level(std::string_view level) {
  set_log_threshold(level);
}

void route_log(LogSink sink) {
  set_log_sink(sink);
}

std::string library_path() {
  Dl_info info;
  KILN_CHECK(dladdr(reinterpret_cast<void*>(&library_path), &info) != 0 && info.dli_fname,
             "dladdr cannot find the library that holds library_path");
  return info.dli_fname;
}

}  // namespace kiln
