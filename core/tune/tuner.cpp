#include "core/tune/tuner.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/schedule/lower.h"
#include "core/support/error.h"
#include "core/tune/features.h"

namespace kiln {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int hamming(const KnobConfig& a, const KnobConfig& b) {
  int d = 0;
  for (auto& [name, v] : a.values) {
    auto it = b.values.find(name);
    d += it == b.values.end() || it->second != v;
  }
  return d;
}

}  // namespace

std::string_view search_strategy_name(SearchStrategy s) {
  static constexpr std::string_view names[] = {"model", "random", "grid", "annealing"};
  return names[static_cast<int>(s)];
}

SearchStrategy search_strategy_from_name(std::string_view name) {
  for (auto s : {SearchStrategy::ModelGuided, SearchStrategy::Random, SearchStrategy::Grid,
                 SearchStrategy::Annealing})
    if (search_strategy_name(s) == name) return s;
  throw Error(str_cat("unknown search strategy '", name, "' (model, random, grid, annealing)"));
}

Tuner::Tuner(const TuningTask& task, const KernelCompiler& compiler, MeasureOptions measure,
             TuneOptions options, CostModel* model)
    : task_(task),
      space_(task.outputs, compiler.target()),
      measurer_(task, compiler, measure),
      options_(options),
      model_(model),
      rng_(options.seed) {
  if (options_.strategy == SearchStrategy::ModelGuided && !model_)
    throw Error("model-guided search needs a cost model");
  if (options_.batch < 1) throw Error(str_cat("tuning batch must be >= 1, got ", options_.batch));
}

TuneResult Tuner::run(const std::function<void(const TuneProgress&)>& progress) {
  auto start = std::chrono::steady_clock::now();
  TuneResult result;
  double flops = std::max(1.0, task_.flops());
  auto gflops_of = [&](const MeasureResult& m) { return m.ok() ? flops / m.seconds / 1e9 : 0.0; };

  // The default schedule is measured first: the baseline, and the search's first known point.
  // It is usually good (its template's preferred values), so the model learns from it and the
  // search starts around it rather than rediscovering it among random points.
  Trial& baseline = result.baseline;
  baseline.config = space_.default_config();
  baseline.features = features_of(baseline.config);
  Schedule fallback = space_.apply(baseline.config);
  baseline.result = measurer_.measure(fallback);
  baseline.gflops = gflops_of(baseline.result);
  result.baseline_trace = fallback.trace();
  walker_ = baseline.config;
  walker_gflops_ = baseline.gflops;
  mark_seen(walker_);

  std::vector<TrainingSample> pending;
  if (options_.strategy == SearchStrategy::ModelGuided && baseline.result.ok())
    pending.push_back({baseline.features, static_cast<float>(baseline.gflops), kTunedTask});
  int since_best = 0;
  auto out_of_budget = [&] {
    return static_cast<int>(result.trials.size()) >= options_.trials ||
           (options_.stop && options_.stop->load()) ||
           (options_.seconds > 0 && seconds_since(start) > options_.seconds) ||
           (options_.early_stop > 0 && since_best >= options_.early_stop);
  };
  while (!out_of_budget()) {
    std::vector<KnobConfig> batch = next_batch(result);
    if (batch.empty()) break;  // the whole space is measured
    for (const KnobConfig& config : batch) {
      if (out_of_budget()) break;
      if (seen(config)) continue;  // a twin of a config earlier in the batch
      mark_seen(config);
      Trial trial;
      trial.config = config;
      trial.features = features_of(config);
      Trace trace;
      try {
        Schedule candidate = space_.apply(config);
        trace = candidate.trace();
        trial.result = measurer_.measure(candidate);
      } catch (const ScheduleError& e) {
        trial.result = {MeasureStatus::InvalidSchedule, 0, 0, e.what()};
      }
      result.traces.push_back(std::move(trace));
      trial.gflops = gflops_of(trial.result);
      result.trials.push_back(trial);
      double best = result.best_so_far.empty() ? 0 : result.best_so_far.back();
      if (trial.gflops > best) {
        result.best = static_cast<int>(result.trials.size()) - 1;
        best = trial.gflops;
        since_best = 0;
      } else {
        ++since_best;
      }
      result.best_so_far.push_back(best);
      if (options_.strategy == SearchStrategy::Annealing) {
        // Metropolis on measured throughput, relative to the current point's.
        double delta = (trial.gflops - walker_gflops_) / std::max(walker_gflops_, 1e-9);
        if (delta > 0 ||
            std::uniform_real_distribution<>(0, 1)(rng_) < std::exp(delta / temperature_)) {
          walker_ = config;
          walker_gflops_ = trial.gflops;
        }
        temperature_ = std::max(0.01, temperature_ * 0.97);
      }
      if (options_.strategy == SearchStrategy::ModelGuided)
        pending.push_back({trial.features, static_cast<float>(trial.gflops), kTunedTask});
      if (progress)
        progress({static_cast<int>(result.trials.size()), options_.trials, best,
                  seconds_since(start), &result});
    }
    bool stopping = options_.stop && options_.stop->load();
    if (options_.strategy == SearchStrategy::ModelGuided && !pending.empty() && !stopping) {
      model_->update(pending);
      pending.clear();
    }
  }
  if (result.best >= 0) result.best_trace = result.traces[result.best];
  return result;
}

