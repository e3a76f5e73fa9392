// One search whose records go to a tuning cache as they come, with a cost model warmed from that
// cache: what the tuning service does for a hot slot and a fleet worker for a task.
#pragma once

#include <functional>
#include <string>

#include "core/tune/record_store.h"
#include "core/tune/tuner.h"

namespace kiln {

/// Where a stored search reads and writes, and what it says.
struct StoredSearchContext {
  const KernelCompiler* compiler = nullptr;
  RecordStore* store = nullptr;  ///< May be null: a cold model, nothing committed.
  TargetFingerprint target;
  MeasureOptions measure;
  std::string kiln_version;
  /// Told once, before the search, how many records of how many tasks warmed the model.
  std::function<void(size_t records, size_t tasks)> warmed;
};

/// Searches `task` (described by `workload`) with `tune`'s trials, time and stop flag: model-
/// guided with XGBoost warmed from the store's records of this target's ISA (random search where
/// XGBoost is not built in), seeded by the workload key. Its records (baseline first) are
/// committed every `tune.batch` trials and at the end, so a process killed in the middle keeps
/// what it measured. `progress` is called after each trial.
TuneResult stored_search(const TuningTask& task, const Workload& workload, TuneOptions tune,
                         const StoredSearchContext& context,
                         const std::function<void(const TuneProgress&)>& progress = {});

}  // namespace kiln
