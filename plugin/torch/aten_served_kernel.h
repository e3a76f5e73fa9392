// A slot's kernel that computes its group's contraction (matmul, convolution) with ATen and the
// rest of the group (its epilogue: bias, batch norm, activation, residual) with a Kiln kernel.
// A slot serves this while ATen's contraction beats Kiln's kernel of the whole group; the tuner
// can later swap a faster Kiln kernel in, like any other.
#pragma once

#include <ATen/core/dispatch/Dispatcher.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/graph/graph.h"
#include "core/runtime/kernel.h"

namespace kiln {

class AtenServedKernel : public Kernel {
 public:
  /// `whole` is Kiln's kernel function of `group` (its parameters are the slot's: group.inputs,
  /// then group.outputs); `epilogue` is the kernel of `epilogue_group` (lower_epilogue of
  /// `group`), null when that is empty. Throws Error when the contraction's op is not an
  /// operator of the dispatcher, InternalError when the groups do not fit together.
  AtenServedKernel(const Graph& g, const FusionGroup& group, const FusionGroup& epilogue_group,
                   LoweredFunc whole, std::shared_ptr<const Kernel> epilogue);

  void launch(void* const* args) const override;

  /// The slot's outputs for `inputs`, made after the contraction ran (launch writes into
  /// buffers made before): with one output that is an elementwise function of the contraction's
  /// result (bias, activation, residual), the epilogue overwrites that result, and no buffer
  /// exists beyond what eager mode makes.
  std::vector<at::Tensor> run(at::TensorList inputs) const;

  /// "aten.convolution.default + Kiln epilogue [in place]": what serves the slot, for stats.
  const std::string& description() const { return description_; }

 private:
  /// One argument of an ATen call: a constant, or values (one for a tensor argument, several
  /// for a tensor list) by their index in the launch's value table: the slot's inputs, then the
  /// results of each call in order.
  struct Argument {
    c10::IValue constant;
    std::vector<int> values;
    bool is_list = false;
  };
  /// One node run through the dispatcher: a prologue view or the contraction (the last).
  struct Call {
    c10::OperatorHandle op;
    std::vector<Argument> arguments;
    std::vector<TensorType> result_types;  ///< As the traced graph recorded them.
  };

  void add_call(const Graph& g, const Node& node, std::map<ValueId, int>& value_index);
  void run_calls(std::vector<at::Tensor>& values) const;
  void run_epilogue(const std::vector<at::Tensor>& values, void* const* outputs) const;

  std::vector<Call> calls_;
  std::vector<TensorType> input_types_, output_types_;
  std::shared_ptr<const Kernel> epilogue_;
  std::vector<int> epilogue_inputs_;             ///< Value index of each epilogue input.
  std::vector<int> epilogue_outputs_;            ///< Slot output of each epilogue output.
  std::vector<std::pair<int, int>> copied_out_;  ///< (slot output, value index) pairs.
  std::string description_;
  int contraction_value_ = -1;  ///< Value index of the contraction's (first) result.
  bool in_place_ = false;
};

}  // namespace kiln
