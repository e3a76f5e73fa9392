// A machine's tuning cache with the fleet's Redis behind it: hits stay local, misses import the
// fleet's schedules as unverified, and Redis going away never fails or blocks a call.
#include "fleet/tiered_record_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "tests/fleet/redis_server.h"
#include "tests/tuning_cache/cache_fixture.h"

namespace kiln {
namespace {

using cache_test::record;
using cache_test::ScratchDir;
using cache_test::target;
using cache_test::workload;

/// The messages a store logged.
struct Messages {
  std::mutex mutex;
  std::vector<std::pair<bool, std::string>> all;
  int warnings() {
    std::lock_guard lock(mutex);
    int n = 0;
    for (auto& [warning, text] : all) n += warning;
    return n;
  }
};

std::unique_ptr<TieredRecordStore> tiered(const std::string& url, const std::string& file,
                                          const std::string& machine,
                                          Messages* messages = nullptr) {
  TieredOptions o;
  o.url = RedisUrl::parse(url);
  o.machine = machine;
  o.timeout_seconds = 0.5;
  o.retry_seconds = 0.1;
  if (messages)
    o.log = [messages](bool warning, const std::string& text) {
      std::lock_guard lock(messages->mutex);
      messages->all.emplace_back(warning, text);
    };
  return std::make_unique<TieredRecordStore>(SqliteRecordStore::open(file), std::move(o));
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

TEST(TieredRecordStore, AMissImportsTheFleetsFastestSchedulesAsUnverified) {
  KILN_REDIS_SERVER_OR_SKIP(redis);
  ScratchDir dir;
  Workload w = workload(1);
  {
    auto a = tiered(redis->url(), dir.path("a.sqlite"), "machine-a");
    TuningRecord mine = record(w, target(), 1e-3);
    mine.source = "local";
    TuningRecord baseline = record(w, target(), 3e-3, "default");
    baseline.kind = record_kind::kBaseline;
    a->commit(w, {mine, record(w, target(), 2e-3, "slower"), baseline});
    ASSERT_EQ(a->flush(5), 0u);
  }
  auto b = tiered(redis->url(), dir.path("b.sqlite"), "machine-b");
  std::optional<TuningRecord> best = b->best(w, target());
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(best->status, "unverified");  // the kernel pipeline checks it here before serving
  EXPECT_EQ(best->seconds, 1e-3);
  EXPECT_EQ(best->source, "fleet: machine-a");
  // With the fleet's baseline, which the pipeline judges the schedules' claimed speed-ups by.
  std::vector<TuningRecord> imported = cache_test::all_records(b->local());
  ASSERT_EQ(imported.size(), 3u);
  EXPECT_EQ(imported[2].kind, record_kind::kBaseline);
  EXPECT_EQ(imported[2].seconds, 3e-3);
  // Records of another kind are never asked for: decisions are one machine's.
  EXPECT_FALSE(b->best(w, target(), record_kind::kServing).has_value());
}

TEST(TieredRecordStore, AHitNeverTouchesTheNetwork) {
  KILN_REDIS_SERVER_OR_SKIP(redis);
  ScratchDir dir;
  Messages messages;
  auto a = tiered(redis->url(), dir.path("a.sqlite"), "machine-a", &messages);
  Workload w = workload(2);
  a->commit(w, {record(w, target(), 1e-3)});
  ASSERT_EQ(a->flush(5), 0u);
  redis->kill();
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(a->best(w, target()).has_value());
  EXPECT_LT(seconds_since(t0), 0.4);  // 100 lookups, none waiting on the 0.5 s bound
  EXPECT_EQ(messages.warnings(), 0);  // nothing asked Redis, so nothing found it gone
}

TEST(TieredRecordStore, RedisDownMeansOneWarningAndRecordsWaitUntilItReturns) {
  KILN_REDIS_SERVER_OR_SKIP(redis, {.persist = true});
  ScratchDir dir;
  Messages messages;
  auto a = tiered(redis->url(), dir.path("a.sqlite"), "machine-a", &messages);
  redis->stop();
  auto t0 = std::chrono::steady_clock::now();
  for (int n = 0; n < 5; ++n) {
    Workload w = workload(10 + n);
    a->commit(w, {record(w, target(), 1e-3 * (n + 1))});
    EXPECT_TRUE(a->best(w, target()).has_value());                  // local records serve
    EXPECT_FALSE(a->best(workload(50 + n), target()).has_value());  // a miss: no network
  }
  EXPECT_LT(seconds_since(t0), 1.5);  // at most one 0.5 s bound waited on
  EXPECT_GT(a->flush(0.3), 0u);       // waiting, not lost
  EXPECT_EQ(messages.warnings(), 1) << (messages.all.empty() ? "" : messages.all[0].second);
  redis->start();
  EXPECT_EQ(a->flush(10), 0u);
  RedisRecordStore reader(RedisUrl::parse(redis->url()), "reader", 2);
  EXPECT_EQ(reader.stats().records, 5);
  bool back = false;
  for (auto& [warning, text] : messages.all)
    back |= text.find("answers again") != std::string::npos;
  EXPECT_TRUE(back);
}

TEST(TieredRecordStore, AnUnreachableRedisIsTheLocalCacheAlone) {
  ScratchDir dir;
  Messages messages;
  // A port nothing listens on (the server is started and stopped to find one).
  std::string url;
  {
    KILN_REDIS_SERVER_OR_SKIP(redis);
    url = redis->url();
  }
  auto t0 = std::chrono::steady_clock::now();
  auto a = tiered(url, dir.path("a.sqlite"), "machine-a", &messages);
  Workload w = workload(3);
  a->commit(w, {record(w, target(), 1e-3)});
  EXPECT_TRUE(a->best(w, target()).has_value());
  EXPECT_FALSE(a->redis_up());
  EXPECT_LT(seconds_since(t0), 1.0);
  EXPECT_EQ(messages.warnings(), 1);
}

TEST(TieredRecordStore, AWrongPasswordIsAClearErrorAtStart) {
  KILN_REDIS_SERVER_OR_SKIP(redis, {.password = "right"});
  ScratchDir dir;
  std::string url = "redis://:wrong@127.0.0.1:" + std::to_string(redis->port());
  auto t0 = std::chrono::steady_clock::now();
  try {
    tiered(url, dir.path("a.sqlite"), "machine-a");
    FAIL() << "a wrong password was accepted";
  } catch (const RedisError& e) {
    EXPECT_EQ(e.kind(), RedisError::Kind::Auth);
    EXPECT_EQ(std::string(e.what()).find("wrong"), std::string::npos) << "shows the password";
  }
  EXPECT_LT(seconds_since(t0), 1.0);
}

TEST(TieredRecordStore, GarbageInRedisIsSkippedWithAWarningAndNeverServes) {
  KILN_REDIS_SERVER_OR_SKIP(redis);
  ScratchDir dir;
  Workload w = workload(4);
  RedisRecordStore writer(RedisUrl::parse(redis->url()), "machine-a", 2);
  writer.push(w, {record(w, target(), 1e-3)});
  writer.client().command({"HSET",
                           str_cat("kiln:1:records:", target_digest(target()), ":", w.key.hex()),
                           "garbage", "not a record"});
  Messages messages;
  auto b = tiered(redis->url(), dir.path("b.sqlite"), "machine-b", &messages);
  std::optional<TuningRecord> best = b->best(w, target());
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(best->seconds, 1e-3);
  ASSERT_EQ(messages.warnings(), 1);
  EXPECT_NE(messages.all[0].second.find("garbage is not a record"), std::string::npos)
      << messages.all[0].second;
}

TEST(TieredRecordStore, LookupsResumeWhenRedisReturnsWithNothingCommitted) {
  KILN_REDIS_SERVER_OR_SKIP(redis, {.persist = true});
  ScratchDir dir;
  Messages messages;
  auto a = tiered(redis->url(), dir.path("a.sqlite"), "machine-a", &messages);
  redis->stop();
  Workload w = workload(5);
  EXPECT_FALSE(a->best(w, target()).has_value());  // finds Redis gone: one warning
  redis->start();
  RedisRecordStore(RedisUrl::parse(redis->url()), "machine-b", 2)
      .push(w, {record(w, target(), 1e-3)});
  // Only lookups, no commit: the pushing thread still reconnects within its retry period.
  std::optional<TuningRecord> found;
  for (int i = 0; i < 50 && !found; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    found = a->best(w, target());
  }
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->source, "fleet: machine-b");
  EXPECT_EQ(messages.warnings(), 1);
}

TEST(TieredRecordStore, TextThatIsNotUtf8TravelsWithoutACrash) {
  KILN_REDIS_SERVER_OR_SKIP(redis);
  ScratchDir dir;
  auto a = tiered(redis->url(), dir.path("a.sqlite"), "machine-\xff");
  Workload w = workload(6);
  TuningRecord r = record(w, target(), 1e-3);
  r.error = "a foreign library said \xfe\xff";
  a->commit(w, {r});
  EXPECT_EQ(a->flush(5), 0u);
  FleetRecords found =
      RedisRecordStore(RedisUrl::parse(redis->url()), "b", 2).fetch(w.key, target());
  ASSERT_EQ(found.schedules.size(), 1u);
  EXPECT_TRUE(found.garbage.empty());
}

TEST(TieredRecordStore, RecordsOfAProcessThatEndedWhileRedisWasDownGoWithTheNext) {
  KILN_REDIS_SERVER_OR_SKIP(redis, {.persist = true});
  ScratchDir dir;
  Workload w = workload(7);
  {
    auto a = tiered(redis->url(), dir.path("a.sqlite"), "machine-a");
    redis->stop();
    a->commit(w, {record(w, target(), 1e-3)});
  }  // ends with its record queued: in the local store only
  redis->start();
  RedisRecordStore reader(RedisUrl::parse(redis->url()), "reader", 2);
  EXPECT_EQ(reader.stats().records, 0);
  auto b = tiered(redis->url(), dir.path("a.sqlite"), "machine-a");
  int64_t records = 0;
  for (int i = 0; i < 100 && records == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    records = reader.stats().records;
  }
  EXPECT_EQ(records, 1);
}

TEST(TieredRecordStore, TravelsOverTlsWithAPassword) {
  KILN_REDIS_SERVER_OR_SKIP(redis, {.password = "tls-secret", .tls = true});
  ScratchDir dir;
  Workload w = workload(8);
  {
    auto a = tiered(redis->url(), dir.path("a.sqlite"), "machine-a");
    a->commit(w, {record(w, target(), 1e-3)});
    ASSERT_EQ(a->flush(5), 0u);
  }
  auto b = tiered(redis->url(), dir.path("b.sqlite"), "machine-b");
  std::optional<TuningRecord> found = b->best(w, target());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->source, "fleet: machine-a");
  EXPECT_EQ(RedisUrl::parse(redis->url()).tls, true);
}

}  // namespace
}  // namespace kiln