std::vector<KnobConfig> Tuner::next_batch(const TuneResult& so_far) {
  switch (options_.strategy) {
    case SearchStrategy::Random: return random_batch(options_.batch);
    case SearchStrategy::Grid: {
      std::vector<KnobConfig> batch;
      while (static_cast<int>(batch.size()) < options_.batch && grid_next_ < space_.size()) {
        KnobConfig c = grid_point(grid_next_++);
        if (!seen(c)) batch.push_back(std::move(c));
      }
      return batch;
    }
    case SearchStrategy::Annealing: {
      std::vector<KnobConfig> options;
      for (auto& n : space_.neighbors(walker_))
        if (!seen(n)) options.push_back(std::move(n));
      if (options.empty()) return random_batch(1);  // a local optimum fully explored: restart
      std::uniform_int_distribution<size_t> pick(0, options.size() - 1);
      return {options[pick(rng_)]};
    }
    case SearchStrategy::ModelGuided: return model_batch(so_far);
  }
  return {};
}

std::vector<KnobConfig> Tuner::random_batch(int n) {
  std::vector<KnobConfig> batch;
  for (int attempt = 0; static_cast<int>(batch.size()) < n && attempt < 100 * n; ++attempt) {
    KnobConfig c = space_.random_config(rng_);
    bool fresh =
        !seen(c) && std::none_of(batch.begin(), batch.end(), [&](auto& b) { return b == c; });
    if (fresh) batch.push_back(std::move(c));
  }
  return batch;
}

KnobConfig Tuner::grid_point(int64_t index) const {
  KnobConfig c;
  for (auto& k : space_.knobs()) {
    int64_t n = static_cast<int64_t>(k.values.size());
    c.values[k.name] = k.values[index % n];
    index /= n;
  }
  return c;
}

const Tuner::Lowered& Tuner::lowered(const KnobConfig& c) {
  std::string key = c.to_text();
  auto it = lowered_.find(key);
  if (it != lowered_.end()) return it->second;
  Lowered l;
  try {
    Schedule schedule = space_.apply(c);
    l.program = schedule.trace().to_text();
    l.features = FeatureExtractor().extract(lower(schedule, "candidate"));
  } catch (const ScheduleError&) {
    l.features.assign(FeatureExtractor::length(), 0.0f);  // an invalid point: features of nothing
  }
  return lowered_[key] = std::move(l);
}

bool Tuner::seen(const KnobConfig& c) {
  if (seen_.count(c.to_text())) return true;
  const std::string& program = lowered(c).program;
  return !program.empty() && seen_programs_.count(program);
}

void Tuner::mark_seen(const KnobConfig& c) {
  seen_.insert(c.to_text());
  if (const std::string& program = lowered(c).program; !program.empty())
    seen_programs_.insert(program);
}

