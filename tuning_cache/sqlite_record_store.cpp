// The store's queries. Opening lives in sqlite_open.cpp, export and import in record_jsonl.cpp.
#include "tuning_cache/sqlite_record_store.h"

#include <map>
#include <set>

#include "tuning_cache/record_rows.h"

namespace kiln {

using sqlite::kRecordColumns;
using sqlite::kServable;
using sqlite::Statement;
using sqlite::Transaction;

namespace {

/// The WHERE condition a RecordFilter means, with its text parameters in order.
struct Condition {
  std::string sql = "1";
  std::vector<std::string> values;
};

Condition condition_of(const RecordFilter& filter) {
  Condition c;
  auto equal = [&](const char* column, std::string value) {
    c.sql += str_cat(" AND ", column, " = ?");
    c.values.push_back(std::move(value));
  };
  if (filter.workload) equal("workload", filter.workload->hex());
  if (filter.target) equal("target", filter.target->to_text());
  if (!filter.kind.empty()) equal("kind", filter.kind);
  if (filter.ok_only) equal("status", "ok");
  return c;
}

/// Binds `c`'s values from parameter 1 on; returns the next parameter's index.
int bind(Statement& q, const Condition& c) {
  int index = 1;
  for (const std::string& v : c.values) q.bind_text(index++, v);
  return index;
}

std::string join(const std::vector<std::string>& parts) {
  std::string text;
  for (const std::string& p : parts) text += (text.empty() ? "" : ", ") + p;
  return text;
}

/// "field: stored → asked" for each field of the nearest of `stored` (fewest differing fields).
std::vector<std::string> nearest_differences(const std::vector<std::string>& stored,
                                             const TargetFingerprint& asked) {
  std::vector<std::string> best;
  for (const std::string& text : stored) {
    std::vector<std::string> reasons;
    try {
      for (auto& [field, change] : TargetFingerprint::from_text(text).differences(asked))
        reasons.push_back(field + ": " + change);
    } catch (const Error&) {  // a fingerprint this build cannot read differs in every way
      reasons = {str_cat("target: ", text, " → ", asked.to_text())};
    }
    if (best.empty() || reasons.size() < best.size()) best = std::move(reasons);
  }
  return best;
}

}  // namespace

std::vector<int64_t> SqliteRecordStore::commit(const Workload& workload,
                                               const std::vector<TuningRecord>& records) {
  for (const TuningRecord& r : records)
    KILN_CHECK(r.workload == workload.key, "record of workload ", r.workload.hex(),
               " committed with workload ", workload.key.hex());
  std::lock_guard lock(mutex_);
  Transaction t(db_, /*write=*/true);
  if (sqlite::store_workload(db_, workload) != workload.canonical)
    throw Error(str_cat("tuning cache ", path_, ": workload ", workload.key.hex(),
                        " is stored with another canonical form (a hash collision): its records "
                        "would be served to another program, so none are added"));
  std::vector<int64_t> ids;
  for (const TuningRecord& r : records) ids.push_back(sqlite::insert_record(db_, r));
  t.commit();
  return ids;
}

std::optional<TuningRecord> SqliteRecordStore::best(const Workload& workload,
                                                    const TargetFingerprint& target,
                                                    const std::string& kind) {
  std::lock_guard lock(mutex_);
  Transaction read(db_, /*write=*/false);
  std::optional<Workload> stored = sqlite::read_workload(db_, workload.key);
  if (!stored || stored->canonical != workload.canonical) return std::nullopt;
  Statement q(db_, str_cat("SELECT ", kRecordColumns,
                           " FROM records WHERE workload = ? AND target = ? AND kind = ? AND "
                           "space_version = ? AND ",
                           kServable, " ORDER BY seconds, id LIMIT 1"));
  q.bind_text(1, workload.key.hex())
      .bind_text(2, target.to_text())
      .bind_text(3, kind)
      .bind_int(4, kScheduleSpaceVersion);
  if (!q.step()) return std::nullopt;
  return sqlite::read_record(q);
}

LookupMiss SqliteRecordStore::explain(const Workload& workload, const TargetFingerprint& target) {
  return explain(workload, target, record_kind::kSchedule);
}

LookupMiss SqliteRecordStore::explain(const Workload& workload, const TargetFingerprint& target,
                                      const std::string& kind) {
  std::lock_guard lock(mutex_);
  Transaction read(db_, /*write=*/false);  // one snapshot for every question below
  std::optional<Workload> stored = sqlite::read_workload(db_, workload.key);
  if (!stored) return {{"no record of this workload"}};
  if (stored->canonical != workload.canonical) return {{"canonical form differs (hash collision)"}};

  const std::string key = workload.key.hex(), asked = target.to_text();
  Statement targets(db_, "SELECT DISTINCT target FROM records WHERE workload = ? AND kind = ?");
  targets.bind_text(1, key).bind_text(2, kind);
  std::vector<std::string> others;
  bool on_target = false;
  while (targets.step()) {
    std::string text = targets.text(0);
    on_target |= text == asked;
    if (text != asked) others.push_back(text);
  }
  if (!on_target && others.empty()) {
    Statement kinds(db_, "SELECT DISTINCT kind FROM records WHERE workload = ? ORDER BY kind");
    kinds.bind_text(1, key);
    std::vector<std::string> stored_kinds;
    while (kinds.step()) stored_kinds.push_back(kinds.text(0));
    return {{str_cat("no record of kind '", kind, "' (stored kinds: ",
                     stored_kinds.empty() ? "none" : join(stored_kinds), ")")}};
  }
  if (!on_target) return {nearest_differences(others, target)};

  // On this target: other space versions, or nothing servable.
  Statement groups(db_,
                   "SELECT space_version, status, COUNT(*) FROM records WHERE workload = ? AND "
                   "target = ? AND kind = ? GROUP BY space_version, status");
  groups.bind_text(1, key).bind_text(2, asked).bind_text(3, kind);
  std::set<int64_t> versions;
  std::map<std::string, int64_t> statuses;  // of the current space version
  while (groups.step()) {
    versions.insert(groups.integer(0));
    if (groups.integer(0) == kScheduleSpaceVersion) statuses[groups.text(1)] = groups.integer(2);
  }
  if (statuses.empty()) {
    std::vector<std::string> numbers;
    for (int64_t v : versions) numbers.push_back(std::to_string(v));
    return {{str_cat("space_version: ", join(numbers), " → ", kScheduleSpaceVersion)}};
  }
  if (statuses.count("ok") || statuses.count("unverified")) return {};
  std::vector<std::string> counts;
  for (auto& [status, n] : statuses) counts.push_back(str_cat(n, " ", status));
  return {{"no servable record: " + join(counts)}};
}

void SqliteRecordStore::for_each(const RecordFilter& filter,
                                 const std::function<void(const TuningRecord&)>& visit) {
  // In pages, visited with the lock released: `visit` may call the store, and a long walk (the
  // cost model's warm start) does not hold up the threads that commit.
  constexpr size_t kPage = 256;
  Condition c = condition_of(filter);
  for (int64_t after = 0;;) {
    std::vector<TuningRecord> page;
    {
      std::lock_guard lock(mutex_);
      Statement q(db_, str_cat("SELECT ", kRecordColumns, " FROM records WHERE ", c.sql,
                               " AND id > ? ORDER BY id LIMIT ", kPage));
      q.bind_int(bind(q, c), after);
      while (q.step()) page.push_back(sqlite::read_record(q));
    }
    for (const TuningRecord& r : page) visit(r);
    if (page.size() < kPage) return;
    after = page.back().id;
  }
}

std::optional<Workload> SqliteRecordStore::workload(const WorkloadKey& key) {
  std::lock_guard lock(mutex_);
  return sqlite::read_workload(db_, key);
}

void SqliteRecordStore::set_status(int64_t id, const std::string& status,
                                   const std::string& error) {
  std::lock_guard lock(mutex_);
  Statement q(db_, "UPDATE records SET status = ?, error = ? WHERE id = ?");
  q.bind_text(1, status).bind_text(2, error).bind_int(3, id).run();
  if (sqlite3_changes(db_) == 0)
    throw Error(str_cat("tuning cache ", path_, ": no record with id ", id));
}

int64_t SqliteRecordStore::count(const RecordFilter& filter) {
  Condition c = condition_of(filter);
  std::lock_guard lock(mutex_);
  Statement q(db_, "SELECT COUNT(*) FROM records WHERE " + c.sql);
  bind(q, c);
  q.step();
  return q.integer(0);
}

std::vector<Workload> SqliteRecordStore::workloads() {
  std::lock_guard lock(mutex_);
  Statement q(db_, str_cat("SELECT ", sqlite::kWorkloadColumns, " FROM workloads ORDER BY key"));
  std::vector<Workload> all;
  while (q.step()) all.push_back(sqlite::read_workload(q));
  return all;
}

int64_t SqliteRecordStore::prune(int keep_per_key) {
  if (keep_per_key < 0)
    throw Error(str_cat("tuning cache ", path_, ": prune keeps a number of records per key, not ",
                        keep_per_key));
  std::lock_guard lock(mutex_);
  Transaction t(db_, /*write=*/true);
  Statement q(db_, str_cat("DELETE FROM records WHERE id NOT IN (SELECT id FROM (SELECT id, "
                           "row_number() OVER (PARTITION BY workload, target, space_version, kind "
                           "ORDER BY seconds, id) AS rank FROM records WHERE ",
                           kServable, ") WHERE rank <= ?)"));
  q.bind_int(1, keep_per_key).run();
  int64_t removed = sqlite3_changes(db_);
  sqlite::exec(db_, "DELETE FROM workloads WHERE key NOT IN (SELECT workload FROM records)");
  t.commit();
  return removed;
}

std::vector<std::string> SqliteRecordStore::verify() {
  std::lock_guard lock(mutex_);
  Statement q(db_, "PRAGMA integrity_check");
  std::vector<std::string> problems;
  while (q.step())
    if (q.text(0) != "ok") problems.push_back(q.text(0));
  return problems;
}

}  // namespace kiln
