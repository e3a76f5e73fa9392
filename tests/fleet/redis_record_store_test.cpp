// The fleet's level of the tuning cache against a real redis-server: per-machine measurements
// and their median, garbage values skipped and named, a program under another's key refused.
#include "fleet/redis_record_store.h"

#include <gtest/gtest.h>

#include "tests/fleet/redis_server.h"
#include "tests/tuning_cache/cache_fixture.h"

namespace kiln {
namespace {

using cache_test::record;
using cache_test::target;
using cache_test::workload;

RedisRecordStore store_of(const testing::RedisServer& redis, const std::string& machine) {
  return RedisRecordStore(RedisUrl::parse(redis.url()), machine, 2.0);
}

TEST(RedisRecordStore, APushedRecordComesBackAsTheFleetsWithItsMachines) {
  KILN_REDIS_SERVER_OR_SKIP(redis);
  RedisRecordStore a = store_of(*redis, "machine-a");
  RedisRecordStore b = store_of(*redis, "machine-b");
  Workload w = workload(1);
  EXPECT_EQ(
      a.push(w, {record(w, target(), 2e-3, "tile=8"), record(w, target(), 1e-3, "tile=4")}).records,
      2);
  EXPECT_EQ(b.push(w, {record(w, target(), 3e-3, "tile=8")}).records, 1);

  FleetRecords found = store_of(*redis, "reader").fetch(w.key, target());
  ASSERT_TRUE(found.workload.has_value());
  EXPECT_EQ(found.workload->canonical, w.canonical);
  EXPECT_TRUE(found.garbage.empty());
  ASSERT_EQ(found.schedules.size(), 2u);
  EXPECT_EQ(found.schedules[0].record.config, "tile=4");
  EXPECT_EQ(found.schedules[0].record.seconds, 1e-3);
  EXPECT_EQ(found.schedules[0].record.source, "fleet: machine-a");
  EXPECT_EQ(found.schedules[1].record.config, "tile=8");
  EXPECT_EQ(found.schedules[1].record.seconds, 3e-3);  // of 2 and 3 ms, the slower
  EXPECT_EQ(found.schedules[1].machines, (std::vector<std::string>{"machine-a", "machine-b"}));
  // Another target's records are another key: nothing of them here.
  EXPECT_TRUE(store_of(*redis, "reader").fetch(w.key, target(4)).schedules.empty());
}

TEST(RedisRecordStore, AMachinesNewerMeasurementReplacesItsOlder) {
  KILN_REDIS_SERVER_OR_SKIP(redis);
  RedisRecordStore a = store_of(*redis, "machine-a");
  Workload w = workload(2);
  a.push(w, {record(w, target(), 5e-3)});
  a.push(w, {record(w, target(), 4e-3)});  // the same schedule, measured again
  FleetRecords found = a.fetch(w.key, target());
  ASSERT_EQ(found.schedules.size(), 1u);
  EXPECT_EQ(found.schedules[0].record.seconds, 4e-3);
  EXPECT_EQ(a.stats().records, 1);
}

TEST(RedisRecordStore, OneLyingMachineCannotMakeASlowScheduleWin) {
  KILN_REDIS_SERVER_OR_SKIP(redis);
  Workload w = workload(3);
  // Schedule "slow" really takes 2 ms; a lying machine says 1 µs. "fast" takes 1 ms.
  store_of(*redis, "honest-1")
      .push(w, {record(w, target(), 2e-3, "slow"), record(w, target(), 1e-3, "fast")});
  store_of(*redis, "honest-2")
      .push(w, {record(w, target(), 2.1e-3, "slow"), record(w, target(), 1.1e-3, "fast")});
  store_of(*redis, "liar").push(w, {record(w, target(), 1e-6, "slow")});
  FleetRecords found = store_of(*redis, "reader").fetch(w.key, target());
  ASSERT_EQ(found.schedules.size(), 2u);
  EXPECT_EQ(found.schedules[0].record.config, "fast");
  EXPECT_EQ(found.schedules[1].record.seconds, 2e-3);  // the liar's vote is one of three
}

TEST(RedisRecordStore, TheFleetsBaselineIsTheMedianOfItsMachines) {
  // What an importer judges the schedules' claimed speed-ups by: the default schedule's time
  // across the machines, as robust to one machine's number as the schedules' times are.
  KILN_REDIS_SERVER_OR_SKIP(redis);
  Workload w = workload(6);
  auto baseline = [&](double seconds) {
    TuningRecord r = record(w, target(), seconds, "default");
    r.kind = record_kind::kBaseline;
    return r;
  };
  EXPECT_FALSE(store_of(*redis, "reader").fetch(w.key, target()).baseline.has_value());
  store_of(*redis, "m1").push(w, {baseline(4e-3), record(w, target(), 1e-3)});
  store_of(*redis, "m2").push(w, {baseline(5e-3)});
  store_of(*redis, "m3").push(w, {baseline(1e-9)});  // a liar's or a broken clock's
  FleetRecords found = store_of(*redis, "reader").fetch(w.key, target());
  ASSERT_TRUE(found.baseline.has_value());
  EXPECT_EQ(found.baseline->kind, record_kind::kBaseline);
  EXPECT_EQ(found.baseline->seconds, 4e-3);
  EXPECT_EQ(found.baseline->source, "fleet: m1 m2 m3");
  EXPECT_EQ(found.others.size(), 3u);  // each machine's, as stored, too
}

TEST(RedisRecordStore, GarbageUnderARecordKeyIsSkippedAndNamed) {
  KILN_REDIS_SERVER_OR_SKIP(redis);
  RedisRecordStore a = store_of(*redis, "machine-a");
  Workload w = workload(4);
  a.push(w, {record(w, target(), 1e-3)});
  std::string key = str_cat("kiln:1:records:", target_digest(target()), ":", w.key.hex());
  a.client().command({"HSET", key, "junk", "\x01\x02 not json"});
  a.client().command({"HSET", key, "wrongtype", "{\"type\": \"record\", \"seconds\": \"fast\"}"});
  a.client().command({"HSET", key, "0123", "{}"});
  FleetRecords found = a.fetch(w.key, target());
  ASSERT_EQ(found.schedules.size(), 1u);
  EXPECT_EQ(found.schedules[0].record.seconds, 1e-3);
  ASSERT_EQ(found.garbage.size(), 3u);
  for (const std::string& why : found.garbage)
    EXPECT_NE(why.find("is not a record"), std::string::npos) << why;

  // Garbage where the workload should be: its records cannot be checked, so none serves.
  a.client().command({"SET", str_cat("kiln:1:workload:", w.key.hex()), "garbage"});
  found = a.fetch(w.key, target());
  EXPECT_FALSE(found.workload.has_value());
  EXPECT_TRUE(found.schedules.empty());
  ASSERT_FALSE(found.garbage.empty());
  EXPECT_NE(found.garbage.front().find("is not a workload"), std::string::npos);
  // A push replaces it with the program.
  a.push(w, {record(w, target(), 1e-3)});
  EXPECT_TRUE(a.fetch(w.key, target()).workload.has_value());
}

TEST(RedisRecordStore, AnotherProgramUnderTheSameKeyIsRefused) {
  KILN_REDIS_SERVER_OR_SKIP(redis);
  RedisRecordStore a = store_of(*redis, "machine-a");
  Workload w = workload(5);
  a.push(w, {record(w, target(), 1e-3)});
  Workload impostor = w;
  impostor.canonical = "another program";
  PushResult pushed = a.push(impostor, {record(impostor, target(), 1e-9, "other")});
  EXPECT_EQ(pushed.conflicts, 1);
  EXPECT_EQ(pushed.records, 0);
  EXPECT_EQ(a.fetch(w.key, target()).schedules.size(), 1u);
}

TEST(RedisRecordStore, ForEachVisitsEveryWorkloadOfTheTarget) {
  KILN_REDIS_SERVER_OR_SKIP(redis);
  RedisRecordStore a = store_of(*redis, "machine-a");
  for (int n = 10; n < 15; ++n) a.push(workload(n), {record(workload(n), target(), 1e-3 * n)});
  a.push(workload(20), {record(workload(20), target(8), 1e-3)});
  int visited = 0;
  a.for_each(target(), [&](const FleetRecords& found) {
    ++visited;
    EXPECT_EQ(found.schedules.size(), 1u);
  });
  EXPECT_EQ(visited, 5);
  FleetStats s = a.stats();
  EXPECT_EQ(s.workloads, 6);
  EXPECT_EQ(s.targets, 2);
  EXPECT_EQ(s.records, 6);
}

}  // namespace
}  // namespace kiln
