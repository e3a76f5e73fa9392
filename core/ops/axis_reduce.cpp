#include "core/ops/axis_reduce.h"

#include <algorithm>

#include "core/ops/broadcast.h"

namespace kiln {

std::vector<int64_t> reduction_dims(const OpArgs& a, int i,
                                    const std::optional<std::vector<int64_t>>& dims, int64_t rank) {
  std::vector<int64_t> result;
  if (!dims || dims->empty()) {
    for (int64_t d = 0; d < rank; ++d) result.push_back(d);
    return result;
  }
  for (int64_t d : *dims) {
    int64_t n = normalize_dim(a, i, d, rank);
    if (std::find(result.begin(), result.end(), n) != result.end())
      throw a.error(i, str_cat("names dimension ", n, " twice"));
    result.push_back(n);
  }
  // A rank-0 tensor accepts dim 0 or -1 but has nothing to reduce.
  if (rank == 0) result.clear();
  std::sort(result.begin(), result.end());
  return result;
}

static bool contains(const std::vector<int64_t>& dims, int64_t d) {
  return std::find(dims.begin(), dims.end(), d) != dims.end();
}

std::vector<int64_t> reduced_shape(const std::vector<int64_t>& shape,
                                   const std::vector<int64_t>& dims, bool keepdim) {
  std::vector<int64_t> out;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    if (!contains(dims, d))
      out.push_back(shape[d]);
    else if (keepdim)
      out.push_back(1);
  }
  return out;
}

std::vector<Expr> reduced_index(const std::vector<Expr>& full_index,
                                const std::vector<int64_t>& dims, bool keepdim) {
  std::vector<Expr> out;
  for (int64_t d = 0; d < static_cast<int64_t>(full_index.size()); ++d) {
    if (!contains(dims, d))
      out.push_back(full_index[d]);
    else if (keepdim)
      out.push_back(Expr(0));
  }
  return out;
}

Tensor reduce_over(const OpArgs& a, const std::string& name, const std::vector<int64_t>& shape,
                   const std::vector<int64_t>& dims, bool keepdim, ReduceOp op,
                   const std::function<Expr(const std::vector<Expr>& index)>& source) {
  std::vector<IterVar> raxes;
  for (int64_t d : dims) {
    if (shape[d] == 0)
      throw a.error(
          str_cat("cannot reduce over dimension ", d, " of size 0 (shape ", shape_str(shape), ")"));
    raxes.push_back(reduce_axis(shape[d], str_cat(name, ".r", d)));
  }
  return compute(name, reduced_shape(shape, dims, keepdim), [&](const std::vector<Var>& axes) {
    std::vector<Expr> index;
    size_t next_out = 0, next_red = 0;
    for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
      if (contains(dims, d)) {
        index.push_back(raxes[next_red++].var);
        if (keepdim) ++next_out;
      } else {
        index.push_back(axes[next_out++]);
      }
    }
    Expr value = source(index);
    if (raxes.empty()) return op == ReduceOp::ArgMax || op == ReduceOp::ArgMin ? Expr(0) : value;
    return reduce(op, value, raxes);
  });
}

int64_t reduced_count(const std::vector<int64_t>& shape, const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= shape[d];
  return n;
}

Tensor mean_of(const OpArgs& a, const std::string& name, const Tensor& x,
               const std::vector<int64_t>& dims, bool keepdim, DType acc) {
  Tensor s = reduce_over(a, name + ".sum", x->shape, dims, keepdim, ReduceOp::Sum,
                         [&](const std::vector<Expr>& i) { return cast(acc, x.load(i)); });
  double n = static_cast<double>(reduced_count(x->shape, dims));
  return compute(name, s->shape, [&](const std::vector<Var>& i) {
    return s.load(as_exprs(i)) / make_const(acc, n);
  });
}

Tensor squared_deviations(const OpArgs& a, const std::string& name, const Tensor& x,
                          const Tensor& mean, const std::vector<int64_t>& dims, bool keepdim) {
  return reduce_over(
      a, name, x->shape, dims, keepdim, ReduceOp::Sum, [&](const std::vector<Expr>& i) {
        Expr d = cast(mean->dtype, x.load(i)) - mean.load(reduced_index(i, dims, keepdim));
        return d * d;
      });
}

Tensor cast_tensor(const std::string& name, const Tensor& t, DType dtype) {
  if (t->dtype == dtype) return t;
  return compute(name, t->shape,
                 [&](const std::vector<Var>& i) { return cast(dtype, t.load(as_exprs(i))); });
}

}  // namespace kiln
