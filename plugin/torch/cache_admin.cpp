#include "plugin/torch/cache_admin.h"

#include <filesystem>
#include <map>

#include "core/schedule/trace.h"
#include "core/support/error.h"
#include "core/templates/knobs.h"
#include "plugin/torch/compile_service.h"
#include "plugin/torch/tuning_runtime.h"
#include "tuning_cache/sqlite_record_store.h"

namespace kiln {

namespace {

WorkloadKey key_with_prefix(SqliteRecordStore& store, const std::string& prefix) {
  std::vector<WorkloadKey> matches;
  for (const Workload& w : store.workloads())
    if (w.key.hex().starts_with(prefix)) matches.push_back(w.key);
  if (matches.size() != 1)
    throw Error(str_cat("kiln cache: ", matches.empty() ? "no" : std::to_string(matches.size()),
                        " workloads have a key starting with '", prefix, "'"));
  return matches[0];
}

CachedWorkload cached_workload(const Workload& w) {
  CachedWorkload c;
  c.key = w.key.hex();
  c.op_class = w.op_class;
  c.description = w.description;
  c.flops = w.flops;
  return c;
}

CachedRecord cached_record(const TuningRecord& r) {
  return {r.id,
          r.workload.hex(),
          r.target.to_text(),
          r.kiln_version,
          r.kind,
          r.config,
          r.trace,
          r.status,
          r.error,
          r.source,
          r.space_version,
          r.seconds,
          r.spread,
          static_cast<int64_t>(r.features.size()),
          r.time};
}

}  // namespace

std::unique_ptr<SqliteRecordStore> open_store(const std::string& dir) {
  return SqliteRecordStore::open(cache_file(dir), [](const std::string& message) {
    throw Error("kiln cache: " + message);  // the CLI reports a damaged file as an error
  });
}

TargetFingerprint this_fingerprint() {
  return TuningRuntime::global().fingerprint(CompileService::global().compiler());
}

std::string cache_file(const std::string& dir) {
  return (std::filesystem::path(dir) / "tuning.sqlite").string();
}

std::string this_target() {
  return this_fingerprint().to_text();
}

std::vector<CachedWorkload> cache_workloads(const std::string& dir) {
  auto store = open_store(dir);
  TargetFingerprint here = this_fingerprint();
  std::map<std::string, CachedWorkload> by_key;
  for (const Workload& w : store->workloads()) by_key[w.key.hex()] = cached_workload(w);
  store->for_each({}, [&](const TuningRecord& r) {
    CachedWorkload& c = by_key[r.workload.hex()];
    c.records += 1;
    c.ok += r.status == "ok";
    c.quarantined += r.status == "quarantined";
    bool mine = r.target == here;
    c.here += mine;
    if (mine && r.kind == record_kind::kSchedule && r.status == "ok" && r.seconds > 0 &&
        (c.best_seconds == 0 || r.seconds < c.best_seconds))
      c.best_seconds = r.seconds;
  });
  std::vector<CachedWorkload> result;
  for (auto& [key, c] : by_key) result.push_back(std::move(c));
  return result;
}

std::vector<CachedRecord> cache_records(const std::string& dir, const std::string& key_prefix) {
  auto store = open_store(dir);
  std::vector<CachedRecord> records;
  store->for_each({key_with_prefix(*store, key_prefix), std::nullopt, "", false},
                  [&](const TuningRecord& r) { records.push_back(cached_record(r)); });
  return records;
}

CachedWorkload cache_workload(const std::string& dir, const std::string& key_prefix) {
  auto store = open_store(dir);
  return cached_workload(*store->workload(key_with_prefix(*store, key_prefix)));
}

std::vector<std::string> cache_explain(const std::string& dir, const std::string& key_prefix) {
  auto store = open_store(dir);
  Workload w = *store->workload(key_with_prefix(*store, key_prefix));
  return store->explain(w, this_fingerprint()).reasons;
}

void cache_export(const std::string& dir, const std::string& path) {
  open_store(dir)->export_jsonl(path);
}

std::vector<int64_t> cache_import(const std::string& dir, const std::string& path) {
  ImportResult r = open_store(dir)->import_jsonl(path);
  return {r.added, r.skipped, r.conflicts};
}

std::vector<int64_t> cache_merge(const std::string& dir, const std::string& other_file) {
  if (!std::filesystem::exists(other_file))
    throw Error(str_cat("kiln cache merge: no file ", other_file));
  std::string exported = cache_file(dir) + ".merge.jsonl";
  SqliteRecordStore::open(other_file, [](const std::string& message) {
    throw Error("kiln cache merge: " + message);
  })->export_jsonl(exported);
  std::vector<int64_t> result = cache_import(dir, exported);
  std::filesystem::remove(exported);
  return result;
}

int64_t cache_prune(const std::string& dir, int keep) {
  if (keep < 1) throw Error(str_cat("kiln cache prune: keep must be >= 1, got ", keep));
  return open_store(dir)->prune(keep);
}

std::vector<std::string> cache_verify(const std::string& dir) {
  auto store = open_store(dir);
  std::vector<std::string> problems = store->verify();
  std::vector<std::pair<int64_t, std::string>> bad;
  store->for_each({std::nullopt, std::nullopt, record_kind::kSchedule, false},
                  [&](const TuningRecord& r) {
                    if (r.status == "quarantined") return;
                    try {
                      Trace::from_text(r.trace);
                      KnobConfig::from_text(r.config);
                      if (!store->workload(r.workload)) throw Error("its workload is missing");
                    } catch (const Error& e) {
                      bad.emplace_back(r.id, e.what());
                    }
                  });
  for (auto& [id, why] : bad) {
    store->set_status(id, "quarantined", why);
    problems.push_back(str_cat("record ", id, " quarantined: ", why));
  }
  return problems;
}

}  // namespace kiln
