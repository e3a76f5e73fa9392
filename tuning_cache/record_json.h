// A record and a workload as JSON objects, every value by name: one form for the cache's export
// file and for the records the fleet's Redis holds. Includes nlohmann_json: only for the .cpp
// files of tuning_cache/ and fleet/, which link it.
#pragma once

#include <nlohmann/json.hpp>

#include "core/tune/record_store.h"

namespace kiln {

/// `j` as one line of text. Bytes that are not UTF-8 (an error message of a foreign library, a
/// machine name) become U+FFFD instead of throwing.
std::string json_text(const nlohmann::json& j);
/// `text` with every byte that is not UTF-8 made U+FFFD: what a string becomes through JSON.
std::string utf8_text(const std::string& text);

/// {"type": "workload", "key", "canonical", "description", "op_class", "flops"}.
nlohmann::json workload_to_json(const Workload& w);
/// {"type": "record", "workload", "target", ...}: every field but the store's id.
nlohmann::json record_to_json(const TuningRecord& r);
/// The inverses; throw nlohmann's exceptions or Error on a missing or mistyped field.
Workload workload_from_json(const nlohmann::json& j);
TuningRecord record_from_json(const nlohmann::json& j);

}  // namespace kiln
