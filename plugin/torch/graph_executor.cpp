#include "plugin/torch/graph_executor.h"

#include <ATen/record_function.h>
#include <c10/util/SmallVector.h>

#include <algorithm>
#include <optional>
#include <sstream>
#include <utility>

#include "core/support/error.h"
#include "plugin/torch/slot_launch.h"
#include "plugin/torch/slot_registry.h"

namespace kiln {

enum class GraphExecutor::StepKind : uint8_t { Aten, Launch, Item };

struct GraphExecutor::Step {
  StepKind kind = StepKind::Aten;
  std::optional<c10::OperatorHandle> op;  ///< Aten.
  std::vector<ExecutorArg> args;          ///< Aten.
  int64_t slot = -1;                      ///< Launch.
  std::shared_ptr<SlotEntry> entry;       ///< Launch: resolved once.
  std::vector<int> inputs;                ///< Launch: the inputs; Item: the list.
  int64_t index = 0;                      ///< Item.
  std::vector<int> outputs;               ///< Value per result, kNone where unread.
  std::vector<int> release;               ///< Values this step reads last.
};

namespace {

constexpr int kNone = ExecutorArg::kNone;

/// Pushes `arg` as the operator reads it.
void push_arg(torch::jit::Stack& stack, const ExecutorArg& arg,
              const std::vector<c10::IValue>& values) {
  switch (arg.kind) {
    case ExecutorArg::Kind::Constant: stack.push_back(arg.constant); return;
    case ExecutorArg::Kind::Value: stack.push_back(values[arg.values[0]]); return;
    case ExecutorArg::Kind::TensorList: {
      c10::List<at::Tensor> list;
      list.reserve(arg.values.size());
      for (int v : arg.values) list.push_back(values[v].toTensor());
      stack.emplace_back(std::move(list));
      return;
    }
    case ExecutorArg::Kind::OptionalTensorList: {
      c10::List<std::optional<at::Tensor>> list;
      list.reserve(arg.values.size());
      for (int v : arg.values)
        list.push_back(v == kNone ? std::nullopt : std::optional(values[v].toTensor()));
      stack.emplace_back(std::move(list));
      return;
    }
  }
}

}  // namespace

GraphExecutor::GraphExecutor(int num_inputs) : num_inputs_(num_inputs) {
  KILN_CHECK(num_inputs >= 0);
}

GraphExecutor::~GraphExecutor() = default;

int GraphExecutor::new_value(int id) {
  if (finished_) throw Error("GraphExecutor: a step was added after set_outputs");
  if (id < num_inputs_)
    throw Error(str_cat("GraphExecutor: value ", id, " is an input; steps write new values"));
  if (id >= static_cast<int>(written_.size())) written_.resize(id + 1, false);
  if (written_[id]) throw Error(str_cat("GraphExecutor: value ", id, " is written twice"));
  written_[id] = true;
  return id;
}

void GraphExecutor::check_value(int id, const char* what) const {
  bool written =
      id >= 0 && (id < num_inputs_ || (id < static_cast<int>(written_.size()) && written_[id]));
  if (!written)
    throw Error(str_cat("GraphExecutor: ", what, " reads value ", id, ", which is no input and ",
                        "no step before it wrote"));
}

void GraphExecutor::add_constant(int id, c10::IValue constant) {
  new_value(id);
  constants_.resize(num_values());
  constants_[id] = std::move(constant);
}

void GraphExecutor::add_aten(const c10::OperatorHandle& op, std::vector<ExecutorArg> args,
                             std::vector<int> outputs) {
  const c10::FunctionSchema& schema = op.schema();
  if (args.size() != schema.arguments().size() || outputs.size() != schema.returns().size())
    throw Error(str_cat("GraphExecutor: ", schema.operator_name(), " takes ",
                        schema.arguments().size(), " arguments and returns ",
                        schema.returns().size(), "; given ", args.size(), " and ", outputs.size()));
  for (const ExecutorArg& a : args)
    for (int v : a.values)
      if (v != kNone || a.kind != ExecutorArg::Kind::OptionalTensorList)
        check_value(v, "an argument");
  Step& s = add_step(StepKind::Aten, std::move(outputs));
  s.op = op;
  s.args = std::move(args);
}

void GraphExecutor::add_launch(int64_t slot, std::vector<int> inputs, std::vector<int> outputs) {
  std::shared_ptr<SlotEntry> entry = SlotRegistry::global().get(slot);
  if (inputs.size() != entry->inputs.size() || outputs.size() != entry->outputs.size())
    throw Error(str_cat("GraphExecutor: slot ", slot, " takes ", entry->inputs.size(),
                        " inputs and returns ", entry->outputs.size(), "; given ", inputs.size(),
                        " and ", outputs.size()));
  for (int v : inputs) check_value(v, "a launch");
  Step& s = add_step(StepKind::Launch, std::move(outputs));
  s.slot = slot;
  s.entry = std::move(entry);
  s.inputs = std::move(inputs);
}

void GraphExecutor::add_item(int list, int64_t index, int output) {
  check_value(list, "an item");
  Step& s = add_step(StepKind::Item, {output});
  s.inputs = {list};
  s.index = index;
}

GraphExecutor::Step& GraphExecutor::add_step(StepKind kind, std::vector<int> outputs) {
  for (int& v : outputs)
    if (v != kNone) v = new_value(v);
  Step& s = steps_.emplace_back();
  s.kind = kind;
  s.outputs = std::move(outputs);
  return s;
}

void GraphExecutor::set_outputs(std::vector<int> outputs) {
  for (int v : outputs)
    if (v != kNone) check_value(v, "the output");
  // Each value is released by the step that reads it last (or, never read, writes it), unless
  // the graph returns it: as FX's generated code drops its locals.
  std::vector<int> last(num_values(), -1);
  for (int i = 0; i < static_cast<int>(steps_.size()); ++i) {
    const Step& s = steps_[i];
    for (int v : s.outputs)
      if (v != kNone) last[v] = i;
    for (const ExecutorArg& a : s.args)
      for (int v : a.values)
        if (v != kNone) last[v] = i;
    for (int v : s.inputs) last[v] = i;
  }
  for (int v : outputs)
    if (v != kNone) last[v] = -1;
  for (int v = 0; v < num_values(); ++v)
    if (last[v] >= 0) steps_[last[v]].release.push_back(v);
  constants_.resize(num_values());
  outputs_ = std::move(outputs);
  finished_ = true;
}

int GraphExecutor::num_steps() const {
  return static_cast<int>(steps_.size());
}

int GraphExecutor::num_launches() const {
  return static_cast<int>(std::count_if(steps_.begin(), steps_.end(),
                                        [](const Step& s) { return s.kind == StepKind::Launch; }));
}

namespace {

std::string value_name(int v) {
  return v == kNone ? "_" : str_cat("%", v);
}

std::string names(const std::vector<int>& values) {
  std::string s;
  for (size_t i = 0; i < values.size(); ++i) s += (i ? ", " : "") + value_name(values[i]);
  return s;
}

std::string arg_text(const ExecutorArg& a) {
  switch (a.kind) {
    case ExecutorArg::Kind::Constant: {
      std::ostringstream os;
      os << a.constant;
      return os.str();
    }
    case ExecutorArg::Kind::Value: return value_name(a.values[0]);
    case ExecutorArg::Kind::TensorList:
    case ExecutorArg::Kind::OptionalTensorList: return str_cat("[", names(a.values), "]");
  }
  return "";
}

}  // namespace

std::string GraphExecutor::describe() const {
  std::ostringstream os;
  for (const Step& s : steps_) {
    os << names(s.outputs) << " = ";
    switch (s.kind) {
      case StepKind::Aten: {
        os << s.op->schema().operator_name() << "(";
        for (size_t i = 0; i < s.args.size(); ++i) os << (i ? ", " : "") << arg_text(s.args[i]);
        os << ")";
        break;
      }
      case StepKind::Launch:
        os << "kiln::launch[slot " << s.slot << "](" << names(s.inputs) << ")";
        break;
      case StepKind::Item: os << value_name(s.inputs[0]) << "[" << s.index << "]"; break;
    }
    if (!s.release.empty()) os << "  # then drop " << names(s.release);
    os << "\n";
  }
  os << "return (" << names(outputs_) << ")\n";
  return os.str();
}

std::vector<c10::IValue> GraphExecutor::run(const std::vector<c10::IValue>& inputs) const {
  if (!finished_) throw Error("GraphExecutor: run before set_outputs");
  TORCH_CHECK(static_cast<int>(inputs.size()) == num_inputs_, "kiln: the compiled graph takes ",
              num_inputs_, " inputs, got ", inputs.size());
  std::vector<c10::IValue> values = constants_;
  std::copy(inputs.begin(), inputs.end(), values.begin());
  torch::jit::Stack stack;
  for (const Step& s : steps_) {
    switch (s.kind) {
      case StepKind::Aten: {
        stack.clear();
        for (const ExecutorArg& a : s.args) push_arg(stack, a, values);
        s.op->callBoxed(stack);
        for (size_t k = 0; k < s.outputs.size(); ++k)
          if (s.outputs[k] != kNone) values[s.outputs[k]] = std::move(stack[k]);
        break;
      }
      case StepKind::Launch: {
        c10::SmallVector<at::Tensor, 8> in;
        for (int v : s.inputs) in.push_back(values[v].toTensor());
        RECORD_FUNCTION("kiln::launch", c10::ArrayRef<const c10::IValue>{});
        std::vector<at::Tensor> out = launch_entry(s.slot, *s.entry, in);
        for (size_t k = 0; k < s.outputs.size(); ++k)
          if (s.outputs[k] != kNone) values[s.outputs[k]] = std::move(out[k]);
        break;
      }
      case StepKind::Item: {
        auto list = values[s.inputs[0]].toListRef();
        TORCH_CHECK(s.index >= 0 && s.index < static_cast<int64_t>(list.size()), "kiln: item ",
                    s.index, " of a list of ", list.size());
        values[s.outputs[0]] = list[s.index];
        break;
      }
    }
    for (int v : s.release) values[v] = c10::IValue();
  }
  std::vector<c10::IValue> result;
  result.reserve(outputs_.size());
  for (int v : outputs_) result.push_back(v == kNone ? c10::IValue() : values[v]);
  return result;
}

}  // namespace kiln
