#include "core/schedule/scan_scatter_lowering.h"

#include <algorithm>

#include "core/ir/functor.h"
#include "core/ir/simplify.h"
#include "core/ir/tensor.h"
#include "core/schedule/guards.h"
#include "core/support/error.h"

namespace kiln {

namespace {

class ReadOwnStorage : public ExprMutator {
 public:
  ReadOwnStorage(const TensorNode* state, Tensor storage) : state_(state), storage_(storage) {}

 protected:
  Expr mutate_load(const Expr& e, const LoadNode* n) override {
    Expr loaded = ExprMutator::mutate_load(e, n);
    auto* load = loaded.as<LoadNode>();
    if (load->tensor.get() != state_) return loaded;
    return LoadNode::make(storage_, load->indices);
  }

 private:
  const TensorNode* state_;
  Tensor storage_;
};

class PeelFirstIteration : public StmtMutator {
 public:
  explicit PeelFirstIteration(const VarNode* var) : var_(var) {}

 protected:
  Stmt mutate_for(const Stmt& s, const ForNode* n) override {
    if (n->var.get() != var_) return StmtMutator::mutate_for(s, n);
    Stmt first = substitute(n->body, VarMap{{var_, Expr(int64_t{0})}});
    if (n->extent == 1) return first;
    Var rest(n->var.name());
    drop_first_ = true;
    Stmt body = mutate(n->body);
    drop_first_ = false;
    body = substitute(body, VarMap{{var_, rest + int64_t{1}}});
    return SeqNode::make(
        {first, ForNode::make(rest, n->extent - 1, n->for_kind, body, n->thread_axis)});
  }

  Expr mutate_select(const Expr& e, const SelectNode* n) override {
    auto* eq = n->cond.as<BinaryNode>();
    if (drop_first_ && eq && eq->op == BinaryOp::Eq && eq->a.get() == var_ &&
        as_const_int(eq->b) == 0)
      return mutate(n->false_value);
    return StmtMutator::mutate_select(e, n);
  }

 private:
  const VarNode* var_;
  bool drop_first_ = false;
};

/// The lanes of an owned innermost axis of `extent` that run innermost: as many as divide it
/// and leave at least 4 chunks to share out, at most 256 (so each source row is read in long
/// runs), else a cache line of f32, the tail guarded.
int64_t update_chunk(int64_t extent) {
  for (int64_t lanes : {256, 128, 64, 32, 16})
    if (extent % lanes == 0 && extent / lanes >= 4) return lanes;
  for (int64_t lanes : {256, 128, 64, 32, 16})
    if (extent % lanes == 0) return lanes;
  return 16;
}

/// One update's nest (see lower_scatter_updates).
Stmt lower_update(const Tensor& t, size_t u, bool parallel) {
  const ScatterUpdate& update = t->updates[u];
  int rank = static_cast<int>(update.axes.size());
  auto owned = [&](int d) {
    const VarNode* v = update.axes[d].var.get();
    return std::any_of(update.target.begin(), update.target.end(),
                       [&](const Expr& index) { return index.get() == v; });
  };
  struct Loop {
    Var var;
    int64_t extent;
    bool owned;
    ForKind kind = ForKind::Serial;
  };
  std::vector<Loop> outer, rest, lanes;
  std::vector<Expr> guards;
  VarMap vmap;
  for (int d = 0; d < rank; ++d) {
    const IterVar& ax = update.axes[d];
    std::string name = str_cat(t->name, ".u", u, ".", d);
    bool chunked = d == rank - 1 && owned(d) && !rest.empty() && ax.extent > 16;
    if (!chunked) {
      Var v(name);
      (owned(d) ? outer : rest).push_back({v, ax.extent, owned(d)});
      vmap[ax.var.get()] = v;
      continue;
    }
    Var o(name + ".o"), i(name + ".i");
    // Lanes write different elements: a whole chunk is one vector loop, unless its tail is
    // guarded.
    int64_t chunk = update_chunk(ax.extent);
    bool tail = ax.extent % chunk != 0;
    outer.push_back({o, (ax.extent + chunk - 1) / chunk, true});
    lanes.push_back({i, chunk, true, tail ? ForKind::Serial : ForKind::Vectorized});
    Expr value = o * chunk + i;
    if (tail) guards.push_back(value < ax.extent);
    vmap[ax.var.get()] = value;
  }
  std::vector<Expr> target;
  for (const Expr& index : update.target) target.push_back(substitute(index, vmap));
  Expr value = read_own_storage(substitute(update.value, vmap), t);
  Stmt body = guarded(guards, StoreNode::make(t, target, value));
  std::vector<Loop> order = outer;
  order.insert(order.end(), rest.begin(), rest.end());
  order.insert(order.end(), lanes.begin(), lanes.end());
  for (size_t k = order.size(); k-- > 0;) {
    bool in_parallel = k == 0 && order[k].owned && parallel && order[k].extent > 1;
    body = ForNode::make(order[k].var, order[k].extent,
                         in_parallel ? ForKind::Parallel : order[k].kind, body);
  }
  return body;
}

}  // namespace

Stmt lower_scatter_updates(const Tensor& t, bool parallel) {
  std::vector<Stmt> nests;
  for (size_t u = 0; u < t->updates.size(); ++u) nests.push_back(lower_update(t, u, parallel));
  return SeqNode::make(nests);
}

Expr read_own_storage(const Expr& body, const Tensor& t) {
  return ReadOwnStorage(t->state.get(), t).mutate(body);
}

Stmt peel_first_iteration(const Stmt& nest, const VarNode* var) {
  return PeelFirstIteration(var).mutate(nest);
}

}  // namespace kiln
