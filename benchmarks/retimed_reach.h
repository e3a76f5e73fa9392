// Trials to reach a target, judged on re-timed kernels rather than on the search's own noisy
// measurements. A search's curve (best measured so far) and the "best known" reference taken as
// the maximum over many runs both ride on measurement noise: the maximum of hundreds of noisy
// measurements is an upward outlier that no run's kernel really reaches. So the kernels the runs
// served (their incumbents) are timed again, all of them side by side in interleaved rounds, and a
// run reaches the target at the first trial whose incumbent's re-timed speed is within reach of
// the best re-timed one.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "core/tune/measure.h"
#include "core/tune/space.h"
#include "core/tune/tuner.h"

namespace kiln::bench {

/// The config a search would serve after each trial: its best measured one so far ("" before any
/// trial succeeded).
inline std::vector<std::string> served_configs(const TuneResult& r) {
  std::vector<std::string> served;
  double best = 0;
  std::string current;
  for (const Trial& t : r.trials) {
    if (t.gflops > best) {
      best = t.gflops;
      current = t.config.to_text();
    }
    served.push_back(current);
  }
  return served;
}

/// GFLOP/s of each config, the median of `rounds` measurements; within a round every config is
/// measured once, in turn, so that a change of the machine's state reaches all of them alike.
/// A config that fails to measure gets 0.
inline std::map<std::string, double> retime(const TuningTask& task, const ScheduleSpace& space,
                                            const Measurer& measurer,
                                            const std::vector<std::string>& configs, int rounds) {
  std::map<std::string, std::vector<double>> samples;
  for (int round = 0; round < rounds; ++round)
    for (const std::string& text : configs) {
      MeasureResult m = measurer.measure(space.apply(KnobConfig::from_text(text)));
      samples[text].push_back(m.ok() ? task.flops() / m.seconds / 1e9 : 0.0);
    }
  std::map<std::string, double> gflops;
  for (auto& [text, s] : samples) {
    std::sort(s.begin(), s.end());
    gflops[text] = s[s.size() / 2];
  }
  return gflops;
}

/// The first trial (1-based) whose served config's re-timed speed reaches `target`;
/// served.size() + 1 when none does (past the budget, never a small number).
inline int trials_to_reach_retimed(const std::vector<std::string>& served,
                                   const std::map<std::string, double>& gflops, double target) {
  for (size_t i = 0; i < served.size(); ++i) {
    auto it = gflops.find(served[i]);
    if (it != gflops.end() && it->second >= target * (1 - 1e-9)) return static_cast<int>(i) + 1;
  }
  return static_cast<int>(served.size()) + 1;
}

}  // namespace kiln::bench
