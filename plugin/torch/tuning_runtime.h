// The process's tuning cache and tuning service, as torch.compile options configure them:
// "background" serves tuned kernels from the cache and tunes hot slots in the background,
// "cache-only" serves from the cache and never tunes, "off" uses neither.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "core/tune/kernel_pipeline.h"
#include "core/tune/tuning_service.h"
#include "plugin/torch/kiln_torch.h"

namespace kiln {

/// The measuring worker shipped beside libkiln_torch.so.
std::string measure_worker_path();

class TieredRecordStore;

class TuningRuntime {
 public:
  /// The process's runtime (leaked on purpose, like the compile service: slots outlive statics).
  static TuningRuntime& global();

  /// Opens the tuning cache of `options.cache_dir`, with the fleet's Redis of
  /// `options.cache_url` behind it when set (once; a later, different cache is ignored with a
  /// warning; a malformed URL or refused credentials throw RedisError) and, for
  /// TuneMode::Background, starts the service. Returns where kernels come from under these options.
  KernelSource configure(const CompileOptions& options, const KernelCompiler& compiler);

  /// The service, or null when no compile asked for background tuning.
  TuningService* service();
  /// This machine as records describe it: the compiler's target, torch's thread count.
  TargetFingerprint fingerprint(const KernelCompiler& compiler) const;
  /// Stops the service (at exit), then gives records on their way to a Redis that answers up
  /// to 2 s to get there; idempotent.
  void stop();
  /// Holds or resumes background tuning (TuningService::pause), also a service started later.
  void pause(bool paused);
  bool paused();
  /// With the fleet's Redis behind the cache: waits until the records committed here reached
  /// it, at most `timeout_seconds`; returns how many still wait.
  size_t flush_fleet(double timeout_seconds);

 private:
  TuningRuntime();
  ~TuningRuntime();

  std::mutex mutex_;
  std::string cache_dir_, cache_url_;
  std::unique_ptr<RecordStore> store_;
  TieredRecordStore* fleet_ = nullptr;  ///< store_, when the fleet's Redis stands behind it.
  std::unique_ptr<KernelObjectCache> objects_;
  std::unique_ptr<TuningHost> host_;
  std::unique_ptr<TuningService> service_;
  bool paused_ = false;
};

}  // namespace kiln
