// kiln-tune-op: tunes one kernel from the shell, outside torch: the search alone (strategies,
// curves), for benchmarks and for working on the tuner. Users tune operators into their cache
// with `kiln tune-op`, which goes through torch.compile.
//
//   kiln-tune-op matmul 1024 1024 1024 --trials 200 --threads 1
//   kiln-tune-op conv 56 56 64 64 3 1 --strategy random --trials 100 --json curve.json
//
// Shows a progress bar (trials, best GFLOP/s, elapsed, ETA) and prints the best configuration
// and its schedule trace, with its speed beside the default schedule's; --print-lowered adds the
// loop nests of the default and the best schedule.
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "backends/llvm/llvm_compiler.h"
#include "core/schedule/lower.h"
#include "core/support/error.h"
#include "core/tune/tuner.h"
#include "tools/tool_cli.h"
#include "tools/workloads.h"

namespace {

using namespace kiln;

struct Args {
  std::vector<std::string> workload;
  TuneOptions tune;
  MeasureOptions measure;
  std::string json;
  bool print_lowered = false;
  std::string dtype = "f32";
};

Args parse(int argc, char** argv) {
  Args a;
  a.tune.trials = 200;
  CLI::App app("Tunes one kernel outside torch and prints its best schedule.", "kiln-tune-op");
  app.add_option(
         "workload", a.workload,
         "WORKLOAD SIZES: matmul M N K | conv H W IN OUT KERNEL STRIDE [GROUPS] | softmax R C | "
         "layer_norm R C")
      ->required();
  app.add_option("--trials", a.tune.trials, "candidates to measure")
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--seconds", a.tune.seconds, "time budget (0: none)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--early-stop", a.tune.early_stop, "stop after N trials without a gain (0: never)")
      ->check(CLI::NonNegativeNumber);
  std::string strategy = "model";
  app.add_option("--strategy", strategy, "search strategy")
      ->check(CLI::IsMember({"model", "random", "grid", "annealing"}));
  app.add_option("--threads", a.measure.threads, "threads each candidate runs on")
      ->check(CLI::Range(1, 4096));
  app.add_option("--seed", a.tune.seed, "random seed");
  app.add_option("--json", a.json, "write the tuning curve here (JSON)");
  app.add_option("--dtype", a.dtype, "the workload's dtype")
      ->check(CLI::IsMember({"f32", "bf16", "f16", "f64", "i8"}));
  app.add_flag("--print-lowered", a.print_lowered,
               "print the default and best schedules' loop nests");
  tools::parse_or_exit(app, argc, argv);
  a.tune.strategy = search_strategy_from_name(strategy);
  return a;
}

void progress_bar(const TuneProgress& p) {
  const int width = 30;
  int filled = p.trials > 0 ? width * p.trial / p.trials : 0;
  double eta = p.trial > 0 ? p.elapsed_seconds * (p.trials - p.trial) / p.trial : 0;
  std::fprintf(stderr, "\r[%s%s] %d/%d trials  best %.1f GFLOP/s  elapsed %.0fs  ETA %.0fs ",
               std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), p.trial,
               p.trials, p.best_gflops, p.elapsed_seconds, eta);
  std::fflush(stderr);
}

void write_json(const std::string& path, const TuningTask& task, const Args& a,
                const TuneResult& r) {
  tools::write_json_file(path, {{"task", task.name},
                                {"strategy", search_strategy_name(a.tune.strategy)},
                                {"threads", a.measure.threads},
                                {"default_seconds", r.default_seconds()},
                                {"best_so_far_gflops", r.best_so_far}});
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  try {
    TuningTask task = workloads::from_words(a.workload, dtype_from_name(a.dtype));
    auto compiler = LLVMCompiler::create();
    std::unique_ptr<CostModel> model;
    if (a.tune.strategy == SearchStrategy::ModelGuided)
      model = make_xgboost_model(a.measure.threads);
    Tuner tuner(task, *compiler, a.measure, a.tune, model.get());
    std::fprintf(stderr, "tuning %s: %.3g points in its space, %s search, %d threads\n",
                 task.name.c_str(), tuner.space().size(),
                 std::string(search_strategy_name(a.tune.strategy)).c_str(), a.measure.threads);
    TuneResult r = tuner.run(progress_bar);
    std::fprintf(stderr, "\n");
    std::map<std::string_view, int> failures;
    for (auto& t : r.trials)
      if (!t.result.ok()) ++failures[measure_status_name(t.result.status)];
    double flops = task.flops();
    std::printf("%s: %zu trials", task.name.c_str(), r.trials.size());
    for (auto& [status, count] : failures)
      std::printf(", %d %s", count, std::string(status).c_str());
    std::printf("\n");
    if (r.default_seconds() > 0)
      std::printf("default schedule: %.3f ms, %.1f GFLOP/s\nconfig: %s\n",
                  r.default_seconds() * 1e3, flops / r.default_seconds() / 1e9,
                  tuner.space().default_config().to_text().c_str());
    if (r.best < 0) {
      std::printf("no candidate succeeded\n");
      return 1;
    }
    const Trial& best = r.trials[r.best];
    std::printf("best: %.3f ms, %.1f GFLOP/s (%.2fx the default)\nconfig: %s\ntrace:\n%s",
                best.result.seconds * 1e3, best.gflops,
                r.default_seconds() > 0 ? r.default_seconds() / best.result.seconds : 0.0,
                best.config.to_text().c_str(), r.best_trace.to_text().c_str());
    if (a.print_lowered)
      std::cout << "default, lowered:\n"
                << lower(tuner.space().apply(tuner.space().default_config()), task.name)
                << "best, lowered:\n"
                << lower(tuner.space().apply(best.config), task.name);
    if (!a.json.empty()) write_json(a.json, task, a, r);
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "kiln-tune-op: %s\n", e.what());
    return 1;
  }
}
