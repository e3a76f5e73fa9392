// The random cost model: uniform scores that ignore the features, so search guided by it is
// random search; the baseline a learned model must beat.
#include <mutex>
#include <random>

#include "core/support/error.h"
#include "core/tune/cost_model.h"

namespace kiln {
namespace {

class RandomModel : public CostModel {
 public:
  explicit RandomModel(uint64_t seed) : rng_(seed) {}

  void fit(const std::vector<TrainingSample>&) override {}
  void update(const std::vector<TrainingSample>&) override {}

  std::vector<float> predict(const std::vector<std::vector<float>>& features) const override {
    std::uniform_real_distribution<float> score(0, 1);
    std::lock_guard lock(mutex_);  // predict() is const and thread-safe; the engine is state
    std::vector<float> scores(features.size());
    for (float& s : scores) s = score(rng_);
    return scores;
  }

  // The state of the generator, so that a loaded model goes on with the same scores.
  std::string save() const override {
    std::lock_guard lock(mutex_);
    std::ostringstream os;
    os << rng_;
    return os.str();
  }
  void load(const std::string& blob) override {
    std::istringstream is(blob);
    std::mt19937_64 rng;
    is >> rng;
    if (!is) throw Error("random cost model: load() got a blob that save() did not make");
    std::lock_guard lock(mutex_);
    rng_ = rng;
  }

  std::string name() const override { return "random"; }

 private:
  mutable std::mutex mutex_;
  mutable std::mt19937_64 rng_;
};

}  // namespace

std::unique_ptr<CostModel> make_random_model(uint64_t seed) {
  return std::make_unique<RandomModel>(seed);
}

}  // namespace kiln
