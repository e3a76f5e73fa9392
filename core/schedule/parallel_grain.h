// Which parallel loops are worth their threads. A parallel loop forks and joins the thread pool
// on every call: microseconds while the pool's threads spin, tens of microseconds after an idle
// gap has let them sleep (a served model's calls have such gaps). A loop nest that does less
// work than that costs runs on the calling thread: its parallel loop is lowered serial. Work is
// counted in executions of innermost statements, a vectorized loop's lanes as one, the way
// ATen's grain size counts elements: the same rule then holds for Kiln's kernels and ATen's ops,
// for the default schedule and every tuned one.
#pragma once

#include <cstdint>

#include "core/ir/stmt.h"

namespace kiln {

/// Below this much work a loop nest runs serially (ATen's at::internal::GRAIN_SIZE).
constexpr int64_t kMinParallelWork = 32768;

/// How many statements `s` executes, a vectorized loop's lanes counted once and both branches of
/// an if counted (saturates at INT64_MAX).
int64_t work_of(const Stmt& s);

/// `body` with every parallel loop whose nest does less than kMinParallelWork made serial.
Stmt serialize_small_parallel_loops(const Stmt& body);

}  // namespace kiln
