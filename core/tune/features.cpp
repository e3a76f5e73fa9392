// Loop-IR features, AutoTVM "itervar" style. Every count is log-scaled as log2(1 + x); flags are
// 0/1. The vector is laid out as follows (FeatureExtractor::names() spells out every slot):
//
//   kTopStatements (3) statement blocks, the Stores that run most often first (ties in program
//   order), zero-padded when the kernel has fewer Stores. One block (100 slots):
//     count        how often the Store runs (product of enclosing loop extents)
//     depth        number of enclosing loops (raw)
//     guards       number of enclosing `if`s (raw)
//     loop0..5     the innermost kMaxLoops enclosing loops, innermost first:
//                    log_extent, and one-hot kind: serial, parallel, vectorized, unrolled, gpu
//     <kind>.*     per kind: `product` of the extents of the enclosing loops of that kind and
//                    `level` of the innermost such loop counted from the innermost loop, plus one
//                    (0: no loop of that kind)
//     arith.*      operations in the stored value per execution (address arithmetic excluded):
//                    fadd, fmul, fma (a float add of a product), fdiv, fcmp (min/max/compare),
//                    iops, idiv, transcendental, select, cast
//     loads        distinct loads in the stored value (a read of the stored element counts)
//     acc0..3      the store, then the loads touching the most elements:
//                    stride_inner (|step| of the flat index per step of the innermost loop;
//                    through floordiv/floormod the step between wrap-arounds), nonaffine (that
//                    step is not exact), stride_vector and stride_parallel (the same for the
//                    innermost vectorized and parallel loops), touched (elements: product of
//                    the extents of the loops the index depends on, at most the buffer's size),
//                    reuse (product of the extents of the loops it does not depend on), one-hot
//                    scope: param, local, shared, global
//   global (16 slots): stores, loops, max_depth, guards, flops (count-weighted arithmetic, an fma
//   counting two), bytes (touched bytes of every access), accesses (count-weighted),
//   intensity (flops / bytes), parallel (largest product of parallel extents around a Store),
//   vector_width (largest vectorized extent), unroll (largest product of unrolled extents),
//   allocs, local_bytes, shared_bytes, global_bytes, gpu (largest product of GPU-bound extents).
//
// In all 3 * 100 + 16 = 316 slots. A kind's product, and parallel, unroll and gpu, are 0 where
// there is no loop of that kind.
#include "core/tune/features.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/ir/functor.h"
#include "core/ir/simplify.h"
#include "core/support/error.h"
#include "core/tune/loop_nest.h"

namespace kiln {
namespace {

constexpr int kTopStatements = 3;
constexpr int kMaxLoops = 6;
constexpr int kMaxAccesses = 4;
constexpr int kKinds = 5;
constexpr std::array<const char*, kKinds> kKindNames = {"serial", "parallel", "vectorized",
                                                        "unrolled", "gpu"};
constexpr std::array<const char*, 4> kScopeNames = {"param", "local", "shared", "global"};

int kind_index(ForKind k) {
  switch (k) {
    case ForKind::Serial: return 0;
    case ForKind::Parallel: return 1;
    case ForKind::Vectorized: return 2;
    case ForKind::Unrolled: return 3;
    case ForKind::GpuBlock:
    case ForKind::GpuThread: return 4;
  }
  KILN_CHECK(false, "unknown loop kind");
}

double log_scale(double x) {
  return std::log2(1.0 + std::max(0.0, x));
}

// Appends values, and their names when asked, so that names() and extract() cannot disagree.
class FeatureRow {
 public:
  explicit FeatureRow(bool with_names) : with_names_(with_names) {}
  void add(const std::string& name, double value) {
    values.push_back(static_cast<float>(value));
    if (with_names_) names.push_back(prefix_ + name);
  }
  void set_prefix(std::string p) { prefix_ = std::move(p); }
  std::vector<float> values;
  std::vector<std::string> names;

