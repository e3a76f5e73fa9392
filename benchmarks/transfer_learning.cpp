// Transfer learning, leave-one-out over the standard workloads: for each workload, a cost model
// warmed from the tuning cache's records of the OTHER workloads (warm_cost_model, what the tuning
// service uses) against a cold one, both driving the same model-guided search. Reports, per
// workload, the trials each needs to reach 95% of the best kernel known for it, and the warm
// model's first pick, before any measurement of the workload, as a fraction of that best: its
// favourite of the default schedule and the first batch's candidates (Tuner::first_pick).
// "Best" and "reached" are judged on re-timed kernels (retimed_reach.h): every kernel a run served
// along the way, the first pick and the cache's fastest records are timed again side by side,
// since the best of hundreds of noisy measurements is an outlier no run really reaches. The
// counts on the searches' own measurements are kept in the JSON as noisy_*, for comparison.
//
//   transfer_learning --phase seed     [--seed-trials 200] --cache FILE [--shard K/N] [--only I,J]
//   transfer_learning --phase evaluate [--trials 100]      --cache FILE [--shard K/N] [--only I,J]
//                     [--seeds 1] [--retime-rounds 5] [--threads 1] [--json FILE]
//   transfer_learning --phase first-pick                   --cache FILE [--shard K/N] [--only I,J]
//                     [--retime-rounds 5] [--threads 1] [--json FILE]
//
// The seed phase tunes every workload cold and commits all its trials, and its baseline (the
// default schedule), to FILE (a SQLite tuning cache): "everything tuned before". The evaluate phase
// needs all workloads seeded. With
// --seeds N, each workload is searched N times warm and N times cold (search seeds 1..N; only
// measurement noise and the seed differ between them) and its trials are the median of the N: one
// search's count swings by tens of trials with the noise of a few measurements. Shards (one
// process per core) split the workloads; plot_tuning_curves.py-style merging is left to
// summarize_transfer.py, which prints the medians.
// The first-pick phase runs no search: per workload, the warm model's first pick is re-timed beside
// the default schedule and the cache's fastest records (minutes for the suite, where evaluate
// takes hours), and the model's favourite among the workload's own recorded trials (which it never
// saw) is compared with their fastest on the recorded times: a check of the model that measures
// nothing.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "backends/llvm/llvm_compiler.h"
#include "benchmarks/retimed_reach.h"
#include "benchmarks/trials_to_reach.h"
#include "core/support/error.h"
#include "core/tune/features.h"
#include "core/tune/trial_records.h"
#include "core/tune/tuner.h"
#include "core/tune/warm_model.h"
#include "tools/tool_cli.h"
#include "tools/workloads.h"
#include "tuning_cache/sqlite_record_store.h"

