// Ops that read at indices held in a tensor: embedding, index_select, gather, and advanced
// indexing (index.Tensor, which core ATen's decompositions of padding, interpolation and im2col
// produce).
//
// PyTorch raises on an out-of-range (or negative) index; a kernel cannot raise, so each op declares
// its index argument as a value check (value_check.h) and the runtime checks it before the
// kernel runs. The kernels still clamp every index read from a tensor into [0, size - 1]: reading
// out of bounds must never crash, whatever runs them (the tuner measures on random indices).
#include <algorithm>

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

/// Advanced indexing, x[..., i0, i1, ...]: a None entry keeps a dimension whole; the index tensors
/// broadcast together to a shape B, which takes the place of the dimensions they index when
/// those are adjacent, and goes first when a None separates them (NumPy's rule). A negative index
/// counts from the end. Boolean masks have a data-dependent shape and stay ATen.
std::vector<Tensor> lower_index(const std::vector<OpArg>& args) {
  OpArgs a("aten.index.Tensor", args, {"self", "indices"});
  Tensor x = a.tensor(0);
  std::vector<Tensor> indices = a.optional_tensors(1);
  if (static_cast<int64_t>(indices.size()) > x->rank())
    throw a.error(
        1, str_cat("has ", indices.size(), " entries for a tensor of shape ", shape_str(x->shape)));
  std::vector<int64_t> indexed;  // the dimensions of x an index tensor reads
  std::vector<std::vector<int64_t>> shapes;
  for (size_t d = 0; d < indices.size(); ++d) {
    if (!indices[d].defined()) continue;
    if (indices[d]->dtype == DType::Bool)
      throw a.error(1, "holds a boolean mask, whose result shape depends on its values");
    require_index_tensor(a, 1, indices[d]);
    if (x->shape[d] == 0) throw a.error(0, str_cat("has an empty dimension ", d));
    indexed.push_back(static_cast<int64_t>(d));
    shapes.push_back(indices[d]->shape);
  }
  if (indexed.empty()) throw a.error(1, "holds no index tensor");
  std::vector<int64_t> b = broadcast_shapes(a, shapes);
  bool adjacent = indexed.back() - indexed.front() + 1 == static_cast<int64_t>(indexed.size());
  int64_t at = adjacent ? indexed.front() : 0;  // where B's dimensions go in the result
  std::vector<int64_t> kept;                    // the dimensions of x no index tensor reads
  for (int64_t d = 0; d < x->rank(); ++d)
    if (std::find(indexed.begin(), indexed.end(), d) == indexed.end()) kept.push_back(d);
  std::vector<int64_t> shape;
  for (int64_t d : kept) shape.push_back(x->shape[d]);
  shape.insert(shape.begin() + at, b.begin(), b.end());
  const int64_t rank_b = static_cast<int64_t>(b.size());
  return {compute("index", shape, [&](const std::vector<Var>& i) {
    std::vector<Var> in_b(i.begin() + at, i.begin() + at + rank_b);
    std::vector<Expr> from(x->rank());
    for (size_t k = 0; k < kept.size(); ++k) {
      int64_t position = static_cast<int64_t>(k) < at ? k : k + rank_b;
      from[kept[k]] = i[position];
    }
    for (int64_t d : indexed) {
      Expr v = cast(DType::I64, load_broadcast(indices[d], in_b));
      Expr wrapped = select(v < 0, v + x->shape[d], v);
      from[d] = clamp_index(wrapped, x->shape[d]);
    }
    return x.load(from);
  })};
}

/// index.Tensor's checks: each index tensor in [-size, size) of the dimension it indexes.
std::vector<ValueCheck> index_checks(const std::vector<OpArg>& args) {
  OpArgs a("aten.index.Tensor", args, {"self", "indices"});
  Tensor x = a.tensor(0);
  std::vector<Tensor> indices = a.optional_tensors(1);
  std::vector<ValueCheck> checks;
  for (size_t d = 0; d < indices.size() && static_cast<int64_t>(d) < x->rank(); ++d)
    if (indices[d].defined())
      checks.push_back({ValueCheck::Rule::Wrapped, 1, x->shape[d], static_cast<int64_t>(d),
                        static_cast<int>(d)});
  return checks;
}

/// The index argument `index_arg` of `op`, indexing dimension `dim_arg` (-1: dimension 0) of
/// argument 0 (`weight` for embedding, else `self`), checked by `on_dim0` when that dimension is
/// 0 and by `on_other` else (Index or Bounds: eager raises IndexError or RuntimeError, and
/// index_select does either, by dimension).
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

}  // namespace

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
