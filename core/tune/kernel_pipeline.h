// How a fused group becomes a kernel: the best schedule the tuning cache knows for this workload
// on this target, replayed from its trace, else the default schedule. The plugin asks this; it
// never schedules on its own.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/runtime/kernel_compiler.h"
#include "core/runtime/kernel_object_cache.h"
#include "core/tune/measure.h"
#include "core/tune/record_store.h"

namespace kiln {

/// Where kernels come from in one process: the compiler, the tuning cache (may be null: default
/// schedules only), this target's fingerprint, and how records from elsewhere are checked.
struct KernelSource {
  const KernelCompiler* compiler = nullptr;
  RecordStore* store = nullptr;
  TargetFingerprint target;
  /// Measures an "unverified" record (imported or shared) in isolation against the default
  /// schedule before it is served, with the record's thread count: it must agree with the
  /// reference and run within 2x of the time the record claims, or keep within 2x the speed-up
  /// over the default schedule that its claimant measured (else it is quarantined: a noisy or
  /// lying machine measured it). `worker` is the measuring executable (see MeasureOptions).
  MeasureOptions verify;
  /// Compiled kernels on disk (may be null: every kernel is compiled).
  KernelObjectCache* objects = nullptr;

  /// The kernel of `f`, from the object cache when it has it, else compiled.
  std::unique_ptr<Kernel> compile(const LoweredFunc& f) const {
    return objects ? objects->compile(*compiler, f) : compiler->compile(f);
  }
};

struct KernelChoice {
  std::unique_ptr<Kernel> kernel;
  /// The record the kernel was built from; empty for the default schedule.
  std::optional<TuningRecord> record;
  /// "default schedule", "tuned (record 12)"; with the reason a record was not used, if any.
  std::string origin;
  /// Whether tuning settled this workload before: a record serves, or a "serving" decision says
  /// the default schedule beat the best record in a running model (see serving_decision.h).
  bool settled = false;
};

/// The kernel of `outputs`, named `name` (`name` + "_tuned" when a record made it). A record that
/// fails to replay, compile or verify is quarantined in the store (with the reason) and the next
/// best is tried; then the default schedule, which also serves when a "serving" decision says it
/// beat the best record. Throws what scheduling or compiling the default schedule throws.
KernelChoice choose_kernel(const std::vector<Tensor>& outputs, const std::string& name,
                           const KernelSource& source);

}  // namespace kiln