std::vector<float> Tuner::predict(const std::vector<KnobConfig>& configs) {
  std::vector<std::vector<float>> features;
  for (auto& c : configs) features.push_back(features_of(c));
  return model_->predict(features);
}

// Before the task's own measurements, the points worth measuring lie near what is known to be
// good: the default schedule and the points nearest to configs that were fast on other workloads
// (each with its neighbours). A warm model ranks them (it knows other workloads only, and its
// optimum over the whole space tends to lie where it extrapolates furthest, so it is kept near
// these points); a cold one knows nothing yet, so they come in random order.
Tuner::FirstCandidates Tuner::first_candidates() {
  std::set<std::string> taken;
  auto unmeasured = [&](std::vector<KnobConfig> points) {
    std::vector<KnobConfig> kept;
    for (KnobConfig& c : points)
      if (!seen(c) && taken.insert(c.to_text()).second) kept.push_back(std::move(c));
    return kept;
  };
  auto scored = [&](std::vector<KnobConfig> points) {
    std::vector<float> scores;
    if (options_.warm_model) {
      scores = predict(points);
    } else {
      std::uniform_real_distribution<float> random_score(0, 1);
      for (size_t i = 0; i < points.size(); ++i) scores.push_back(random_score(rng_));
    }
    std::vector<std::pair<float, KnobConfig>> out;
    for (size_t i = 0; i < points.size(); ++i) out.emplace_back(scores[i], std::move(points[i]));
    return out;
  };
  FirstCandidates first;
  first.near_default = scored(unmeasured(space_.neighbors(space_.default_config())));
  std::vector<KnobConfig> near_transferred;
  for (const KnobConfig& t : options_.transferred) {
    KnobConfig anchor = space_.nearest(t);
    std::vector<KnobConfig> around = space_.neighbors(anchor);
    around.push_back(std::move(anchor));
    for (KnobConfig& c : unmeasured(std::move(around))) near_transferred.push_back(std::move(c));
  }
  first.near_transferred = scored(std::move(near_transferred));
  return first;
}

KnobConfig Tuner::first_pick() {
  if (!options_.warm_model || !model_) throw Error("first_pick() needs a warm cost model");
  KnobConfig fallback = space_.default_config();
  std::pair<float, KnobConfig> best{predict({fallback})[0], fallback};
  FirstCandidates first = first_candidates();
  for (auto* pool : {&first.near_default, &first.near_transferred})
    for (auto& scored : *pool)
      if (scored.first > best.first) best = scored;
  return best.second;
}

