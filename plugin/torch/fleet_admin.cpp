#include "plugin/torch/fleet_admin.h"

#include "core/tune/space.h"
#include "fleet/fleet_sync.h"
#include "fleet/fleet_worker.h"
#include "fleet/program_codec.h"
#include "fleet/task_queue.h"
#include "plugin/torch/cache_admin.h"
#include "plugin/torch/compile_service.h"
#include "plugin/torch/tuning_runtime.h"
#include "tuning_cache/sqlite_record_store.h"

namespace kiln {

namespace {

/// Bound of each call of the `kiln` commands: longer than a model's, they are run by hand.
constexpr double kCommandTimeout = 5;

FleetSync sync_of(const SyncResult& r) {
  return {r.workloads, r.records, r.skipped, r.conflicts, r.garbage};
}

}  // namespace

FleetStatus fleet_status(const std::string& url) {
  RedisUrl parsed = RedisUrl::parse(url);
  FleetStatus s;
  s.url = parsed.redacted();
  try {
    RedisRecordStore fleet(parsed, this_machine(), 2.0);
    FleetStats stats = fleet.stats();
    s.answers = true;
    s.workloads = stats.workloads;
    s.targets = stats.targets;
    s.records = stats.records;
  } catch (const RedisError& e) {
    s.error = e.what();
  }
  return s;
}

void check_fleet_login(const std::string& url) {
  try {
    RedisClient::connect(RedisUrl::parse(url), 2.0);
  } catch (const RedisError& e) {
    if (e.kind() == RedisError::Kind::Url || e.kind() == RedisError::Kind::Auth)
      throw Error(str_cat("kiln: cache_url: ", e.what()));
  }
}

FleetSync cache_push(const std::string& dir, const std::string& url) {
  auto local = open_store(dir);
  RedisRecordStore fleet(RedisUrl::parse(url), this_machine(), kCommandTimeout);
  return sync_of(push_to_fleet(*local, fleet));
}

FleetSync cache_pull(const std::string& dir, const std::string& url) {
  auto local = open_store(dir);
  RedisRecordStore fleet(RedisUrl::parse(url), this_machine(), kCommandTimeout);
  return sync_of(pull_from_fleet(fleet, this_fingerprint(), *local));
}

int run_worker(const std::string& dir, const std::string& url, const std::string& name,
               int max_tasks, double claim_idle_seconds, const std::function<bool()>& should_stop,
               const std::function<void(const std::string&)>& log) {
  auto local = open_store(dir);
  const KernelCompiler& compiler = CompileService::global().compiler();
  TargetFingerprint target = this_fingerprint();
  FleetWorkerOptions o;
  o.url = RedisUrl::parse(url);
  o.name = name;
  o.max_tasks = max_tasks;
  o.claim_idle_seconds = claim_idle_seconds;
  o.measure.threads = target.threads;
  o.measure.worker = measure_worker_path();
  o.kiln_version = KILN_VERSION;
  o.should_stop = should_stop;
  o.log = log;
  return run_fleet_worker(o, compiler, target, *local);
}

std::string fleet_publish(const std::string& url, int trials, double seconds_per_task) {
  TuningService* service = TuningRuntime::global().service();
  if (!service) return "";
  const KernelCompiler& compiler = CompileService::global().compiler();
  std::vector<FleetTask> tasks;
  for (const TuningService::Untuned& u : service->untuned()) {
    if (ScheduleSpace(u.workload, compiler.target()).size() <= 1) continue;  // nothing to tune
    FleetTask t;
    t.name = u.name;
    t.workload = u.description.key.hex();
    t.program = program_to_json(u.workload);
    t.trials = trials;
    t.seconds = seconds_per_task;
    tasks.push_back(std::move(t));
  }
  if (tasks.empty()) return "";
  RedisRecordStore fleet(RedisUrl::parse(url), this_machine(), kCommandTimeout);
  return TaskQueue(fleet.client(), this_fingerprint()).publish(tasks);
}

std::vector<FleetTaskState> fleet_job(const std::string& url, const std::string& job) {
  RedisRecordStore fleet(RedisUrl::parse(url), this_machine(), kCommandTimeout);
  std::vector<FleetTaskState> states;
  for (const auto& [id, s] : TaskQueue(fleet.client(), this_fingerprint()).job_states(job))
    states.push_back(
        {id, s.name, s.state, s.worker, s.error, s.trials, s.best_seconds, s.default_seconds});
  return states;
}

}  // namespace kiln
