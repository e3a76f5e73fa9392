// Tensors of the tensor-expression IR: placeholders (kernel inputs) and compute definitions.
//
//   Tensor A = placeholder("A", {M, K}, DType::F32);
//   Tensor B = placeholder("B", {K, N}, DType::F32);
//   IterVar k = reduce_axis(K, "k");
//   Tensor C = compute("C", {M, N}, [&](const std::vector<Var>& i) {
//     return reduce(ReduceOp::Sum, A(i[0], k.var) * B(k.var, i[1]), {k});
//   });
//
// Shapes are static. A placeholder may have any element strides (0 for a broadcast dimension,
// negative not allowed) because its data comes from PyTorch; a compute tensor is row-major.
//
// A scan is a compute that is a recurrence along one axis (cumsum, cumprod, cummax): its body
// reads its own element one step back along that axis, through a placeholder that stands for the
// tensor itself (`state`, TVM's scan state): no kernel input, lowering reads the tensor's
// storage there.
//
// A scatter is a compute whose elements are first its body (the init), then changed by updates
// that write at computed indices, which may come from data (scatter_add, index_put): each update
// visits the points of its own domain in row-major order and sets the element at target(point)
// to value(point, old element), reading the old element through the same kind of placeholder.
// The updates run after the init, one after another, in order.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/ir/expr.h"

namespace kiln {

enum class TensorKind : uint8_t { Placeholder, Compute };

/// One update of a scatter (see above): at each point of `axes`, element `target` becomes `value`.
struct ScatterUpdate {
  std::vector<IterVar> axes;
  std::vector<Expr> target;  ///< One index per dimension of the tensor, in range (clamped).
  Expr value;                ///< May load the tensor's `state` at `target`: the old element.
};

struct TensorNode {
  TensorKind kind;
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;  ///< In elements, one per dimension.
  std::vector<IterVar> axes;     ///< Compute only: one per dimension, extent = shape[d].
  Expr body;                     ///< Compute only: the value at `axes`; a Reduce only at the top.
  int scan_axis = -1;            ///< Scan only: the axis of the recurrence.
  std::vector<ScatterUpdate> updates;  ///< Scatter only, in the order they run.
  /// Scan or scatter: the placeholder through which the tensor reads its own elements.
  Tensor state;

  bool is_scan() const { return scan_axis >= 0; }
  bool is_scatter() const { return !updates.empty(); }

  int64_t numel() const;
  int rank() const { return static_cast<int>(shape.size()); }
};

/// Row-major element strides for a shape.
std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& shape);

/// A kernel input. `strides` defaults to row-major; throws IRError on negative sizes or strides.
Tensor placeholder(std::string name, std::vector<int64_t> shape, DType dtype,
                   std::vector<int64_t> strides = {});

/// A compute definition: `body(axes)` gives the element at each point of `shape`. The body's
/// dtype is the tensor's dtype. Throws IRError when the body is malformed (see validate.h).
Tensor compute(std::string name, std::vector<int64_t> shape,
               const std::function<Expr(const std::vector<Var>& axes)>& body);

/// A scan along `axis` (see above): where axes[axis] is 0 the element is first(axes), elsewhere
/// step(axes, prev), `prev` being the element one step back along `axis` (cumsum:
/// first = x(i) + 0, step = prev + x(i)). The dtype is first's, which step must share. The scan
/// axis runs in order: a schedule may neither split, fuse, parallelize nor vectorize it, and the
/// tensor is always computed into its own storage (never inlined or computed at another loop).
Tensor scan(std::string name, std::vector<int64_t> shape, int axis,
            const std::function<Expr(const std::vector<Var>& axes)>& first,
            const std::function<Expr(const std::vector<Var>& axes, const Expr& prev)>& step);

/// How a scatter's update is given: its domain, where each point writes, and the new value from
/// the point and the old element.
struct ScatterUpdateDef {
  std::vector<int64_t> domain;
  std::function<std::vector<Expr>(const std::vector<Var>& point)> target;
  std::function<Expr(const std::vector<Var>& point, const Expr& old)> value;
};

/// A scatter (see above): `init(axes)` everywhere, then each update in order. Each value must
/// have the init's dtype, each target one integer index per dimension; the op that builds it
/// keeps targets in range (clamp_index). The tensor is always computed into its own storage
/// (never inlined or computed at another loop), and no stage is computed inside its loops.
Tensor scatter(std::string name, std::vector<int64_t> shape,
               const std::function<Expr(const std::vector<Var>& axes)>& init,
               const std::vector<ScatterUpdateDef>& updates);

/// The tensors that `t`'s body and updates load from (its own state left out), in first-use order,
/// without repeats.
std::vector<Tensor> input_tensors(const Tensor& t);

/// Whether scatter `t`'s updates (their targets or values) load `from`.
bool updates_read(const Tensor& t, const TensorNode* from);

/// Every tensor reachable from `outputs`, producers before consumers; each appears once.
std::vector<Tensor> topo_order(const std::vector<Tensor>& outputs);

/// The placeholders reachable from `outputs`, in topological order.
std::vector<Tensor> placeholders_of(const std::vector<Tensor>& outputs);

std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace kiln
