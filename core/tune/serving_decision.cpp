#include "core/tune/serving_decision.h"

#include <ctime>

#include "core/ir/hash128.h"

namespace kiln {

namespace {

constexpr const char* kAgainst = " against=";

}  // namespace

std::string decision_subject(const std::optional<TuningRecord>& record) {
  if (!record) return "default schedule";
  return "tuned schedule " + hash128(record->trace).hex();
}

std::optional<std::string> find_decision(RecordStore& store, const Workload& workload,
                                         const TargetFingerprint& target, const std::string& kind,
                                         const std::string& subject) {
  std::optional<std::string> choice;
  std::string suffix = kAgainst + subject;
  // Imported decisions are "unverified"; like local ones they hold for this exact target only.
  store.for_each({workload.key, target, kind, false}, [&](const TuningRecord& r) {
    if (r.config.ends_with(suffix)) choice = r.config.substr(0, r.config.size() - suffix.size());
  });
  return choice;
}

void commit_decision(RecordStore& store, const Workload& workload, const TargetFingerprint& target,
                     const std::string& kind, const std::string& choice, const std::string& subject,
                     double seconds, const std::string& kiln_version) {
  TuningRecord r;
  r.workload = workload.key;
  r.target = target;
  r.kiln_version = kiln_version;
  r.kind = kind;
  r.config = choice + kAgainst + subject;
  r.seconds = seconds;
  r.time = static_cast<int64_t>(std::time(nullptr));
  store.commit(workload, {r});
}

}  // namespace kiln
