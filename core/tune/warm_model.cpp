#include "core/tune/warm_model.h"

#include <algorithm>
#include <map>

#include "core/tune/features.h"

namespace kiln {

WarmModel warm_cost_model(RecordStore& store, const TargetFingerprint& target,
                          std::optional<WorkloadKey> exclude, int threads, size_t min_samples) {
  WarmModel warm{make_xgboost_model(threads), 0, 0};
  std::map<std::string, int> task_of;
  std::map<std::string, double> flops_of;
  std::vector<TrainingSample> samples;
  const size_t width = static_cast<size_t>(FeatureExtractor::length());
  store.for_each({std::nullopt, std::nullopt, "schedule", false}, [&](const TuningRecord& r) {
    if (r.features.size() != width || r.target.kind != target.kind) return;
    if (exclude && r.workload == *exclude) return;
    std::string workload = r.workload.hex();
    auto flops = flops_of.find(workload);
    if (flops == flops_of.end()) {
      std::optional<Workload> w = store.workload(r.workload);
      flops = flops_of.emplace(workload, w ? std::max(1.0, w->flops) : 1.0).first;
    }
    int task = task_of.emplace(workload + "|" + r.target.to_text(), static_cast<int>(task_of.size()))
                   .first->second;
    bool ok = r.status == "ok" && r.seconds > 0;
    samples.push_back({r.features, ok ? static_cast<float>(flops->second / r.seconds / 1e9) : 0.0f, task});
  });
  if (samples.size() < min_samples) return warm;
  warm.model->fit(samples);
  warm.samples = samples.size();
  warm.tasks = task_of.size();
  return warm;
}

}  // namespace kiln
