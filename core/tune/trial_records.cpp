#include "core/tune/trial_records.h"

#include <ctime>

namespace kiln {

std::vector<TuningRecord> records_of_trials(const TuneResult& result, const Workload& workload,
                                            const TargetFingerprint& target,
                                            const std::string& kiln_version, size_t first) {
  std::vector<TuningRecord> records;
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  for (size_t i = first; i < result.trials.size(); ++i) {
    const Trial& t = result.trials[i];
    TuningRecord r;
    r.workload = workload.key;
    r.target = target;
    r.kiln_version = kiln_version;
    r.config = t.config.to_text();
    r.trace = result.traces[i].to_text();
    r.seconds = t.result.seconds;
    r.spread = t.result.spread;
    r.status = std::string(measure_status_name(t.result.status));
    r.error = t.result.error;
    r.features = t.features;
    r.time = now;
    records.push_back(std::move(r));
  }
  return records;
}

}  // namespace kiln