// Simulated annealing on the model's predictions, from the best measured points (a quarter of
// the chains), the points nearest to configs fast on other workloads (up to half in all) and
// random points; returns every unmeasured point it visited, with its score.
std::vector<std::pair<float, KnobConfig>> Tuner::annealed_candidates(const TuneResult& so_far) {
  std::vector<const Trial*> ranked{&so_far.baseline};
  for (auto& t : so_far.trials) ranked.push_back(&t);
  std::sort(ranked.begin(), ranked.end(), [](auto* a, auto* b) { return a->gflops > b->gflops; });
  const size_t n_chains = static_cast<size_t>(options_.annealing_chains);
  std::vector<KnobConfig> chains;
  for (size_t i = 0; i < ranked.size() && chains.size() < n_chains / 4; ++i)
    chains.push_back(ranked[i]->config);
  for (size_t i = 0; i < options_.transferred.size() && chains.size() < n_chains / 2; ++i) {
    KnobConfig c = space_.nearest(options_.transferred[i]);
    if (std::find(chains.begin(), chains.end(), c) == chains.end()) chains.push_back(std::move(c));
  }
  while (chains.size() < n_chains) chains.push_back(space_.random_config(rng_));

  std::vector<float> scores = predict(chains);
  std::map<std::string, std::pair<float, KnobConfig>> visited;
  for (size_t i = 0; i < chains.size(); ++i) visited[chains[i].to_text()] = {scores[i], chains[i]};
  std::uniform_real_distribution<> coin(0, 1);
  for (int step = 0; step < options_.annealing_steps; ++step) {
    if (options_.stop && options_.stop->load()) break;  // what was found so far will do
    double temperature = 1.0 - static_cast<double>(step) / options_.annealing_steps;
    std::vector<KnobConfig> proposals;
    for (auto& c : chains) {
      KnobConfig p = c;
      const Knob& k =
          space_.knobs()[std::uniform_int_distribution<size_t>(0, space_.knobs().size() - 1)(rng_)];
      p.values[k.name] =
          k.values[std::uniform_int_distribution<size_t>(0, k.values.size() - 1)(rng_)];
      proposals.push_back(std::move(p));
    }
    std::vector<float> proposed = predict(proposals);
    float lo = *std::min_element(proposed.begin(), proposed.end());
    float hi = *std::max_element(proposed.begin(), proposed.end());
    double scale = std::max(1e-6f, hi - lo);
    for (size_t i = 0; i < chains.size(); ++i) {
      visited[proposals[i].to_text()] = {proposed[i], proposals[i]};
      double delta = (proposed[i] - scores[i]) / scale;
      if (delta > 0 || coin(rng_) < std::exp(delta / std::max(temperature, 0.05))) {
        chains[i] = proposals[i];
        scores[i] = proposed[i];
      }
    }
  }
  std::vector<std::pair<float, KnobConfig>> unmeasured;
  for (auto& [text, entry] : visited)
    if (!seen(entry.second)) unmeasured.push_back(entry);
  return unmeasured;
}

// The best-scored candidates, at Hamming distance >= 2 from each other and each a program of its
// own, plus an epsilon share of random points. The first batch gives the default's neighbourhood
// half of the model's picks, however the model ranks the transferred configs: a model warmed on
// other workloads (or other machines) can rank a whole neighbourhood wrong.
std::vector<KnobConfig> Tuner::model_batch(const TuneResult& so_far) {
  if (space_.knobs().empty()) return random_batch(options_.batch);  // one point: nothing to walk
  const size_t exploit = static_cast<size_t>(std::round(options_.batch * (1 - options_.epsilon)));
  std::vector<KnobConfig> batch;
  std::set<std::string> programs;  // of the batch: one config of each
  auto take_best = [&](std::vector<std::pair<float, KnobConfig>>& scored, size_t until) {
    std::stable_sort(scored.begin(), scored.end(),
                     [](auto& a, auto& b) { return a.first > b.first; });
    for (auto& [score, c] : scored) {
      if (batch.size() >= until) break;
      if (std::all_of(batch.begin(), batch.end(), [&](auto& b) { return hamming(b, c) >= 2; }) &&
          programs.insert(lowered(c).program).second)
        batch.push_back(c);
    }
  };
  if (so_far.trials.empty()) {
    FirstCandidates first = first_candidates();
    take_best(first.near_default, first.near_transferred.empty() ? exploit : (exploit + 1) / 2);
    take_best(first.near_transferred, exploit);
    take_best(first.near_default, exploit);  // where the transferred points ran out
    // The batch is measured best-scored first: the first pick is the model's favourite of both
    // neighbourhoods (a kernel better than the default can be served after one trial).
    std::map<std::string, float> score;
    for (auto* pool : {&first.near_default, &first.near_transferred})
      for (auto& [s, c] : *pool) score[c.to_text()] = s;
    std::stable_sort(batch.begin(), batch.end(), [&](const KnobConfig& a, const KnobConfig& b) {
      return score[a.to_text()] > score[b.to_text()];
    });
  } else {
    std::vector<std::pair<float, KnobConfig>> annealed = annealed_candidates(so_far);
    take_best(annealed, exploit);
  }
  for (auto& c : random_batch(options_.batch - static_cast<int>(batch.size())))
    if (std::none_of(batch.begin(), batch.end(), [&](auto& b) { return b == c; }))
      batch.push_back(c);
  return batch;
}

}  // namespace kiln
