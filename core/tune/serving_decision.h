// Decisions about how a workload is served, kept in the tuning cache beside the schedule records
// so that a fresh process re-measures nothing and serves what the last process settled on:
// - kind "contraction": ATen's matmul or convolution plus a Kiln epilogue ("served_by=aten"), or
//   Kiln's whole kernel ("served_by=kiln");
// - kind "serving": the default schedule serves although a tuned record exists
//   ("serves=default"), because the tuned kernel did not beat it in a running model (the A/B
//   found no gain beyond noise and kept it, or the calls after a swap ran slower and it was
//   rolled back). NOTE: a decision holds for as long as its record is the best; it is not
//   re-measured by a later build.
// A decision holds against one Kiln kernel, its subject: the default schedule or one tuned
// schedule, named by its trace's hash (record ids differ between caches; traces do not).
#pragma once

#include <optional>
#include <string>

#include "core/tune/record_store.h"

namespace kiln {

/// "default schedule", or "tuned schedule <hash of the record's trace>".
std::string decision_subject(const std::optional<TuningRecord>& record);

/// The latest decision of `kind` for `workload` on exactly `target` against `subject`: its choice
/// ("served_by=aten", "serves=default"), or nullopt when none was recorded.
std::optional<std::string> find_decision(RecordStore& store, const Workload& workload,
                                         const TargetFingerprint& target, const std::string& kind,
                                         const std::string& subject);

/// Records `choice` of `kind` against `subject`; `seconds`: the per-call time that decided it.
void commit_decision(RecordStore& store, const Workload& workload, const TargetFingerprint& target,
                     const std::string& kind, const std::string& choice, const std::string& subject,
                     double seconds, const std::string& kiln_version);

}  // namespace kiln
