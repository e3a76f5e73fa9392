// The cost model that ranks candidate schedules before any is measured.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kiln {

/// One measured candidate: its features, its throughput (higher is better; 0 for a failure) and
/// the task it belongs to (rankings are learned within a task, so tasks of different sizes mix).
struct TrainingSample {
  std::vector<float> features;
  float throughput;
  int task;
};

/// The task of the search's own measurements, apart from every task of the tuning cache (those
/// count from 0). Its ranking weighs as much as all the others together: once the task has been
/// measured, what it says of itself outweighs what other workloads suggest.
constexpr int kTunedTask = -1;

class CostModel {
 public:
  virtual ~CostModel() = default;
  /// Trains from scratch on `samples` (e.g. everything in the tuning cache for this target).
  virtual void fit(const std::vector<TrainingSample>& samples) = 0;
  /// Adds `samples` to what the model was trained on and retrains (the task's own measurements).
  virtual void update(const std::vector<TrainingSample>& samples) = 0;
  /// A score per feature vector; only the order matters (higher: predicted faster). Thread-safe.
  virtual std::vector<float> predict(const std::vector<std::vector<float>>& features) const = 0;
  /// Serialized model (to keep beside the tuning cache); load() restores it exactly.
  virtual std::string save() const = 0;
  virtual void load(const std::string& blob) = 0;
  virtual std::string name() const = 0;
};

/// XGBoost with objective rank:pairwise (AutoTVM's settings: max_depth 3, eta 0.3), labels the
/// throughputs normalized per task, trained through XGBoost's C API. Throws Error when XGBoost is
/// not compiled in (see has_xgboost()).
std::unique_ptr<CostModel> make_xgboost_model(int threads = 1);
bool has_xgboost();

/// Random scores: the baseline that model-guided search must beat.
std::unique_ptr<CostModel> make_random_model(uint64_t seed);

}  // namespace kiln
