// The fleet's task stream against a real redis-server: each task to one worker, a task whose
// worker went quiet taken over, and a task finished twice leaving one set of records.
#include "fleet/task_queue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "tests/fleet/redis_server.h"
#include "tests/tuning_cache/cache_fixture.h"

namespace kiln {
namespace {

using cache_test::record;
using cache_test::target;
using cache_test::workload;

std::vector<FleetTask> tasks(int n) {
  std::vector<FleetTask> all;
  for (int i = 0; i < n; ++i) {
    FleetTask t;
    t.name = str_cat("task ", i);
    t.workload = workload(i).key.hex();
    t.program = "{}";
    t.trials = 8;
    all.push_back(t);
  }
  return all;
}

TEST(TaskQueue, EachTaskGoesToOneWorkerOfItsTarget) {
  KILN_REDIS_SERVER_OR_SKIP(redis);
  RedisClient client = RedisClient::connect(RedisUrl::parse(redis->url()));
  TaskQueue queue(client, target());
  queue.join_group();
  std::vector<FleetTask> published = tasks(3);
  std::string job = queue.publish(published);
  EXPECT_EQ(published[2].id, job + ".2");
  EXPECT_EQ(queue.job_states(job).size(), 3u);

  // A worker of another target sees none of them.
  RedisClient other_client = RedisClient::connect(RedisUrl::parse(redis->url()));
  TaskQueue other(other_client, target(16));
  other.join_group();
  EXPECT_FALSE(other.take("elsewhere", 0.05, 60).has_value());

  std::set<std::string> taken;
  for (const char* worker : {"w1", "w2", "w1"}) {
    std::optional<ClaimedTask> t = queue.take(worker, 0.05, 60);
    ASSERT_TRUE(t.has_value());
    EXPECT_FALSE(t->reclaimed);
    EXPECT_EQ(t->task.trials, 8);
    taken.insert(t->task.id);
  }
  EXPECT_EQ(taken.size(), 3u);
  EXPECT_FALSE(queue.take("w2", 0.05, 60).has_value());  // nothing left, none idle long enough
}

TEST(TaskQueue, AQuietWorkersTaskIsTakenOverAndFinishedOnce) {
  KILN_REDIS_SERVER_OR_SKIP(redis);
  RedisRecordStore fleet(RedisUrl::parse(redis->url()), "machine-a", 2);
  TaskQueue queue(fleet.client(), target());
  queue.join_group();
  std::vector<FleetTask> published = tasks(1);
  queue.publish(published);
  std::optional<ClaimedTask> first = queue.take("dies", 0.05, 60);
  ASSERT_TRUE(first.has_value());
  // "dies" goes quiet: after the idle time, another worker takes the task over.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::optional<ClaimedTask> second = queue.take("survivor", 0.05, 0.01);
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(second->reclaimed);
  EXPECT_EQ(second->task.id, first->task.id);

  // Both finish it: one set of records, one "done".
  Workload w = workload(0);
  TaskState done;
  done.state = "done";
  done.worker = "survivor";
  EXPECT_TRUE(queue.finish(fleet, *second, w, {record(w, target(), 1e-3, "survivor's")}, done));
  done.worker = "dies";
  EXPECT_FALSE(queue.finish(fleet, *first, w, {record(w, target(), 2e-3, "late")}, done));
  EXPECT_TRUE(queue.done(first->task));
  FleetRecords found = fleet.fetch(w.key, target());
  ASSERT_EQ(found.schedules.size(), 1u);
  EXPECT_EQ(found.schedules[0].record.config, "survivor's");
  EXPECT_EQ(queue.job_states(first->task.job).begin()->second.worker, "survivor");
  // Acknowledged: nothing is pending to take over any more.
  EXPECT_FALSE(queue.take("third", 0.05, 0.0).has_value());
}

TEST(TaskQueue, KeepAliveHoldsATaskAgainstTakeOver) {
  KILN_REDIS_SERVER_OR_SKIP(redis);
  RedisClient client = RedisClient::connect(RedisUrl::parse(redis->url()));
  TaskQueue queue(client, target());
  queue.join_group();
  std::vector<FleetTask> published = tasks(1);
  queue.publish(published);
  std::optional<ClaimedTask> mine = queue.take("busy", 0.05, 60);
  ASSERT_TRUE(mine.has_value());
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    queue.keep_alive("busy", *mine);
    EXPECT_FALSE(queue.take("thief", 0.01, 0.25).has_value()) << i;
  }
}

}  // namespace
}  // namespace kiln
