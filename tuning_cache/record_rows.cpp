#include "tuning_cache/record_rows.h"

namespace kiln::sqlite {

TuningRecord read_record(const Statement& row) {
  TuningRecord r;
  r.id = row.integer(0);
  r.workload = WorkloadKey::from_hex(row.text(1));
  r.target = TargetFingerprint::from_text(row.text(2));
  r.space_version = static_cast<int>(row.integer(3));
  r.kiln_version = row.text(4);
  r.kind = row.text(5);
  r.config = row.text(6);
  r.trace = row.text(7);
  r.seconds = row.real(8);
  r.spread = row.real(9);
  r.status = row.text(10);
  r.error = row.text(11);
  r.features = row.floats(12);
  r.source = row.text(13);
  r.time = row.integer(14);
  return r;
}

int64_t insert_record(sqlite3* db, const TuningRecord& r) {
  Statement insert(db,
                   "INSERT INTO records(workload, target, space_version, kiln_version, kind, "
                   "config, trace, seconds, spread, status, error, features, source, time) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.bind_text(1, r.workload.hex())
      .bind_text(2, r.target.to_text())
      .bind_int(3, r.space_version)
      .bind_text(4, r.kiln_version)
      .bind_text(5, r.kind)
      .bind_text(6, r.config)
      .bind_text(7, r.trace)
      .bind_real(8, r.seconds)
      .bind_real(9, r.spread)
      .bind_text(10, r.status)
      .bind_text(11, r.error)
      .bind_floats(12, r.features)
      .bind_text(13, r.source)
      .bind_int(14, r.time)
      .run();
  return sqlite3_last_insert_rowid(db);
}

Workload read_workload(const Statement& row) {
  return {WorkloadKey::from_hex(row.text(0)), row.text(1), row.text(2), row.text(3), row.real(4)};
}

std::optional<Workload> read_workload(sqlite3* db, const WorkloadKey& key) {
  Statement q(db, str_cat("SELECT ", kWorkloadColumns, " FROM workloads WHERE key = ?"));
  q.bind_text(1, key.hex());
  if (!q.step()) return std::nullopt;
  return read_workload(q);
}

std::string store_workload(sqlite3* db, const Workload& w) {
  Statement insert(db,
                   "INSERT INTO workloads(key, canonical, description, op_class, flops) "
                   "VALUES (?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING");
  insert.bind_text(1, w.key.hex())
      .bind_text(2, w.canonical)
      .bind_text(3, w.description)
      .bind_text(4, w.op_class)
      .bind_real(5, w.flops)
      .run();
  if (sqlite3_changes(db) == 1) return w.canonical;
  Statement stored(db, "SELECT canonical FROM workloads WHERE key = ?");
  stored.bind_text(1, w.key.hex());
  KILN_CHECK(stored.step(), "workload ", w.key.hex(), " neither inserted nor found");
  return stored.text(0);
}

}  // namespace kiln::sqlite
