// Ops that write at indices read from a tensor: scatter (a tensor, a value, with a reduction),
// scatter_add, scatter_reduce, index_put, index_add, index_copy, index_fill, index_reduce and
// put.
// Each is a scatter (core/ir/tensor.h): self as the init, then one update that visits the source
// points in the order ATen's CPU kernels do (along the indexed dimension, then the rest, which
// decides what duplicates give) and combines each with the old element as they do: in the
// arithmetic type (f32 for f16/bf16), rounded after every update, or for the scatter family's
// sums and products once at the end; a max or min that meets NaN keeps it. Without include_self the
// elements written are first set to the reduction's identity; a mean divides by the count of what
// was combined (1 where nothing was), flooring for integers, as ATen does.
//
// Eager raises on an index out of range: each op declares its index argument as a value check
// (value_check.h), and the kernels clamp every index read from data, so that a wrong index can
// never write outside the tensor.
#include <algorithm>
#include <limits>

#include "core/ops/advanced_index.h"
#include "core/ops/broadcast.h"
#include "core/ops/elementwise.h"
#include "core/ops/index_guard.h"
#include "core/ops/row_major.h"

namespace kiln {

namespace {

enum class Combine : uint8_t { Assign, Sum, Prod, Mean, Max, Min };

/// Where each point of a source domain writes in self, and the value it brings.
struct Writes {
  std::vector<int64_t> domain;
  std::function<std::vector<Expr>(const std::vector<Var>&)> target;
  std::function<Expr(const std::vector<Var>&)> value;
};

/// The reduction named by string argument `i` ("sum", "prod", ...), from `names`.
Combine combine_named(const OpArgs& a, int i,
                      const std::vector<std::pair<std::string, Combine>>& names) {
  std::string name = a.optional_string(i).value_or("");
  std::string known;
  for (auto& [n, c] : names) {
    if (n == name) return c;
    known += (known.empty() ? "" : ", ") + n;
  }
  throw a.error(i, str_cat("is '", name, "', expected one of ", known));
}

/// The value a reduction starts from where self is not included.
Expr identity(Combine c, DType t) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  switch (c) {
    case Combine::Prod: return make_const(t, 1);
    case Combine::Max:
      if (is_float(t)) return make_const(t, -inf);
      return IntImmNode::make(t, int_min(t));
    case Combine::Min:
      if (is_float(t)) return make_const(t, inf);
      return IntImmNode::make(t, int_max(t));
    default: return make_const(t, 0);
  }
}

/// `old` combined with `v` by `c` in the arithmetic type, rounded to old's type.
Expr combined(Combine c, const Expr& old, const Expr& v) {
  DType t = old.dtype(), w = compute_type(t);
  Expr a = cast(w, old), b = cast(w, v);
  auto keeps_nan = [&](const Expr& better) {
    return is_float(w) ? unary(UnaryOp::IsNan, b) || better : better;
  };
  switch (c) {
    case Combine::Assign: return cast(t, v);
    case Combine::Prod: return cast(t, a * b);
    case Combine::Max: return select(keeps_nan(a < b), cast(t, b), old);
    case Combine::Min: return select(keeps_nan(b < a), cast(t, b), old);
    default: return cast(t, a + b);
  }
}

/// self with `writes` combined into it by `c`, as the comment at the top says. With `wide`, a
/// 16-bit float sum or product accumulates in f32 and is rounded once, at the end (ATen's
/// scatter kernels do; index_put and index_reduce round after every update).
Tensor scattered(const OpArgs& a, const Tensor& self, const Writes& writes, Combine c,
                 bool include_self, bool wide) {
  std::string name = short_name(a.op());
  if (self->dtype == DType::Bool && c != Combine::Assign)
    throw a.error(0, "is a bool tensor, which Kiln does not reduce into");
  DType t = self->dtype, w = compute_type(t);
  bool arithmetic = c == Combine::Sum || c == Combine::Prod || c == Combine::Mean;
  DType acc = wide && arithmetic ? w : t;
  auto init = [&](const std::vector<Var>& i) { return cast(acc, self.load(as_exprs(i))); };
  std::vector<ScatterUpdateDef> updates;
  Combine step = c == Combine::Mean ? Combine::Sum : c;
  if (!include_self && c != Combine::Assign)
    updates.push_back({writes.domain, writes.target,
                       [&](const std::vector<Var>&, const Expr&) { return identity(c, acc); }});
  updates.push_back({writes.domain, writes.target, [&](const std::vector<Var>& u, const Expr& old) {
                       return combined(step, old, writes.value(u));
                     }});
  Tensor total = scatter(name, self->shape, init, updates);
  if (c != Combine::Mean) {
    if (acc == t) return total;
    return compute(name + ".cast", self->shape,
                   [&](const std::vector<Var>& i) { return cast(t, total.load(as_exprs(i))); });
  }
  // The sum and the count in self's dtype, then the quotient (ATen's div_ of the two).
  Tensor count =
      scatter(name + ".count", self->shape,
              [&](const std::vector<Var>&) { return make_const(acc, include_self ? 1 : 0); },
              {{writes.domain, writes.target, [&](const std::vector<Var>&, const Expr& old) {
                  return combined(Combine::Sum, old, make_const(acc, 1));
                }}});
  return compute(name + ".mean", self->shape, [&](const std::vector<Var>& i) {
    Expr n = cast(t, count.load(as_exprs(i)));
    n = select(n == make_const(t, 0), make_const(t, 1), n);
    Expr sum = cast(t, total.load(as_exprs(i)));
    if (!is_float(t)) return floordiv(sum, n);
    return cast(t, cast(w, sum) / cast(w, n));
  });
}

void require_index_tensor(const OpArgs& a, int i, const Tensor& t) {
  if (!is_int(t->dtype)) throw a.error(i, str_cat("must be an i64 or i32 tensor, got ", t->dtype));
}

/// A rank-0 tensor as one of shape [1]: ATen scatters into a scalar self as into one element
/// along dim 0. Any other tensor as it is.
Tensor lifted(const Tensor& t) {
  if (t->rank() != 0) return t;
  return compute(t->name + ".1d", {1}, [&](const std::vector<Var>&) { return t.load({}); });
}

/// The result `t` of a lifted self back as rank 0 when self was (`rank0`).
Tensor restored(const Tensor& t, bool rank0) {
  if (!rank0) return t;
  return compute(t->name + ".0d", {}, [&](const std::vector<Var>&) { return t(int64_t{0}); });
}

/// The scatter family's writes: each point u of `index` writes self at u, except along `dim`,
/// where it writes at index[u].
Writes along_dim(const OpArgs& a, const Tensor& self, int64_t dim, const Tensor& index,
                 const std::vector<int64_t>& src_shape) {
  require_index_tensor(a, 2, index);
  if (index->rank() != self->rank())
    throw a.error(2, str_cat("has shape ", shape_str(index->shape), ", expected rank ",
                             self->rank(), " like self"));
  for (int64_t d = 0; d < self->rank(); ++d) {
    if (d != dim && index->shape[d] > self->shape[d])
      throw a.error(2, str_cat("has shape ", shape_str(index->shape), ", larger than self's ",
                               shape_str(self->shape), " in dimension ", d));
    if (!src_shape.empty() && index->shape[d] > src_shape[d])
      throw a.error(2, str_cat("has shape ", shape_str(index->shape), ", larger than src's ",
                               shape_str(src_shape), " in dimension ", d));
  }
  if (index->numel() > 0 && self->shape[dim] == 0)
    throw a.error(0, str_cat("has an empty dimension ", dim));
  int64_t size = self->shape[dim];
  return {index->shape,
          [=](const std::vector<Var>& u) {
            std::vector<Expr> at = as_exprs(u);
            at[dim] = clamp_index(cast(DType::I64, index.load(as_exprs(u))), size);
            return at;
          },
          {}};
}

/// The index_* family's writes: each point u of a domain shaped like self but for `count`
/// entries along `dim` writes self at u, except along `dim`, where it writes at index[u[dim]].
Writes along_index(const OpArgs& a, const Tensor& self, int64_t dim, const Tensor& index,
                   int index_arg) {
  require_index_tensor(a, index_arg, index);
  if (index->rank() > 1)
    throw a.error(index_arg, str_cat("has shape ", shape_str(index->shape), ", expected [K]"));
  std::vector<int64_t> domain = self->shape;
  domain[dim] = index->numel();
  if (index->numel() > 0 && self->shape[dim] == 0)
    throw a.error(0, str_cat("has an empty dimension ", dim));
  int64_t size = self->shape[dim];
  return {domain,
          [=](const std::vector<Var>& u) {
            std::vector<Expr> at = as_exprs(u);
            Expr k = index->rank() == 1 ? index(u[dim]) : index.load({});
            at[dim] = clamp_index(cast(DType::I64, k), size);
            return at;
          },
          {}};
}

/// `src`, which must have self's dtype, read at the source point.
std::function<Expr(const std::vector<Var>&)> read(const OpArgs& a, int i, const Tensor& self,
                                                  const Tensor& src) {
  if (src->dtype != self->dtype)
    throw a.error(i, str_cat("is ", src->dtype, ", expected ", self->dtype, " like self"));
  return [src](const std::vector<Var>& u) { return src.load(as_exprs(u)); };
}

/// A scalar argument as a constant of self's dtype.
std::function<Expr(const std::vector<Var>&)> constant(const OpArgs& a, int i, const Tensor& self) {
  Expr v = make_const(self->dtype, a.scalar(i).value);
  return [v](const std::vector<Var>&) { return v; };
}

const std::vector<std::pair<std::string, Combine>> kScatterReduce{{"add", Combine::Sum},
                                                                  {"multiply", Combine::Prod}};
const std::vector<std::pair<std::string, Combine>> kReduce{{"sum", Combine::Sum},
                                                           {"prod", Combine::Prod},
                                                           {"mean", Combine::Mean},
                                                           {"amax", Combine::Max},
                                                           {"amin", Combine::Min}};
const std::vector<std::pair<std::string, Combine>> kIndexReduce{{"prod", Combine::Prod},
                                                                {"mean", Combine::Mean},
                                                                {"amax", Combine::Max},
                                                                {"amin", Combine::Min}};

/// scatter.src/value/reduce/value_reduce, scatter_add and scatter_reduce.two: `names` are the
/// op's arguments (self, dim, index, src or value, [reduce], [include_self]); `scalar` when the
/// fourth is a number; `reduce` the names argument 4 may take (none: `fixed`).
std::vector<Tensor> lower_scatter(const std::vector<OpArg>& args, const std::string& op,
                                  std::vector<std::string_view> names, bool scalar, Combine fixed,
                                  const std::vector<std::pair<std::string, Combine>>* reduce) {
  OpArgs a(op, args, names);
  bool rank0 = a.tensor(0)->rank() == 0;
  Tensor self = lifted(a.tensor(0));
  int64_t dim = normalize_dim(a, 1, a.integer(1), self->rank());
  Tensor index = lifted(a.tensor(2));
  Tensor src = scalar ? Tensor() : lifted(a.tensor(3));
  std::vector<int64_t> src_shape = scalar ? std::vector<int64_t>{} : src->shape;
  if (!scalar && src->rank() != self->rank())
    throw a.error(3, str_cat("has shape ", shape_str(src_shape), ", expected rank ", self->rank(),
                             " like self"));
  Writes w = along_dim(a, self, dim, index, src_shape);
  w.value = scalar ? constant(a, 3, self) : read(a, 3, self, src);
  Combine c = reduce ? combine_named(a, 4, *reduce) : fixed;
  bool include_self = names.size() < 6 || a.boolean(5);
  return {restored(scattered(a, self, w, c, include_self, true), rank0)};
}

std::vector<Tensor> lower_index_put(const std::vector<OpArg>& args) {
  OpArgs a("aten.index_put.default", args, {"self", "indices", "values", "accumulate"});
  Tensor self = a.tensor(0), values = a.tensor(2);
  AdvancedIndex geometry(a, self, 1);
  const std::vector<int64_t>& domain = geometry.shape();
  if (values->rank() > static_cast<int64_t>(domain.size()))
    throw a.error(2, str_cat("has shape ", shape_str(values->shape),
                             ", which does not broadcast to ", shape_str(domain)));
  for (int64_t d = 1; d <= values->rank(); ++d) {
    int64_t v = values->shape[values->rank() - d], s = domain[domain.size() - d];
    if (v != 1 && v != s)
      throw a.error(2, str_cat("has shape ", shape_str(values->shape),
                               ", which does not broadcast to ", shape_str(domain)));
  }
  if (values->dtype != self->dtype)
    throw a.error(2, str_cat("is ", values->dtype, ", expected ", self->dtype, " like self"));
  Writes w{domain, [geometry](const std::vector<Var>& u) { return geometry.source(u); },
           [values](const std::vector<Var>& u) { return load_broadcast(values, u); }};
  return {scattered(a, self, w, a.boolean(3) ? Combine::Sum : Combine::Assign, true, false)};
}

/// The index_* ops' writes of the slices of `source` (argument 3) into self along the dim of
/// argument 1 at the index of argument 2, each point bringing source's element there.
Writes source_slices(const OpArgs& a, const Tensor& self, const Tensor& source) {
  int64_t dim = normalize_dim(a, 1, a.integer(1), self->rank());
  Writes w = along_index(a, self, dim, a.tensor(2), 2);
  if (source->shape != w.domain)
    throw a.error(
        3, str_cat("has shape ", shape_str(source->shape), ", expected ", shape_str(w.domain)));
  w.value = read(a, 3, self, source);
  return w;
}

std::vector<Tensor> lower_index_add(const std::vector<OpArg>& args) {
  OpArgs a("aten.index_add.default", args, {"self", "dim", "index", "source", "alpha"});
  bool rank0 = a.tensor(0)->rank() == 0;
  Tensor self = lifted(a.tensor(0));
  Writes w = source_slices(a, self, lifted(a.tensor(3)));
  auto value = w.value;
  double alpha = a.scalar(4).value;
  w.value = alpha == 1 ? value : [value, alpha, self](const std::vector<Var>& u) {
    DType c = compute_type(self->dtype);
    return cast(c, value(u)) * make_const(c, alpha);
  };
  // ATen adds rows of more than one element with alpha 1 through scatter_add.
  return {
      restored(scattered(a, self, w, Combine::Sum, true, alpha == 1 && self->rank() > 1), rank0)};
}

/// index_copy and index_reduce: source's slices written (or reduced) into self along `dim`.
std::vector<Tensor> lower_index_write(const std::vector<OpArg>& args, const std::string& op,
                                      bool reduce) {
  std::vector<std::string_view> names{"self", "dim", "index", "source"};
  if (reduce) names.insert(names.end(), {"reduce", "include_self"});
  OpArgs a(op, args, names);
  bool rank0 = a.tensor(0)->rank() == 0;
  Tensor self = lifted(a.tensor(0));
  Writes w = source_slices(a, self, lifted(a.tensor(3)));
  if (!reduce) return {restored(scattered(a, self, w, Combine::Assign, true, false), rank0)};
  Combine c = combine_named(a, 4, kIndexReduce);
  return {restored(scattered(a, self, w, c, a.boolean(5), false), rank0)};
}

/// index_fill.int_Scalar and index_fill.int_Tensor: `value` written at the indexed slices.
std::vector<Tensor> lower_index_fill(const std::vector<OpArg>& args, const std::string& op,
                                     bool tensor_value) {
  OpArgs a(op, args, {"self", "dim", "index", "value"});
  bool rank0 = a.tensor(0)->rank() == 0;
  Tensor self = lifted(a.tensor(0));
  int64_t dim = normalize_dim(a, 1, a.integer(1), self->rank());
  Writes w = along_index(a, self, dim, a.tensor(2), 2);
  // A negative index counts from the end here (index_fill's own rule).
  int64_t size = self->shape[dim];
  Tensor index = a.tensor(2);
  w.target = [=](const std::vector<Var>& u) {
    std::vector<Expr> at = as_exprs(u);
    Expr k = cast(DType::I64, index->rank() == 1 ? index(u[dim]) : index.load({}));
    at[dim] = clamp_index(select(k < 0, k + size, k), size);
    return at;
  };
  if (tensor_value) {
    Tensor v = a.tensor(3);
    if (v->rank() != 0)
      throw a.error(3, str_cat("has shape ", shape_str(v->shape), ", expected []"));
    w.value = [v](const std::vector<Var>&) { return v.load({}); };
  } else {
    w.value = constant(a, 3, self);
  }
  return {restored(scattered(a, self, w, Combine::Assign, true, false), rank0)};
}

/// put: source's elements written (or added) at flat indices of self, counted from the end when
/// negative; source is read in its own row-major order, point by point of index.
std::vector<Tensor> lower_put(const std::vector<OpArg>& args) {
  OpArgs a("aten.put.default", args, {"self", "index", "source", "accumulate"});
  Tensor self = a.tensor(0), index = a.tensor(1), source = a.tensor(2);
  require_index_tensor(a, 1, index);
  if (source->numel() != index->numel())
    throw a.error(
        2, str_cat("has ", source->numel(), " elements, expected ", index->numel(), " like index"));
  int64_t n = self->numel();
  if (n == 0 && index->numel() > 0) throw a.error(0, "is empty");
  if (source->dtype != self->dtype)
    throw a.error(2, str_cat("is ", source->dtype, ", expected ", self->dtype, " like self"));
  Writes w{index->shape,
           [=](const std::vector<Var>& u) {
             Expr k = cast(DType::I64, index.load(as_exprs(u)));
             return index_at(clamp_index(select(k < 0, k + n, k), std::max<int64_t>(n, 1)),
                             self->shape);
           },
           [=](const std::vector<Var>& u) {
             return source.load(index_at(flat_position(as_exprs(u), index->shape), source->shape));
           }};
  return {scattered(a, self, w, a.boolean(3) ? Combine::Sum : Combine::Assign, true, false)};
}

/// The dim-indexed check of an index_* op: IndexError "index out of range in self", except
/// index_fill, which counts negative indices from the end.
OpChecks dim_index_check(const std::string& op, std::vector<std::string_view> names,
                         ValueCheck::Rule rule) {
  return index_check(op, std::move(names), rule, rule, 2, 1);
}

}  // namespace

