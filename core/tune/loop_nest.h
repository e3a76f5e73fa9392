// Loop-nest analysis behind the features (features.cpp): every Store of a kernel with the loops
// around it, the operations it does and the memory it accesses. Private to core/tune.
#pragma once

#include <array>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/ir/stmt.h"

namespace kiln {

/// Operation classes counted in a stored value.
enum class ArithOp {
  FAdd,
  FMul,
  Fma,
  FDiv,
  FCmp,
  IOps,
  IDiv,
  Transcendental,
  Select,
  Cast,
  kCount
};
constexpr int kArithOps = static_cast<int>(ArithOp::kCount);
constexpr std::array<const char*, kArithOps> kArithOpNames = {
    "fadd", "fmul", "fma", "fdiv", "fcmp", "iops", "idiv", "transcendental", "select", "cast"};

/// One buffer access of a statement.
struct Access {
  Tensor tensor;
  Expr index;  // flat element offset
};

/// A Store with everything around it that the features need.
struct StatementInfo {
  std::vector<const ForNode*> loops;  // outermost first
  int guards = 0;
  double count = 1;
  std::array<double, kArithOps> arith{};  // per execution, indexed by ArithOp
  std::vector<Access> accesses;           // the store, then distinct loads
};

/// The Stores of a loop nest in program order, with the allocations and counts around them.
struct LoopNest {
  std::vector<StatementInfo> statements;
  std::vector<const AllocateNode*> allocations;
  std::unordered_map<const TensorNode*, MemoryScope> scopes;  ///< of the allocated buffers
  int loops = 0, guards = 0;
};

/// Analyzes `body` (which may be undefined: an empty nest).
LoopNest analyze_loop_nest(const Stmt& body);

}  // namespace kiln
