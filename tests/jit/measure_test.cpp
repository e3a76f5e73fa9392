// Isolated measurement: a candidate that crashes, hangs, computes garbage or does not compile is
// a recorded failure; the process that measures survives and keeps measuring.
#include "core/tune/measure.h"

#include <functional>
#include <random>
#include <set>

#include "core/ops/op_registry.h"
#include "core/schedule/lower.h"
#include "core/support/error.h"
#include "core/tune/features.h"
#include "core/tune/space.h"
#include "core/tune/tuner.h"
#include "tests/jit/jit_harness.h"

namespace kiln {
namespace {

TuningTask small_matmul() {
  return {"mm",
          OpRegistry::global().lower("aten.mm.default", {placeholder("a", {32, 48}, DType::F32),
                                                         placeholder("b", {48, 64}, DType::F32)})};
}

/// The task's default function with its body replaced.
LoweredFunc with_body(const TuningTask& task, const std::function<Stmt(const Tensor& out)>& body) {
  LoweredFunc f = lower(default_schedule(task.outputs, testing::compiler().target()), "planted");
  f.body = body(f.params.back());
  return f;
}

TEST(Measure, GoodCandidateIsTimed) {
  TuningTask task = small_matmul();
  Measurer m(task, testing::compiler(), {.repeats = 3, .min_repeat_seconds = 0.002});
  MeasureResult r = m.measure(default_schedule(task.outputs, testing::compiler().target()));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_GT(r.seconds, 0);
  EXPECT_GE(r.spread, 0);
}

TEST(Measure, CrashHangAndWrongResultAreFailuresAndTheProcessGoesOn) {
  TuningTask task = small_matmul();
  Measurer m(task, testing::compiler(),
             {.repeats = 2, .min_repeat_seconds = 0.001, .timeout_seconds = 1});
  MeasureResult crash = m.measure(with_body(task, [](const Tensor& out) {
    return StoreNode::make(out, {Expr(int64_t{1} << 40), Expr(int64_t{1} << 40)},
                           make_const(DType::F32, 1));
  }));
  EXPECT_EQ(crash.status, MeasureStatus::Crash) << crash.error;
  EXPECT_NE(crash.error.find("signal"), std::string::npos) << crash.error;

  MeasureResult hang = m.measure(with_body(task, [](const Tensor& out) {
    Var i("i");
    return ForNode::make(i, int64_t{1} << 60, ForKind::Serial,
                         StoreNode::make(out, {Expr(0), Expr(0)}, out(0, 0) + 1.0));
  }));
  EXPECT_EQ(hang.status, MeasureStatus::Timeout) << hang.error;

  MeasureResult wrong = m.measure(with_body(task, [](const Tensor& out) {
    return StoreNode::make(out, {Expr(0), Expr(0)}, make_const(DType::F32, 12345));
  }));
  EXPECT_EQ(wrong.status, MeasureStatus::WrongResult) << wrong.error;

  MeasureResult gpu = m.measure(with_body(task, [](const Tensor& out) {
    Var i("i");
    return ForNode::make(i, 4, ForKind::GpuBlock,
                         StoreNode::make(out, {Expr(0), i}, make_const(DType::F32, 0)));
  }));
  EXPECT_EQ(gpu.status, MeasureStatus::CompileError) << gpu.error;

  // Still measuring after all that.
  EXPECT_TRUE(m.measure(default_schedule(task.outputs, testing::compiler().target())).ok());
}

/// `strategies`, and the model-guided search where XGBoost is built in.
std::vector<SearchStrategy> with_model_guided(std::vector<SearchStrategy> strategies) {
  if (has_xgboost()) strategies.push_back(SearchStrategy::ModelGuided);
  return strategies;
}

/// Searches `task` as `opt` says (a fresh cost model for a model-guided search), timing each
/// candidate once, briefly.
TuneResult search(const TuningTask& task, const TuneOptions& opt,
                  const std::function<void(const TuneProgress&)>& progress = {}) {
  std::unique_ptr<CostModel> model =
      opt.strategy == SearchStrategy::ModelGuided ? make_xgboost_model() : nullptr;
  return Tuner(task, testing::compiler(), {.repeats = 1, .min_repeat_seconds = 0.001}, opt,
               model.get())
      .run(progress);
}

TEST(Tuner, EveryStrategyRecordsACurveAndAReplayableBest) {
  TuningTask task = small_matmul();
  for (SearchStrategy s : with_model_guided(
           {SearchStrategy::Random, SearchStrategy::Grid, SearchStrategy::Annealing})) {
    // Two batches: the second one is chosen by the model trained on the first.
    TuneOptions opt{.strategy = s,
                    .trials = 6,
                    .batch = 3,
                    .annealing_chains = 8,
                    .annealing_steps = 4,
                    .seed = 7};
    int calls = 0;
    TuneResult r = search(task, opt, [&](const TuneProgress& p) { calls = p.trial; });
    ASSERT_EQ(r.trials.size(), 6u) << search_strategy_name(s);
    std::set<std::string> distinct;
    for (auto& t : r.trials) distinct.insert(t.config.to_text());
    EXPECT_EQ(distinct.size(), 6u) << search_strategy_name(s) << ": a point was measured twice";
    EXPECT_EQ(calls, 6);
    ASSERT_GE(r.best, 0);
    EXPECT_TRUE(std::is_sorted(r.best_so_far.begin(), r.best_so_far.end()));
    EXPECT_EQ(r.best_so_far.back(), r.trials[r.best].gflops);
    EXPECT_GT(r.default_seconds(), 0);
    // The best trace replays into a schedule that computes the right thing.
    Schedule best = replay(task.outputs, r.best_trace);
    testing::expect_matches_interpreter(best, testing::random_inputs(task.outputs, 3), "best", 1e-4,
                                        1e-4);
  }
  EXPECT_THROW(search_strategy_from_name("genetic"), Error);
  EXPECT_THROW(Tuner(task, testing::compiler(), {}, {.strategy = SearchStrategy::ModelGuided}),
               Error);
}

// A convolution's template asks the knobs of both its layouts whichever it takes: most configs
// share their program with others. Every search measures each program once.
TEST(Tuner, NoSearchMeasuresOneProgramTwice) {
  TuningTask task{"conv",
                  OpRegistry::global().lower(
                      "aten.convolution.default",
                      {placeholder("x", {1, 8, 12, 12}, DType::F32),
                       placeholder("w", {16, 8, 3, 3}, DType::F32), NoneArg{},
                       std::vector<int64_t>{1, 1}, std::vector<int64_t>{1, 1},
                       std::vector<int64_t>{1, 1}, false, std::vector<int64_t>{0, 0}, int64_t{1}})};
  ScheduleSpace space(task.outputs, testing::compiler().target());
  // The premise: configs that differ only in the other layout's knobs are one program.
  KnobConfig a = space.default_config(), b = a;
  std::string other = a.values.at("s1.channel_lanes") ? "s1.tile_i" : "s1.channel_tile_i";
  ASSERT_TRUE(b.values.count(other));
  for (const Knob& k : space.knobs())
    if (k.name == other)
      b.values[other] = k.values.front() == a.values[other] ? k.values.back() : k.values.front();
  ASSERT_NE(a, b);
  ASSERT_EQ(space.apply(a).trace(), space.apply(b).trace());

  for (SearchStrategy s : with_model_guided({SearchStrategy::Random, SearchStrategy::Annealing})) {
    TuneResult r = search(task, {.strategy = s,
                                 .trials = 16,
                                 .batch = 8,
                                 .annealing_chains = 16,
                                 .annealing_steps = 16,
                                 .seed = 3});
    ASSERT_EQ(r.trials.size(), 16u) << search_strategy_name(s);
    std::set<std::string> programs{space.apply(space.default_config()).trace().to_text()};
    for (const Trace& t : r.traces)
      EXPECT_TRUE(programs.insert(t.to_text()).second)
          << search_strategy_name(s) << " measured a program twice:\n"
          << t.to_text();
  }
}

// A warm model has not seen the task: its first batch stays where it can vouch for the points,
// one knob away at most from the default or from the nearest point to a config that was fast on
// another workload.
TEST(Tuner, AWarmSearchStartsAroundTheDefaultAndTheTransferredConfigs) {
  if (!has_xgboost()) GTEST_SKIP() << "built without XGBoost";
  TuningTask task = small_matmul();
  ScheduleSpace space(task.outputs, testing::compiler().target());
  ScheduleSpace other(
      OpRegistry::global().lower("aten.mm.default", {placeholder("a", {128, 96}, DType::F32),
                                                     placeholder("b", {96, 256}, DType::F32)}),
      testing::compiler().target());
  std::mt19937_64 rng(11);
  KnobConfig transferred = other.random_config(rng);
  auto model = make_xgboost_model();
  TuneOptions opt{.strategy = SearchStrategy::ModelGuided, .trials = 6, .batch = 6, .epsilon = 0};
  opt.warm_model = true;
  opt.transferred = {transferred};
  TuneResult r = Tuner(task, testing::compiler(), {.repeats = 1, .min_repeat_seconds = 0.001}, opt,
                       model.get())
                     .run();
  ASSERT_EQ(r.trials.size(), 6u);
  auto distance = [](const KnobConfig& a, const KnobConfig& b) {
    int d = 0;
    for (auto& [name, v] : a.values) d += b.values.at(name) != v;
    return d;
  };
  for (const Trial& t : r.trials)
    EXPECT_LE(std::min(distance(t.config, space.default_config()),
                       distance(t.config, space.nearest(transferred))),
              1)
        << t.config.to_text();
}

// Before any measurement, a warm model's first pick is its favourite of the default schedule and
// the first batch's candidates: the default itself where the model ranks it first.
TEST(Tuner, AWarmFirstPickIsTheModelsFavouriteOfTheDefaultAndItsNeighbours) {
  if (!has_xgboost()) GTEST_SKIP() << "built without XGBoost";
  TuningTask task = small_matmul();
  ScheduleSpace space(task.outputs, testing::compiler().target());
  auto features = [&](const KnobConfig& c) {
    return FeatureExtractor().extract(lower(space.apply(c), "candidate"));
  };
  std::vector<KnobConfig> points = space.neighbors(space.default_config());
  ASSERT_GE(points.size(), 2u);
  points.insert(points.begin(), space.default_config());
  TuneOptions opt{.strategy = SearchStrategy::ModelGuided};
  opt.warm_model = true;
  for (const KnobConfig& favourite : {points[0], points.back()}) {
    // One task of another workload's records, as the cache would hold: the favourite is fast,
    // every point with other features slow.
    std::vector<TrainingSample> samples{{features(favourite), 10.0f, 0}};
    for (const KnobConfig& c : points)
      if (features(c) != features(favourite)) samples.push_back({features(c), 1.0f, 0});
    auto model = make_xgboost_model();
    model->fit(samples);
    KnobConfig pick = Tuner(task, testing::compiler(), {}, opt, model.get()).first_pick();
    EXPECT_EQ(features(pick), features(favourite)) << pick.to_text();
  }
  auto model = make_xgboost_model();
  TuneOptions cold{.strategy = SearchStrategy::ModelGuided};
  EXPECT_THROW(Tuner(task, testing::compiler(), {}, cold, model.get()).first_pick(), Error);
}

// What the search offers is its best candidate only where that beat the default schedule.
TEST(TuneResult, TheDefaultWinsUnlessACandidateBeatIt) {
  TuneResult r;
  EXPECT_FALSE(r.default_won());  // the default did not run: nothing to offer instead
  r.baseline.result = {MeasureStatus::Ok, 2e-3, 0, ""};
  EXPECT_TRUE(r.default_won());  // no candidate ran correctly
  Trial slower, faster;
  slower.result = {MeasureStatus::Ok, 3e-3, 0, ""};
  faster.result = {MeasureStatus::Ok, 1e-3, 0, ""};
  r.trials = {slower};
  r.best = 0;
  EXPECT_TRUE(r.default_won());
  r.trials = {slower, faster};
  r.best = 1;
  EXPECT_FALSE(r.default_won());
}

// A cold model knows nothing before the first batch, but the default schedule is known to be
// good: the first batch searches its neighbourhood (a random start measured mostly points several
// times slower than the default on the convolutions of ResNet-18).
TEST(Tuner, AColdSearchStartsAroundTheDefault) {
  if (!has_xgboost()) GTEST_SKIP() << "built without XGBoost";
  TuningTask task = small_matmul();
  ScheduleSpace space(task.outputs, testing::compiler().target());
  TuneResult r = search(
      task, {.strategy = SearchStrategy::ModelGuided, .trials = 6, .batch = 6, .epsilon = 0});
  ASSERT_EQ(r.trials.size(), 6u);
  KnobConfig start = space.default_config();
  for (const Trial& t : r.trials) {
    int differing = 0;
    for (auto& [name, v] : t.config.values) differing += start.values.at(name) != v;
    EXPECT_EQ(differing, 1) << t.config.to_text();
  }
}

}  // namespace
}  // namespace kiln