namespace {

using namespace kiln;

struct Options {
  std::string phase, cache, json = "transfer_learning.json";
  int seed_trials = 200, trials = 100, threads = 1, seeds = 1, retime_rounds = 5;
  std::string only, shard;  // see workloads::select
};

Options parse(int argc, char** argv) {
  Options o;
  CLI::App app("Transfer learning, leave-one-out over the standard workloads.",
               "transfer_learning");
  app.add_option("--phase", o.phase)
      ->required()
      ->check(CLI::IsMember({"seed", "evaluate", "first-pick"}));
  app.add_option("--cache", o.cache, "the SQLite tuning cache")->required();
  app.add_option("--json", o.json, "the results (JSON), complete after each workload");
  app.add_option("--seed-trials", o.seed_trials)->check(CLI::Range(1, 1'000'000));
  app.add_option("--trials", o.trials)->check(CLI::Range(1, 1'000'000));
  app.add_option("--threads", o.threads)->check(CLI::Range(1, 4096));
  app.add_option("--seeds", o.seeds, "searches per workload and model (the median counts)")
      ->check(CLI::Range(1, 100));
  app.add_option("--retime-rounds", o.retime_rounds,
                 "interleaved rounds of re-timing the served kernels (the median counts)")
      ->check(CLI::Range(1, 100));
  app.add_option("--only", o.only, "0-based workload indices, I,J,...");
  app.add_option("--shard", o.shard, "K/N: every N-th workload from the K-th");
  tools::parse_or_exit(app, argc, argv);
  return o;
}

MeasureOptions measure_options(int threads) {
  return {.threads = threads, .repeats = 3, .min_repeat_seconds = 0.005, .timeout_seconds = 10};
}

/// Re-timing takes more and longer repeats than a search's trials: it fixes the reference.
MeasureOptions retime_options(int threads) {
  return {.threads = threads, .repeats = 5, .min_repeat_seconds = 0.01, .timeout_seconds = 20};
}

/// Model-guided search; `warm` (its model is `model`) adds what the cache taught: the model's
/// first batch and the configs fast on other workloads.
TuneResult search(const TuningTask& task, const KernelCompiler& compiler, CostModel* model,
                  const WarmModel* warm, int trials, int threads, int seed, const char* label) {
  TuneOptions t;
  t.trials = trials;
  t.seed = static_cast<uint64_t>(seed);
  t.warm_model = warm != nullptr;
  if (warm) t.transferred = warm->exemplars;
  Tuner tuner(task, compiler, measure_options(threads), t, model);
  TuneResult r = tuner.run([&](const TuneProgress& p) {
    std::fprintf(stderr, "\r  %-5s %4d/%d best %.1f GFLOP/s   ", label, p.trial, p.trials,
                 p.best_gflops);
  });
  std::fprintf(stderr, "\n");
  return r;
}

/// The configs of the `n` fastest well-measured records of `w` on `target` in the cache (the seed
/// phase's, or a starter cache's).
std::vector<std::string> fastest_recorded(SqliteRecordStore& store, const Workload& w,
                                          const TargetFingerprint& target, size_t n) {
  std::vector<std::pair<double, std::string>> records;
  store.for_each({w.key, target, record_kind::kSchedule, false}, [&](const TuningRecord& r) {
    if (measured_well(r)) records.emplace_back(r.seconds, r.config);
  });
  std::sort(records.begin(), records.end());
  std::vector<std::string> configs;
  for (size_t i = 0; i < std::min(n, records.size()); ++i) configs.push_back(records[i].second);
  return configs;
}

/// The warm model's favourite among `w`'s own recorded trials (which it was not trained on): its
/// recorded time over the fastest recorded one (1 when the model picks the fastest; 0 with none).
double recorded_top_pick(SqliteRecordStore& store, const WarmModel& warm, const Workload& w,
                         const TargetFingerprint& target) {
  std::vector<std::vector<float>> features;
  std::vector<double> seconds;
  store.for_each({w.key, target, record_kind::kSchedule, false}, [&](const TuningRecord& r) {
    if (!measured_well(r) || r.features.size() != size_t(FeatureExtractor::length())) return;
    features.push_back(r.features);
    seconds.push_back(r.seconds);
  });
  if (features.empty()) return 0;
  std::vector<float> scores = warm.model->predict(features);
  size_t top = size_t(std::max_element(scores.begin(), scores.end()) - scores.begin());
  return *std::min_element(seconds.begin(), seconds.end()) / seconds[top];
}

/// The warm model's favourite before any measurement (Tuner::first_pick: possibly the default).
std::string warm_first_pick(const TuningTask& task, const KernelCompiler& compiler,
                            const WarmModel& warm, int threads) {
  TuneOptions t;
  t.warm_model = true;
  t.transferred = warm.exemplars;
  return Tuner(task, compiler, measure_options(threads), t, warm.model.get())
      .first_pick()
      .to_text();
}

/// One workload of the first-pick phase: the warm model's first pick and the search's first
/// candidate (a one-trial warm search: the best-scored point other than the default) re-timed
/// beside the default and the cache's fastest records; null when the cache holds no records of
/// other workloads.
nlohmann::json first_pick_row(const TuningTask& task, const Options& o,
                              const KernelCompiler& compiler, SqliteRecordStore& store,
                              const TargetFingerprint& target) {
  Workload w = describe_workload(task.outputs);
  WarmModel warm = warm_cost_model(store, target, w.key, o.threads);
  if (warm.samples == 0) return nullptr;
  double on_records = recorded_top_pick(store, warm, w, target);
  std::string pick = warm_first_pick(task, compiler, warm, o.threads);
  TuneResult r = search(task, compiler, warm.model.get(), &warm, 1, o.threads, 1, "warm");
  std::string first_trial = r.trials.empty() ? "" : r.trials[0].config.to_text();
  ScheduleSpace space(task.outputs, compiler.target());
  std::string fallback = space.default_config().to_text();
  std::vector<std::string> configs = fastest_recorded(store, w, target, 3);
  for (const std::string& c : {pick, first_trial, fallback})
    if (!c.empty()) configs.push_back(c);
  std::sort(configs.begin(), configs.end());
  configs.erase(std::unique(configs.begin(), configs.end()), configs.end());
  Measurer measurer(task, compiler, retime_options(o.threads));
  std::map<std::string, double> retimed =
      bench::retime(task, space, measurer, configs, o.retime_rounds);
  double best = 0;
  for (auto& [config, gflops] : retimed) best = std::max(best, gflops);
  auto share = [&](const std::string& c) { return best > 0 && !c.empty() ? retimed[c] / best : 0; };
  std::printf("%-32s %10.1f %11.0f%% %11.0f%% %9.0f%% %11.0f%%\n", task.name.c_str(), best,
              100 * share(pick), 100 * share(first_trial), 100 * share(fallback), 100 * on_records);
  std::fflush(stdout);
  return {{"name", task.name},
          {"best_gflops", best},
          {"warm_first_pick", share(pick)},
          {"warm_first_pick_config", pick},
          {"first_trial", share(first_trial)},
          {"first_trial_config", first_trial},
          {"default", share(fallback)},
          {"default_config", fallback},
          {"top_pick_on_records", on_records},
          {"warm_samples", warm.samples}};
}

int run(const Options& o) {
  auto compiler = LLVMCompiler::create();
  auto store = SqliteRecordStore::open(o.cache, [](const std::string& m) {
    std::fprintf(stderr, "transfer_learning: %s\n", m.c_str());
  });
  TargetFingerprint target = fingerprint_of(compiler->target(), "llvm", o.threads);
  std::vector<TuningTask> mine;
  try {
    mine = workloads::select(workloads::standard_suite(), o.only, o.shard);
  } catch (const Error& e) {
    std::fprintf(stderr, "transfer_learning: %s\n", e.what());
    return 2;
  }
  nlohmann::json rows = nlohmann::json::array();  // the workloads evaluated so far
  if (o.phase == "first-pick")
    std::printf("%-32s %10s %12s %12s %10s %12s\n", "workload", "best", "first pick", "first trial",
                "default", "on records");
  if (o.phase == "evaluate")
    std::printf("%-32s %10s %10s %10s %12s\n", "workload", "best", "warm to95", "cold to95",
                "first pick");
  for (const TuningTask& task : mine) {
    Workload w = describe_workload(task.outputs);
    std::fprintf(stderr, "%s\n", task.name.c_str());
    if (o.phase == "seed") {
      bool seeded = store->count({w.key, target, record_kind::kSchedule, false}) >= o.seed_trials;
      if (seeded && store->count({w.key, target, record_kind::kBaseline, false}) > 0) continue;
      // A cache seeded before searches recorded their baseline gets the baseline alone.
      auto model = make_xgboost_model(o.threads);
      TuneResult r = search(task, *compiler, model.get(), nullptr, seeded ? 0 : o.seed_trials,
                            o.threads, 1, "seed");
      store->commit(w, records_of_trials(r, w, target, "benchmark"));
      continue;
    }
    if (o.phase == "first-pick") {
      nlohmann::json row = first_pick_row(task, o, *compiler, *store, target);
      if (row.is_null()) {
        std::fprintf(stderr,
                     "transfer_learning: no records of other workloads: run --phase seed first\n");
        return 2;
      }
      rows.push_back(std::move(row));
      tools::write_json_file(o.json, {{"threads", o.threads}, {"workloads", rows}});
      continue;
    }
    std::vector<TuneResult> warm_runs, cold_runs;
    size_t warm_samples = 0;
    double first = 0;
    std::string first_pick;
    for (int seed = 1; seed <= o.seeds; ++seed) {
      // Each search updates its model: every one starts from a fresh copy.
      WarmModel warm = warm_cost_model(*store, target, w.key, o.threads);
      if (warm.samples == 0) {
        std::fprintf(stderr,
                     "transfer_learning: no records of other workloads: run --phase seed first\n");
        return 2;
      }
      warm_samples = warm.samples;
      if (seed == 1) first_pick = warm_first_pick(task, *compiler, warm, o.threads);
      warm_runs.push_back(
          search(task, *compiler, warm.model.get(), &warm, o.trials, o.threads, seed, "warm"));
      auto cold_model = make_xgboost_model(o.threads);
      cold_runs.push_back(
          search(task, *compiler, cold_model.get(), nullptr, o.trials, o.threads, seed, "cold"));
    }
    // The reference and every run's progress, judged on re-timed kernels (retimed_reach.h):
    // the kernels each run served, the warm model's first pick and the cache's fastest records.
    std::vector<std::vector<std::string>> warm_served, cold_served;
    std::vector<std::string> configs = fastest_recorded(*store, w, target, 3);
    for (auto [runs, served] : {std::pair{&warm_runs, &warm_served}, {&cold_runs, &cold_served}})
      for (const TuneResult& r : *runs) {
        served->push_back(bench::served_configs(r));
        for (const std::string& c : served->back())
          if (!c.empty()) configs.push_back(c);
      }
    configs.push_back(first_pick);
    std::sort(configs.begin(), configs.end());
    configs.erase(std::unique(configs.begin(), configs.end()), configs.end());
    std::fprintf(stderr, "  re-timing %zu kernels, %d rounds\n", configs.size(), o.retime_rounds);
    ScheduleSpace space(task.outputs, compiler->target());
    Measurer measurer(task, *compiler, retime_options(o.threads));
    std::map<std::string, double> retimed =
        bench::retime(task, space, measurer, configs, o.retime_rounds);
    double best = 0;
    std::string best_config;
    for (auto& [config, gflops] : retimed)
      if (gflops > best) std::tie(best, best_config) = std::pair{gflops, config};
    auto reach = [&](const std::vector<std::vector<std::string>>& served) {
      std::vector<int> counts;
      for (const auto& s : served)
        counts.push_back(bench::trials_to_reach_retimed(s, retimed, 0.95 * best));
      return counts;
    };
    std::vector<int> warm_reach = reach(warm_served), cold_reach = reach(cold_served);
    if (best > 0) first = retimed[first_pick] / best;
    // The same judged on the searches' own measurements, as before re-timing, for comparison.
    double noisy_best = 0;
    for (auto* runs : {&warm_runs, &cold_runs})
      for (const TuneResult& r : *runs)
        if (!r.best_so_far.empty()) noisy_best = std::max(noisy_best, r.best_so_far.back());
    auto noisy_reach = [&](const std::vector<TuneResult>& runs) {
      std::vector<int> counts;
      for (const TuneResult& r : runs)
        counts.push_back(bench::trials_to_reach(r.best_so_far, 0.95 * noisy_best));
      return counts;
    };
    std::printf("%-32s %10.1f %10.1f %10.1f %11.0f%%\n", task.name.c_str(), best,
                bench::median(warm_reach), bench::median(cold_reach), 100 * first);
    std::fflush(stdout);
    rows.push_back({{"name", task.name},
                    {"best_gflops", best},
                    {"trials", o.trials},
                    {"warm_trials_to_95", bench::median(warm_reach)},
                    {"cold_trials_to_95", bench::median(cold_reach)},
                    {"warm_trials_to_95_per_seed", warm_reach},
                    {"cold_trials_to_95_per_seed", cold_reach},
                    {"warm_first_pick", first},
                    {"warm_first_pick_config", first_pick},
                    {"default_config", space.default_config().to_text()},
                    {"best_config", best_config},
                    {"retimed_kernels", configs.size()},
                    {"noisy_best_gflops", noisy_best},
                    {"noisy_warm_trials_to_95_per_seed", noisy_reach(warm_runs)},
                    {"noisy_cold_trials_to_95_per_seed", noisy_reach(cold_runs)},
                    {"warm_samples", warm_samples}});
    tools::write_json_file(o.json, {{"threads", o.threads}, {"workloads", rows}});
  }
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  return tools::report_errors("transfer_learning", [&] { return run(o); });
}
