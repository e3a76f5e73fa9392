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
// tensor itself (`scan_state`, TVM's scan state): no kernel input, lowering reads the tensor's
// storage there.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/ir/expr.h"

namespace kiln {

enum class TensorKind : uint8_t { Placeholder, Compute };

struct TensorNode {
  TensorKind kind;
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;  ///< In elements, one per dimension.
  std::vector<IterVar> axes;     ///< Compute only: one per dimension, extent = shape[d].
  Expr body;                     ///< Compute only: the value at `axes`; a Reduce only at the top.
  int scan_axis = -1;            ///< Scan only: the axis of the recurrence.
  Tensor scan_state;             ///< Scan only: the placeholder through which body reads itself.

  bool is_scan() const { return scan_axis >= 0; }

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

/// The tensors that `t`'s body loads from (a scan's own state left out), in first-use order,
/// without repeats.
std::vector<Tensor> input_tensors(const Tensor& t);

/// Every tensor reachable from `outputs`, producers before consumers; each appears once.
std::vector<Tensor> topo_order(const std::vector<Tensor>& outputs);

/// The placeholders reachable from `outputs`, in topological order.
std::vector<Tensor> placeholders_of(const std::vector<Tensor>& outputs);

std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace kiln