void register_scatter_ops(OpRegistry& r) {
  struct ScatterOp {
    std::string op;
    std::vector<std::string_view> names;
    bool scalar;
    Combine fixed;
    const std::vector<std::pair<std::string, Combine>>* reduce;
  };
  const std::vector<ScatterOp> scatters{
      {"aten.scatter.src", {"self", "dim", "index", "src"}, false, Combine::Assign, nullptr},
      {"aten.scatter.value", {"self", "dim", "index", "value"}, true, Combine::Assign, nullptr},
      {"aten.scatter.reduce",
       {"self", "dim", "index", "src", "reduce"},
       false,
       Combine::Sum,
       &kScatterReduce},
      {"aten.scatter.value_reduce",
       {"self", "dim", "index", "value", "reduce"},
       true,
       Combine::Sum,
       &kScatterReduce},
      {"aten.scatter_add.default", {"self", "dim", "index", "src"}, false, Combine::Sum, nullptr},
      {"aten.scatter_reduce.two",
       {"self", "dim", "index", "src", "reduce", "include_self"},
       false,
       Combine::Sum,
       &kReduce},
  };
  for (const ScatterOp& s : scatters) {
    r.add(s.op, [s](const std::vector<OpArg>& args) {
      return lower_scatter(args, s.op, s.names, s.scalar, s.fixed, s.reduce);
    });
    r.add_checks(
        s.op, index_check(s.op, s.names, ValueCheck::Rule::Bounds, ValueCheck::Rule::Bounds, 2, 1));
    r.mark_copying(s.op);
  }

  r.add("aten.put.default", lower_put);
  r.add_checks("aten.put.default", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.put.default", args, {"self", "index", "source", "accumulate"});
    return std::vector<ValueCheck>{{ValueCheck::Rule::Wrapped, 1, a.tensor(0)->numel(), 0}};
  });
  r.mark_copying("aten.put.default");

  r.add("aten.index_put.default", lower_index_put);
  r.add_checks("aten.index_put.default", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.index_put.default", args, {"self", "indices", "values", "accumulate"});
    return AdvancedIndex(a, a.tensor(0), 1).checks(1);
  });
  r.mark_copying("aten.index_put.default");

  const std::vector<std::string_view> index_write{"self", "dim", "index", "source"};
  r.add("aten.index_add.default", lower_index_add);
  // Rows of more than one element with alpha 1 go through scatter_add, which raises its own way.
  r.add_checks("aten.index_add.default", [](const std::vector<OpArg>& args) {
    std::vector<std::string_view> names{"self", "dim", "index", "source", "alpha"};
    OpArgs a("aten.index_add.default", args, names);
    bool via_scatter_add = a.scalar(4).value == 1 && a.tensor(0)->rank() > 1;
    auto rule = via_scatter_add ? ValueCheck::Rule::Bounds : ValueCheck::Rule::Index;
    return dim_index_check("aten.index_add.default", names, rule)(args);
  });
  r.add("aten.index_copy.default", [](const std::vector<OpArg>& args) {
    return lower_index_write(args, "aten.index_copy.default", false);
  });
  r.add_checks("aten.index_copy.default",
               dim_index_check("aten.index_copy.default", index_write, ValueCheck::Rule::Index));
  r.add("aten.index_reduce.default", [](const std::vector<OpArg>& args) {
    return lower_index_write(args, "aten.index_reduce.default", true);
  });
  r.add_checks("aten.index_reduce.default",
               dim_index_check("aten.index_reduce.default",
                               {"self", "dim", "index", "source", "reduce", "include_self"},
                               ValueCheck::Rule::Index));
  for (const char* op : {"aten.index_fill.int_Scalar", "aten.index_fill.int_Tensor"}) {
    bool tensor_value = std::string(op) == "aten.index_fill.int_Tensor";
    r.add(op, [op, tensor_value](const std::vector<OpArg>& args) {
      return lower_index_fill(args, op, tensor_value);
    });
    r.add_checks(op,
                 dim_index_check(op, {"self", "dim", "index", "value"}, ValueCheck::Rule::Wrapped));
  }
  for (const char* op :
       {"aten.index_add.default", "aten.index_copy.default", "aten.index_reduce.default",
        "aten.index_fill.int_Scalar", "aten.index_fill.int_Tensor"})
    r.mark_copying(op);
}

}  // namespace kiln
