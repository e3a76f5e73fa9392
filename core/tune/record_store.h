// The tuning cache's interface: records of measured schedules, by workload and target. The
// SQLite store (tuning_cache/) implements it; the tuning service, the kernel pipeline and the
// cost model's warm start only see this.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/tune/target_fingerprint.h"
#include "core/tune/workload.h"

namespace kiln {

/// The version of the schedule templates' knob spaces. A record made under another version names
/// knobs that may mean something else now: it is never served (it may still train the model).
/// NOTE: bump it whenever a template's knobs change meaning.
constexpr int kScheduleSpaceVersion = 1;

/// The kinds of record (TuningRecord::kind), spelled as the cache stores them.
namespace record_kind {
inline constexpr const char* kSchedule = "schedule";
inline constexpr const char* kBaseline = "baseline";
inline constexpr const char* kContraction = "contraction";
inline constexpr const char* kServing = "serving";
}  // namespace record_kind

/// One measured candidate, as the cache keeps it. Everything is spelled by name (knobs, trace
/// instructions, status), never by enum number.
struct TuningRecord {
  int64_t id = 0;  ///< Assigned by the store; 0 before commit.
  WorkloadKey workload;
  TargetFingerprint target;
  int space_version = kScheduleSpaceVersion;
  std::string kiln_version;
  /// What was decided: "schedule" (config and trace); "baseline", the default schedule as a
  /// search measured it before its trials (the cost model learns where defaults stand from it;
  /// it never serves: the default needs no record); or a decision of how a workload is served,
  /// "contraction" or "serving" (config "<choice> against=<subject>", serving_decision.h).
  std::string kind = record_kind::kSchedule;
  std::string config;  ///< KnobConfig::to_text(), or a decision.
  std::string trace;   ///< Trace::to_text(): what replays the schedule.
  double seconds = 0;  ///< Median time per call; 0 for a failure.
  double spread = 0;   ///< (slowest - fastest) / median of the repeats.
  /// measure_status_name(), or "quarantined" (its trace failed here, or its kernel disagreed).
  std::string status = "ok";
  std::string error;             ///< Why it failed or was quarantined.
  std::vector<float> features;   ///< FeatureExtractor's vector, what the model trains on.
  std::string source = "local";  ///< "local", or where it was imported from.
  int64_t time = 0;              ///< Unix seconds when it was measured.
};

/// Whether `r` is a measurement of a kernel that ran correctly (what a cost model learns from).
inline bool measured_well(const TuningRecord& r) {
  return r.seconds > 0 && (r.status == "ok" || r.status == "unverified");
}

/// Which records a query wants; empty fields match anything.
struct RecordFilter {
  std::optional<WorkloadKey> workload;
  std::optional<TargetFingerprint> target;
  std::string kind;      ///< "" for every kind.
  bool ok_only = false;  ///< Only records with status "ok".
};

/// Why a lookup found nothing to serve, field by field.
struct LookupMiss {
  /// "no record of this workload", "canonical form differs (hash collision)", or per field of
  /// the key that differed from the nearest record: "threads: 1 → 2".
  std::vector<std::string> reasons;
};

class RecordStore {
 public:
  virtual ~RecordStore() = default;

  /// Adds `records` of `workload` atomically (all or none); returns their ids. Safe to call from
  /// several threads and processes at once.
  virtual std::vector<int64_t> commit(const Workload& workload,
                                      const std::vector<TuningRecord>& records) = 0;
  /// The fastest "ok" record of `kind` for `workload` on exactly `target` under the current space
  /// version, when the stored canonical form equals the workload's.
  virtual std::optional<TuningRecord> best(const Workload& workload,
                                           const TargetFingerprint& target,
                                           const std::string& kind = record_kind::kSchedule) = 0;
  /// Why best() finds nothing for this workload and target.
  virtual LookupMiss explain(const Workload& workload, const TargetFingerprint& target) = 0;
  /// Calls `visit` for every matching record (oldest first).
  virtual void for_each(const RecordFilter& filter,
                        const std::function<void(const TuningRecord&)>& visit) = 0;
  /// The stored workload of `key`, if any.
  virtual std::optional<Workload> workload(const WorkloadKey& key) = 0;
  /// Sets a record's status ("quarantined") and error text.
  virtual void set_status(int64_t id, const std::string& status, const std::string& error) = 0;
};

}  // namespace kiln
