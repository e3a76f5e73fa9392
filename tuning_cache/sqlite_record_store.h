// The embedded tuning cache: a RecordStore in one SQLite file, shared safely by every thread and
// process on the machine (WAL journal, busy timeout, one transaction per commit). A damaged file
// never stops Kiln: it is moved aside, reported once, and replaced by an empty cache.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/tune/record_store.h"

struct sqlite3;

namespace kiln {

/// What import_jsonl() did with the records of a file.
struct ImportResult {
  int64_t added = 0;      ///< New records.
  int64_t skipped = 0;    ///< Already here: equal in every field that identifies a measurement.
  int64_t conflicts = 0;  ///< Not added: the file's workload has the key of a stored workload
                          ///< with another canonical form (a hash collision, or a changed hash).
};

/// The tuning cache in SQLite. Tables as TVM's database has them: `workloads` (key, canonical
/// form, description, op class, flops) and `records` referring to them, every value by name.
/// NOTE: one connection behind a mutex serves all threads (SQLite admits one writer per file at a
/// time anyway); a store must not be used across fork() — a child opens its own.
class SqliteRecordStore final : public RecordStore {
 public:
  /// Receives the one warning open() gives for a damaged cache (the plugin routes it to its log).
  using Warning = std::function<void(const std::string& message)>;

  /// Opens the cache at `path`, creating it and its directories if missing, and brings its schema
  /// up to date. A file that is not a SQLite database, fails `PRAGMA quick_check`, or has a newer
  /// schema than this build knows is renamed to `<path>.corrupt-<unix time>` (or
  /// `.newer-schema-<unix time>`) untouched, `warn` is called once naming both paths, and an
  /// empty cache takes its place. Throws Error naming the path and SQLite's message when the
  /// cache cannot be opened at all (an unwritable directory).
  static std::unique_ptr<SqliteRecordStore> open(const std::string& path, Warning warn = {});
  ~SqliteRecordStore() override;
  SqliteRecordStore(const SqliteRecordStore&) = delete;
  SqliteRecordStore& operator=(const SqliteRecordStore&) = delete;

  /// Adds `records` (each of `workload.key`) and the workload if new, in one transaction. Throws
  /// Error when a stored workload has this key but another canonical form: its records would be
  /// served to the wrong program.
  std::vector<int64_t> commit(const Workload& workload,
                              const std::vector<TuningRecord>& records) override;
  /// The fastest record as RecordStore::best() says, of status "ok" or "unverified" (measured
  /// elsewhere and imported: the kernel pipeline checks it before it serves, then marks it ok).
  std::optional<TuningRecord> best(const Workload& workload, const TargetFingerprint& target,
                                   const std::string& kind = record_kind::kSchedule) override;
  /// explain() for records of kind "schedule".
  LookupMiss explain(const Workload& workload, const TargetFingerprint& target) override;
  /// Why best(workload, target, kind) finds nothing, the first reason that applies: no workload,
  /// canonical form differs, no record of `kind`, only other targets (one reason per field that
  /// differs from the nearest stored target, "threads: 1 → 2", stored → asked), only other space
  /// versions, or only failed and quarantined records. Empty when best() finds one.
  LookupMiss explain(const Workload& workload, const TargetFingerprint& target,
                     const std::string& kind);
  /// Visits matching records in id order. `visit` runs without the store's lock held, so it may
  /// call the store; records committed meanwhile with higher ids are visited too.
  void for_each(const RecordFilter& filter,
                const std::function<void(const TuningRecord&)>& visit) override;
  std::optional<Workload> workload(const WorkloadKey& key) override;
  /// Throws Error when no record has `id`.
  void set_status(int64_t id, const std::string& status, const std::string& error) override;

  /// How many records match `filter`.
  int64_t count(const RecordFilter& filter);
  /// Every stored workload, by key.
  std::vector<Workload> workloads();
  /// Keeps the `keep_per_key` fastest ok records of each (workload, target, space version, kind)
  /// and removes every other record (failures and quarantined ones too) and workloads left with
  /// none. Returns how many records were removed.
  int64_t prune(int keep_per_key);
  /// The problems `PRAGMA integrity_check` finds; empty for a sound file (`kiln cache verify`).
  std::vector<std::string> verify();

  /// Writes every workload and record to `path` as JSON lines: a header object
  /// {"format": "kiln-tuning-cache", "schema_version": N}, then one object a workload, then one a
  /// record (no ids: they are local to one file). Written aside and renamed, so `path` is never
  /// half written. Throws Error naming the path when it cannot be written.
  void export_jsonl(const std::string& path);
  /// Adds the records of an export_jsonl() file in one transaction (all or none). Idempotent: a
  /// record equal to a stored one in workload, target, space version, kind, config, trace,
  /// seconds, time and source is skipped. Throws Error naming the file and line of anything
  /// malformed, or a format version newer than this build reads.
  ImportResult import_jsonl(const std::string& path);
  /// Adds records of `workload` measured elsewhere (the fleet's Redis) as import_jsonl() adds a
  /// file's, in one transaction: equal ones skipped, "ok" ones stored as "unverified". All are
  /// conflicts when a stored workload has this key but another canonical form.
  ImportResult import_records(const Workload& workload, const std::vector<TuningRecord>& records);

  /// The cache file.
  const std::string& path() const { return path_; }

 private:
  SqliteRecordStore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}

  std::string path_;
  std::mutex mutex_;  ///< Guards db_: one statement at a time on the one connection.
  sqlite3* db_;
};

}  // namespace kiln
