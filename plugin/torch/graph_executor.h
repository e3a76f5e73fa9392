// A compiled graph run as one C++ call: the rewritten FX graph (kiln.rewrite) as a plan of
// steps, each an ATen operator called through the dispatcher with its arguments laid out once,
// a kernel slot launched directly (no dispatcher, no Python), or an element picked out of a list.
// Values live in one table indexed by the FX node's position and are dropped after their last
// reader, as FX's generated code drops its locals.
//
//   GraphExecutor ex(2);                  // values 0 and 1: the inputs
//   ex.add_launch(slot, {0, 1}, {2});     // value 2: the slot's output 0
//   ex.set_outputs({2});
//   std::vector<c10::IValue> out = ex.run({a, b});
//
// The binding (kiln._C.GraphExecutor) builds it from the FX graph; kiln.executor says which
// graphs it takes.
#pragma once

#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/ivalue.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "plugin/torch/kiln_torch.h"

namespace kiln {

struct SlotEntry;

/// One argument of an ATen step, in the order of the operator's schema.
struct ExecutorArg {
  enum class Kind : uint8_t {
    Constant,            ///< `constant`, the same on every call.
    Value,               ///< values[0].
    TensorList,          ///< Tensor[] of `values`.
    OptionalTensorList,  ///< Tensor?[] of `values`, kNone where an element is None.
  };
  static constexpr int kNone = -1;

  Kind kind = Kind::Constant;
  c10::IValue constant;
  std::vector<int> values;
};

class KILN_TORCH_API GraphExecutor {
 public:
  /// Values 0 .. num_inputs - 1 are the graph's inputs, in order.
  explicit GraphExecutor(int num_inputs);
  ~GraphExecutor();
  GraphExecutor(const GraphExecutor&) = delete;
  GraphExecutor& operator=(const GraphExecutor&) = delete;

  /// Value `id` is `constant` on every call (an FX get_attr).
  void add_constant(int id, c10::IValue constant);
  /// `op(args)`: one argument per schema argument. Return k becomes value outputs[k] (kNone:
  /// unread). Throws Error when the counts differ from the schema's.
  void add_aten(const c10::OperatorHandle& op, std::vector<ExecutorArg> args,
                std::vector<int> outputs);
  /// launch_slot(slot, values `inputs`); output k becomes value outputs[k] (kNone: unread).
  /// Throws Error for an unknown slot.
  void add_launch(int64_t slot, std::vector<int> inputs, std::vector<int> outputs);
  /// Value `output` = element `index` of list value `list` (an ATen op's Tensor[]).
  void add_item(int list, int64_t index, int output);
  /// What run() returns: value ids, kNone for a None. Ends the plan: values are released after
  /// their last reader from here on.
  void set_outputs(std::vector<int> outputs);

  /// Runs the steps on `inputs` (num_inputs of them). Errors of the operators propagate as
  /// they are (c10::Error and its kinds).
  ///
  /// NOTE: `inputs` is read, never released: a tensor that Python owns calls back into Python
  /// (taking the GIL) when its last C++ reference goes, so a caller without the GIL keeps
  /// `inputs` until it holds the GIL again, and the run drops none of those tensors' last
  /// C++ references.
  std::vector<c10::IValue> run(const std::vector<c10::IValue>& inputs) const;

  /// The plan as text, a step a line: "%4, _ = aten::topk(%2, 3, -1, True, True)", with the
  /// values each step drops after it ("# then drop %2").
  std::string describe() const;

  int num_inputs() const { return num_inputs_; }
  int num_steps() const;
  int num_launches() const;

 private:
  enum class StepKind : uint8_t;
  struct Step;
  /// Appends a step of `kind` writing `outputs` (claimed as new values); the caller fills in
  /// the rest.
  Step& add_step(StepKind kind, std::vector<int> outputs);
  int new_value(int id);
  void check_value(int id, const char* what) const;
  /// Inputs and the values steps write: the size of the values table.
  int num_values() const { return std::max(num_inputs_, static_cast<int>(written_.size())); }

  int num_inputs_;
  std::vector<c10::IValue> constants_;  ///< Indexed by value id; None for non-constants.
  std::vector<bool> written_;           ///< Indexed by value id: written by a step.
  std::vector<Step> steps_;
  std::vector<int> outputs_;
  bool finished_ = false;
};

}  // namespace kiln
