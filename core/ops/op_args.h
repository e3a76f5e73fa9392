// Typed access to the positional arguments of one op call, with OpErrors that name the op and the
// argument at fault. Every lowering reads its arguments through an OpArgs.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ops/op_registry.h"
#include "core/support/error.h"

namespace kiln {

/// A Python scalar argument. `dtype` is its kind: Bool, I64 (int) or F64 (float), which is what
/// type promotion looks at (a float scalar counts as the default dtype, f32).
struct Scalar {
  double value = 0;
  DType dtype = DType::F64;
};

class OpArgs {
 public:
  /// Checks the argument count against the schema's argument names (`names`, in order).
  OpArgs(std::string_view op, const std::vector<OpArg>& args, std::vector<std::string_view> names);

  const std::string& op() const { return op_; }
  bool is_none(int i) const;
  /// Whether argument `i` is a Python number (bool, int or float).
  bool is_number(int i) const;

  Tensor tensor(int i) const;
  std::optional<Tensor> optional_tensor(int i) const;
  std::vector<Tensor> tensors(int i) const;
  /// A `Tensor?[]` argument: a None entry is an undefined Tensor.
  std::vector<Tensor> optional_tensors(int i) const;
  Scalar scalar(int i) const;
  std::optional<Scalar> optional_scalar(int i) const;
  int64_t integer(int i) const;
  std::optional<int64_t> optional_integer(int i) const;
  double real(int i) const;  ///< A float argument; an int is accepted too.
  bool boolean(int i) const;
  std::vector<int64_t> ints(int i) const;
  /// An `int[]?` argument: None gives nullopt; a bare int is a one-element list.
  std::optional<std::vector<int64_t>> optional_ints(int i) const;
  std::optional<std::string> optional_string(int i) const;
  std::optional<DType> optional_dtype(int i) const;

  /// An OpError "op: argument 'name' <what>".
  OpError error(int i, std::string_view what) const;
  /// An OpError "op: <what>" about the call as a whole.
  OpError error(std::string_view what) const;

 private:
  OpError type_error(int i, std::string_view expected) const;

  std::string op_;
  const std::vector<OpArg>& args_;
  std::vector<std::string_view> names_;
};

/// Normalizes a possibly negative dimension of a tensor of rank `rank` (PyTorch wraps a rank-0
/// tensor's dims as if it had rank 1); throws OpError naming argument `i` when out of range.
int64_t normalize_dim(const OpArgs& a, int i, int64_t dim, int64_t rank);

/// Formats a shape as "[2, 3]" for error messages.
std::string shape_str(const std::vector<int64_t>& shape);

}  // namespace kiln
