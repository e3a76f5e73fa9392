// The search: over a task's ScheduleSpace, measuring few candidates on the machine. Model-guided
// search is AutoTVM's loop: a cost model trained on every measurement ranks candidates found by
// simulated annealing on its predictions; each batch is the best predicted, kept diverse, with an
// epsilon share of random points; measure, retrain, repeat. Random, grid and annealing without a
// model (each step measured) are the baselines of the tuning-curve benchmark.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/tune/cost_model.h"
#include "core/tune/measure.h"
#include "core/tune/space.h"

namespace kiln {

enum class SearchStrategy : uint8_t { ModelGuided, Random, Grid, Annealing };

std::string_view search_strategy_name(SearchStrategy s);
/// Parses "model", "random", "grid" or "annealing"; throws Error naming the bad value.
SearchStrategy search_strategy_from_name(std::string_view name);

struct TuneOptions {
  SearchStrategy strategy = SearchStrategy::ModelGuided;
  int trials = 200;      ///< Measurements at most.
  double seconds = 0;    ///< Wall-clock budget (0: none).
  int early_stop = 0;    ///< Stop after this many trials without improvement (0: never).
  int batch = 16;        ///< Candidates measured between model updates.
  double epsilon = 0.2;  ///< Share of each batch taken at random.
  int annealing_chains = 64;
  int annealing_steps = 40;
  uint64_t seed = 0;
  /// The model already learned from other tasks (the tuning cache): its ranking picks the very
  /// first batch among the neighbours of the default and of the transferred configs, where a
  /// cold model takes them in random order.
  bool warm_model = false;
  /// Configs that were fast on other workloads (WarmModel::exemplars): the first warm batch is
  /// chosen around their nearest points in this space, and the annealing starts from them too.
  std::vector<KnobConfig> transferred = {};
  /// Checked before each measurement: when it reads true, run() returns what it has (a tuning
  /// service stopping at exit).
  const std::atomic<bool>* stop = nullptr;
};

/// One measured candidate.
struct Trial {
  KnobConfig config;
  MeasureResult result;
  double gflops = 0;            ///< 0 for failures.
  std::vector<float> features;  ///< What the cost model saw of it (FeatureExtractor).
};

struct TuneResult;

/// Progress after each trial, for progress bars and for saving records as they come.
struct TuneProgress {
  int trial = 0, trials = 0;
  double best_gflops = 0;
  double elapsed_seconds = 0;
  const TuneResult* so_far = nullptr;  ///< Every trial so far (valid during the callback).
};

struct TuneResult {
  std::vector<Trial> trials;
  std::vector<double> best_so_far;  ///< Best GFLOP/s after each trial (the tuning curve).
  int best = -1;                    ///< Index of the best trial, -1 when none succeeded.
  Trace best_trace;                 ///< The best schedule, as the tuning cache stores it.
  /// The trace of each trial (empty where the config did not apply), as the cache stores them.
  std::vector<Trace> traces;
  Trial baseline;        ///< The default schedule, measured the same way before the search.
  Trace baseline_trace;  ///< The default schedule, as the tuning cache stores it.

  /// The default schedule's time; 0 where it failed to measure.
  double default_seconds() const { return baseline.result.ok() ? baseline.result.seconds : 0; }

  /// Whether no searched candidate beat the default schedule (then it is what the search offers).
  bool default_won() const {
    return default_seconds() > 0 &&
           (best < 0 || !(trials[best].result.seconds < default_seconds()));
  }
};

class Tuner {
 public:
  /// `model` is required for ModelGuided (and may carry what was learned from other tasks).
  Tuner(const TuningTask& task, const KernelCompiler& compiler, MeasureOptions measure,
        TuneOptions options, CostModel* model = nullptr);

  TuneResult run(const std::function<void(const TuneProgress&)>& progress = {});

  /// A warm model's favourite before any measurement: the best-scored of the default schedule
  /// and the first batch's candidates (the points around the default and around the transferred
  /// configs). It may be the default itself, which run() measures before every candidate. Throws
  /// without a warm model (TuneOptions::warm_model); measures nothing. The search does not use
  /// it: it is how a benchmark measures what transfer learning knows before any trial.
  KnobConfig first_pick();

  const ScheduleSpace& space() const { return space_; }

 private:
  /// The next candidates to measure, none measured before.
  std::vector<KnobConfig> next_batch(const TuneResult& so_far);
  std::vector<KnobConfig> model_batch(const TuneResult& so_far);
  /// Unmeasured points around the default and around the transferred configs, scored.
  struct FirstCandidates {
    std::vector<std::pair<float, KnobConfig>> near_default, near_transferred;
  };
  FirstCandidates first_candidates();
  std::vector<std::pair<float, KnobConfig>> annealed_candidates(const TuneResult& so_far);
  std::vector<float> predict(const std::vector<KnobConfig>& configs);
  std::vector<KnobConfig> random_batch(int n);
  KnobConfig grid_point(int64_t index) const;
  /// A candidate as lowered: its features and its program (the trace's text; empty where the
  /// config does not apply). Cached by config.
  struct Lowered {
    std::vector<float> features;
    std::string program;
  };
  const Lowered& lowered(const KnobConfig& c);
  std::vector<float> features_of(const KnobConfig& c) { return lowered(c).features; }
  /// Whether `c`, or another config with the same program, was measured. Knobs a template asks
  /// but does not use in a config (the other layout's tiles) make many configs one program:
  /// after a good measurement, all its twins would score as high and fill the next batches.
  bool seen(const KnobConfig& c);
  void mark_seen(const KnobConfig& c);

  TuningTask task_;
  ScheduleSpace space_;
  Measurer measurer_;
  TuneOptions options_;
  CostModel* model_;
  std::mt19937_64 rng_;
  std::set<std::string> seen_, seen_programs_;
  std::map<std::string, Lowered> lowered_;
  int64_t grid_next_ = 0;
  // Annealing without a model walks one point, measuring each step.
  KnobConfig walker_;
  double walker_gflops_ = 0, temperature_ = 1;
};

}  // namespace kiln
