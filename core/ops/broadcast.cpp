#include "core/ops/broadcast.h"

namespace kiln {

std::vector<int64_t> broadcast_shapes(const OpArgs& a,
                                      const std::vector<std::vector<int64_t>>& shapes) {
  size_t rank = 0;
  for (auto& s : shapes) rank = std::max(rank, s.size());
  std::vector<int64_t> out(rank, 1);
  for (auto& s : shapes) {
    size_t lead = rank - s.size();
    for (size_t d = 0; d < s.size(); ++d) {
      int64_t& o = out[lead + d];
      if (s[d] == o || s[d] == 1) continue;
      if (o != 1) {
        std::string all;
        for (auto& x : shapes) all += (all.empty() ? "" : ", ") + shape_str(x);
        throw a.error(str_cat("shapes ", all, " are not broadcastable (dimension ", lead + d,
                              " has sizes ", o, " and ", s[d], ")"));
      }
      o = s[d];
    }
  }
  return out;
}

Expr load_broadcast(const Tensor& t, const std::vector<Var>& axes) {
  size_t lead = axes.size() - t->shape.size();
  std::vector<Expr> idx;
  for (size_t d = 0; d < t->shape.size(); ++d)
    idx.push_back(t->shape[d] == 1 ? Expr(0) : Expr(axes[lead + d]));
  return t.load(std::move(idx));
}

std::vector<Expr> as_exprs(const std::vector<Var>& axes) {
  return {axes.begin(), axes.end()};
}

}  // namespace kiln
