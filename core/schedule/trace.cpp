#include "core/schedule/trace.h"

#include <algorithm>
#include <ostream>
#include <sstream>

#include "core/support/error.h"

namespace kiln {

namespace {
constexpr std::string_view kInstNames[] = {"split",      "fuse",    "reorder",   "parallel",
                                           "vectorize",  "unroll",  "bind",      "compute_inline",
                                           "compute_at", "rfactor", "cache_read"};
// Number of trailing integer operands each instruction kind carries; -1: names up to the first
// integer, then at least one integer (cache_read's stage and dtype, its operand and layout).
int num_values(InstKind k) {
  switch (k) {
    case InstKind::Split:
    case InstKind::RFactor: return 1;
    case InstKind::CacheRead: return -1;
    case InstKind::Bind: return 2;
    default: return 0;
  }
}
}  // namespace

std::string_view inst_kind_name(InstKind k) {
  return kInstNames[static_cast<int>(k)];
}

std::ostream& operator<<(std::ostream& os, const Instruction& inst) {
  os << inst_kind_name(inst.kind);
  for (auto& n : inst.names) os << " " << n;
  for (auto v : inst.values) os << " " << v;
  return os;
}

std::ostream& operator<<(std::ostream& os, const Trace& trace) {
  return os << trace.to_text();
}

std::string Trace::to_text() const {
  std::ostringstream os;
  for (auto& inst : insts) os << inst << "\n";
  return os.str();
}

Trace Trace::from_text(const std::string& text) {
  Trace trace;
  std::istringstream lines(text);
  std::string line;
  int line_no = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    std::istringstream words(line);
    std::vector<std::string> tokens;
    for (std::string w; words >> w;) tokens.push_back(w);
    if (tokens.empty()) continue;
    Instruction inst{};
    bool known = false;
    for (size_t k = 0; k < std::size(kInstNames); ++k)
      if (tokens[0] == kInstNames[k]) inst.kind = static_cast<InstKind>(k), known = true;
    if (!known)
      throw ScheduleError(
          str_cat("trace line ", line_no, ": unknown instruction '", tokens[0], "'"));
    int nv = num_values(inst.kind);
    if (nv < 0) {
      auto is_integer = [](const std::string& w) {
        size_t digits = w[0] == '-' ? 1 : 0;
        return w.size() > digits && w.find_first_not_of("0123456789", digits) == std::string::npos;
      };
      size_t first_value = 2;  // the stage is always a name
      while (first_value < tokens.size() && !is_integer(tokens[first_value])) ++first_value;
      nv = std::max<int>(1, static_cast<int>(tokens.size() - first_value));
    }
    if (static_cast<int>(tokens.size()) < 2 + nv)
      throw ScheduleError(str_cat("trace line ", line_no, ": too few operands in '", line, "'"));
    inst.names.assign(tokens.begin() + 1, tokens.end() - nv);
    for (auto it = tokens.end() - nv; it != tokens.end(); ++it) {
      try {
        size_t used = 0;
        inst.values.push_back(std::stoll(*it, &used));
        if (used != it->size()) throw std::invalid_argument(*it);
      } catch (const std::exception&) {
        throw ScheduleError(str_cat("trace line ", line_no, ": '", *it, "' is not an integer"));
      }
    }
    trace.insts.push_back(std::move(inst));
  }
  return trace;
}

}  // namespace kiln
