#include "fleet/redis_record_store.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "core/ir/hash128.h"
#include "tuning_cache/record_json.h"

namespace kiln {

namespace {

using nlohmann::json;

constexpr const char* kPrefix = "kiln:1:";

std::string workload_key(const WorkloadKey& key) {
  return str_cat(kPrefix, "workload:", key.hex());
}

/// The keys of a target's records begin with this; the workload's key follows.
std::string records_prefix(const std::string& target) {
  return str_cat(kPrefix, "records:", target, ":");
}

std::string records_key(const std::string& target, const WorkloadKey& key) {
  return records_prefix(target) + key.hex();
}

std::string targets_key() {
  return str_cat(kPrefix, "targets");
}

/// One field per schedule and machine: a machine's newer measurement of a schedule replaces
/// its older one, and a task done twice leaves one record.
std::string measurement_field(const TuningRecord& r, const std::string& machine) {
  return hash128(
             str_cat(r.kind, "\n", r.space_version, "\n", r.config, "\n", r.trace, "\n", machine))
      .hex();
}

/// The canonical form a stored workload value holds, or why it holds none.
std::optional<Workload> parse_workload(const std::string& value, const WorkloadKey& key,
                                       std::string* why_not) {
  try {
    Workload w = workload_from_json(json::parse(value));
    if (w.key == key) return w;
    *why_not = str_cat("the workload under ", key.hex(), " has key ", w.key.hex());
  } catch (const std::exception& e) {
    *why_not = str_cat("the workload under ", key.hex(), " is not a workload: ", e.what());
  }
  return std::nullopt;
}

/// The upper median: of two machines, the slower one's cost.
double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

/// The fleet's record of one schedule from its machines' `records`: the fastest machine's, with
/// the machines' median time and "fleet: <machines>" as its source.
FleetSchedule fleet_schedule(std::vector<TuningRecord> records) {
  FleetSchedule s;
  std::vector<double> seconds;
  for (const TuningRecord& r : records) {
    seconds.push_back(r.seconds);
    s.machines.push_back(r.source);
  }
  std::sort(records.begin(), records.end(),
            [](const TuningRecord& a, const TuningRecord& b) { return a.seconds < b.seconds; });
  s.record = records.front();
  s.record.seconds = median(std::move(seconds));
  std::sort(s.machines.begin(), s.machines.end());
  s.record.source = "fleet:";
  for (const std::string& m : s.machines) s.record.source += " " + m;
  return s;
}

}  // namespace

std::string this_machine() {
  if (const char* id = std::getenv("KILN_MACHINE_ID"); id && *id) return id;
  std::ifstream in("/etc/machine-id");
  std::string id;
  if (in >> id && !id.empty()) return id;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0 && host[0]) return host;
  return "unknown-machine";
}

std::string target_digest(const TargetFingerprint& target) {
  return hash128(target.to_text()).hex();
}

RedisRecordStore::RedisRecordStore(const RedisUrl& url, std::string machine, double timeout_seconds)
    // The name as records carry it back: their measurement fields are derived from it.
    : redis_(RedisClient::connect(url, timeout_seconds)), machine_(utf8_text(machine)) {}

bool RedisRecordStore::store_workload(const Workload& workload) {
  // SET ... NX GET: stores the workload when it is new, else answers what is stored.
  RedisReply stored = redis_.command(
      {"SET", workload_key(workload.key), json_text(workload_to_json(workload)), "NX", "GET"});
  if (stored.is_nil()) return true;
  std::string why_not;
  std::optional<Workload> w = parse_workload(stored.text, workload.key, &why_not);
  if (!w) {  // garbage under the key: this machine's program replaces it
    redis_.command({"SET", workload_key(workload.key), json_text(workload_to_json(workload))});
    return true;
  }
  return w->canonical == workload.canonical;
}

std::vector<std::vector<std::string>> RedisRecordStore::push_commands(
    const std::vector<TuningRecord>& records) const {
  std::map<std::string, std::vector<std::string>> fields;  // records key → field, value, ...
  std::vector<std::vector<std::string>> commands;
  for (const TuningRecord& r : records) {
    std::string digest = target_digest(r.target);
    std::vector<std::string>& f = fields[records_key(digest, r.workload)];
    if (f.empty()) commands.push_back({"HSET", targets_key(), digest, r.target.to_text()});
    TuningRecord shared = r;
    shared.id = 0;
    shared.source = machine_;
    f.push_back(measurement_field(r, machine_));
    f.push_back(json_text(record_to_json(shared)));
  }
  for (auto& [key, values] : fields) {
    std::vector<std::string> hset{"HSET", key};
    hset.insert(hset.end(), values.begin(), values.end());
    commands.push_back(std::move(hset));
  }
  return commands;
}

std::vector<TuningRecord> RedisRecordStore::missing(const std::vector<TuningRecord>& records) {
  if (records.empty()) return {};
  std::vector<std::vector<std::string>> lookups;
  for (const TuningRecord& r : records)
    lookups.push_back({"HEXISTS", records_key(target_digest(r.target), r.workload),
                       measurement_field(r, machine_)});
  std::vector<RedisReply> found = redis_.pipeline(lookups);
  std::vector<TuningRecord> absent;
  for (size_t i = 0; i < records.size(); ++i)
    if (found[i].integer == 0) absent.push_back(records[i]);
  return absent;
}

