// The fleet's Redis as the `kiln` command sees it: its status (`kiln doctor`, `kiln cache
// stats`), moving records (`kiln cache push | pull`), a tuning worker (`kiln worker`) and the
// tasks of `kiln tune --fleet`. Exported from libkiln_torch.so for kiln._C; plain strings and
// numbers cross (see cache_admin.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "plugin/torch/kiln_torch.h"

namespace kiln {

struct FleetStatus {
  std::string url;  ///< Without the password.
  bool answers = false;
  std::string error;  ///< Why it does not answer.
  int64_t workloads = 0, targets = 0, records = 0;
};

/// What push or pull moved.
struct FleetSync {
  int64_t workloads = 0, records = 0, skipped = 0, conflicts = 0;
  std::vector<std::string> garbage;  ///< Values skipped in Redis, with why.
};

/// One task of a `kiln tune --fleet` job.
struct FleetTaskState {
  std::string id, name, state, worker, error;
  int trials = 0;
  double best_seconds = 0, default_seconds = 0;
};

/// Whether the Redis at `url` answers (within 2 s), and what it holds. Throws Error for a
/// malformed URL; a refused password is reported in `error`.
KILN_TORCH_API FleetStatus fleet_status(const std::string& url);
/// Throws Error when `url` is malformed or the Redis there refuses its credentials (a
/// configuration to fix, said before any compile); an unreachable Redis passes (the local cache
/// serves alone until it answers).
KILN_TORCH_API void check_fleet_login(const std::string& url);
/// Pushes the records this machine measured in the cache of `dir` to Redis.
KILN_TORCH_API FleetSync cache_push(const std::string& dir, const std::string& url);
/// Imports the fleet's records of this machine's target into the cache of `dir`.
KILN_TORCH_API FleetSync cache_pull(const std::string& dir, const std::string& url);

/// Runs a tuning worker (fleet/fleet_worker.h) with the cache of `dir`, measuring with torch's
/// threads, until `should_stop()` or `max_tasks` (0: never); returns the tasks it finished.
KILN_TORCH_API int run_worker(const std::string& dir, const std::string& url,
                              const std::string& name, int max_tasks, double claim_idle_seconds,
                              const std::function<bool()>& should_stop,
                              const std::function<void(const std::string&)>& log);

/// Publishes the workloads this process ran but did not tune as one job of tasks for this
/// target's workers (each at most `trials` trials and `seconds_per_task` seconds); returns the
/// job's id, "" when there is nothing to tune (or no compile asked for tuning).
KILN_TORCH_API std::string fleet_publish(const std::string& url, int trials,
                                         double seconds_per_task);
/// Where each task of `job` stands.
KILN_TORCH_API std::vector<FleetTaskState> fleet_job(const std::string& url,
                                                     const std::string& job);

}  // namespace kiln
