// A table of op calls covering every op of the OpRegistry: shapes with size-1 dims, odd and prime
// sizes, broadcasting, non-contiguous inputs, each dtype somewhere. The op tests interpret them
// and compare with PyTorch; backend tests run them through a JIT and compare with the interpreter.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/ops/op_registry.h"
#include "core/runtime/host_tensor.h"

namespace kiln {

/// One input of a case: a placeholder of this shape, dtype and strides (empty = row-major),
/// filled with uniform random values in [lo, hi).
struct InputSpec {
  std::vector<int64_t> shape;
  DType dtype = DType::F32;
  std::vector<int64_t> strides;
  double lo = -1, hi = 1;
};

struct OpCase {
  std::string name;  ///< Unique, usable as a file name.
  std::string op;    ///< The registry name, e.g. "aten.add.Tensor".
  std::vector<InputSpec> inputs;
  /// The op's positional arguments; tensor arguments are among `placeholders` (one per input).
  std::function<std::vector<OpArg>(const std::vector<Tensor>& placeholders)> args;
  double atol = 1e-5, rtol = 1e-5;
};

/// Every case, in a fixed order.
const std::vector<OpCase>& op_cases();

/// A case made ready to run: its placeholders, random input data and lowered outputs.
struct PreparedCase {
  std::vector<Tensor> placeholders;  ///< One per InputSpec.
  std::vector<HostTensor> inputs;    ///< Data for each placeholder, reproducible per case.
  std::vector<OpArg> args;
  std::vector<Tensor> outputs;  ///< What OpRegistry::global() lowered the call to.
};

/// Builds the placeholders and inputs and lowers the call.
PreparedCase prepare_case(const OpCase& c);

/// The data for placeholders_of(outputs), in that order (what interpret and kernels take).
std::vector<HostTensor> bind_inputs(const PreparedCase& p);

/// Case `index`'s name as a test parameter name (letters, digits and '_' only).
std::string op_case_test_name(size_t index);

}  // namespace kiln
