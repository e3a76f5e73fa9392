// A tuning worker of the fleet (`kiln worker`): takes tasks for this machine's target from the
// fleet's stream, tunes each with a cost model warmed from everything the fleet measured, and
// writes the records back, once per task. Any number of workers, on any machines, share a Redis.
#pragma once

#include <functional>
#include <string>

#include "core/runtime/kernel_compiler.h"
#include "core/tune/measure.h"
#include "fleet/redis_client.h"
#include "tuning_cache/sqlite_record_store.h"

namespace kiln {

struct FleetWorkerOptions {
  RedisUrl url;
  std::string name;            ///< The consumer's name in the group: unique per worker.
  double timeout_seconds = 5;  ///< Bound of each Redis call.
  double block_seconds = 1;    ///< How long one wait for a task lasts (stop checks between).
  /// A task its worker has not touched for this long is taken over: the worker died.
  double claim_idle_seconds = 30;
  int max_tasks = 0;       ///< Stop after this many finished tasks (0: never).
  MeasureOptions measure;  ///< How candidates are measured (threads: the target's).
  std::string kiln_version;
  /// Polled between waits and trials: true stops the worker (the task in hand is left to be
  /// taken over).
  std::function<bool()> should_stop;
  std::function<void(const std::string& message)> log;
};

/// Runs tasks of `target` (what `compiler` compiles for, measured with its threads) until
/// `should_stop` or `max_tasks`; records go to `local` and to Redis. Returns the tasks this
/// worker finished. Throws RedisError for a malformed URL or refused credentials; while Redis
/// is unreachable it waits and retries.
int run_fleet_worker(const FleetWorkerOptions& options, const KernelCompiler& compiler,
                     const TargetFingerprint& target, SqliteRecordStore& local);

}  // namespace kiln
