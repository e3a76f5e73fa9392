// The SQLite store's queries: what commit() keeps, what best() serves and why explain() says not.
#include <gtest/gtest.h>

#include <thread>

#include "tests/support/error_message.h"
#include "tests/tuning_cache/cache_fixture.h"
#include "tuning_cache/sqlite_record_store.h"

namespace kiln {
namespace {

using namespace cache_test;
using testing::error_message;

TEST(SqliteRecordStore, RecordsRoundTripFieldByField) {
  ScratchDir dir;
  std::string path = dir.path("nested/dirs/tuning.db");  // directories are made as needed
  Workload w = workload(1);
  TuningRecord slow = record(w, target(), 2e-3, "tile=4");
  TuningRecord fast = record(w, target(), 1e-3, "tile=16");
  fast.trace = "split(i, 16)\n# a comment with 'quotes' and \"more\"\nparallel(i.outer)\n";
  fast.error = "a → b";
  TuningRecord crashed = record(w, target(), 0, "tile=1");
  crashed.status = "crash";
  crashed.error = "signal 11";
  crashed.features.clear();
  std::vector<TuningRecord> want = {slow, fast, crashed};
  {
    auto store = SqliteRecordStore::open(path);
    EXPECT_EQ(store->path(), path);
    std::vector<int64_t> ids = store->commit(w, want);
    ASSERT_EQ(ids.size(), 3u);
    for (size_t i = 0; i < ids.size(); ++i) want[i].id = ids[i];
  }
  auto store = SqliteRecordStore::open(path);  // reopened: everything came from the file
  std::vector<TuningRecord> got = all_records(*store);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) expect_same(got[i], want[i]);
  std::optional<TuningRecord> best = store->best(w, target());
  ASSERT_TRUE(best);
  expect_same(*best, want[1]);
  std::optional<Workload> stored = store->workload(w.key);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->canonical, w.canonical);
  EXPECT_EQ(stored->description, w.description);
  EXPECT_EQ(stored->op_class, w.op_class);
  EXPECT_EQ(stored->flops, w.flops);
  EXPECT_FALSE(store->workload(workload(2).key));
  EXPECT_TRUE(store->verify().empty());
}

TEST(SqliteRecordStore, BestServesOnlyTheFastestMatchingOkRecord) {
  ScratchDir dir;
  auto store = SqliteRecordStore::open(dir.path("tuning.db"));
  Workload w = workload(1);
  TuningRecord served = record(w, target(), 5e-3, "served");
  // Each of these is faster, and each must be passed over for one reason.
  TuningRecord failed = record(w, target(), 1e-3, "failed");
  failed.status = "timeout";
  TuningRecord old_space = record(w, target(), 1e-3, "old space");
  old_space.space_version = kScheduleSpaceVersion - 1;
  TuningRecord contraction = record(w, target(), 1e-3, "served_by=aten");
  contraction.kind = "contraction";
  TuningRecord elsewhere = record(w, target(2), 1e-3, "elsewhere");
  store->commit(w, {failed, served, old_space, contraction, elsewhere});
  EXPECT_EQ(store->best(w, target())->config, "served");
  EXPECT_EQ(store->best(w, target(), "contraction")->config, "served_by=aten");
  EXPECT_EQ(store->best(w, target(2))->config, "elsewhere");
  EXPECT_TRUE(store->explain(w, target()).reasons.empty());

  // Quarantined, the record is passed over; the next best is served.
  TuningRecord slower = record(w, target(), 9e-3, "slower");
  store->commit(w, {slower});
  store->set_status(store->best(w, target())->id, "quarantined", "does not replay");
  EXPECT_EQ(store->best(w, target())->config, "slower");
  EXPECT_NE(error_message([&] { store->set_status(123456, "ok", ""); }).find("123456"),
            std::string::npos);
}

TEST(SqliteRecordStore, CanonicalMismatchIsACollisionNotAHit) {
  ScratchDir dir;
  auto store = SqliteRecordStore::open(dir.path("tuning.db"));
  Workload w = workload(1);
  store->commit(w, {record(w, target(), 1e-3)});
  Workload other = w;  // same 128-bit key, another program
  other.canonical += " extra token";
  EXPECT_FALSE(store->best(other, target()));
  std::vector<std::string> reasons = store->explain(other, target()).reasons;
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_NE(reasons[0].find("canonical"), std::string::npos) << reasons[0];
  // Its records must not be filed under the stored program.
  std::string error = error_message([&] { store->commit(other, {record(other, target(), 5e-4)}); });
  EXPECT_NE(error.find(w.key.hex()), std::string::npos) << error;
  EXPECT_EQ(store->count({}), 1);
}