 private:
  bool with_names_;
  std::string prefix_;
};

struct AccessStats {
  double stride_inner = 0, nonaffine = 0, stride_vector = 0, stride_parallel = 0, touched = 0,
         reuse = 0;
  int scope = -1;  // index into kScopeNames
};

// |stride| of `index` in the innermost loop of `kind` around `s` (0 without one); sets
// `nonaffine` when that stride is not exact.
double stride_in(const Expr& index, const StatementInfo& s, int kind, double& nonaffine) {
  for (auto it = s.loops.rbegin(); it != s.loops.rend(); ++it) {
    if (kind >= 0 && kind_index((*it)->for_kind) != kind) continue;
    auto k = local_stride(index, (*it)->var.get());
    if (!k || !k->exact) nonaffine = 1;
    return k ? std::abs(k->step) : 0;
  }
  return 0;
}

AccessStats access_stats(const Access& a, const StatementInfo& s, const LoopNest& c,
                         const LoweredFunc& f) {
  AccessStats r;
  double unused = 0;
  r.stride_inner = stride_in(a.index, s, -1, r.nonaffine);
  r.stride_vector = stride_in(a.index, s, kind_index(ForKind::Vectorized), unused);
  r.stride_parallel = stride_in(a.index, s, kind_index(ForKind::Parallel), unused);
  double touched = 1, reuse = 1;
  for (const ForNode* l : s.loops)
    (uses_var(a.index, l->var.get()) ? touched : reuse) *= static_cast<double>(l->extent);
  r.touched = std::min(touched, static_cast<double>(a.tensor->numel()));
  r.reuse = reuse;
  auto scope = c.scopes.find(a.tensor.get());
  bool param = std::any_of(f.params.begin(), f.params.end(),
                           [&](const Tensor& p) { return p.same_as(a.tensor); });
  if (param || scope == c.scopes.end()) {
    r.scope = 0;
  } else {
    r.scope = 1 + static_cast<int>(scope->second);
  }
  return r;
}

// The loops of one kind around a statement: the product of their extents (0 when there is
// none) and the level of the innermost, counted from the innermost loop plus one (0: none).
struct KindSummary {
  double product = 0;
  int level = 0;
};

KindSummary summarize(const std::vector<const ForNode*>& loops, int kind) {
  KindSummary r;
  int depth = static_cast<int>(loops.size());
  for (int i = 0; i < depth; ++i) {
    const ForNode* l = loops[depth - 1 - i];
    if (kind_index(l->for_kind) != kind) continue;
    r.product = (r.level == 0 ? 1 : r.product) * static_cast<double>(l->extent);
    if (r.level == 0) r.level = i + 1;
  }
  return r;
}

// One statement block; `s` null writes the zero padding.
void add_statement(FeatureRow& row, const StatementInfo* s, const LoopNest& c,
                   const LoweredFunc& f) {
  row.add("count", s ? log_scale(s->count) : 0);
  row.add("depth", s ? static_cast<double>(s->loops.size()) : 0);
  row.add("guards", s ? s->guards : 0);
  int depth = s ? static_cast<int>(s->loops.size()) : 0;
  for (int i = 0; i < kMaxLoops; ++i) {
    const ForNode* l = i < depth ? s->loops[depth - 1 - i] : nullptr;
    std::string p = str_cat("loop", i, ".");
    row.add(p + "log_extent", l ? log_scale(static_cast<double>(l->extent)) : 0);
    for (int k = 0; k < kKinds; ++k)
      row.add(p + kKindNames[k], l && kind_index(l->for_kind) == k ? 1 : 0);
  }
  for (int k = 0; k < kKinds; ++k) {
    KindSummary sum = s ? summarize(s->loops, k) : KindSummary{};
    row.add(std::string(kKindNames[k]) + ".product", log_scale(sum.product));
    row.add(std::string(kKindNames[k]) + ".level", sum.level);
  }
  for (int op = 0; op < kArithOps; ++op)
    row.add(std::string("arith.") + kArithOpNames[op], s ? log_scale(s->arith[op]) : 0);
  row.add("loads", s ? log_scale(static_cast<double>(s->accesses.size() - 1)) : 0);

  std::vector<AccessStats> accesses;
  if (s)
    for (const Access& a : s->accesses) accesses.push_back(access_stats(a, *s, c, f));
  if (accesses.size() > 1)
    std::stable_sort(
        accesses.begin() + 1, accesses.end(),
        [](const AccessStats& a, const AccessStats& b) { return a.touched > b.touched; });
  for (int i = 0; i < kMaxAccesses; ++i) {
    const AccessStats* a = i < static_cast<int>(accesses.size()) ? &accesses[i] : nullptr;
    std::string p = str_cat("acc", i, ".");
    row.add(p + "stride_inner", a ? log_scale(a->stride_inner) : 0);
    row.add(p + "nonaffine", a ? a->nonaffine : 0);
    row.add(p + "stride_vector", a ? log_scale(a->stride_vector) : 0);
    row.add(p + "stride_parallel", a ? log_scale(a->stride_parallel) : 0);
    row.add(p + "touched", a ? log_scale(a->touched) : 0);
    row.add(p + "reuse", a ? log_scale(a->reuse) : 0);
    for (int sc = 0; sc < static_cast<int>(kScopeNames.size()); ++sc)
      row.add(p + kScopeNames[sc], a && a->scope == sc ? 1 : 0);
  }
}

void add_globals(FeatureRow& row, const LoopNest& c, const LoweredFunc& f) {
  double flops = 0, bytes = 0, accesses = 0, parallel = 0, vector = 0, unroll = 0, gpu = 0;
  size_t max_depth = 0;
  for (const StatementInfo& s : c.statements) {
    const auto& n = s.arith;
    double ops = 0;
    for (int op = 0; op < kArithOps; ++op) ops += n[op];
    ops += n[static_cast<int>(ArithOp::Fma)];  // an fma is two flops
    flops += s.count * ops;
    accesses += s.count * static_cast<double>(s.accesses.size());
    for (const Access& a : s.accesses)
      bytes += access_stats(a, s, c, f).touched * dtype_bytes(a.tensor->dtype);
    for (const ForNode* l : s.loops)
      if (l->for_kind == ForKind::Vectorized)
        vector = std::max(vector, static_cast<double>(l->extent));
    parallel = std::max(parallel, summarize(s.loops, kind_index(ForKind::Parallel)).product);
    unroll = std::max(unroll, summarize(s.loops, kind_index(ForKind::Unrolled)).product);
    gpu = std::max(gpu, summarize(s.loops, kind_index(ForKind::GpuThread)).product);
    max_depth = std::max(max_depth, s.loops.size());
  }
  std::array<double, 3> alloc_bytes{};  // by MemoryScope
  for (const AllocateNode* a : c.allocations)
    alloc_bytes[static_cast<int>(a->scope)] +=
        static_cast<double>(a->tensor->numel()) * dtype_bytes(a->tensor->dtype);
  row.set_prefix("global.");
  row.add("stores", log_scale(static_cast<double>(c.statements.size())));
  row.add("loops", log_scale(c.loops));
  row.add("max_depth", static_cast<double>(max_depth));
  row.add("guards", log_scale(c.guards));
  row.add("flops", log_scale(flops));
  row.add("bytes", log_scale(bytes));
  row.add("accesses", log_scale(accesses));
  row.add("intensity", log_scale(bytes > 0 ? flops / bytes : 0));
  row.add("parallel", log_scale(parallel));
  row.add("vector_width", log_scale(vector));
  row.add("unroll", log_scale(unroll));
  row.add("allocs", log_scale(static_cast<double>(c.allocations.size())));
  row.add("local_bytes", log_scale(alloc_bytes[static_cast<int>(MemoryScope::Local)]));
  row.add("shared_bytes", log_scale(alloc_bytes[static_cast<int>(MemoryScope::Shared)]));
  row.add("global_bytes", log_scale(alloc_bytes[static_cast<int>(MemoryScope::Global)]));
  row.add("gpu", log_scale(gpu));
}

FeatureRow make_row(const LoweredFunc& f, bool with_names) {
  LoopNest c = analyze_loop_nest(f.body);
  std::vector<const StatementInfo*> order;
  for (const StatementInfo& s : c.statements) order.push_back(&s);
  std::stable_sort(order.begin(), order.end(), [](const StatementInfo* a, const StatementInfo* b) {
    return a->count > b->count;
  });
  FeatureRow row(with_names);
  for (int i = 0; i < kTopStatements; ++i) {
    row.set_prefix(str_cat("s", i, "."));
    add_statement(row, i < static_cast<int>(order.size()) ? order[i] : nullptr, c, f);
  }
  add_globals(row, c, f);
  return row;
}

}  // namespace

const std::vector<std::string>& FeatureExtractor::names() {
  static const std::vector<std::string> names = make_row(LoweredFunc{}, true).names;
  return names;
}

int FeatureExtractor::length() {
  return static_cast<int>(names().size());
}

std::vector<float> FeatureExtractor::extract(const LoweredFunc& f) const {
  return make_row(f, false).values;
}

}  // namespace kiln
