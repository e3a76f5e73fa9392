#include "core/tune/trial_records.h"

#include <ctime>

namespace kiln {

namespace {

TuningRecord record_of(const Trial& t, const Trace& trace, const Workload& workload,
                       const TargetFingerprint& target, const std::string& kiln_version) {
  TuningRecord r;
  r.workload = workload.key;
  r.target = target;
  r.kiln_version = kiln_version;
  r.config = t.config.to_text();
  r.trace = trace.to_text();
  r.seconds = t.result.seconds;
  r.spread = t.result.spread;
  r.status = std::string(measure_status_name(t.result.status));
  r.error = t.result.error;
  r.features = t.features;
  r.time = static_cast<int64_t>(std::time(nullptr));
  return r;
}

}  // namespace

std::vector<TuningRecord> records_of_trials(const TuneResult& result, const Workload& workload,
                                            const TargetFingerprint& target,
                                            const std::string& kiln_version, size_t first) {
  std::vector<TuningRecord> records;
  if (first == 0 && !result.baseline.features.empty()) {
    records.push_back(
        record_of(result.baseline, result.baseline_trace, workload, target, kiln_version));
    records.back().kind = record_kind::kBaseline;
  }
  for (size_t i = first; i < result.trials.size(); ++i)
    records.push_back(
        record_of(result.trials[i], result.traces[i], workload, target, kiln_version));
  return records;
}

}  // namespace kiln
