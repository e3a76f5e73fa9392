#include "core/tune/space.h"

#include <algorithm>
#include <cmath>

namespace kiln {

ScheduleSpace::ScheduleSpace(std::vector<Tensor> outputs, Target target)
    : outputs_(std::move(outputs)), target_(std::move(target)) {
  KnobChooser recorder;
  template_schedule(outputs_, target_, recorder);
  knobs_ = recorder.knobs();
}

double ScheduleSpace::size() const {
  double n = 1;
  for (auto& k : knobs_) n *= static_cast<double>(k.values.size());
  return n;
}

KnobConfig ScheduleSpace::default_config() const {
  KnobConfig c;
  for (auto& k : knobs_) c.values[k.name] = k.preferred;
  return c;
}

KnobConfig ScheduleSpace::random_config(std::mt19937_64& rng) const {
  KnobConfig c;
  for (auto& k : knobs_) {
    std::uniform_int_distribution<size_t> pick(0, k.values.size() - 1);
    c.values[k.name] = k.values[pick(rng)];
  }
  return c;
}

KnobConfig ScheduleSpace::nearest(const KnobConfig& config) const {
  auto distance = [](int64_t a, int64_t b) {
    return std::abs(std::log2(1.0 + static_cast<double>(std::max<int64_t>(a, 0))) -
                    std::log2(1.0 + static_cast<double>(std::max<int64_t>(b, 0))));
  };
  KnobConfig c;
  for (auto& k : knobs_) {
    auto it = config.values.find(k.name);
    if (it == config.values.end()) {
      c.values[k.name] = k.preferred;
      continue;
    }
    int64_t want = it->second;
    c.values[k.name] = *std::min_element(
        k.values.begin(), k.values.end(),
        [&](int64_t a, int64_t b) { return distance(a, want) < distance(b, want); });
  }
  return c;
}

std::vector<KnobConfig> ScheduleSpace::neighbors(const KnobConfig& config) const {
  std::vector<KnobConfig> result;
  for (auto& k : knobs_) {
    auto it = config.values.find(k.name);
    int64_t current = it == config.values.end() ? k.preferred : it->second;
    for (int64_t v : k.values) {
      if (v == current) continue;
      KnobConfig n = config;
      n.values[k.name] = v;
      result.push_back(std::move(n));
    }
  }
  return result;
}

Schedule ScheduleSpace::apply(const KnobConfig& config) const {
  KnobChooser chooser(config);
  return template_schedule(outputs_, target_, chooser);
}

}  // namespace kiln
