// Export and import as JSON lines, the cache's portable form (`kiln cache export | import`):
// every value by name, led by a header that carries the format's version.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "tuning_cache/record_json.h"
#include "tuning_cache/record_rows.h"
#include "tuning_cache/sqlite_record_store.h"

namespace kiln {

namespace {

using nlohmann::json;
using sqlite::Statement;

constexpr const char* kFormat = "kiln-tuning-cache";
/// The export format's version, apart from the SQLite schema's: each changes on its own. A
/// reader takes files up to its own version. NOTE: bump it when a field changes meaning.
constexpr int kExportVersion = 1;

/// Whether a record equal to `r` in every field that identifies a measurement is stored.
bool is_stored(sqlite3* db, const TuningRecord& r) {
  Statement q(db,
              "SELECT 1 FROM records WHERE workload = ? AND target = ? AND space_version = ? AND "
              "kind = ? AND config = ? AND trace = ? AND seconds = ? AND time = ? AND source = ? "
              "LIMIT 1");
  q.bind_text(1, r.workload.hex())
      .bind_text(2, r.target.to_text())
      .bind_int(3, r.space_version)
      .bind_text(4, r.kind)
      .bind_text(5, r.config)
      .bind_text(6, r.trace)
      .bind_real(7, r.seconds)
      .bind_int(8, r.time)
      .bind_text(9, r.source);
  return q.step();
}

/// Adds `r`, measured elsewhere, unless it is stored already. It is served only once the kernel
/// pipeline has checked it here.
void import_record(sqlite3* db, TuningRecord r, ImportResult& result) {
  if (is_stored(db, r)) {
    ++result.skipped;
    return;
  }
  if (r.status == "ok") r.status = "unverified";
  sqlite::insert_record(db, r);
  ++result.added;
}

}  // namespace

ImportResult SqliteRecordStore::import_records(const Workload& workload,
                                               const std::vector<TuningRecord>& records) {
  ImportResult result;
  std::lock_guard lock(mutex_);
  sqlite::Transaction t(db_, /*write=*/true);
  if (sqlite::store_workload(db_, workload) != workload.canonical) {
    result.conflicts = static_cast<int64_t>(records.size());
    return result;  // rolled back: nothing of it is stored
  }
  for (const TuningRecord& r : records) {
    if (r.workload != workload.key)
      throw Error(str_cat("tuning cache ", path_, ": import: a record of workload ",
                          r.workload.hex(), " given with workload ", workload.key.hex()));
    import_record(db_, r, result);
  }
  t.commit();
  return result;
}

void SqliteRecordStore::export_jsonl(const std::string& path) {
  const std::string temporary = str_cat(path, ".tmp-", ::getpid());
  try {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(str_cat("cannot write ", temporary, ": ", std::strerror(errno)));
    out << json{{"format", kFormat}, {"schema_version", kExportVersion}}.dump() << '\n';
    std::lock_guard lock(mutex_);
    sqlite::Transaction read(db_, /*write=*/false);  // one snapshot: no record without its workload
    Statement workloads(
        db_, str_cat("SELECT ", sqlite::kWorkloadColumns, " FROM workloads ORDER BY key"));
    while (workloads.step())
      out << json_text(workload_to_json(sqlite::read_workload(workloads))) << '\n';
    Statement records(db_, str_cat("SELECT ", sqlite::kRecordColumns, " FROM records ORDER BY id"));
    while (records.step()) out << json_text(record_to_json(sqlite::read_record(records))) << '\n';
    out.close();
    if (!out) throw Error(str_cat("cannot write ", temporary, ": ", std::strerror(errno)));
    std::filesystem::rename(temporary, path);
  } catch (const std::exception& e) {
    std::error_code ignored;  // the half-written temporary is ours, never the user's data
    std::filesystem::remove(temporary, ignored);
    throw Error(str_cat("tuning cache ", path_, ": export to ", path, ": ", e.what()));
  }
}

ImportResult SqliteRecordStore::import_jsonl(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(str_cat("tuning cache import ", path, ": cannot read: ", std::strerror(errno)));
  ImportResult result;
  std::lock_guard lock(mutex_);
  sqlite::Transaction t(db_, /*write=*/true);
  std::map<std::string, bool> usable;  // workload key → its canonical form matches the stored one
  int line_number = 0;
  try {
    for (std::string line; std::getline(in, line);) {
      if (++line_number == 1) {
        json header = json::parse(line);
        if (header.at("format") != kFormat) throw Error("not a Kiln tuning cache export");
        if (int version = header.at("schema_version").get<int>(); version > kExportVersion)
          throw Error(
              str_cat("format version ", version, " is newer than this Kiln's ", kExportVersion));
        continue;
      }
      if (line.empty()) continue;
      json j = json::parse(line);
      if (j.at("type") == "workload") {
        Workload w = workload_from_json(j);
        usable[w.key.hex()] = sqlite::store_workload(db_, w) == w.canonical;
        continue;
      }
      if (j.at("type") != "record") throw Error(str_cat("unknown line type ", j.at("type").dump()));
      TuningRecord r = record_from_json(j);
      auto known = usable.find(r.workload.hex());
      if (known == usable.end() && sqlite::read_workload(db_, r.workload))
        known = usable.emplace(r.workload.hex(), true).first;  // stored before: its own form
      if (known == usable.end())
        throw Error(str_cat("record of workload ", r.workload.hex(), " precedes its workload"));
      if (!known->second) {
        ++result.conflicts;
      } else {
        import_record(db_, std::move(r), result);
      }
    }
    if (line_number == 0) throw Error("empty file");
  } catch (const std::exception& e) {
    throw Error(str_cat("tuning cache import ", path, ":", line_number, ": ", e.what()));
  }
  t.commit();
  return result;
}

}  // namespace kiln
