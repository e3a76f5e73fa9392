// A slot's kernel that computes its group's contraction (matmul, convolution) with ATen and the
// rest of the group (its epilogue: bias, batch norm, activation, residual) with a Kiln kernel.
// A slot serves this while ATen's contraction beats Kiln's kernel of the whole group; the tuner
// can later swap a faster Kiln kernel in, like any other.
#pragma once

#include <ATen/core/dispatch/Dispatcher.h>

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

  /// "aten.convolution.default + Kiln epilogue": what serves the slot, for stats.
  const std::string& description() const { return description_; }

 private:
  /// Where a value the kernel needs comes from: a slot input or a result of the contraction.
  struct Source {
    bool from_contraction;
    int index;
  };
  /// One argument of the ATen call: a constant, a tensor or a list of tensors (slot inputs).
  struct Argument {
    c10::IValue constant;
    std::vector<int> inputs;  ///< Slot inputs; one for a tensor argument.
    bool is_list = false;
  };

  std::vector<at::Tensor> run_contraction(const std::vector<at::Tensor>& inputs) const;

  c10::OperatorHandle op_;
  std::vector<Argument> arguments_;
  std::vector<TensorType> input_types_, output_types_;
  std::vector<TensorType> contraction_types_;  ///< What the epilogue reads of its results.
  std::shared_ptr<const Kernel> epilogue_;
  std::vector<Source> epilogue_inputs_;
  std::vector<int> epilogue_outputs_;           ///< Slot output of each epilogue output.
  std::vector<std::pair<int, int>> copied_out_;  ///< (slot output, contraction result) pairs.
  std::string description_;
};

}  // namespace kiln
