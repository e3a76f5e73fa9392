#include "fleet/task_queue.h"

#include <algorithm>

#include "tuning_cache/record_json.h"

namespace kiln {

namespace {

using nlohmann::json;

constexpr const char* kGroup = "workers";
/// How long a finished task's mark and a job's states stay: past any `kiln tune` watching them.
constexpr const char* kKeepSeconds = "604800";

std::string done_key(const std::string& task) {
  return "kiln:1:done:" + task;
}

std::string job_key(const std::string& job) {
  return "kiln:1:job:" + job;
}

std::string state_json(const TaskState& s) {
  return json_text(json{{"name", s.name},
                        {"state", s.state},
                        {"worker", s.worker},
                        {"trials", s.trials},
                        {"best_seconds", s.best_seconds},
                        {"default_seconds", s.default_seconds},
                        {"error", s.error}});
}

TaskState state_of(const std::string& text) {
  TaskState s;
  try {
    json j = json::parse(text);
    s.name = j.at("name").get<std::string>();
    s.state = j.at("state").get<std::string>();
    s.worker = j.at("worker").get<std::string>();
    s.trials = j.at("trials").get<int>();
    s.best_seconds = j.at("best_seconds").get<double>();
    s.default_seconds = j.at("default_seconds").get<double>();
    s.error = j.at("error").get<std::string>();
  } catch (const std::exception& e) {
    s.state = "failed";
    s.error = str_cat("its state in Redis is garbage: ", e.what());
  }
  return s;
}

/// The task of a stream entry [id, [field, value, ...]]; throws RedisError when malformed.
ClaimedTask task_of_entry(const RedisReply& entry) {
  if (entry.elements.size() != 2)
    throw RedisError(RedisError::Kind::Protocol, "a stream entry is not [id, fields]");
  ClaimedTask claimed;
  claimed.entry = entry.elements[0].text;
  std::map<std::string, std::string> f;
  const std::vector<RedisReply>& fields = entry.elements[1].elements;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) f[fields[i].text] = fields[i + 1].text;
  FleetTask& t = claimed.task;
  t.id = f["id"];
  t.job = f["job"];
  t.name = f["name"];
  t.workload = f["workload"];
  t.program = f["program"];
  try {
    t.trials = std::stoi(f["trials"]);
    t.seconds = std::stod(f["seconds"]);
  } catch (const std::exception&) {
    t.trials = 0;  // found malformed by the worker, which fails the task
  }
  return claimed;
}

}  // namespace

TaskQueue::TaskQueue(RedisClient& redis, const TargetFingerprint& target)
    : redis_(redis), stream_("kiln:1:tasks:" + target_digest(target)) {}

void TaskQueue::join_group() {
  try {
    redis_.command({"XGROUP", "CREATE", stream_, kGroup, "0", "MKSTREAM"});
  } catch (const RedisError& e) {
    if (e.kind() != RedisError::Kind::Reply ||
        std::string(e.what()).find("BUSYGROUP") == std::string::npos)
      throw;
  }
}

std::string TaskQueue::publish(std::vector<FleetTask>& tasks) {
  std::string job = str_cat("job-", redis_.command({"INCR", "kiln:1:jobs"}).integer);
  std::vector<std::vector<std::string>> commands;
  for (size_t i = 0; i < tasks.size(); ++i) {
    FleetTask& t = tasks[i];
    t.job = job;
    t.id = str_cat(job, ".", i);
    TaskState queued;
    queued.name = t.name;
    commands.push_back({"HSET", job_key(job), t.id, state_json(queued)});
    commands.push_back({"XADD", stream_, "*", "id", t.id, "job", t.job, "name", t.name, "workload",
                        t.workload, "program", t.program, "trials", std::to_string(t.trials),
                        "seconds", std::to_string(t.seconds)});
  }
  commands.push_back({"EXPIRE", job_key(job), kKeepSeconds});
  redis_.pipeline(commands);
  return job;
}

