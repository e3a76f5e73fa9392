// Schedules that exercise one lowering mechanism each, shared by the tests that check what they
// lower to (tests/schedule) and what they compute (tests/jit).
#pragma once

#include "core/schedule/schedule.h"

namespace kiln::sample_schedules {

/// c = b[i, j] + b[i, j + 4] in 4 x 3 tiles, b (a reduction) computed at each tile over the
/// region the tile reads (4 x 7), with guards where the splits do not divide.
inline Schedule compute_at_partial_region() {
  Tensor a = placeholder("a", {10, 10}, DType::F32);
  IterVar r = reduce_axis(5, "r");
  Tensor b = compute("b", {10, 14}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Max, a(i[0], min(i[1], Expr(int64_t{9}))) + cast(DType::F32, r.var),
                  {r});
  });
  Tensor c = compute("c", {10, 10},
                     [&](const std::vector<Var>& i) { return b(i[0], i[1]) + b(i[0], i[1] + 4); });
  Schedule s({c});
  auto [io, ii] = s.split("s1", "i0", 4);
  auto [jo, ji] = s.split("s1", "i1", 3);
  s.reorder("s1", {io, jo, ii, ji});
  s.compute_at("s0", "s1", jo);
  return s;
}

/// Row sums of a 3 x 100 matrix through an rfactor of 16 lanes (vectorized, with a tail of 4),
/// computed at the rows.
inline Schedule rfactor_with_tail() {
  Tensor x = placeholder("x", {3, 100}, DType::F32);
  IterVar r = reduce_axis(100, "r");
  Tensor sum = compute("s", {3}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Sum, x(i[0], r.var), {r});
  });
  Schedule s({sum});
  std::string rf = s.rfactor("s0", "r0", 16);
  s.reorder(rf, {"i0", "r0", "i1"});
  s.vectorize(rf, "i1");
  s.compute_at(rf, "s0", "i0");
  return s;
}

}  // namespace kiln::sample_schedules
