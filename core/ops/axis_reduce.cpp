#include "core/ops/axis_reduce.h"

#include <algorithm>

#include "core/ir/functor.h"
#include "core/ir/simplify.h"
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

namespace {

/// The reduce axes of `dims` (sorted) of `shape`, one per run of adjacent dims when `fuse`
/// (extent the run's product), else one per dim; `index_of` gives each dim's index expression
/// in them (a fused run's dims as floordiv/floormod of its axis, row-major).
struct ReduceAxes {
  std::vector<IterVar> axes;
  std::vector<Expr> index_of;  // per dim of `shape`; undefined outside `dims`
};

ReduceAxes reduce_axes(const std::string& name, const std::vector<int64_t>& shape,
                       const std::vector<int64_t>& dims, bool fuse) {
  ReduceAxes r;
  r.index_of.resize(shape.size());
  for (size_t first = 0; first < dims.size();) {
    size_t last = first;
    while (fuse && last + 1 < dims.size() && dims[last + 1] == dims[last] + 1) ++last;
    int64_t extent = 1;
    for (size_t k = first; k <= last; ++k) extent *= shape[dims[k]];
    IterVar axis = reduce_axis(extent, str_cat(name, ".r", dims[first]));
    int64_t stride = 1;  // of dims[k] within the run, innermost first
    for (size_t k = last + 1; k-- > first;) {
      Expr e = stride == 1 ? Expr(axis.var) : floordiv(Expr(axis.var), Expr(stride));
      r.index_of[dims[k]] = k == first ? e : floormod(e, Expr(shape[dims[k]]));
      stride *= shape[dims[k]];
    }
    r.axes.push_back(axis);
    first = last + 1;
  }
  return r;
}

/// Whether every load of `e` is affine in each of `axes`: a fused run then walks its tensors
/// with constant strides (a contiguous row of H*W elements), not a division per element.
bool affine_in(const Expr& e, const std::vector<IterVar>& axes) {
  for (const LoadNode* load : loads_in(e)) {
    Expr flat = flat_index(load->tensor, load->indices);
    for (const IterVar& axis : axes)
      if (!affine_coefficient(flat, axis.var.get())) return false;
  }
  return true;
}

}  // namespace

Tensor reduce_over(const OpArgs& a, const std::string& name, const std::vector<int64_t>& shape,
                   const std::vector<int64_t>& dims, bool keepdim, ReduceOp op,
                   const std::function<Expr(const std::vector<Expr>& index)>& source) {
  for (int64_t d : dims)
    if (shape[d] == 0)
      throw a.error(
          str_cat("cannot reduce over dimension ", d, " of size 0 (shape ", shape_str(shape), ")"));
  // Adjacent reduced dims become one reduce axis where the loads stay affine in it: a global
  // average pool's 7x7, 14x14 or 56x56 pixels are then one row that vectorizes, where the
  // innermost dim alone was too short (mean over [1, 96, 56, 56]: 0.088 ms, eager 0.015).
  // Not for argmax/argmin, whose result is the index along their axis.
  bool fusable = op != ReduceOp::ArgMax && op != ReduceOp::ArgMin;
  auto build = [&](bool fuse) {
    ReduceAxes r = reduce_axes(name, shape, dims, fuse);
    bool affine = true;
    Tensor t =
        compute(name, reduced_shape(shape, dims, keepdim), [&](const std::vector<Var>& axes) {
          std::vector<Expr> index;
          size_t next_out = 0;
          for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
            if (contains(dims, d)) {
              index.push_back(r.index_of[d]);
              if (keepdim) ++next_out;
            } else {
              index.push_back(axes[next_out++]);
            }
          }
          Expr value = source(index);
          if (r.axes.empty())
            return op == ReduceOp::ArgMax || op == ReduceOp::ArgMin ? Expr(0) : value;
          affine = affine_in(value, r.axes);
          return reduce(op, value, r.axes);
        });
    return std::pair{t, affine};
  };
  bool adjacent = false;
  for (size_t k = 1; k < dims.size(); ++k) adjacent |= dims[k] == dims[k - 1] + 1;
  if (fusable && adjacent) {
    auto [fused, affine] = build(true);
    if (affine) return fused;
  }
  return build(false).first;
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
