#include "core/tune/cost_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <thread>

#include "core/schedule/lower.h"
#include "core/support/error.h"
#include "core/tune/features.h"
#include "core/tune/space.h"
#include "tests/tune/workloads.h"

namespace kiln {
namespace {

int slot(const std::string& name) {
  const auto& names = FeatureExtractor::names();
  return static_cast<int>(std::find(names.begin(), names.end(), name) - names.begin());
}

// A made-up throughput: a nonlinear function of a few feature slots, so the only way to rank
// well is to learn that function from the features.
float synthetic_throughput(const std::vector<float>& f) {
  float vec = f[slot("s0.loop0.log_extent")], rows = f[slot("s0.loop1.log_extent")];
  float local = f[slot("global.local_bytes")], par = f[slot("s0.acc1.stride_parallel")];
  return 1 + vec * (1 + rows) - 0.8f * (rows - 3) * (rows - 3) + 0.5f * local - 0.3f * par;
}

struct Dataset {
  std::vector<TrainingSample> train, test;
};

// Distinct random points of three workloads (tasks 0..2), two thirds for training.
const Dataset& dataset() {
  static const Dataset data = [] {
    Dataset d;
    std::mt19937_64 rng(11);
    std::vector<Tensor> workloads = {tune_test::matmul(256, 192, 128),
                                     tune_test::conv3x3_relu(16, 32, 14),
                                     tune_test::softmax(64, 384)};
    for (int task = 0; task < 3; ++task) {
      ScheduleSpace space({workloads[task]}, tune_test::avx512());
      std::set<std::string> seen;
      std::vector<TrainingSample> samples;
      for (int attempt = 0; attempt < 2000 && samples.size() < 120; ++attempt) {
        KnobConfig c = space.random_config(rng);
        if (!seen.insert(c.to_text()).second) continue;
        std::vector<float> f = FeatureExtractor().extract(lower(space.apply(c), "f"));
        samples.push_back({f, synthetic_throughput(f), task});
      }
      for (size_t i = 0; i < samples.size(); ++i)
        (i % 3 == 2 ? d.test : d.train).push_back(samples[i]);
    }
    return d;
  }();
  return data;
}

std::vector<std::vector<float>> features(const std::vector<TrainingSample>& samples) {
  std::vector<std::vector<float>> f;
  for (auto& s : samples) f.push_back(s.features);
  return f;
}

// Fraction of same-task pairs with different throughputs that `model` orders right (a tie in
// the prediction counts half).
double pairwise_accuracy(const CostModel& model, const std::vector<TrainingSample>& samples) {
  std::vector<float> p = model.predict(features(samples));
  double right = 0, pairs = 0;
  for (size_t i = 0; i < samples.size(); ++i)
    for (size_t j = i + 1; j < samples.size(); ++j) {
      if (samples[i].task != samples[j].task) continue;
      float truth = samples[i].throughput - samples[j].throughput, guess = p[i] - p[j];
      if (truth == 0) continue;
      pairs += 1;
      right += guess == 0 ? 0.5 : (truth > 0) == (guess > 0) ? 1 : 0;
    }
  return right / pairs;
}

class XGBoostModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!has_xgboost()) GTEST_SKIP() << "built without XGBoost";
  }
};

TEST(CostModel, XGBoostIsAvailableOrSaysSo) {
  if (has_xgboost()) {
    EXPECT_EQ(make_xgboost_model()->name(), "xgboost");
  } else {
    EXPECT_THROW(make_xgboost_model(), Error);
  }
}

TEST_F(XGBoostModelTest, LearnsASyntheticRankingFarBetterThanRandom) {
  const Dataset& d = dataset();
  ASSERT_GE(d.train.size(), 150u);
  auto model = make_xgboost_model(2);
  model->fit(d.train);
  double xgb = pairwise_accuracy(*model, d.test);
  double random = pairwise_accuracy(*make_random_model(5), d.test);
  std::cout << "held-out pairwise accuracy: xgboost " << xgb << ", random " << random << " ("
            << d.train.size() << " train, " << d.test.size() << " test)\n";
  EXPECT_GE(xgb, 0.8);
  EXPECT_GT(random, 0.35);
  EXPECT_LT(random, 0.65);
  EXPECT_GT(xgb - random, 0.2);
}

TEST_F(XGBoostModelTest, PredictsZerosBeforeTraining) {
  auto model = make_xgboost_model();
  EXPECT_EQ(model->predict(features(dataset().test)),
            std::vector<float>(dataset().test.size(), 0.0f));
}

TEST_F(XGBoostModelTest, SaveThenLoadRestoresPredictionsAndTrainingSet) {
  const Dataset& d = dataset();
  auto model = make_xgboost_model();
  model->fit(std::vector<TrainingSample>(d.train.begin(), d.train.begin() + 100));
  auto restored = make_xgboost_model();
  restored->load(model->save());
  EXPECT_EQ(restored->predict(features(d.test)), model->predict(features(d.test)));
  // The samples travel too: updating both with the same data gives the same model.
  std::vector<TrainingSample> more(d.train.begin() + 100, d.train.end());
  model->update(more);
  restored->update(more);
  EXPECT_EQ(restored->predict(features(d.test)), model->predict(features(d.test)));
  EXPECT_EQ(restored->save(), model->save());
}

