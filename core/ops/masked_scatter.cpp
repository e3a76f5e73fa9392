// masked_scatter and its backward: the i-th element where the mask is set (in row-major order
// of self's shape, the mask broadcast to it) takes the i-th element of source, and the backward
// gathers those elements back. Both count the set elements before each position with a scan
// over the flattened mask (core/ir/tensor.h), serial over the whole tensor as ATen's kernel is.
//
// Eager raises when source has fewer elements than the mask sets, which no kernel can: Kiln
// lowers the ops only where that cannot happen (source at least as large as self), and leaves the
// rest to ATen.
#include "core/ops/broadcast.h"
#include "core/ops/elementwise.h"
#include "core/ops/index_guard.h"
#include "core/ops/row_major.h"

namespace kiln {

namespace {

/// `mask` read at the point `i` of `shape`, to which it broadcasts.
Expr mask_at(const Tensor& mask, const std::vector<Expr>& i) {
  std::vector<Expr> at;
  size_t offset = i.size() - mask->shape.size();
  for (size_t d = 0; d < mask->shape.size(); ++d)
    at.push_back(mask->shape[d] == 1 ? Expr(int64_t{0}) : i[offset + d]);
  return mask.load(at);
}

/// The mask of argument `i`, checked to broadcast to `shape`.
Tensor broadcast_mask(const OpArgs& a, int i, const std::vector<int64_t>& shape) {
  Tensor mask = a.tensor(i);
  if (mask->dtype != DType::Bool) throw a.error(i, str_cat("is ", mask->dtype, ", expected bool"));
  bool fits = mask->rank() <= static_cast<int64_t>(shape.size());
  for (int64_t d = 1; fits && d <= mask->rank(); ++d) {
    int64_t m = mask->shape[mask->rank() - d];
    fits = m == 1 || m == shape[shape.size() - d];
  }
  if (!fits)
    throw a.error(i, str_cat("has shape ", shape_str(mask->shape), ", which does not broadcast to ",
                             shape_str(shape)));
  return mask;
}

/// How many elements the mask sets up to and including each row-major position of `shape`.
Tensor set_before(const std::string& name, const Tensor& mask, const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  auto set = [&](const Var& p) { return cast(DType::I64, mask_at(mask, index_at(p, shape))); };
  return scan(
      name + ".count", {n}, 0, [&](const std::vector<Var>& p) { return set(p[0]); },
      [&](const std::vector<Var>& p, const Expr& prev) { return prev + set(p[0]); });
}

std::vector<Tensor> lower_masked_scatter(const std::vector<OpArg>& args) {
  OpArgs a("aten.masked_scatter.default", args, {"self", "mask", "source"});
  Tensor self = a.tensor(0), source = a.tensor(2);
  Tensor mask = broadcast_mask(a, 1, self->shape);
  if (source->dtype != self->dtype)
    throw a.error(2, str_cat("is ", source->dtype, ", expected ", self->dtype, " like self"));
  if (source->numel() < self->numel())
    throw a.error(2, str_cat("has ", source->numel(), " elements, fewer than self's ",
                             self->numel(), ": whether it has enough depends on the mask"));
  if (self->numel() == 0) throw a.error(0, "is empty");
  Tensor count = set_before("masked_scatter", mask, self->shape);
  return {compute("masked_scatter", self->shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> at = as_exprs(i);
    Expr k = count(flat_position(at, self->shape)) - int64_t{1};
    Expr taken = source.load(index_at(clamp_index(k, source->numel()), source->shape));
    return select(mask_at(mask, at), taken, self.load(at));
  })};
}

/// The backward: grad's elements where the mask is set, in order, into a tensor of `sizes`,
/// zeros after them.
std::vector<Tensor> lower_masked_scatter_backward(const std::vector<OpArg>& args) {
  OpArgs a("aten.masked_scatter_backward.default", args, {"grad_output", "mask", "sizes"});
  Tensor grad = a.tensor(0);
  Tensor mask = broadcast_mask(a, 1, grad->shape);
  std::vector<int64_t> sizes = a.ints(2);
  int64_t n = 1;
  for (int64_t s : sizes) n *= s;
  if (n < grad->numel())
    throw a.error(2, str_cat("hold ", n, " elements, fewer than grad_output's ", grad->numel(),
                             ": whether they suffice depends on the mask"));
  if (grad->numel() == 0) throw a.error(0, "is empty");
  Tensor count = set_before("masked_scatter_backward", mask, grad->shape);
  // Every position writes at the slot of the last set element up to it: its own value where the
  // mask is set, else that slot's value again (no change; slot 0 before any is set).
  return {scatter("masked_scatter_backward", sizes,
                  [&](const std::vector<Var>&) { return make_const(grad->dtype, 0); },
                  {{grad->shape,
                    [&](const std::vector<Var>& u) {
                      Expr k = count(flat_position(as_exprs(u), grad->shape)) - int64_t{1};
                      return index_at(clamp_index(k, n), sizes);
                    },
                    [&](const std::vector<Var>& u, const Expr& old) {
                      return select(mask_at(mask, as_exprs(u)), grad.load(as_exprs(u)), old);
                    }}})};
}

}  // namespace

void register_masked_scatter_ops(OpRegistry& r) {
  r.add("aten.masked_scatter.default", lower_masked_scatter);
  r.mark_copying("aten.masked_scatter.default");
  r.add("aten.masked_scatter_backward.default", lower_masked_scatter_backward);
  r.mark_copying("aten.masked_scatter_backward.default");
}

}  // namespace kiln
