// What eager PyTorch checks of a tensor argument's values when the op runs, and a kernel cannot
// (it has no way to raise): an index in range, a nonzero integer divisor. Ops declare such
// arguments (OpRegistry::checks); the runtime checks them before the kernel that reads them runs
// and raises as eager does. The kernels stay memory-safe without it (indices read from data are
// clamped, index_guard.h), so a check is about eager's semantics, not about safety.
#pragma once

#include <cstdint>
#include <string>

namespace kiln {

struct ValueCheck {
  enum class Rule : uint8_t {
    Index,   ///< Every value is in [0, size): IndexError otherwise ("index out of range in self").
    Bounds,  ///< The same, RuntimeError otherwise ("index 3 is out of bounds for dimension 1 ...").
    /// Every value is in [-size, size), a negative one counting from the end (advanced
    /// indexing): IndexError otherwise, worded as Bounds.
    Wrapped,
    NonZero,  ///< No value is 0: RuntimeError otherwise ("ZeroDivisionError").
  };
  Rule rule;
  int arg;           ///< The tensor argument checked, by position among the op's arguments.
  int64_t size = 0;  ///< Index, Bounds, Wrapped: the size of the dimension indexed.
  int64_t dim = 0;   ///< Index, Bounds, Wrapped: that dimension, for the message.
  int element = -1;  ///< For a tensor-list argument: the position of the tensor in the list.
};

/// Why `check` fails on `bad_value`, as eager words it: "index out of range in self",
/// "index 12 is out of bounds for dimension 0 with size 10", "ZeroDivisionError".
std::string value_check_message(const ValueCheck& check, int64_t bad_value);

}  // namespace kiln
