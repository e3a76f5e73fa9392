// Ops that read at indices held in a tensor: embedding, index_select, gather, and advanced
// indexing (index.Tensor, which core ATen's decompositions of padding, interpolation and im2col
// produce).
//
// PyTorch raises on an out-of-range (or negative) index; a kernel cannot raise, so each op declares
// its index argument as a value check (value_check.h) and the runtime checks it before the
// kernel runs. The kernels still clamp every index read from a tensor into [0, size - 1]: reading
// out of bounds must never crash, whatever runs them (the tuner measures on random indices).
#include <algorithm>

#include "core/ops/advanced_index.h"
#include "core/ops/broadcast.h"
#include "core/ops/elementwise.h"
#include "core/ops/index_guard.h"

namespace kiln {

namespace {

void require_index_tensor(const OpArgs& a, int i, const Tensor& t) {
  if (!is_int(t->dtype)) throw a.error(i, str_cat("must be an i64 or i32 tensor, got ", t->dtype));
}

std::vector<Tensor> lower_embedding(const std::vector<OpArg>& args) {
  OpArgs a("aten.embedding.default", args,
           {"weight", "indices", "padding_idx", "scale_grad_by_freq", "sparse"});
  Tensor w = a.tensor(0), idx = a.tensor(1);
  if (w->rank() != 2 || w->shape[0] == 0)
    throw a.error(0,
                  str_cat("has shape ", shape_str(w->shape), ", expected [num_embeddings, dim]"));
  require_index_tensor(a, 1, idx);
  std::vector<int64_t> shape = idx->shape;
  shape.push_back(w->shape[1]);
  return {compute("embedding", shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> at(i.begin(), i.end() - 1);
    return w(clamp_index(cast(DType::I64, idx.load(at)), w->shape[0]), i.back());
  })};
}

std::vector<Tensor> lower_index_select(const std::vector<OpArg>& args) {
  OpArgs a("aten.index_select.default", args, {"self", "dim", "index"});
  Tensor x = a.tensor(0), idx = a.tensor(2);
  require_index_tensor(a, 2, idx);
  if (idx->rank() > 1)
    throw a.error(2, str_cat("has shape ", shape_str(idx->shape), ", expected [K]"));
  if (x->rank() == 0) throw a.error(0, "is a rank-0 tensor");
  int64_t dim = normalize_dim(a, 1, a.integer(1), x->rank());
  if (x->shape[dim] == 0) throw a.error(0, str_cat("has an empty dimension ", dim));
  std::vector<int64_t> shape = x->shape;
  shape[dim] = idx->numel();
  return {compute("index_select", shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> at = as_exprs(i);
    Expr k = idx->rank() == 1 ? idx(i[dim]) : idx.load({});
    at[dim] = clamp_index(cast(DType::I64, k), x->shape[dim]);
    return x.load(at);
  })};
}

std::vector<Tensor> lower_gather(const std::vector<OpArg>& args) {
  OpArgs a("aten.gather.default", args, {"self", "dim", "index", "sparse_grad"});
  Tensor x = a.tensor(0), idx = a.tensor(2);
  require_index_tensor(a, 2, idx);
  int64_t dim = normalize_dim(a, 1, a.integer(1), x->rank());
  if (idx->rank() != x->rank())
    throw a.error(2, str_cat("has shape ", shape_str(idx->shape), ", expected rank ", x->rank()));
  for (int64_t d = 0; d < x->rank(); ++d)
    if (d != dim && idx->shape[d] > x->shape[d])
      throw a.error(2, str_cat("has shape ", shape_str(idx->shape), ", larger than self's ",
                               shape_str(x->shape), " in dimension ", d));
  if (x->rank() > 0 && x->shape[dim] == 0)
    throw a.error(0, str_cat("has an empty dimension ", dim));
  return {compute("gather", idx->shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> at = as_exprs(i);
    if (x->rank() > 0)
      at[dim] = clamp_index(cast(DType::I64, idx.load(as_exprs(i))), x->shape[dim]);
    return x.load(at);
  })};
}

/// Advanced indexing, x[..., i0, i1, ...] (advanced_index.h).
std::vector<Tensor> lower_index(const std::vector<OpArg>& args) {
  OpArgs a("aten.index.Tensor", args, {"self", "indices"});
  Tensor x = a.tensor(0);
  AdvancedIndex geometry(a, x, 1);
  return {compute("index", geometry.shape(),
                  [&](const std::vector<Var>& i) { return x.load(geometry.source(i)); })};
}

/// index.Tensor's checks: each index tensor in [-size, size) of the dimension it indexes.
std::vector<ValueCheck> index_checks(const std::vector<OpArg>& args) {
  OpArgs a("aten.index.Tensor", args, {"self", "indices"});
  return AdvancedIndex(a, a.tensor(0), 1).checks(1);
}

}  // namespace

OpChecks index_check(const std::string& op, std::vector<std::string_view> names,
                     ValueCheck::Rule on_dim0, ValueCheck::Rule on_other, int index_arg,
                     int dim_arg) {
  return [=](const std::vector<OpArg>& args) {
    OpArgs a(op, args, names);
    Tensor x = a.tensor(0);
    int64_t dim = dim_arg < 0 ? 0 : normalize_dim(a, dim_arg, a.integer(dim_arg), x->rank());
    int64_t size = x->rank() == 0 ? 1 : x->shape[dim];
    return std::vector<ValueCheck>{{dim == 0 ? on_dim0 : on_other, index_arg, size, dim}};
  };
}

void register_indexing_ops(OpRegistry& r) {
  r.add("aten.embedding.default", lower_embedding);
  r.add("aten.index_select.default", lower_index_select);
  r.add("aten.gather.default", lower_gather);
  r.add("aten.index.Tensor", lower_index);
  r.mark_copying("aten.index.Tensor");
  r.add_checks("aten.index.Tensor", index_checks);
  r.add_checks("aten.embedding.default",
               index_check("aten.embedding.default",
                           {"weight", "indices", "padding_idx", "scale_grad_by_freq", "sparse"},
                           ValueCheck::Rule::Index, ValueCheck::Rule::Index, 1, -1));
  r.add_checks("aten.index_select.default",
               index_check("aten.index_select.default", {"self", "dim", "index"},
                           ValueCheck::Rule::Index, ValueCheck::Rule::Bounds, 2, 1));
  r.add_checks("aten.gather.default",
               index_check("aten.gather.default", {"self", "dim", "index", "sparse_grad"},
                           ValueCheck::Rule::Bounds, ValueCheck::Rule::Bounds, 2, 1));
}

}  // namespace kiln
