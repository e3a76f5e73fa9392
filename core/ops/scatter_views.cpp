// The inverses of view ops, which backward graphs and padding write: slice_scatter,
// select_scatter and diagonal_scatter give `self` with the elements that the view would read
// replaced by `src`. Each is an index map under a select, never a copy loop.
#include "core/ops/broadcast.h"
#include "core/ops/elementwise.h"
#include "core/ops/view_geometry.h"

namespace kiln {

namespace {

/// Checks that `src` has the shape of the view it replaces.
void require_view_shape(const OpArgs& a, const Tensor& src, const std::vector<int64_t>& view) {
  if (src->shape != view)
    throw a.error(1, str_cat("has shape ", shape_str(src->shape), ", expected ", shape_str(view),
                             ", the shape of the view it replaces"));
}

/// self where `inside` is false, else src at `from` (cast to self's dtype).
Tensor scattered(const OpArgs& a, const Tensor& self, const Tensor& src,
                 const std::function<std::pair<Expr, std::vector<Expr>>(const std::vector<Var>&)>&
                     inside_and_from) {
  return compute(short_name(a.op()), self->shape, [&](const std::vector<Var>& i) {
    auto [inside, from] = inside_and_from(i);
    return select(inside, cast(self->dtype, src.load(from)), self.load(as_exprs(i)));
  });
}

std::vector<Tensor> lower_slice_scatter(const std::vector<OpArg>& args) {
  OpArgs a("aten.slice_scatter.default", args, {"self", "src", "dim", "start", "end", "step"});
  Tensor self = a.tensor(0), src = a.tensor(1);
  SliceView v = slice_view(a, self, 2);
  require_view_shape(a, src, v.shape);
  return {scattered(a, self, src, [&](const std::vector<Var>& i) {
    Expr at = i[v.dim] - v.start;
    Expr inside = i[v.dim] >= v.start && i[v.dim] < v.end;
    if (v.step != 1) inside = inside && floormod(at, Expr(v.step)) == 0;
    std::vector<Expr> from = as_exprs(i);
    from[v.dim] = v.step == 1 ? at : floordiv(at, Expr(v.step));
    return std::pair{inside, from};
  })};
}

std::vector<Tensor> lower_select_scatter(const std::vector<OpArg>& args) {
  OpArgs a("aten.select_scatter.default", args, {"self", "src", "dim", "index"});
  Tensor self = a.tensor(0), src = a.tensor(1);
  SelectView v = select_view(a, self, 2);
  require_view_shape(a, src, v.shape);
  return {scattered(a, self, src, [&](const std::vector<Var>& i) {
    std::vector<Expr> from = as_exprs(i);
    from.erase(from.begin() + v.dim);
    return std::pair{i[v.dim] == v.index, from};
  })};
}

std::vector<Tensor> lower_diagonal_scatter(const std::vector<OpArg>& args) {
  OpArgs a("aten.diagonal_scatter.default", args, {"self", "src", "offset", "dim1", "dim2"});
  Tensor self = a.tensor(0), src = a.tensor(1);
  DiagonalView v = diagonal_view(a, self, 2);
  require_view_shape(a, src, v.shape);
  return {scattered(a, self, src, [&](const std::vector<Var>& i) {
    // On the diagonal: i[dim2] - i[dim1] == col0 - row0, at position i[dim1] - row0 along it.
    std::vector<Expr> from;
    for (int64_t d : v.kept) from.push_back(i[d]);
    from.push_back(i[v.dim1] - v.row0);
    Expr inside = i[v.dim2] - i[v.dim1] == v.col0 - v.row0 && i[v.dim1] >= v.row0 &&
                  i[v.dim1] < v.row0 + v.length;
    return std::pair{inside, from};
  })};
}

}  // namespace

void register_scatter_view_ops(OpRegistry& r) {
  r.add("aten.slice_scatter.default", lower_slice_scatter);
  r.add("aten.select_scatter.default", lower_select_scatter);
  r.add("aten.diagonal_scatter.default", lower_diagonal_scatter);
}

}  // namespace kiln
