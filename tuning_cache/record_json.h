// A record and a workload as JSON objects, every value by name: one form for the cache's export
// file and for the records the fleet's Redis holds. Includes nlohmann_json: only for the .cpp
// files of tuning_cache/ and fleet/, which link it.
#pragma once

#include <nlohmann/json.hpp>

#include "core/tune/record_store.h"

namespace kiln {

/// {"type": "workload", "key", "canonical", "description", "op_class", "flops"}.
nlohmann::json workload_to_json(const Workload& w);
/// {"type": "record", "workload", "target", ...}: every field but the store's id.
nlohmann::json record_to_json(const TuningRecord& r);
/// The inverses; throw nlohmann's exceptions or Error on a missing or mistyped field.
Workload workload_from_json(const nlohmann::json& j);
TuningRecord record_from_json(const nlohmann::json& j);

}  // namespace kiln
