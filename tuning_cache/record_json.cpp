#include "tuning_cache/record_json.h"

namespace kiln {

using nlohmann::json;

namespace {

std::string text(const json& j, const char* field) {
  return j.at(field).get<std::string>();
}

}  // namespace

std::string json_text(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string utf8_text(const std::string& text) {
  return json::parse(json_text(json(text))).get<std::string>();
}

json workload_to_json(const Workload& w) {
  return {{"type", "workload"},           {"key", w.key.hex()},     {"canonical", w.canonical},
          {"description", w.description}, {"op_class", w.op_class}, {"flops", w.flops}};
}

json record_to_json(const TuningRecord& r) {
  return {{"type", "record"},
          {"workload", r.workload.hex()},
          {"target", r.target.to_text()},
          {"space_version", r.space_version},
          {"kiln_version", r.kiln_version},
          {"kind", r.kind},
          {"config", r.config},
          {"trace", r.trace},
          {"seconds", r.seconds},
          {"spread", r.spread},
          {"status", r.status},
          {"error", r.error},
          {"features", r.features},
          {"source", r.source},
          {"time", r.time}};
}

Workload workload_from_json(const json& j) {
  return {WorkloadKey::from_hex(text(j, "key")), text(j, "canonical"), text(j, "description"),
          text(j, "op_class"), j.at("flops").get<double>()};
}

TuningRecord record_from_json(const json& j) {
  TuningRecord r;
  r.workload = WorkloadKey::from_hex(text(j, "workload"));
  r.target = TargetFingerprint::from_text(text(j, "target"));
  r.space_version = j.at("space_version").get<int>();
  r.kiln_version = text(j, "kiln_version");
  r.kind = text(j, "kind");
  r.config = text(j, "config");
  r.trace = text(j, "trace");
  r.seconds = j.at("seconds").get<double>();
  r.spread = j.at("spread").get<double>();
  r.status = text(j, "status");
  r.error = text(j, "error");
  r.features = j.at("features").get<std::vector<float>>();
  r.source = text(j, "source");
  r.time = j.at("time").get<int64_t>();
  return r;
}

}  // namespace kiln
