// Tuning tasks for the fleet's workers: one Redis stream per target fingerprint, read through a
// consumer group, so that a worker only takes tasks for the hardware it is, each task goes to one
// worker, and a task whose worker died is claimed again (XAUTOCLAIM) once it sat idle too long.
// A task ends once: its records and its "done" mark are written in one transaction that fails
// when another worker finished it first, so a task done twice leaves one set of records.
//
// Keys (beside the records', redis_record_store.h):
//   kiln:1:tasks:<target digest>  the stream; group "workers"; entry fields as FleetTask's
//   kiln:1:job:<job id>           hash: task id → its TaskState as JSON (progress for `kiln tune`)
//   kiln:1:done:<task id>         the worker that finished it
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fleet/redis_record_store.h"

namespace kiln {

/// One workload to tune, as it travels.
struct FleetTask {
  std::string id;        ///< Unique: "<job>.<index>".
  std::string job;       ///< The `kiln tune --fleet` run it belongs to.
  std::string name;      ///< For progress lines: the slot's name.
  std::string workload;  ///< WorkloadKey::hex() of the program.
  std::string program;   ///< program_to_json() of its compute definitions.
  int trials = 64;
  double seconds = 0;  ///< The search's time limit (0: none).
};

/// Where a task stands, as its worker reports it.
struct TaskState {
  std::string name;              ///< The task's.
  std::string state = "queued";  ///< "queued", "running", "done" or "failed".
  std::string worker;
  int trials = 0;
  double best_seconds = 0, default_seconds = 0;
  std::string error;  ///< Why it failed.
};

/// A task taken from the stream by one consumer.
struct ClaimedTask {
  std::string entry;  ///< The stream entry's id.
  FleetTask task;
  bool reclaimed = false;  ///< Taken over from a consumer that left it idle (died).
};

class TaskQueue {
 public:
  /// The queue of `target`'s tasks on `redis` (which must outlive it).
  TaskQueue(RedisClient& redis, const TargetFingerprint& target);

  /// Makes the stream and its group of workers unless they exist (a worker, once, before it
  /// takes tasks). The group reads from the stream's start: tasks published before the first
  /// worker came are taken too.
  void join_group();

  /// Adds `tasks` as one job (their `job` and `id` are set here); returns the job's id.
  std::string publish(std::vector<FleetTask>& tasks);
  /// Every task of `job` and where it stands.
  std::map<std::string, TaskState> job_states(const std::string& job);

  /// The next task for `consumer`: first one idle for `claim_idle_seconds` in another
  /// consumer's hands, else a new one, waiting up to `block_seconds` for it.
  std::optional<ClaimedTask> take(const std::string& consumer, double block_seconds,
                                  double claim_idle_seconds);
  /// Tells the group `consumer` still works on `claimed` (resets its idle time).
  void keep_alive(const std::string& consumer, const ClaimedTask& claimed);
  /// Reports progress of a task being worked on.
  void report(const FleetTask& task, const TaskState& state);
  /// Finishes `claimed` with `records` (of `workload`, pushed through `store`) and its final
  /// `state`, unless another worker finished it first; returns whether this one did. The entry
  /// is acknowledged either way.
  bool finish(RedisRecordStore& store, const ClaimedTask& claimed, const Workload& workload,
              const std::vector<TuningRecord>& records, const TaskState& state);
  /// Whether a worker finished the task.
  bool done(const FleetTask& task);
  /// Acknowledges an entry without results (a task found done, or one that cannot run).
  void ack(const ClaimedTask& claimed);

 private:
  RedisClient& redis_;
  std::string stream_;
};

}  // namespace kiln
