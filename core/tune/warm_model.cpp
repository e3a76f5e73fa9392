#include "core/tune/warm_model.h"

#include <algorithm>
#include <map>

#include "core/support/error.h"
#include "core/tune/features.h"

namespace kiln {

namespace {

/// Records per (workload, target) the warm model keeps. NOTE: the search retrains on everything
/// after each batch, on the thread that must stop within a second at exit; 48 per task keep a
/// cache of many tasks to about a second of training, and a ranking needs the spread of a task,
/// not all of its points.
constexpr size_t kSamplesPerTask = 48;

/// At most `per_task` samples of each task: its fastest third, then the rest evenly by rank.
std::vector<TrainingSample> thinned(std::vector<TrainingSample> samples, size_t per_task) {
  std::map<int, std::vector<TrainingSample>> by_task;
  for (auto& s : samples) by_task[s.task].push_back(std::move(s));
  std::vector<TrainingSample> kept;
  for (auto& [task, group] : by_task) {
    std::sort(group.begin(), group.end(),
              [](const auto& a, const auto& b) { return a.throughput > b.throughput; });
    if (group.size() <= per_task) {
      kept.insert(kept.end(), group.begin(), group.end());
      continue;
    }
    size_t top = per_task / 3;
    kept.insert(kept.end(), group.begin(), group.begin() + top);
    double step = static_cast<double>(group.size() - top) / static_cast<double>(per_task - top);
    for (size_t i = 0; i < per_task - top; ++i)
      kept.push_back(group[top + static_cast<size_t>(i * step)]);
  }
  return kept;
}

}  // namespace

WarmModel warm_cost_model(RecordStore& store, const TargetFingerprint& target,
                          std::optional<WorkloadKey> exclude, int threads, size_t min_samples) {
  WarmModel warm{make_xgboost_model(threads), 0, 0, {}};
  std::map<std::string, int> task_of;
  std::map<std::string, double> flops_of;
  std::vector<TrainingSample> samples;
  std::map<int, std::pair<double, std::string>> fastest;  // task -> (throughput, config)
  const size_t width = static_cast<size_t>(FeatureExtractor::length());
  store.for_each({}, [&](const TuningRecord& r) {
    if (r.kind != record_kind::kSchedule && r.kind != record_kind::kBaseline) return;
    if (r.features.size() != width || r.target.vector_isa() != target.vector_isa()) return;
    if (exclude && r.workload == *exclude) return;
    std::string workload = r.workload.hex();
    auto flops = flops_of.find(workload);
    if (flops == flops_of.end()) {
      std::optional<Workload> w = store.workload(r.workload);
      flops = flops_of.emplace(workload, w ? std::max(1.0, w->flops) : 1.0).first;
    }
    int task =
        task_of.emplace(workload + "|" + r.target.to_text(), static_cast<int>(task_of.size()))
            .first->second;
    // An unverified record (imported: measured on another machine or by another process) is a
    // real measurement to learn from; it only may not serve before it is verified here.
    bool ok = measured_well(r);
    float throughput = ok ? static_cast<float>(flops->second / r.seconds / 1e9) : 0.0f;
    samples.push_back({r.features, throughput, task});
    auto& best = fastest[task];
    if (throughput > best.first) best = {throughput, r.config};
  });
  if (samples.size() < min_samples) return warm;
  for (auto& [task, best] : fastest) {
    try {
      if (best.first > 0) warm.exemplars.push_back(KnobConfig::from_text(best.second));
    } catch (const ScheduleError&) {
      // a config this build cannot read teaches through its features only
    }
  }
  samples = thinned(std::move(samples), kSamplesPerTask);
  warm.model->fit(samples);
  warm.samples = samples.size();
  warm.tasks = task_of.size();
  return warm;
}

}  // namespace kiln
