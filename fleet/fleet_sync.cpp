#include "fleet/fleet_sync.h"

#include <map>
#include <set>
#include <tuple>

#include "fleet/tiered_record_store.h"

namespace kiln {

SyncResult push_to_fleet(SqliteRecordStore& local, RedisRecordStore& fleet) {
  std::map<WorkloadKey, std::vector<TuningRecord>> mine;
  local.for_each({}, [&](const TuningRecord& r) {
    if (r.source == "local" && shared_with_fleet(r.kind)) mine[r.workload].push_back(r);
  });
  SyncResult result;
  for (const auto& [key, records] : mine) {
    std::optional<Workload> w = local.workload(key);
    if (!w) continue;
    std::vector<TuningRecord> absent = fleet.missing(records);
    result.skipped += static_cast<int64_t>(records.size() - absent.size());
    PushResult pushed = fleet.push(*w, absent);
    result.records += pushed.records;
    result.conflicts += pushed.conflicts;
    if (pushed.records) ++result.workloads;
  }
  return result;
}

SyncResult pull_from_fleet(RedisRecordStore& fleet, const TargetFingerprint& target,
                           SqliteRecordStore& local) {
  SyncResult result;
  fleet.for_each(target, [&](const FleetRecords& found) {
    result.garbage.insert(result.garbage.end(), found.garbage.begin(), found.garbage.end());
    if (!found.workload) return;
    // A schedule this cache has a record of already (measured here, or pulled before) is
    // left out: a worker's own records come back from Redis under its machine's name.
    std::set<std::tuple<std::string, std::string, std::string>> known;
    local.for_each({found.workload->key, target, "", false},
                   [&](const TuningRecord& r) { known.emplace(r.kind, r.config, r.trace); });
    std::vector<TuningRecord> theirs;
    for (const FleetSchedule& s : found.schedules)
      if (!known.contains({s.record.kind, s.record.config, s.record.trace}))
        theirs.push_back(s.record);
    for (const TuningRecord& r : found.others)
      if (!known.contains({r.kind, r.config, r.trace})) theirs.push_back(r);
    if (found.baseline &&
        !known.contains({record_kind::kBaseline, found.baseline->config, found.baseline->trace}))
      theirs.push_back(*found.baseline);  // the fleet's, which its schedules' claims compare with
    if (theirs.empty()) return;
    ImportResult imported = local.import_records(*found.workload, theirs);
    result.records += imported.added;
    result.skipped += imported.skipped;
    result.conflicts += imported.conflicts;
    if (imported.added) ++result.workloads;
  });
  return result;
}

}  // namespace kiln
