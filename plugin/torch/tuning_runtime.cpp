#include "plugin/torch/tuning_runtime.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>

#include <filesystem>
#if AT_PARALLEL_OPENMP
#include <omp.h>
#endif

#include "core/support/error.h"
#include "core/support/log.h"
#include "fleet/tiered_record_store.h"
#include "plugin/torch/build_identity.h"
#include "plugin/torch/torch_kernel_timing.h"
#include "tuning_cache/sqlite_record_store.h"

namespace kiln {

namespace {

/// The service's view of this process: timing on the service's own thread (one OpenMP thread,
/// see enter_background_thread), the plugin's log.
class PluginTuningHost : public TuningHost {
 public:
  std::vector<double> time_in_process(const std::vector<const Kernel*>& kernels) override {
    return fastest_of_runs(kernels, 5);
  }
  void log(bool warning, const std::string& message) override {
    log_message(warning ? LogLevel::Warning : LogLevel::Info, message);
  }
  void enter_background_thread() override {
    // at::parallel_for sets a thread's OpenMP thread count to torch's on the thread's first
    // call; doing that first keeps the setting below. NOTE: each library keeps its own "first
    // call" flag (a thread_local in an inline function of a header); get_num_threads sets
    // libtorch's.
    at::internal::lazy_init_num_threads();
    (void)at::get_num_threads();
#if AT_PARALLEL_OPENMP
    omp_set_num_threads(1);  // this thread's own setting; the model's threads keep theirs
#endif
    // MKL keeps its own thread count; its per-thread override exists where torch links MKL.
    // NOTE: the Fortran name, which takes its argument by reference: in torch's MKL the C name
    // is an alias of it.
    using SetLocal = int (*)(const int*);
    auto set_local = reinterpret_cast<SetLocal>(dlsym(RTLD_DEFAULT, "mkl_set_num_threads_local_"));
    const int one = 1;
    if (set_local) set_local(&one);
  }
};

void log_store_message(bool warning, const std::string& message) {
  log_message(warning ? LogLevel::Warning : LogLevel::Info, "kiln: tuning cache: " + message);
}

}  // namespace

std::string measure_worker_path() {
  return (std::filesystem::path(library_path()).parent_path() / "kiln-measure-worker").string();
}

TuningRuntime::TuningRuntime() = default;
TuningRuntime::~TuningRuntime() = default;

TuningRuntime& TuningRuntime::global() {
  static TuningRuntime* runtime = new TuningRuntime();
  return *runtime;
}

TargetFingerprint TuningRuntime::fingerprint(const KernelCompiler& compiler) const {
  return fingerprint_of(compiler.target(), str_cat("llvm ", KILN_LLVM_VERSION),
                        at::get_num_threads());
}

KernelSource TuningRuntime::configure(const CompileOptions& options,
                                      const KernelCompiler& compiler) {
  KernelSource source;
  source.compiler = &compiler;
  source.target = fingerprint(compiler);
  source.verify.worker = measure_worker_path();
  source.verify.threads = 1;
  if (options.tune == TuneMode::Off || options.cache_dir.empty()) return source;
  std::lock_guard lock(mutex_);
  if (!store_) {
    cache_dir_ = options.cache_dir;
    cache_url_ = options.cache_url;
    std::string path = (std::filesystem::path(cache_dir_) / "tuning.sqlite").string();
    try {
      auto local = SqliteRecordStore::open(
          path, [](const std::string& message) { log_store_message(true, message); });
      if (cache_url_.empty()) {
        store_ = std::move(local);
      } else {
        TieredOptions o;
        o.url = RedisUrl::parse(cache_url_);
        o.log = log_store_message;
        auto tiered = std::make_unique<TieredRecordStore>(std::move(local), std::move(o));
        fleet_ = tiered.get();
        store_ = std::move(tiered);
      }
      // Machine code depends on the CPU, its features, LLVM, the math libraries it calls and
      // Kiln's code generator (this build: a rebuilt Kiln must not load what an older one
      // compiled), not on thread counts.
      objects_ = std::make_unique<KernelObjectCache>(
          (std::filesystem::path(cache_dir_) / "objects").string(),
          str_cat(source.target.cpu, ";", source.target.features, ";", source.target.compiler, ";",
                  compiler.target().math_libraries, ";", build_identity()));
      log_message(
          LogLevel::Info,
          str_cat("kiln: tuning cache ", path,
                  cache_url_.empty() ? "" : ", then " + RedisUrl::parse(cache_url_).redacted()));
    } catch (const RedisError&) {
      cache_dir_.clear();
      throw;  // a malformed URL or refused credentials: a configuration to fix, said at once
    } catch (const Error& e) {
      log_message(LogLevel::Warning, str_cat("kiln: no tuning cache (", e.what(),
                                             "); kernels use "
                                             "default schedules"));
      cache_dir_.clear();
      return source;
    }
  } else if (options.cache_dir != cache_dir_ || options.cache_url != cache_url_) {
    log_message(LogLevel::Warning,
                str_cat("kiln: the tuning cache is ", cache_dir_,
                        cache_url_.empty() ? "" : " with " + RedisUrl::parse(cache_url_).redacted(),
                        " for this process; ignoring ", options.cache_dir,
                        options.cache_url.empty() ? "" : " with another Redis"));
  }
  source.store = store_.get();
  source.objects = objects_.get();
  if (options.tune == TuneMode::Background && !service_) {
    if (!std::filesystem::exists(source.verify.worker)) {
      log_message(LogLevel::Warning, str_cat("kiln: no background tuning: the measuring worker ",
                                             source.verify.worker, " is missing"));
      return source;
    }
    TuningServiceOptions o;
    o.trials = options.tune_trials;
    o.budget_seconds = options.tune_budget_s;
    // As many threads as the model's calls have, by default: a candidate measured on fewer
    // is ranked by how it runs there (a schedule whose parallel loop is too short for the
    // model's threads times as fast as one that uses them all). It runs at idle priority.
    o.measure.threads = options.tune_threads > 0 ? options.tune_threads : at::get_num_threads();
    o.measure.worker = source.verify.worker;
    o.kiln_version = KILN_VERSION;
    host_ = std::make_unique<PluginTuningHost>();
    service_ = std::make_unique<TuningService>(source, o, *host_);
    service_->pause(paused_);
    service_->start();
  }
  return source;
}

TuningService* TuningRuntime::service() {
  std::lock_guard lock(mutex_);
  return service_.get();
}

void TuningRuntime::stop() {
  TuningService* service = this->service();
  if (service) service->stop();
  // Records on their way to the fleet's Redis get a moment, unless it is down; they stay in the
  // local cache either way (`kiln cache push` sends them later).
  std::lock_guard lock(mutex_);
  if (!fleet_) return;
  if (fleet_->redis_up()) fleet_->flush(2.0);
  fleet_->stop();  // joined before exit tears down what its connection uses (OpenSSL)
}

void TuningRuntime::pause(bool paused) {
  std::lock_guard lock(mutex_);
  paused_ = paused;
  if (service_) service_->pause(paused);
}

size_t TuningRuntime::flush_fleet(double timeout_seconds) {
  std::lock_guard lock(mutex_);
  return fleet_ ? fleet_->flush(timeout_seconds) : 0;
}

bool TuningRuntime::paused() {
  std::lock_guard lock(mutex_);
  return paused_;
}

}  // namespace kiln