TEST(SqliteRecordStore, ExplainSaysWhyNothingIsServed) {
  ScratchDir dir;
  auto store = SqliteRecordStore::open(dir.path("tuning.db"));
  using Reasons = std::vector<std::string>;
  EXPECT_EQ(store->explain(workload(1), target()).reasons, Reasons{"no record of this workload"});

  Workload w = workload(1);
  store->commit(w, {record(w, target(1), 1e-3)});
  EXPECT_FALSE(store->best(w, target(2)));
  EXPECT_EQ(store->explain(w, target(2)).reasons, Reasons{"threads: 1 → 2"});
  TargetFingerprint other_compiler = target(2);
  other_compiler.compiler = "llvm 20.1.0";
  EXPECT_EQ(store->explain(w, other_compiler).reasons,
            (Reasons{"threads: 1 → 2", "compiler: llvm 19.1.7 → llvm 20.1.0"}));
  EXPECT_EQ(store->explain(w, target(1), "contraction").reasons,
            Reasons{"no record of kind 'contraction' (stored kinds: schedule)"});

  Workload v = workload(2);
  TuningRecord old_space = record(v, target(), 1e-3);
  old_space.space_version = kScheduleSpaceVersion - 1;
  store->commit(v, {old_space});
  EXPECT_EQ(
      store->explain(v, target()).reasons,
      Reasons{str_cat("space_version: ", kScheduleSpaceVersion - 1, " → ", kScheduleSpaceVersion)});

  Workload u = workload(3);
  TuningRecord crashed = record(u, target(), 0), quarantined = record(u, target(), 1e-3);
  crashed.status = "crash";
  quarantined.status = "quarantined";
  store->commit(u, {crashed, crashed, quarantined});
  EXPECT_EQ(store->explain(u, target()).reasons,
            Reasons{"no servable record: 2 crash, 1 quarantined"});
}

TEST(SqliteRecordStore, FiltersCountAndWalkInPages) {
  ScratchDir dir;
  auto store = SqliteRecordStore::open(dir.path("tuning.db"));
  Workload a = workload(1), b = workload(2);
  std::vector<TuningRecord> many;
  for (int i = 0; i < 600; ++i) {  // more than one page of for_each
    many.push_back(record(a, target(1 + i % 2), 1e-3 * (i + 1), str_cat("i=", i)));
    if (i % 3 == 0) many.back().status = "crash";
  }
  store->commit(a, many);
  store->commit(b, {record(b, target(), 1e-3)});
  EXPECT_EQ(store->count({}), 601);
  EXPECT_EQ(store->count({a.key, std::nullopt, "", false}), 600);
  EXPECT_EQ(store->count({a.key, target(1), "", false}), 300);
  EXPECT_EQ(store->count({a.key, target(1), "schedule", true}), 200);
  EXPECT_EQ(store->count({std::nullopt, std::nullopt, "contraction", false}), 0);
  // The walk is in commit order, and `visit` may call the store (no lock is held).
  int64_t last = 0, seen = 0;
  store->for_each({a.key, std::nullopt, "", true}, [&](const TuningRecord& r) {
    EXPECT_GT(r.id, last);
    EXPECT_EQ(r.status, "ok");
    EXPECT_TRUE(store->workload(r.workload));
    last = r.id;
    ++seen;
  });
  EXPECT_EQ(seen, 400);
  std::vector<Workload> workloads = store->workloads();
  ASSERT_EQ(workloads.size(), 2u);
  EXPECT_EQ(workloads[0].key, a.key);
  EXPECT_EQ(workloads[1].canonical, b.canonical);
}

TEST(SqliteRecordStore, ThreadsShareOneStore) {
  ScratchDir dir;
  auto store = SqliteRecordStore::open(dir.path("tuning.db"));
  Workload w = workload(1);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        store->commit(w, {record(w, target(), 1e-3, str_cat(t, ".", i, ".a")),
                          record(w, target(), 2e-3, str_cat(t, ".", i, ".b"))});
        store->best(w, target());
        store->count({});
      }
    });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(store->count({}), 200);
}

TEST(SqliteRecordStore, PruneKeepsTheFastestPerKey) {
  ScratchDir dir;
  auto store = SqliteRecordStore::open(dir.path("tuning.db"));
  Workload w = workload(1), only_failures = workload(2);
  std::vector<TuningRecord> records;
  for (int i = 5; i >= 1; --i) records.push_back(record(w, target(1), i * 1e-3, str_cat("t1 ", i)));
  for (int i = 3; i >= 1; --i) records.push_back(record(w, target(2), i * 1e-3, str_cat("t2 ", i)));
  records.push_back(record(w, target(1), 0, "failed"));
  records.back().status = "compile error";
  store->commit(w, records);
  TuningRecord failed = record(only_failures, target(), 0);
  failed.status = "crash";
  store->commit(only_failures, {failed});

  EXPECT_EQ(store->prune(2), 3 + 1 + 1 + 1);
  std::vector<std::string> kept;
  for (const TuningRecord& r : all_records(*store)) kept.push_back(r.config);
  EXPECT_EQ(kept, (std::vector<std::string>{"t1 2", "t1 1", "t2 2", "t2 1"}));
  EXPECT_FALSE(store->workload(only_failures.key));  // nothing of it was left
  EXPECT_EQ(store->best(w, target(1))->config, "t1 1");
  EXPECT_NE(error_message([&] { store->prune(-1); }).find("-1"), std::string::npos);
}

}  // namespace
}  // namespace kiln
