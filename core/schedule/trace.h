// The replayable record of a schedule: one instruction per primitive, in the order applied.
// Its text form is what the tuning cache stores, one instruction per line:
//   split s2 i0 8
//   reorder s2 i0.o i1.o r0 i0.i i1.i
//   compute_at s1 s2 i0.o
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace kiln {

enum class InstKind : uint8_t {
  Split,
  Fuse,
  Reorder,
  Parallel,
  Vectorize,
  Unroll,
  Bind,
  ComputeInline,
  ComputeAt,
  RFactor,
  CacheRead
};

struct Instruction {
  InstKind kind;
  std::vector<std::string> names;  ///< Stage first, then loops (ComputeAt: stage, target, loop;
                                   ///< CacheRead: stage, then the dtype it converts to, if any).
  std::vector<int64_t> values;     ///< Split/RFactor: factor. Bind: for-kind, axis.
                                   ///< CacheRead: operand, then the copy's layout,
                                   ///< then its panel width when it has panels.

  bool operator==(const Instruction&) const = default;
};

struct Trace {
  std::vector<Instruction> insts;

  bool operator==(const Trace&) const = default;
  /// One line per instruction.
  std::string to_text() const;
  /// Parses to_text() output; throws ScheduleError naming the bad line.
  static Trace from_text(const std::string& text);
};

std::string_view inst_kind_name(InstKind k);
std::ostream& operator<<(std::ostream& os, const Instruction& inst);
std::ostream& operator<<(std::ostream& os, const Trace& trace);

}  // namespace kiln
