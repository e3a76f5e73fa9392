// The fleet's level of the tuning cache: workloads and the measurements of every machine, in one
// Redis. It keeps what each machine measured apart (a hash field per schedule and machine), so a
// schedule's cost across the fleet is the median of the machines' costs: one noisy or lying
// machine moves it no more than one vote. Machine code never travels, only records.
//
// Keys (the layout's version is in the prefix; a reader of another version sees nothing):
//   kiln:1:workload:<workload key>            the workload as JSON (set once)
//   kiln:1:records:<target digest>:<workload>  hash: <measurement digest> → record JSON
//   kiln:1:targets                            hash: <target digest> → the fingerprint's text
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/tune/record_store.h"
#include "fleet/redis_client.h"

namespace kiln {

/// The name this machine's records carry in the fleet: $KILN_MACHINE_ID, else /etc/machine-id,
/// else the host name.
std::string this_machine();

/// 32 hex digits naming a target fingerprint in keys.
std::string target_digest(const TargetFingerprint& target);

/// What a push did.
struct PushResult {
  int64_t records = 0;    ///< Records written (a machine's newer measurement replaces its older).
  int64_t conflicts = 0;  ///< Not written: Redis holds another program under the workload's key.
};

/// One schedule as the fleet measured it: the machines' records and their median cost.
struct FleetSchedule {
  TuningRecord record;  ///< The fastest machine's record, with `seconds` the median of the
                        ///< machines' and `source` "fleet: <machines>".
  std::vector<std::string> machines;
};

/// What fetch() found for one workload and target.
struct FleetRecords {
  std::optional<Workload> workload;
  std::vector<FleetSchedule> schedules;  ///< Ok schedules of kind "schedule", fastest first.
  std::vector<TuningRecord> others;      ///< Every other record (baselines, failures), as stored.
  std::vector<std::string> garbage;      ///< Fields whose value is not a record, with why.
  /// The default schedule as the fleet measured it (the baselines' median, source "fleet: <the
  /// machines>"): what an importer judges the schedules' claimed speed-ups against.
  std::optional<TuningRecord> baseline;
};

/// How many of each the fleet's Redis holds.
struct FleetStats {
  int64_t workloads = 0, targets = 0, records = 0;
};

class RedisRecordStore {
 public:
  /// Connects (RedisClient::connect; throws its RedisError) as `machine`.
  RedisRecordStore(const RedisUrl& url, std::string machine, double timeout_seconds);

  /// Stores the workload (unless Redis has it) and `records` of it measured on this machine.
  PushResult push(const Workload& workload, const std::vector<TuningRecord>& records);
  /// Stores the workload unless Redis has it (a value that is no workload is replaced); false
  /// when Redis holds another program under its key.
  bool store_workload(const Workload& workload);
  /// The commands that store `records` (their workloads stored before) as this machine's:
  /// what push() sends, for a caller that sends them inside a transaction.
  std::vector<std::vector<std::string>> push_commands(
      const std::vector<TuningRecord>& records) const;
  /// Those of `records` (measured on this machine) that Redis does not hold yet.
  std::vector<TuningRecord> missing(const std::vector<TuningRecord>& records);
  /// The records of `key` on exactly `target` under the current space version. A value that is
  /// not a record (or a record of another workload, target or version) is skipped and named in
  /// `garbage`, never trusted.
  FleetRecords fetch(const WorkloadKey& key, const TargetFingerprint& target);
  /// Calls `visit` for every workload the fleet measured on `target` with its records.
  void for_each(const TargetFingerprint& target,
                const std::function<void(const FleetRecords&)>& visit);
  FleetStats stats();

  const RedisUrl& url() const { return redis_.url(); }
  const std::string& machine() const { return machine_; }
  RedisClient& client() { return redis_; }

 private:
  RedisClient redis_;
  std::string machine_;
};

}  // namespace kiln
