#include "fleet/fleet_worker.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "core/tune/stored_search.h"
#include "core/tune/trial_records.h"
#include "fleet/fleet_sync.h"
#include "fleet/program_codec.h"
#include "fleet/task_queue.h"

namespace kiln {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

/// Touches a claimed task every claim_idle_seconds / 4 from a thread and a connection of its
/// own while the task runs, so that no long step (the pull, training the warm model, a slow
/// candidate) lets another worker take a live worker's task over.
class KeepAlive {
 public:
  KeepAlive(const FleetWorkerOptions& o, const TargetFingerprint& target,
            const ClaimedTask& claimed)
      : thread_([this, &o, &target, &claimed] { loop(o, target, claimed); }) {}
  ~KeepAlive() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  void loop(const FleetWorkerOptions& o, const TargetFingerprint& target,
            const ClaimedTask& claimed) {
    std::optional<RedisClient> redis;
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::duration<double>(o.claim_idle_seconds / 4),
                           [&] { return stop_; })) {
      lock.unlock();
      try {
        if (!redis) redis.emplace(RedisClient::connect(o.url, o.timeout_seconds));
        TaskQueue(*redis, target).keep_alive(o.name, claimed);
      } catch (const RedisError&) {
        redis.reset();  // tried again next period; the task's finish says what matters
      }
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;  ///< Last: started once the rest is made.
};

/// One task, claimed: tuned here, then finished (or failed) on the queue.
class TaskRun {
 public:
  TaskRun(const FleetWorkerOptions& o, const KernelCompiler& compiler,
          const TargetFingerprint& target, SqliteRecordStore& local, RedisRecordStore& fleet,
          TaskQueue& queue)
      : o_(o), compiler_(compiler), target_(target), local_(local), fleet_(fleet), queue_(queue) {}

  /// Whether this worker finished the task (false: failed, or finished elsewhere first). A
  /// RedisError escapes (the caller reconnects; the task stays pending); any other failure
  /// fails the task, so that no task can take every worker down in turn.
  bool run(const ClaimedTask& claimed) {
    KeepAlive keep_alive(o_, target_, claimed);
    try {
      return tune(claimed);
    } catch (const RedisError&) {
      throw;
    } catch (const std::exception& e) {
      return fail(claimed, str_cat("Kiln failed on it: ", e.what()));
    }
  }

 private:
  bool tune(const ClaimedTask& claimed) {
    const FleetTask& task = claimed.task;
    std::vector<Tensor> program;
    try {
      if (task.trials < 1) throw Error("its trials or seconds field is malformed");
      program = program_from_json(task.program);
    } catch (const Error& e) {
      return fail(claimed, str_cat("the task does not rebuild: ", e.what()));
    }
    Workload workload = describe_workload(program);
    if (workload.key.hex() != task.workload)
      return fail(claimed, str_cat("its program rebuilds to workload ", workload.key.hex(),
                                   ", not ", task.workload));
    TaskState state;
    state.name = task.name;
    state.state = "running";
    state.worker = o_.name;
    queue_.report(task, state);
    SyncResult pulled = pull_from_fleet(fleet_, target_, local_);
    log(str_cat("task ", task.id, " '", task.name, "'", claimed.reclaimed ? " (taken over)" : "",
                ": ", pulled.records, " new records from the fleet"));

    std::atomic<bool> stop = false;
    TuneOptions tune;
    tune.trials = task.trials;
    tune.seconds = task.seconds;
    tune.stop = &stop;
    StoredSearchContext context{&compiler_, &local_, target_, o_.measure, o_.kiln_version, {}};
    auto last_report = Clock::now();
    TuneResult result =
        stored_search({task.name, program}, workload, tune, context, [&](const TuneProgress& p) {
          if (o_.should_stop && o_.should_stop()) stop = true;
          if (since(last_report) < 2) return;
          last_report = Clock::now();
          state.trials = p.trial;
          queue_.report(task, state);
        });
    if (stop) return false;  // left pending: another worker takes it over
    state.state = result.best >= 0 ? "done" : "failed";
    state.trials = static_cast<int>(result.trials.size());
    state.default_seconds = result.default_seconds();
    if (result.best >= 0)
      state.best_seconds = result.trials[result.best].result.seconds;
    else
      state.error = str_cat("no candidate of ", result.trials.size(), " ran correctly");
    std::vector<TuningRecord> records =
        records_of_trials(result, workload, target_, o_.kiln_version);
    bool mine = queue_.finish(fleet_, claimed, workload, records, state);
    log(mine ? str_cat("task ", task.id, " finished: ", state.trials, " trials, best ",
                       state.best_seconds * 1e3, " ms (default ", state.default_seconds * 1e3,
                       " ms)")
             : str_cat("task ", task.id,
                       " was finished by another worker first; its records "
                       "stay local"));
    return mine;
  }

  bool fail(const ClaimedTask& claimed, const std::string& why) {
    TaskState state;
    state.name = claimed.task.name;
    state.state = "failed";
    state.worker = o_.name;
    state.error = why;
    queue_.finish(fleet_, claimed, Workload{}, {}, state);
    log(str_cat("task ", claimed.task.id, " failed: ", why));
    return false;
  }
  void log(const std::string& message) {
    if (o_.log) o_.log(str_cat("kiln worker ", o_.name, ": ", message));
  }

  const FleetWorkerOptions& o_;
  const KernelCompiler& compiler_;
  const TargetFingerprint& target_;
  SqliteRecordStore& local_;
  RedisRecordStore& fleet_;
  TaskQueue& queue_;
};

}  // namespace

int run_fleet_worker(const FleetWorkerOptions& o, const KernelCompiler& compiler,
                     const TargetFingerprint& target, SqliteRecordStore& local) {
  auto stopping = [&] { return o.should_stop && o.should_stop(); };
  auto log = [&](const std::string& m) {
    if (o.log) o.log(str_cat("kiln worker ", o.name, ": ", m));
  };
  int finished = 0;
  bool announced = false;
  while (!stopping() && (o.max_tasks == 0 || finished < o.max_tasks)) {
    try {
      RedisRecordStore fleet(o.url, this_machine(), o.timeout_seconds);
      TaskQueue queue(fleet.client(), target);
      queue.join_group();
      if (!announced)
        log(str_cat("takes tasks for ", target.vector_isa(), ", ", target.threads,
                    " threads, from ", o.url.redacted()));
      announced = true;
      TaskRun runner(o, compiler, target, local, fleet, queue);
      while (!stopping() && (o.max_tasks == 0 || finished < o.max_tasks)) {
        std::optional<ClaimedTask> claimed =
            queue.take(o.name, o.block_seconds, o.claim_idle_seconds);
        if (!claimed) continue;
        if (queue.done(claimed->task)) {
          queue.ack(*claimed);
          continue;
        }
        if (runner.run(*claimed)) ++finished;
      }
    } catch (const RedisError& e) {
      if (e.kind() == RedisError::Kind::Url || e.kind() == RedisError::Kind::Auth) throw;
      log(str_cat("Redis: ", e.what(), "; retrying in 2 s"));
      for (int i = 0; i < 20 && !stopping(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return finished;
}

}  // namespace kiln
