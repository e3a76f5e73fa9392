#include "core/templates/knobs.h"

#include <algorithm>
#include <ostream>
#include <sstream>

#include "core/support/error.h"

namespace kiln {

std::string KnobConfig::to_text() const {
  std::ostringstream os;
  for (auto it = values.begin(); it != values.end(); ++it)
    os << (it == values.begin() ? "" : " ") << it->first << "=" << it->second;
  return os.str();
}

KnobConfig KnobConfig::from_text(const std::string& text) {
  KnobConfig c;
  std::istringstream words(text);
  for (std::string w; words >> w;) {
    size_t eq = w.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ScheduleError(str_cat("knob config entry '", w, "' is not name=value"));
    try {
      size_t used = 0;
      int64_t v = std::stoll(w.substr(eq + 1), &used);
      if (used != w.size() - eq - 1) throw std::invalid_argument(w);
      c.values[w.substr(0, eq)] = v;
    } catch (const std::exception&) {
      throw ScheduleError(str_cat("knob config entry '", w, "' has no integer value"));
    }
  }
  return c;
}

int64_t KnobChooser::choose(const std::string& name, std::vector<int64_t> values,
                            int64_t preferred) {
  KILN_CHECK(!values.empty(), "knob ", name, " has no values");
  KILN_CHECK(std::find(values.begin(), values.end(), preferred) != values.end(), "knob ", name,
             " prefers ", preferred, ", which is not among its values");
  int64_t value = preferred;
  if (auto it = config_.values.find(name); it != config_.values.end()) {
    if (std::find(values.begin(), values.end(), it->second) == values.end()) {
      std::string options;
      for (int64_t v : values) options += str_cat(" ", v);
      throw ScheduleError(
          str_cat("knob ", name, " cannot be ", it->second, "; its values are:", options));
    }
    value = it->second;
  }
  knobs_.push_back({name, std::move(values), preferred});
  chosen_.values[name] = value;
  return value;
}

std::ostream& operator<<(std::ostream& os, const KnobConfig& c) {
  return os << c.to_text();
}

}  // namespace kiln
