// Several processes on one cache file: concurrent commits lose nothing, and a process killed in
// the middle of a commit leaves a sound file with every commit it finished.
// NOTE: children are forked before the test has any thread, and never use a store of the parent.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <set>

#include "tests/tuning_cache/cache_fixture.h"
#include "tuning_cache/sqlite_record_store.h"

namespace kiln {
namespace {

using namespace cache_test;

/// Runs `body` in a child process that exits 0 when it returns and 1 when it throws.
template <typename Body>
pid_t spawn(Body body) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  int status = 0;
  try {
    body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "child %d: %s\n", ::getpid(), e.what());
    status = 1;
  }
  ::_exit(status);  // not exit(): the parent's gtest state must not run its exit handlers here
}

TEST(SqliteRecordStoreProcesses, TwoWritersAtOnceLoseNothing) {
  ScratchDir dir;
  const std::string path = dir.path("tuning.db");  // made by whichever child comes first
  int start[2];
  ASSERT_EQ(::pipe(start), 0);
  Workload w = workload(1);
  std::vector<pid_t> children;
  for (int child = 0; child < 2; ++child)
    children.push_back(spawn([&, child] {
      ::close(start[1]);
      char go;
      (void)::read(start[0], &go, 1);  // returns at EOF: when the parent has made both children
      auto store = SqliteRecordStore::open(path);
      for (int t = 0; t < 50; ++t) {
        std::vector<TuningRecord> batch;
        for (int i = 0; i < 4; ++i)
          batch.push_back(record(w, target(), 1e-3, str_cat(child, ".", t, ".", i)));
        store->commit(w, batch);
      }
    }));
  ::close(start[0]);
  ::close(start[1]);
  for (pid_t child : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }
  auto store = SqliteRecordStore::open(path);
  EXPECT_EQ(store->count({}), 400);
  std::set<std::string> configs;
  for (const TuningRecord& r : all_records(*store)) configs.insert(r.config);
  EXPECT_EQ(configs.size(), 400u);
}

TEST(SqliteRecordStoreProcesses, KilledWriterLeavesEveryFinishedCommit) {
  ScratchDir dir;
  const std::string path = dir.path("tuning.db");
  constexpr int kBatch = 10;
  int progress[2];
  ASSERT_EQ(::pipe(progress), 0);
  Workload w = workload(1);
  pid_t child = spawn([&] {
    ::close(progress[0]);
    auto store = SqliteRecordStore::open(path);
    for (int64_t n = 0;; ++n) {
      std::vector<TuningRecord> batch;
      for (int i = 0; i < kBatch; ++i)
        batch.push_back(record(w, target(), 1e-3, str_cat(n, ".", i)));
      store->commit(w, batch);
      // Told only after commit() returned: every batch the parent hears of must survive.
      if (::write(progress[1], &n, sizeof n) != sizeof n) return;
    }
  });
  ::close(progress[1]);
  int64_t finished = -1, n;
  while (::read(progress[0], &n, sizeof n) == sizeof n) {
    finished = n;
    if (n == 150) ::kill(child, SIGKILL);  // keeps committing until then: likely mid-commit
  }
  ::close(progress[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;

  std::vector<std::string> warnings;
  auto store = SqliteRecordStore::open(path, [&](const std::string& m) { warnings.push_back(m); });
  EXPECT_TRUE(warnings.empty()) << warnings[0];
  EXPECT_TRUE(store->verify().empty());
  // Whole batches only, at least every one the child reported, at most the one after.
  int64_t count = store->count({});
  EXPECT_EQ(count % kBatch, 0);
  EXPECT_GE(count, (finished + 1) * kBatch);
  EXPECT_LE(count, (finished + 2) * kBatch);
  std::set<std::string> configs;
  for (const TuningRecord& r : all_records(*store)) configs.insert(r.config);
  for (int64_t b = 0; b <= finished; ++b)
    for (int i = 0; i < kBatch; ++i)
      EXPECT_TRUE(configs.count(str_cat(b, ".", i))) << b << "." << i;
}

TEST(SqliteRecordStoreProcesses, ProcessesFindingOneDamagedFileSetItAsideOnce) {
  // Several processes start at once on a damaged cache (one per GPU, say): one moves it aside;
  // none may move the fresh cache another has begun to fill.
  for (int round = 0; round < 3; ++round) {
    ScratchDir dir;
    const std::string path = dir.path("tuning.db");
    std::ofstream(path, std::ios::binary) << std::string(20000, '\x5a');
    int start[2], warned[2];
    ASSERT_EQ(::pipe(start), 0);
    ASSERT_EQ(::pipe(warned), 0);
    Workload w = workload(1);
    std::vector<pid_t> children;
    for (int child = 0; child < 6; ++child)
      children.push_back(spawn([&, child] {
        ::close(start[1]);
        char go;
        (void)::read(start[0], &go, 1);
        auto store = SqliteRecordStore::open(path, [&](const std::string&) {
          if (::write(warned[1], "w", 1) != 1) throw Error("cannot report the warning");
        });
        for (int i = 0; i < 10; ++i)
          store->commit(w, {record(w, target(), 1e-3, str_cat(child, ".", i))});
      }));
    ::close(start[0]);
    ::close(start[1]);
    ::close(warned[1]);
    for (pid_t child : children) {
      int status = 0;
      ASSERT_EQ(::waitpid(child, &status, 0), child);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
    }
    std::string warnings;
    for (char c; ::read(warned[0], &c, 1) == 1;) warnings += c;
    ::close(warned[0]);
    EXPECT_EQ(warnings, "w");
    EXPECT_EQ(SqliteRecordStore::open(path)->count({}), 60)
        << "records went aside with a fresh cache";
  }
}

}  // namespace
}  // namespace kiln
