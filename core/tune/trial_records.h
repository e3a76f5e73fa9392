// A search's trials as tuning-cache records: one function, used by the tuning service, `kiln
// tune` and the benchmarks alike.
#pragma once

#include <string>
#include <vector>

#include "core/tune/record_store.h"
#include "core/tune/tuner.h"

namespace kiln {

/// One record per trial of `result` from index `first` on (failures included: the cost model
/// learns from them too), of `workload` on `target`, stamped with the current time; with
/// `first` 0, the search's baseline (the default schedule) first, as a "baseline" record.
std::vector<TuningRecord> records_of_trials(const TuneResult& result, const Workload& workload,
                                            const TargetFingerprint& target,
                                            const std::string& kiln_version, size_t first = 0);

}  // namespace kiln
