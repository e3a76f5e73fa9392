// Knobs: the decisions a schedule template leaves open (tile sizes, loop order, vector width,
// ...), AutoTVM style. A template asks a KnobChooser for each decision; the chooser answers with
// the heuristic default, with the value a configuration fixes, and records every knob it was asked
// about, which is how a template's space is enumerated.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

namespace kiln {

/// One decision of a template: its name ("s2.tile_i": stage, then decision) and its values.
struct Knob {
  std::string name;
  std::vector<int64_t> values;
  int64_t preferred;  ///< The heuristic default, one of `values`.
};

/// A point of a space: a value per knob name. Knobs it does not name take their default.
struct KnobConfig {
  std::map<std::string, int64_t> values;

  bool operator==(const KnobConfig&) const = default;
  /// "s2.tile_i=8 s2.tile_j=32" (sorted by name).
  std::string to_text() const;
  /// Parses to_text(); throws ScheduleError naming the bad entry.
  static KnobConfig from_text(const std::string& text);
};

class KnobChooser {
 public:
  /// Answers with defaults, or with `config`'s values where it has them.
  explicit KnobChooser(KnobConfig config = {}) : config_(std::move(config)) {}

  /// The value for knob `name` among `values` (the preferred one unless the configuration says
  /// otherwise). Throws ScheduleError when the configuration names a value not among `values`.
  int64_t choose(const std::string& name, std::vector<int64_t> values, int64_t preferred);

  /// Every knob asked about, in the order asked.
  const std::vector<Knob>& knobs() const { return knobs_; }
  /// The values chosen, as a configuration.
  const KnobConfig& chosen() const { return chosen_; }

 private:
  KnobConfig config_, chosen_;
  std::vector<Knob> knobs_;
};

std::ostream& operator<<(std::ostream& os, const KnobConfig& c);

}  // namespace kiln
