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

class SqliteRecordStore;

class TuningRuntime {
 public:
  /// The process's runtime (leaked on purpose, like the compile service: slots outlive statics).
  static TuningRuntime& global();

  /// Opens the tuning cache of `options.cache_dir` (once; a later, different directory is
  /// ignored with a warning) and, for TuneMode::Background, starts the service. Returns where
  /// kernels come from under these options.
  KernelSource configure(const CompileOptions& options, const KernelCompiler& compiler);

  /// The service, or null when no compile asked for background tuning.
  TuningService* service();
  /// This machine as records describe it: the compiler's target, torch's thread count.
  TargetFingerprint fingerprint(const KernelCompiler& compiler) const;
  /// Stops the service (at exit); idempotent.
  void stop();
  /// Holds or resumes background tuning (TuningService::pause), also a service started later.
  void pause(bool paused);
  bool paused();

 private:
  TuningRuntime();
  ~TuningRuntime();

  std::mutex mutex_;
  std::string cache_dir_;
  std::unique_ptr<SqliteRecordStore> store_;
  std::unique_ptr<KernelObjectCache> objects_;
  std::unique_ptr<TuningHost> host_;
  std::unique_ptr<TuningService> service_;
  bool paused_ = false;
};

}  // namespace kiln
