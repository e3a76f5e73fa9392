#include "core/reference/interpreter.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <type_traits>
#include <unordered_map>

#include "core/reference/expr_evaluator.h"
#include "core/runtime/element_access.h"
#include "core/runtime/tensor_layout.h"
#include "core/support/error.h"

namespace kiln {

namespace {

/// Advances `slots[0..extents.size())` to the next point in row-major order; false after the last.
bool next_point(int64_t* slots, const std::vector<int64_t>& extents) {
  for (size_t d = extents.size(); d-- > 0;) {
    if (++slots[d] < extents[d]) return true;
    slots[d] = 0;
  }
  return false;
}

/// Calls step(flat) at every point of a box of `extents` in row-major order, with the slots of
/// its axes (from `slots`) set; `flat` numbers the points from 0. No extent may be 0.
template <typename Step>
void for_each_point(const std::vector<int64_t>& extents, int64_t* slots, Step step) {
  std::fill(slots, slots + extents.size(), 0);
  int64_t flat = 0;
  do step(flat++);
  while (next_point(slots, extents));
}

/// The combiner `op`'s value over every point of the reduce axes (with `extents`, their slots from
/// `slots + first_slot`), starting from reduce_identity; for ArgMax/ArgMin the flat index of the
/// first extremum instead. T is double for float sources (sums accumulate in double: this is the
/// reference) and int64_t for integers and bools.
template <typename T, typename Code>
T reduce_values(ReduceOp op, const std::vector<int64_t>& extents, const Code& source,
                int64_t* slots, size_t first_slot, T identity) {
  T acc = identity;
  int64_t arg = 0;
  auto is_nan = [](T v) {
    if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
    return false;
  };
  // A NaN wins Max/Min and stays; with ArgMax/ArgMin the first NaN wins, and ties keep the first.
  auto beats_max = [&](T v) { return !is_nan(acc) && (v > acc || is_nan(v)); };
  auto beats_min = [&](T v) { return !is_nan(acc) && (v < acc || is_nan(v)); };
  int64_t* axis_slots = slots + first_slot;
  switch (op) {
    case ReduceOp::Sum:
      for_each_point(extents, axis_slots, [&](int64_t) {
        if constexpr (std::is_floating_point_v<T>)
          acc += source(slots);
        else
          acc = static_cast<T>(uint64_t(acc) + uint64_t(source(slots)));  // Wraps, no UB.
      });
      return acc;
    case ReduceOp::Prod:
      for_each_point(extents, axis_slots, [&](int64_t) {
        if constexpr (std::is_floating_point_v<T>)
          acc *= source(slots);
        else
          acc = static_cast<T>(uint64_t(acc) * uint64_t(source(slots)));
      });
      return acc;
    case ReduceOp::Max:
      for_each_point(extents, axis_slots, [&](int64_t) {
        T v = source(slots);
        if (beats_max(v)) acc = v;
      });
      return acc;
    case ReduceOp::Min:
      for_each_point(extents, axis_slots, [&](int64_t) {
        T v = source(slots);
        if (beats_min(v)) acc = v;
      });
      return acc;
    case ReduceOp::ArgMax:
      for_each_point(extents, axis_slots, [&](int64_t flat) {
        T v = source(slots);
        if (beats_max(v)) acc = v, arg = flat;
      });
      return static_cast<T>(arg);
    case ReduceOp::ArgMin:
      for_each_point(extents, axis_slots, [&](int64_t flat) {
        T v = source(slots);
        if (beats_min(v)) acc = v, arg = flat;
      });
      return static_cast<T>(arg);
  }
  KILN_CHECK(false, "unknown reduce op");
}

/// Runs scatter `t`'s updates over `out`, which holds its init: each update's points in row-major
/// order, each point's new element computed from the old one before it is stored.
void apply_updates(const TensorNode& t, HostTensor& out,
                   const std::unordered_map<const TensorNode*, const HostTensor*>& buffers) {
  auto* data = static_cast<std::byte*>(out.data());
  std::vector<int64_t> strides = contiguous_strides(t.shape);
  for (const ScatterUpdate& update : t.updates) {
    ExprScope scope{&t, {}, buffers};
    scope.buffers[t.state.get()] = &out;
    std::vector<int64_t> domain;
    for (auto& ax : update.axes) {
      scope.slots.emplace(ax.var.get(), static_cast<int>(scope.slots.size()));
      domain.push_back(ax.extent);
    }
    std::vector<IntCode> target;
    for (const Expr& index : update.target) target.push_back(compile_int(index, scope));
    bool float_value = is_float(t.dtype);
    FloatCode float_code = float_value ? compile_float(update.value, scope) : FloatCode();
    IntCode int_code = float_value ? IntCode() : compile_int(update.value, scope);
    std::vector<int64_t> slots(domain.size());
    for_each_point(domain, slots.data(), [&](int64_t) {
      int64_t flat = 0;
      for (size_t d = 0; d < target.size(); ++d) {
        int64_t i = target[d](slots.data());
        if (i < 0 || i >= t.shape[d])
          throw Error(str_cat("interpret: scatter '", t.name, "' writes index ", i,
                              " of dimension ", d, " with size ", t.shape[d]));
        flat += i * strides[d];
      }
      if (float_value)
        store_float(data, t.dtype, flat, float_code(slots.data()));
      else
        store_int(data, t.dtype, flat, int_code(slots.data()));
    });
  }
}

/// Evaluates compute tensor `t` into a new row-major buffer. `buffers` holds every tensor its body
/// reads.
HostTensor evaluate(const TensorNode& t,
                    const std::unordered_map<const TensorNode*, const HostTensor*>& buffers) {
  HostTensor out = HostTensor::zeros(t.shape, t.dtype);
  if (out.numel() == 0) return out;
  ExprScope scope{&t, {}, buffers};
  // A scan reads its own earlier elements: points run in row-major order, so the element one
  // step back along any axis is written before it is read.
  if (t.is_scan()) scope.buffers[t.state.get()] = &out;
  for (auto& ax : t.axes) scope.slots.emplace(ax.var.get(), static_cast<int>(scope.slots.size()));
  auto* r = t.body.as<ReduceNode>();
  if (r)
    for (auto& ax : r->axes)
      scope.slots.emplace(ax.var.get(), static_cast<int>(scope.slots.size()));
  // Everything the per-point closures need is set up once per tensor: no point allocates.
  std::vector<int64_t> slots(scope.slots.size());
  std::vector<int64_t> reduce_extents;
  if (r)
    for (auto& ax : r->axes) reduce_extents.push_back(ax.extent);
  auto reduce = [&](const auto& code, auto identity) {
    return reduce_values(r->op, reduce_extents, code, slots.data(), t.axes.size(), identity);
  };

  // One closure computes and stores the element at the current point, chosen by value kind.
  const Expr& value = r ? r->source : t.body;
  std::function<void(int64_t flat)> compute_point;
  auto* data = static_cast<std::byte*>(out.data());
  if (is_float(value.dtype())) {
    FloatCode code = compile_float(value, scope);
    double identity = r ? reduce_identity(r->op, value.dtype()).as<FloatImmNode>()->value : 0;
    compute_point = [&, code, identity](int64_t flat) {
      double v = r ? reduce(code, identity) : code(slots.data());
      if (is_float(t.dtype))
        store_float(data, t.dtype, flat, v);
      else  // An argmax/argmin index.
        store_int(data, t.dtype, flat, static_cast<int64_t>(v));
    };
  } else {
    IntCode code = compile_int(value, scope);
    int64_t identity = r ? reduce_identity(r->op, value.dtype()).as<IntImmNode>()->value : 0;
    compute_point = [&, code, identity](int64_t flat) {
      store_int(data, t.dtype, flat, r ? reduce(code, identity) : code(slots.data()));
    };
  }
  for_each_point(t.shape, slots.data(), compute_point);
  apply_updates(t, out, buffers);
  return out;
}

/// A row-major copy of `t`, so that every output the interpreter returns has the same layout.
HostTensor row_major_copy(const HostTensor& t) {
  HostTensor out = HostTensor::zeros(t.shape, t.dtype);
  auto* src = static_cast<const std::byte*>(t.data());
  auto* dst = static_cast<std::byte*>(out.data());
  std::vector<int64_t> index(t.shape.size());
  for (int64_t flat = 0; flat < out.numel(); ++flat) {
    int64_t pos = 0;
    for (size_t d = 0; d < index.size(); ++d) pos += index[d] * t.strides[d];
    if (is_float(t.dtype))
      store_float(dst, t.dtype, flat, load_float(src, t.dtype, pos));
    else
      store_int(dst, t.dtype, flat, load_int(src, t.dtype, pos));
    next_point(index.data(), t.shape);
  }
  return out;
}

void check_inputs(const std::vector<Tensor>& placeholders, const std::vector<HostTensor>& inputs) {
  if (inputs.size() != placeholders.size()) {
    std::string names;
    for (auto& p : placeholders) names += (names.empty() ? "'" : ", '") + p->name + "'";
    throw Error(str_cat("interpret: expected ", placeholders.size(), " inputs (", names, "), got ",
                        inputs.size()));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorNode& p = *placeholders[i].get();
    const HostTensor& x = inputs[i];
    if (x.dtype != p.dtype || x.shape != p.shape)
      throw Error(str_cat("interpret: input ", i, " for placeholder '", p.name, "' is ", x.dtype,
                          dims_string(x.shape), ", expected ", p.dtype, dims_string(p.shape)));
    if (!fits_storage(x))
      throw Error(str_cat("interpret: input ", i, " for placeholder '", p.name, "' has strides ",
                          dims_string(x.strides), " that reach past the end of its storage"));
  }
}

}  // namespace

std::vector<HostTensor> interpret(const std::vector<Tensor>& outputs,
                                  const std::vector<HostTensor>& inputs) {
  for (auto& t : outputs)
    if (!t.defined()) throw Error("interpret: an output tensor is undefined");
  std::vector<Tensor> placeholders = placeholders_of(outputs);
  check_inputs(placeholders, inputs);
  std::unordered_map<const TensorNode*, const HostTensor*> buffers;
  for (size_t i = 0; i < inputs.size(); ++i) buffers[placeholders[i].get()] = &inputs[i];
  std::unordered_map<const TensorNode*, HostTensor> computed;
  for (auto& t : topo_order(outputs)) {
    if (t->kind != TensorKind::Compute) continue;
    // unordered_map never moves its elements, so the pointer stays valid as more are added.
    HostTensor& result = computed[t.get()] = evaluate(*t.get(), buffers);
    buffers[t.get()] = &result;
  }
  std::vector<HostTensor> results;
  for (auto& t : outputs)
    results.push_back(t->kind == TensorKind::Compute ? computed.at(t.get())
                                                     : row_major_copy(*buffers.at(t.get())));
  return results;
}

}  // namespace kiln