PushResult RedisRecordStore::push(const Workload& workload,
                                  const std::vector<TuningRecord>& records) {
  PushResult result;
  if (records.empty()) return result;
  if (!store_workload(workload)) {
    result.conflicts = static_cast<int64_t>(records.size());
    return result;
  }
  redis_.pipeline(push_commands(records));
  result.records = static_cast<int64_t>(records.size());
  return result;
}

FleetRecords RedisRecordStore::fetch(const WorkloadKey& key, const TargetFingerprint& target) {
  FleetRecords found;
  std::vector<RedisReply> replies = redis_.pipeline(
      {{"GET", workload_key(key)}, {"HGETALL", records_key(target_digest(target), key)}});
  if (!replies[0].is_nil()) {
    std::string why_not;
    found.workload = parse_workload(replies[0].text, key, &why_not);
    if (!found.workload) found.garbage.push_back(why_not);
  }
  const std::vector<RedisReply>& hash = replies[1].elements;
  std::map<std::pair<std::string, std::string>, std::vector<TuningRecord>> by_schedule;
  for (size_t i = 0; i + 1 < hash.size(); i += 2) {
    const std::string& field = hash[i].text;
    TuningRecord r;
    try {
      r = record_from_json(json::parse(hash[i + 1].text));
    } catch (const std::exception& e) {
      found.garbage.push_back(str_cat("field ", field, " is not a record: ", first_line(e.what())));
      continue;
    }
    if (r.workload != key || !(r.target == target)) {
      found.garbage.push_back(str_cat("field ", field, " holds a record of another ",
                                      r.workload != key ? "workload" : "target"));
      continue;
    }
    if (field != measurement_field(r, r.source)) {
      found.garbage.push_back(str_cat("field ", field, " does not name its record"));
      continue;
    }
    if (r.space_version != kScheduleSpaceVersion) continue;  // another Kiln's knobs
    if (r.kind == record_kind::kSchedule && r.status == "ok" && r.seconds > 0)
      by_schedule[{r.config, r.trace}].push_back(std::move(r));
    else
      found.others.push_back(std::move(r));
  }
  if (!found.workload) {
    // Records without their program cannot be checked against it: none of them serves.
    for (auto& [schedule, records] : by_schedule)
      for (TuningRecord& r : records) found.others.push_back(std::move(r));
    return found;
  }
  for (auto& [schedule, records] : by_schedule) found.schedules.push_back(fleet_schedule(records));
  std::vector<TuningRecord> baselines;
  for (const TuningRecord& r : found.others)
    if (r.kind == record_kind::kBaseline && r.status == "ok" && r.seconds > 0)
      baselines.push_back(r);
  if (!baselines.empty()) found.baseline = fleet_schedule(baselines).record;
  std::sort(found.schedules.begin(), found.schedules.end(),
            [](const FleetSchedule& a, const FleetSchedule& b) {
              return a.record.seconds < b.record.seconds;
            });
  return found;
}

void RedisRecordStore::for_each(const TargetFingerprint& target,
                                const std::function<void(const FleetRecords&)>& visit) {
  const std::string prefix = records_prefix(target_digest(target));
  std::string cursor = "0";
  do {
    RedisReply page = redis_.command({"SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"});
    if (page.elements.size() != 2)
      throw RedisError(RedisError::Kind::Protocol, "SCAN answered no [cursor, keys] pair");
    cursor = page.elements[0].text;
    for (const RedisReply& key : page.elements[1].elements) {
      WorkloadKey workload;
      try {
        workload = WorkloadKey::from_hex(key.text.substr(prefix.size()));
      } catch (const Error&) {
        continue;  // not a key of this layout
      }
      visit(fetch(workload, target));
    }
  } while (cursor != "0");
}

FleetStats RedisRecordStore::stats() {
  FleetStats s;
  s.targets = redis_.command({"HLEN", targets_key()}).integer;
  std::string cursor = "0";
  do {
    RedisReply page =
        redis_.command({"SCAN", cursor, "MATCH", str_cat(kPrefix, "*"), "COUNT", "1000"});
    if (page.elements.size() != 2)
      throw RedisError(RedisError::Kind::Protocol, "SCAN answered no [cursor, keys] pair");
    cursor = page.elements[0].text;
    std::vector<std::vector<std::string>> lengths;
    for (const RedisReply& key : page.elements[1].elements) {
      if (key.text.starts_with(str_cat(kPrefix, "workload:"))) ++s.workloads;
      if (key.text.starts_with(str_cat(kPrefix, "records:"))) lengths.push_back({"HLEN", key.text});
    }
    if (!lengths.empty())
      for (const RedisReply& n : redis_.pipeline(lengths)) s.records += n.integer;
  } while (cursor != "0");
  return s;
}

}  // namespace kiln
