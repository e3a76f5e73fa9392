// Tuning curves: best GFLOP/s found against trials, for model-guided search (XGBoost), random
// search and simulated annealing without a model, on the standard workloads (ResNet-18
// convolutions, BERT-base matmuls, softmax, layer_norm). Writes JSON for
// benchmarks/plot_tuning_curves.py and prints, per workload, how many trials model-guided search
// needed to reach the best that random search found in all its trials (the median over the
// workloads of every shard: plot_tuning_curves.py).
//
//   tuning_curves [--random-trials 1000] [--model-trials 300] [--annealing-trials 300]
//                 [--workloads N] [--only I,J,...] [--shard K/N] [--threads 1] [--json FILE]
//
// --only keeps the suite's workloads of those 0-based indices. --shard K/N then takes every
// N-th workload from the K-th: N processes on N cores share the suite, and
// plot_tuning_curves.py merges their JSON files. The JSON file is complete after each workload.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "backends/llvm/llvm_compiler.h"
#include "benchmarks/trials_to_reach.h"
#include "core/support/error.h"
#include "core/tune/tuner.h"
#include "tools/tool_cli.h"
#include "tools/workloads.h"

namespace {

using namespace kiln;

struct Options {
  int random_trials = 1000, model_trials = 300, annealing_trials = 300;
  int workloads = 0;        // 0: all
  std::string only, shard;  // see workloads::select
  int threads = 1;
  std::string json = "tuning_curves.json";
};

Options parse(int argc, char** argv) {
  Options o;
  CLI::App app("Tuning curves of model-guided, random and annealing search.", "tuning_curves");
  app.add_option("--random-trials", o.random_trials)->check(CLI::Range(1, 1'000'000));
  app.add_option("--model-trials", o.model_trials)->check(CLI::Range(1, 1'000'000));
  app.add_option("--annealing-trials", o.annealing_trials)->check(CLI::Range(1, 1'000'000));
  app.add_option("--workloads", o.workloads, "the first N workloads (0: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--only", o.only, "0-based workload indices, I,J,...");
  app.add_option("--shard", o.shard, "K/N: every N-th workload from the K-th");
  app.add_option("--threads", o.threads)->check(CLI::Range(1, 4096));
  app.add_option("--json", o.json, "the curves (JSON), complete after each workload");
  tools::parse_or_exit(app, argc, argv);
  return o;
}

std::vector<double> curve(const TuningTask& task, const KernelCompiler& compiler, SearchStrategy s,
                          int trials, int threads) {
  std::unique_ptr<CostModel> model;
  if (s == SearchStrategy::ModelGuided) model = make_xgboost_model(threads);
  MeasureOptions m{
      .threads = threads, .repeats = 3, .min_repeat_seconds = 0.005, .timeout_seconds = 10};
  Tuner tuner(task, compiler, m, {.strategy = s, .trials = trials, .seed = 1}, model.get());
  TuneResult r = tuner.run([&](const TuneProgress& p) {
    std::fprintf(stderr, "\r  %-9s %4d/%d best %.1f GFLOP/s   ",
                 std::string(search_strategy_name(s)).c_str(), p.trial, p.trials, p.best_gflops);
  });
  std::fprintf(stderr, "\n");
  return r.best_so_far;
}

int run(const Options& o) {
  auto compiler = LLVMCompiler::create();
  std::vector<TuningTask> suite = workloads::standard_suite();
  if (o.workloads > 0 && o.workloads < static_cast<int>(suite.size())) suite.resize(o.workloads);
  try {
    suite = workloads::select(std::move(suite), o.only, o.shard);
  } catch (const Error& e) {
    std::fprintf(stderr, "tuning_curves: %s\n", e.what());
    return 2;
  }
  nlohmann::json curves = nlohmann::json::array();  // the workloads so far
  std::printf("%-32s %12s %12s %12s %10s\n", "workload", "random best", "model best", "anneal best",
              "model trials to random best");
  for (size_t w = 0; w < suite.size(); ++w) {
    const TuningTask& task = suite[w];
    std::fprintf(stderr, "%s\n", task.name.c_str());
    auto random = curve(task, *compiler, SearchStrategy::Random, o.random_trials, o.threads);
    auto model = curve(task, *compiler, SearchStrategy::ModelGuided, o.model_trials, o.threads);
    auto anneal = curve(task, *compiler, SearchStrategy::Annealing, o.annealing_trials, o.threads);
    double target = random.empty() ? 0 : random.back();
    int reach = bench::trials_to_reach(model, target);
    std::printf("%-32s %12.1f %12.1f %12.1f %10s\n", task.name.c_str(), target,
                model.empty() ? 0 : model.back(), anneal.empty() ? 0 : anneal.back(),
                reach <= static_cast<int>(model.size()) ? std::to_string(reach).c_str() : "never");
    std::fflush(stdout);
    curves.push_back(
        {{"name", task.name}, {"random", random}, {"model", model}, {"annealing", anneal}});
    tools::write_json_file(o.json, {{"threads", o.threads}, {"workloads", curves}});
  }
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  return tools::report_errors("tuning_curves", [&] { return run(o); });
}
