// The portable form: export, then import elsewhere, gives the same records (marked unverified,
// as measured elsewhere); importing twice adds nothing; a bad file is refused by line.
#include <gtest/gtest.h>

#include "tests/support/error_message.h"
#include "tests/tuning_cache/cache_fixture.h"
#include "tuning_cache/sqlite_record_store.h"

namespace kiln {
namespace {

using namespace cache_test;
using testing::error_message;

/// A store with two workloads, failures, contraction decisions and another target.
std::unique_ptr<SqliteRecordStore> filled_store(const std::string& path) {
  auto store = SqliteRecordStore::open(path);
  Workload a = workload(1), b = workload(2);
  TuningRecord crashed = record(a, target(), 0, "tile=3");
  crashed.status = "crash";
  crashed.error = "signal 11 → SIGSEGV";
  TuningRecord aten = record(a, target(), 4e-4, "served_by=aten");
  aten.kind = "contraction";
  store->commit(a, {record(a, target(), 1e-3), crashed, aten, record(a, target(2), 7e-4)});
  store->commit(b, {record(b, target(), 0.1234567890123)});
  return store;
}

TEST(SqliteRecordStoreExport, ExportThenImportGivesTheSameRecords) {
  ScratchDir dir;
  auto source = filled_store(dir.path("source.db"));
  const std::string file = dir.path("cache.jsonl");
  source->export_jsonl(file);
  std::string text = read_bytes(file);
  EXPECT_EQ(text.substr(0, text.find('\n')),
            R"({"format":"kiln-tuning-cache","schema_version":1})");
  EXPECT_NE(text.find(R"("status":"crash")"), std::string::npos);  // by name

  auto copy = SqliteRecordStore::open(dir.path("copy.db"));
  ImportResult first = copy->import_jsonl(file);
  EXPECT_EQ(first.added, 5);
  EXPECT_EQ(first.skipped, 0);
  std::vector<TuningRecord> want = all_records(*source), got = all_records(*copy);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    // Measured elsewhere: an ok record waits for the kernel pipeline's check.
    if (want[i].status == "ok") want[i].status = "unverified";
    want[i].id = got[i].id;
    expect_same(got[i], want[i]);
  }
  std::vector<Workload> workloads = copy->workloads();
  ASSERT_EQ(workloads.size(), 2u);
  EXPECT_EQ(workloads[0].canonical, workload(1).canonical);
  EXPECT_EQ(workloads[1].flops, workload(2).flops);
  EXPECT_EQ(copy->best(workload(1), target())->status, "unverified");

  ImportResult second = copy->import_jsonl(file);
  EXPECT_EQ(second.added, 0);
  EXPECT_EQ(second.skipped, 5);
  EXPECT_EQ(copy->count({}), 5);
  // Back into the cache it came from: every record is there already.
  EXPECT_EQ(source->import_jsonl(file).skipped, 5);
  EXPECT_EQ(source->count({}), 5);
}

TEST(SqliteRecordStoreExport, ImportSkipsRecordsOfACollidingWorkload) {
  ScratchDir dir;
  const std::string file = dir.path("cache.jsonl");
  filled_store(dir.path("source.db"))->export_jsonl(file);
  auto store = SqliteRecordStore::open(dir.path("tuning.db"));
  Workload other = workload(1);  // the key of workload 1, another program
  other.canonical = "another program";
  store->commit(other, {});
  ImportResult result = store->import_jsonl(file);
  EXPECT_EQ(result.conflicts, 4);
  EXPECT_EQ(result.added, 1);
  EXPECT_EQ(store->workload(other.key)->canonical, "another program");
}

TEST(SqliteRecordStoreExport, BadFilesAreRefusedNamingTheLine) {
  ScratchDir dir;
  auto store = SqliteRecordStore::open(dir.path("tuning.db"));
  auto import = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir.path(name)) << text;
    return error_message([&] { store->import_jsonl(dir.path(name)); });
  };
  const std::string header = R"({"format":"kiln-tuning-cache","schema_version":1})";
  EXPECT_NE(import("newer.jsonl", R"({"format":"kiln-tuning-cache","schema_version":2})")
                .find("newer.jsonl:1: format version 2 is newer"),
            std::string::npos);
  EXPECT_NE(import("other.jsonl", R"({"format":"something else","schema_version":1})")
                .find("not a Kiln tuning cache export"),
            std::string::npos);
  // A record line whose workload line is missing (cut from a good export).
  filled_store(dir.path("source.db"))->export_jsonl(dir.path("good.jsonl"));
  std::istringstream good(read_bytes(dir.path("good.jsonl")));
  std::string records_only = header + "\n";
  for (std::string line; std::getline(good, line);)
    if (line.find(R"("type":"record")") != std::string::npos) records_only += line + "\n";
  std::string orphan = import("orphan.jsonl", records_only);
  EXPECT_NE(orphan.find("orphan.jsonl:2: record of workload"), std::string::npos) << orphan;
  EXPECT_NE(import("broken.jsonl", header + "\n{\"type\": \"workload\",").find("broken.jsonl:2"),
            std::string::npos);
  EXPECT_NE(error_message([&] { store->import_jsonl(dir.path("missing.jsonl")); }).find("missing"),
            std::string::npos);
  EXPECT_EQ(store->count({}), 0);
  EXPECT_TRUE(store->workloads().empty());
  EXPECT_NE(error_message([&] {
              store->export_jsonl(dir.path("no/such/dir/x.jsonl"));
            }).find("no/such/dir/x.jsonl"),
            std::string::npos);
}

}  // namespace
}  // namespace kiln
