// Moving records between a machine's SQLite cache and the fleet's Redis in bulk: `kiln cache
// push | pull`, and a worker's pull of what the fleet measured before it warms its cost model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fleet/redis_record_store.h"
#include "tuning_cache/sqlite_record_store.h"

namespace kiln {

struct SyncResult {
  int64_t workloads = 0;  ///< Workloads with records moved.
  int64_t records = 0;    ///< Records moved.
  int64_t skipped = 0;    ///< Already there.
  int64_t conflicts = 0;  ///< Not moved: the other side has another program under the key.
  std::vector<std::string> garbage;  ///< Values in Redis that are not records, with why.
};

/// Pushes every record `local` measured on this machine (source "local", kinds the fleet
/// shares: shared_with_fleet) that `fleet` does not hold yet.
SyncResult push_to_fleet(SqliteRecordStore& local, RedisRecordStore& fleet);

/// Imports what the fleet measured on `target` into `local`, as "unverified" records (served
/// only once checked here): each schedule once with its median cost, and the other records
/// (baselines, failures) that train the cost model. A schedule `local` has a record of already
/// is left out (`skipped` counts none of them: they never travel).
SyncResult pull_from_fleet(RedisRecordStore& fleet, const TargetFingerprint& target,
                           SqliteRecordStore& local);

}  // namespace kiln
