// The tuning space of a workload: the knobs its schedule template asks about (core/schedule's
// template_schedule), each with its candidate values. A point is a KnobConfig; applying it gives
// a Schedule, whose trace is what the tuning cache keeps.
#pragma once

#include <random>
#include <vector>

#include "core/ir/target.h"
#include "core/templates/default_schedule.h"

namespace kiln {

class ScheduleSpace {
 public:
  /// Enumerates the knobs by running the template once with its preferred values.
  ScheduleSpace(std::vector<Tensor> outputs, Target target);

  const std::vector<Knob>& knobs() const { return knobs_; }
  /// Number of points (a double: spaces grow past 2^63).
  double size() const;
  /// The template's preferred values: the default schedule.
  KnobConfig default_config() const;
  /// A uniformly random point.
  KnobConfig random_config(std::mt19937_64& rng) const;
  /// The point of this space nearest to `config`, a point of another workload's space: each knob
  /// takes `config`'s value for a knob of the same name, moved to the nearest candidate (by ratio:
  /// tile sizes scale), and its preferred value where `config` has none.
  KnobConfig nearest(const KnobConfig& config) const;
  /// The points that differ from `config` in exactly one knob.
  std::vector<KnobConfig> neighbors(const KnobConfig& config) const;
  /// The schedule of a point. Throws ScheduleError when the config names an unknown value.
  Schedule apply(const KnobConfig& config) const;

  const std::vector<Tensor>& outputs() const { return outputs_; }
  const Target& target() const { return target_; }

 private:
  std::vector<Tensor> outputs_;
  Target target_;
  std::vector<Knob> knobs_;
};

}  // namespace kiln
