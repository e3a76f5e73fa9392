// Ops that make a tensor from a dtype conversion, a copy or a fill value.
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
  for (auto op : {"aten.clone.default", "aten.alias.default"}) {
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
  r.add("aten.full.default", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.full.default", args,
             {"size", "fill_value", "dtype", "layout", "device", "pin_memory"});
    std::vector<int64_t> size = a.ints(0);
    for (int64_t s : size)
      if (s < 0) throw a.error(0, str_cat("has a negative size: ", shape_str(size)));
    Scalar value = a.scalar(1);
    return one(filled(a, size, factory_dtype(a, 2, value), value.value));
  });
  r.add("aten.scalar_tensor.default", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.scalar_tensor.default", args, {"s", "dtype", "layout", "device", "pin_memory"});
    // Unlike full, scalar_tensor defaults to the default float dtype whatever the value's kind.
    return one(filled(a, {}, a.optional_dtype(1).value_or(DType::F32), a.scalar(0).value));
  });
}

}  // namespace kiln