TEST_F(XGBoostModelTest, UpdateAddsSamplesAndRetrains) {
  const Dataset& d = dataset();
  size_t half = d.train.size() / 2;
  auto model = make_xgboost_model();
  model->update(std::vector<TrainingSample>(d.train.begin(), d.train.begin() + half));
  std::vector<float> before = model->predict(features(d.test));
  model->update(std::vector<TrainingSample>(d.train.begin() + half, d.train.end()));
  EXPECT_NE(model->predict(features(d.test)), before);
  EXPECT_GE(pairwise_accuracy(*model, d.test), 0.8);
  // The same as one fit on everything.
  auto fitted = make_xgboost_model();
  fitted->fit(d.train);
  EXPECT_EQ(fitted->predict(features(d.test)), model->predict(features(d.test)));
}

TEST_F(XGBoostModelTest, TasksThatOnlyFailedTrainWithoutHarm) {
  std::vector<TrainingSample> samples = dataset().train;
  for (auto& s : samples)
    if (s.task == 1) s.throughput = 0;
  auto model = make_xgboost_model();
  model->fit(samples);
  EXPECT_EQ(model->predict(features(samples)).size(), samples.size());
}

TEST_F(XGBoostModelTest, PredictsWhileAnotherThreadRetrains) {
  const Dataset& d = dataset();
  auto model = make_xgboost_model();
  model->fit(std::vector<TrainingSample>(d.train.begin(), d.train.begin() + 60));
  std::atomic<bool> done = false;
  std::atomic<int> predictions = 0;
  std::thread reader([&] {
    while (!done) {
      ASSERT_EQ(model->predict(features(d.test)).size(), d.test.size());
      ++predictions;
    }
  });
  for (size_t begin = 60; begin < d.train.size(); begin += 30)
    model->update(std::vector<TrainingSample>(
        d.train.begin() + begin, d.train.begin() + std::min(begin + 30, d.train.size())));
  done = true;
  reader.join();
  EXPECT_GT(predictions, 0);
}

// Runs `f`, expecting an Error whose message contains `needle`.
template <typename F>
void expect_error(F f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning " << needle;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST_F(XGBoostModelTest, RejectsBadInputWithNamedErrors) {
  const Dataset& d = dataset();
  auto model = make_xgboost_model();
  expect_error([&] { model->fit({}); }, "fit() needs at least one sample");
  expect_error([&] { model->fit({{{}, 1, 0}}); }, "fit() got empty features");
  std::vector<TrainingSample> ragged = {d.train[0], d.train[1]};
  ragged[1].features.pop_back();
  expect_error([&] { model->fit(ragged); }, "fit() sample 1 has 315 features, expected 316");
  std::vector<TrainingSample> negative = {d.train[0]};
  negative[0].throughput = -1;
  expect_error([&] { model->fit(negative); }, "fit() sample 0 has throughput -1");
  negative[0].throughput = NAN;
  expect_error([&] { model->fit(negative); }, "has throughput nan");

  model->fit(d.train);
  expect_error([&] { model->predict({std::vector<float>(10, 0.0f)}); },
               "predict() got 10 features per row, the model was trained on 316");
  expect_error([&] { model->update({{std::vector<float>(10, 0.0f), 1, 0}}); },
               "update() sample 0 has 10 features");
  expect_error([&] { model->load("not a model"); }, "blob that save() did not make");
  std::string blob = model->save();
  expect_error([&] { model->load(blob.substr(0, blob.size() / 2)); }, "truncated blob");
  // A failed load leaves the model as it was.
  EXPECT_EQ(model->predict(features(d.test)).size(), d.test.size());
}

TEST(RandomModel, ScoresAreUniformSeededAndRestoredByLoad) {
  std::vector<std::vector<float>> rows(1000, std::vector<float>{1.0f});
  auto a = make_random_model(42), b = make_random_model(42);
  std::vector<float> sa = a->predict(rows);
  EXPECT_EQ(sa, b->predict(rows));
  EXPECT_NE(sa, make_random_model(43)->predict(rows));
  float mean = 0;
  for (float s : sa) {
    ASSERT_GE(s, 0.0f);
    ASSERT_LT(s, 1.0f);
    mean += s / sa.size();
  }
  EXPECT_NEAR(mean, 0.5, 0.05);
  auto c = make_random_model(0);
  c->load(a->save());
  EXPECT_EQ(c->predict(rows), a->predict(rows));
  EXPECT_THROW(c->load("garbage"), Error);
  EXPECT_EQ(a->name(), "random");
}

}  // namespace
}  // namespace kiln
