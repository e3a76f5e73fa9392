// Private to tuning_cache/: how a TuningRecord and a Workload map onto rows of the cache's two
// tables, in one place for the store's queries and for export and import.
#pragma once

#include <optional>
#include <string>

#include "core/tune/record_store.h"
#include "tuning_cache/sqlite_statement.h"

namespace kiln::sqlite {

/// The records table's columns in the order read_record() reads them.
inline constexpr const char* kRecordColumns =
    "id, workload, target, space_version, kiln_version, kind, config, trace, seconds, spread, "
    "status, error, features, source, time";

/// The workloads table's columns in the order read_workload() reads them.
inline constexpr const char* kWorkloadColumns = "key, canonical, description, op_class, flops";

/// The statuses best() may serve. NOTE: "unverified" (measured elsewhere, imported) is served
/// only after the kernel pipeline checks it against the default schedule; it then becomes "ok".
inline constexpr const char* kServable = "status IN ('ok', 'unverified')";

/// The record in the current row of a statement that selected kRecordColumns first.
TuningRecord read_record(const Statement& row);

/// Inserts `r` (its id ignored); returns the new id.
int64_t insert_record(sqlite3* db, const TuningRecord& r);

/// The workload in the current row of a statement that selected kWorkloadColumns first.
Workload read_workload(const Statement& row);

/// The workload of `key` as stored, if any.
std::optional<Workload> read_workload(sqlite3* db, const WorkloadKey& key);

/// Stores `w` unless its key is stored already. Returns the canonical form stored under the key:
/// when it is not `w.canonical`, the stored workload is another program with the same key.
std::string store_workload(sqlite3* db, const Workload& w);

}  // namespace kiln::sqlite
