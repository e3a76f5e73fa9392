// Transfer learning: a cost model trained on every record of the tuning cache, so that a new
// task's search starts from what other workloads taught (AutoTVM's transfer learning).
#pragma once

#include <memory>
#include <optional>

#include "core/templates/knobs.h"
#include "core/tune/cost_model.h"
#include "core/tune/record_store.h"

namespace kiln {

struct WarmModel {
  std::unique_ptr<CostModel> model;  ///< XGBoost; trained when `samples` > 0.
  size_t samples = 0;                ///< Records it was trained on.
  size_t tasks = 0;                  ///< (workload, target) pairs among them.
  /// The fastest config of each of those tasks, where it parses (TuneOptions::transferred).
  std::vector<KnobConfig> exemplars;
};

/// An XGBoost model (`threads` threads) fitted on the schedule and baseline records of `store`
/// whose target has `target`'s vector ISA (TargetFingerprint::vector_isa): the features describe
/// loop nests, not machines or workloads, and rankings are learned within each (workload, target)
/// pair, so records of other CPUs of the ISA teach too. Those of another ISA do not: register tiles
/// fast with 32 AVX-512 registers spill with AVX2's 16 (a model warmed on AVX-512 records ranked
/// convolution schedules 5-10x slower than the default first on an AVX2 machine).
/// Labels are throughputs (flops / seconds; failures 0). Records of `exclude` are left out (the
/// leave-one-out benchmark). Fewer than `min_samples` records leave the model untrained. Each
/// task contributes at most 48 samples, its fastest and a spread of the rest.
WarmModel warm_cost_model(RecordStore& store, const TargetFingerprint& target,
                          std::optional<WorkloadKey> exclude = std::nullopt, int threads = 1,
                          size_t min_samples = 32);

}  // namespace kiln