std::map<std::string, TaskState> TaskQueue::job_states(const std::string& job) {
  std::map<std::string, TaskState> states;
  RedisReply all = redis_.command({"HGETALL", job_key(job)});
  for (size_t i = 0; i + 1 < all.elements.size(); i += 2)
    states[all.elements[i].text] = state_of(all.elements[i + 1].text);
  return states;
}

std::optional<ClaimedTask> TaskQueue::take(const std::string& consumer, double block_seconds,
                                           double claim_idle_seconds) {
  // XAUTOCLAIM scans a bounded stretch of the pending entries per call: follow its cursor.
  std::string cursor = "0-0";
  do {
    RedisReply stale = redis_.command(
        {"XAUTOCLAIM", stream_, kGroup, consumer,
         std::to_string(static_cast<int64_t>(claim_idle_seconds * 1000)), cursor, "COUNT", "1"});
    if (stale.elements.size() < 2)
      throw RedisError(RedisError::Kind::Protocol, "XAUTOCLAIM answered no [cursor, entries]");
    if (!stale.elements[1].elements.empty() && !stale.elements[1].elements[0].is_nil()) {
      ClaimedTask claimed = task_of_entry(stale.elements[1].elements[0]);
      claimed.reclaimed = true;
      return claimed;
    }
    cursor = stale.elements[0].text;
  } while (cursor != "0-0");
  // BLOCK 0 would wait for ever: at least a millisecond.
  const int64_t block_ms = std::max<int64_t>(1, static_cast<int64_t>(block_seconds * 1000));
  RedisReply fresh = redis_.command({"XREADGROUP", "GROUP", kGroup, consumer, "COUNT", "1", "BLOCK",
                                     std::to_string(block_ms), "STREAMS", stream_, ">"},
                                    block_seconds + 5);
  if (fresh.is_nil() || fresh.elements.empty() || fresh.elements[0].elements.size() != 2 ||
      fresh.elements[0].elements[1].elements.empty())
    return std::nullopt;
  return task_of_entry(fresh.elements[0].elements[1].elements[0]);
}

void TaskQueue::keep_alive(const std::string& consumer, const ClaimedTask& claimed) {
  redis_.command({"XCLAIM", stream_, kGroup, consumer, "0", claimed.entry, "JUSTID"});
}

void TaskQueue::report(const FleetTask& task, const TaskState& state) {
  redis_.command({"HSET", job_key(task.job), task.id, state_json(state)});
}

bool TaskQueue::done(const FleetTask& task) {
  return !redis_.command({"GET", done_key(task.id)}).is_nil();
}

void TaskQueue::ack(const ClaimedTask& claimed) {
  redis_.command({"XACK", stream_, kGroup, claimed.entry});
}

bool TaskQueue::finish(RedisRecordStore& store, const ClaimedTask& claimed,
                       const Workload& workload, const std::vector<TuningRecord>& records,
                       const TaskState& state) {
  const std::string done = done_key(claimed.task.id);
  redis_.command({"WATCH", done});
  if (!redis_.command({"GET", done}).is_nil()) {
    redis_.command({"UNWATCH"});
    ack(claimed);
    return false;
  }
  TaskState final_state = state;
  std::vector<std::vector<std::string>> commands{{"MULTI"},
                                                 {"SET", done, state.worker, "EX", kKeepSeconds}};
  if (records.empty() || store.store_workload(workload)) {
    for (auto& c : store.push_commands(records)) commands.push_back(std::move(c));
  } else {
    final_state.state = "failed";
    final_state.error = "Redis holds another program under this workload's key";
  }
  commands.push_back({"HSET", job_key(claimed.task.job), claimed.task.id, state_json(final_state)});
  commands.push_back({"XACK", stream_, kGroup, claimed.entry});
  commands.push_back({"EXEC"});
  std::vector<std::string> errors;
  std::vector<RedisReply> replies = redis_.pipeline(commands, &errors);
  for (const std::string& e : errors)
    if (!e.empty()) throw RedisError(RedisError::Kind::Reply, "finishing a task: " + e);
  if (replies.back().is_nil()) {  // another worker set the mark after our WATCH
    ack(claimed);
    return false;
  }
  return true;
}

}  // namespace kiln
