// Ops that make a tensor from a dtype conversion, a copy, a fill value or a range.
#include <algorithm>
#include <cmath>

#include "core/ops/elementwise.h"
#include "core/ops/type_promotion.h"

namespace kiln {

namespace {

std::vector<Tensor> one(Tensor t) {
  return {std::move(t)};
}

Tensor converted(const OpArgs& a, const Tensor& x, DType to) {
  return elementwise(a, {x}, [to](const std::vector<Expr>& v) { return cast(to, v[0]); });
}

/// A tensor of `shape` filled with `value`, named after the op.
Tensor filled(const OpArgs& a, std::vector<int64_t> shape, DType dtype, double value) {
  return compute(short_name(a.op()), std::move(shape),
                 [&](const std::vector<Var>&) { return make_const(dtype, value); });
}

/// The dtype of a factory op's result: given, else the default for the fill value's kind.
DType factory_dtype(const OpArgs& a, int dtype_arg, const Scalar& value) {
  if (auto t = a.optional_dtype(dtype_arg)) return *t;
  return value.dtype == DType::F64 ? DType::F32 : value.dtype;
}

/// Throws unless layout, device and pin_memory (arguments `first` to `first + 2`) are None: the
/// plugin passes the default placement (strided, CPU, unpinned) as None and no other.
void require_default_placement(const OpArgs& a, int first) {
  for (int i = first; i < first + 3; ++i)
    if (!a.is_none(i))
      throw a.error(i, "must be None: Kiln makes only strided, unpinned tensors on its own device");
}

/// arange's dtype: given, else int64 when start, end and step are all integral (bools count, as
/// in PyTorch), else the default float dtype f32.
DType arange_dtype(const OpArgs& a, int dtype_arg, std::initializer_list<Scalar> bounds) {
  if (auto t = a.optional_dtype(dtype_arg)) {
    if (*t == DType::Bool) throw a.error(dtype_arg, "is bool, which arange does not support");
    return *t;
  }
  bool integral = std::all_of(bounds.begin(), bounds.end(),
                              [](const Scalar& s) { return s.dtype != DType::F64; });
  return integral ? DType::I64 : DType::F32;
}

/// The dtype arange computes its elements in before rounding to `t`: PyTorch's CPU acc_type.
DType arange_accumulate(DType t) {
  if (!is_float(t)) return DType::I64;
  return t == DType::F16 || t == DType::BF16 ? DType::F32 : DType::F64;
}

/// A bound as arange reads it: in the accumulate type `acc`, so an integer result truncates it.
double arange_bound(DType acc, const Scalar& s) {
  return is_float(acc) ? s.value : std::trunc(s.value);
}

/// The element count of arange(start, end, step) with result `dtype`, checked and counted as
/// PyTorch does; throws OpError naming step (argument 2) or end (argument `end_arg`).
int64_t arange_count(const OpArgs& a, int end_arg, DType dtype, const Scalar& start,
                     const Scalar& end, const Scalar& step) {
  DType acc = arange_accumulate(dtype);
  double first = arange_bound(acc, start), last = arange_bound(acc, end),
         by = arange_bound(acc, step);
  if (!(by > 0 || by < 0))
    throw a.error(2, str_cat("is ", step.value, "; arange needs a nonzero step"));
  if (!std::isfinite(first) || !std::isfinite(last))
    throw a.error(std::isfinite(first) ? end_arg : 0, "is not finite");
  if ((by > 0 && last < first) || (by < 0 && last > first))
    throw a.error(end_arg, str_cat("is ", end.value, ", on the wrong side of start ", start.value,
                                   " for step ", step.value));
  // NOTE: PyTorch counts an int64 result in its accumulate type, any other from the untruncated
  // bounds in double (so arange(0, 2.5, dtype=int32) has 3 elements).
  double count = dtype == DType::I64 ? std::ceil((last - first) / by)
                                     : std::ceil((end.value - start.value) / step.value);
  if (!(count < 0x1p62)) throw a.error(str_cat("has ", count, " elements, too many"));
  return static_cast<int64_t>(count);
}

/// aten.arange's overloads take the first `n` of (start, end, step), with start 0 and step 1
/// when absent: .default (end), .start (start, end), .start_step; then dtype, layout, device and
/// pin_memory.
std::vector<Tensor> lower_arange(std::string_view op, int n, const std::vector<OpArg>& args) {
  static const std::vector<std::string_view> bounds[] = {
      {"end"}, {"start", "end"}, {"start", "end", "step"}};
  std::vector<std::string_view> names = bounds[n - 1];
  names.insert(names.end(), {"dtype", "layout", "device", "pin_memory"});
  OpArgs a(op, args, names);
  int end_arg = n == 1 ? 0 : 1;
  Scalar start = n == 1 ? Scalar{0, DType::I64} : a.scalar(0), end = a.scalar(end_arg);
  Scalar step = n == 3 ? a.scalar(2) : Scalar{1, DType::I64};
  DType dtype = arange_dtype(a, n, {start, end, step});
  require_default_placement(a, n + 1);
  int64_t count = arange_count(a, end_arg, dtype, start, end, step);
  DType acc = arange_accumulate(dtype);
  return one(compute(short_name(a.op()), {count}, [&](const std::vector<Var>& i) {
    return cast(dtype, arange_bound(acc, start) + arange_bound(acc, step) * cast(acc, i[0]));
  }));
}

}  // namespace

void register_conversion_ops(OpRegistry& r) {
  r.add("aten._to_copy.default", [](const std::vector<OpArg>& args) {
    OpArgs a("aten._to_copy.default", args,
             {"self", "dtype", "layout", "device", "pin_memory", "non_blocking", "memory_format"});
    Tensor x = a.tensor(0);
    return one(converted(a, x, a.optional_dtype(1).value_or(x->dtype)));
  });
  r.add("prims.convert_element_type.default", [](const std::vector<OpArg>& args) {
    OpArgs a("prims.convert_element_type.default", args, {"a", "dtype"});
    auto to = a.optional_dtype(1);
    if (!to) throw a.error(1, "must be a ScalarType, got None");
    return one(converted(a, a.tensor(0), *to));
  });
  // lift_fresh_copy: the copy of a constant tensor the graph captured (torch.tensor([...])).
  for (auto op : {"aten.clone.default", "aten.alias.default", "aten.lift_fresh_copy.default"}) {
    bool is_clone = std::string_view(op) == "aten.clone.default";
    r.add(op, [op, is_clone](const std::vector<OpArg>& args) {
      OpArgs a(op, args,
               is_clone ? std::vector<std::string_view>{"self", "memory_format"}
                        : std::vector<std::string_view>{"self"});
      Tensor x = a.tensor(0);
      return one(converted(a, x, x->dtype));
    });
  }
  r.add("aten.copy.default", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.copy.default", args, {"self", "src", "non_blocking"});
    Tensor self = a.tensor(0), src = a.tensor(1);
    Tensor out = elementwise(a, {self, src},
                             [&](const std::vector<Expr>& v) { return cast(self->dtype, v[1]); });
    if (out->shape != self->shape)
      throw a.error(1, str_cat("has shape ", shape_str(src->shape),
                               ", which does not broadcast to self's ", shape_str(self->shape)));
    return one(out);
  });
  r.add("aten.fill.Scalar", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.fill.Scalar", args, {"self", "value"});
    Tensor x = a.tensor(0);
    return one(filled(a, x->shape, x->dtype, a.scalar(1).value));
  });
  r.add("aten.full_like.default", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.full_like.default", args,
             {"self", "fill_value", "dtype", "layout", "device", "pin_memory", "memory_format"});
    Tensor x = a.tensor(0);
    if (!a.is_none(6)) throw a.error(6, "is not the default (preserve) memory format");
    return one(filled(a, x->shape, a.optional_dtype(2).value_or(x->dtype), a.scalar(1).value));
  });
  r.add("aten.full.default", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.full.default", args,
             {"size", "fill_value", "dtype", "layout", "device", "pin_memory"});
    std::vector<int64_t> size = a.ints(0);
    for (int64_t s : size)
      if (s < 0) throw a.error(0, str_cat("has a negative size: ", shape_str(size)));
    Scalar value = a.scalar(1);
    return one(filled(a, size, factory_dtype(a, 2, value), value.value));
  });
  // empty's contents are unspecified: Kiln's are zeros, which a graph that fills them (circular
  // padding's slice_scatters) never reads. Only the default (contiguous) memory format arrives.
  r.add("aten.empty.memory_format", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.empty.memory_format", args,
             {"size", "dtype", "layout", "device", "pin_memory", "memory_format"});
    std::vector<int64_t> size = a.ints(0);
    for (int64_t s : size)
      if (s < 0) throw a.error(0, str_cat("has a negative size: ", shape_str(size)));
    if (!a.is_none(5)) throw a.error(5, "is not the default (contiguous) memory format");
    return one(filled(a, size, a.optional_dtype(1).value_or(DType::F32), 0));
  });
  r.add("aten.scalar_tensor.default", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.scalar_tensor.default", args, {"s", "dtype", "layout", "device", "pin_memory"});
    // Unlike full, scalar_tensor defaults to the default float dtype whatever the value's kind.
    return one(filled(a, {}, a.optional_dtype(1).value_or(DType::F32), a.scalar(0).value));
  });
  for (auto [op, n] : {std::pair{"aten.arange.default", 1},
                       {"aten.arange.start", 2},
                       {"aten.arange.start_step", 3}})
    r.add(op, [op, n](const std::vector<OpArg>& args) { return lower_arange(op, n, args); });
}

}  // namespace kiln
