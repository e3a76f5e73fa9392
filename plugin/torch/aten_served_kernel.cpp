#include "plugin/torch/aten_served_kernel.h"

#include <ATen/ATen.h>
#include <c10/util/SmallVector.h>

#include <algorithm>
#include <set>

#include "core/ir/functor.h"
#include "core/support/error.h"
#include "plugin/torch/torch_types.h"

namespace kiln {

namespace {

/// The dispatcher's operator of a graph op name: "aten.mm.default" is aten::mm, overload "".
c10::OperatorHandle find_operator(const std::string& op) {
  size_t first = op.find('.'), last = op.rfind('.');
  if (first == std::string::npos || first == last)
    throw Error(str_cat("'", op, "' is not an ATen operator name (namespace.name.overload)"));
  std::string name = op.substr(0, first) + "::" + op.substr(first + 1, last - first - 1);
  std::string overload = op.substr(last + 1);
  auto handle =
      c10::Dispatcher::singleton().findSchema({name, overload == "default" ? "" : overload});
  if (!handle) throw Error(str_cat("the dispatcher has no operator ", op));
  return *handle;
}

c10::IValue constant(const NodeArg& arg) {
  return std::visit(
      [](const auto& v) -> c10::IValue {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, NoneArg>) {
          return {};
        } else if constexpr (std::is_same_v<T, DType>) {
          return torch_dtype(v);
        } else if constexpr (std::is_same_v<T, ValueRef> ||
                             std::is_same_v<T, std::vector<ValueRef>>) {
          throw InternalError("a tensor argument is not a constant");
        } else {
          return v;
        }
      },
      arg);
}

int index_of(const std::vector<ValueId>& values, ValueId v) {
  auto it = std::find(values.begin(), values.end(), v);
  return it == values.end() ? -1 : static_cast<int>(it - values.begin());
}

/// Whether every compute of `result`'s definition that reads `source` (or a compute that does)
/// has its shape and reads those only at its own indices: result[i] depends on source[i] alone
/// (and on any other input anywhere, and on computes of other inputs alone, such as batch
/// norm's scale and shift per channel), so it may overwrite source in place.
bool is_elementwise_in(const Tensor& result, const TensorNode* source) {
  std::set<const TensorNode*> reads_source{source};
  for (const Tensor& t : topo_order({result})) {
    if (t->kind != TensorKind::Compute) continue;
    if (t->is_scan() || t->is_scatter()) return false;
    std::vector<const LoadNode*> loads = loads_in(t->body);
    if (std::none_of(loads.begin(), loads.end(),
                     [&](const LoadNode* l) { return reads_source.count(l->tensor.get()) > 0; }))
      continue;
    reads_source.insert(t.get());
    if (t->shape != result->shape || t->body.as<ReduceNode>()) return false;
    for (const LoadNode* load : loads) {
      if (!reads_source.count(load->tensor.get())) continue;
      if (load->indices.size() != t->axes.size()) return false;
      for (size_t d = 0; d < load->indices.size(); ++d)
        if (!load->indices[d].same_as(t->axes[d].var)) return false;
    }
  }
  return true;
}

/// The placeholder through which `epilogue` reads value `v`, or null.
const TensorNode* placeholder_of(const FusionGroup& epilogue, ValueId v) {
  std::vector<Tensor> placeholders = placeholders_of(epilogue.results);
  int i = index_of(epilogue.inputs, v);
  return i < 0 ? nullptr : placeholders[i].get();
}

}  // namespace

AtenServedKernel::AtenServedKernel(const Graph& g, const FusionGroup& group,
                                   const FusionGroup& epilogue_group, LoweredFunc whole,
                                   std::shared_ptr<const Kernel> epilogue)
    : Kernel(std::move(whole)), epilogue_(std::move(epilogue)) {
  KILN_CHECK(group.contraction >= 0, "a group without a contraction");
  const Node& contraction = g.nodes()[group.contraction];
  const LoweredFunc& f = func();
  input_types_ = input_types(f);
  output_types_ = row_major_types(g, group.outputs);

  std::map<ValueId, int> value_index;
  for (size_t i = 0; i < group.inputs.size(); ++i) value_index[group.inputs[i]] = i;
  for (int n : group.prologue) add_call(g, g.nodes()[n], value_index);
  add_call(g, contraction, value_index);
  contraction_value_ = value_index.at(contraction.outputs[0]);

  KILN_CHECK((epilogue_ != nullptr) == !epilogue_group.results.empty(),
             "an epilogue kernel must come with a non-empty epilogue group");
  for (ValueId v : epilogue_group.inputs) {
    auto it = value_index.find(v);
    KILN_CHECK(it != value_index.end(), "the epilogue reads value ", v,
               ", which is neither a slot input nor made by the ATen calls");
    epilogue_inputs_.push_back(it->second);
  }
  for (ValueId v : epilogue_group.outputs) {
    epilogue_outputs_.push_back(index_of(group.outputs, v));
    KILN_CHECK(epilogue_outputs_.back() >= 0, "epilogue output ", v, " is not a slot output");
  }
  for (int j = 0; j < static_cast<int>(group.outputs.size()); ++j) {
    if (index_of(epilogue_group.outputs, group.outputs[j]) >= 0) continue;
    int k = index_of(contraction.outputs, group.outputs[j]);
    KILN_CHECK(k >= 0, "slot output ", group.outputs[j], " (made by ",
               g.nodes()[g.producer(group.outputs[j])].op, ") is made by neither the ATen calls ",
               "nor the epilogue");
    copied_out_.push_back({j, value_index.at(group.outputs[j])});
  }
  in_place_ = epilogue_ && group.outputs.size() == 1 && contraction.outputs.size() == 1 &&
              epilogue_group.results.size() == 1 && copied_out_.empty() &&
              calls_.back().result_types[0].dtype == output_types_[0].dtype &&
              calls_.back().result_types[0].shape == output_types_[0].shape &&
              calls_.back().result_types[0].strides == output_types_[0].strides &&
              is_elementwise_in(epilogue_group.results[0],
                                placeholder_of(epilogue_group, contraction.outputs[0]));
  description_ = contraction.op + (!epilogue_  ? ""
                                   : in_place_ ? " + Kiln epilogue in place"
                                               : " + Kiln epilogue");
}

void AtenServedKernel::add_call(const Graph& g, const Node& node,
                                std::map<ValueId, int>& value_index) {
  Call call{find_operator(node.op), {}, {}};
  for (ValueId v : node.outputs) call.result_types.push_back(g.values()[v]);
  auto index = [&](ValueId v) {
    auto it = value_index.find(v);
    KILN_CHECK(it != value_index.end(), node.op, " reads value ", v,
               ", which is not an input of its slot or made before it");
    return it->second;
  };
  for (const NodeArg& arg : node.args) {
    Argument a;
    if (auto* r = std::get_if<ValueRef>(&arg)) {
      a.values = {index(r->id)};
    } else if (auto* list = std::get_if<std::vector<ValueRef>>(&arg)) {
      a.is_list = true;
      for (const ValueRef& r : *list) a.values.push_back(index(r.id));
    } else {
      a.constant = constant(arg);
    }
    call.arguments.push_back(std::move(a));
  }
  // The graph says a copy's memory format by its result's strides (a Kiln node keeps no memory
  // format): a row-major result asks ATen for a contiguous one, not for its input's layout.
  const auto& schema = call.op.schema().arguments();
  for (size_t i = 0; i < call.arguments.size() && i < schema.size(); ++i) {
    Argument& a = call.arguments[i];
    if (schema[i].name() == "memory_format" && a.values.empty() && a.constant.isNone() &&
        !call.result_types.empty() &&
        call.result_types[0].strides == contiguous_strides(call.result_types[0].shape))
      a.constant = c10::MemoryFormat::Contiguous;
  }
  int next = static_cast<int>(input_types_.size());
  for (const Call& c : calls_) next += static_cast<int>(c.op.schema().returns().size());
  for (ValueId v : node.outputs) value_index[v] = next++;
  KILN_CHECK(call.op.schema().returns().size() == node.outputs.size(), node.op, " returns ",
             call.op.schema().returns().size(), " values, the graph has ", node.outputs.size());
  calls_.push_back(std::move(call));
}

void AtenServedKernel::run_calls(std::vector<at::Tensor>& values) const {
  // The slot's inputs need no autograd: the graph around the launch records it.
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  for (size_t c = 0; c < calls_.size(); ++c) {
    torch::jit::Stack stack;
    for (const Argument& a : calls_[c].arguments) {
      if (a.is_list) {
        c10::List<at::Tensor> list;
        for (int v : a.values) list.push_back(values[v]);
        stack.emplace_back(std::move(list));
      } else if (!a.values.empty()) {
        stack.emplace_back(values[a.values[0]]);
      } else {
        stack.push_back(a.constant);
      }
    }
    calls_[c].op.callBoxed(&stack);
    for (size_t k = 0; k < stack.size(); ++k) {
      at::Tensor t = stack[k].toTensor();
      // What reads a result (the next call, the epilogue) expects the layout the traced graph
      // recorded; ATen may choose another at run time (channels-last, or a clone that keeps
      // its input's strides where the graph asked for a contiguous one).
      const TensorType& traced = calls_[c].result_types[k];
      if (!laid_out_as(t, traced)) t = empty_tensor(traced).copy_(t);
      values.push_back(std::move(t));
    }
  }
  // The prologue's results (views, or a copy ATen made) only fed the contraction: their memory
  // goes before the epilogue runs, as in eager mode.
  for (int v = static_cast<int>(input_types_.size()); v < contraction_value_; ++v)
    values[v] = at::Tensor();
}

std::vector<at::Tensor> AtenServedKernel::run(at::TensorList inputs) const {
  std::vector<at::Tensor> values(inputs.begin(), inputs.end());
  run_calls(values);
  // Outputs are made only now, after the contraction, so that they never coexist with the
  // prologue's results, as in eager mode.
  std::vector<at::Tensor> outputs;
  if (in_place_) {
    at::Tensor result = values[contraction_value_];
    // ATen's contractions return new tensors; should one return (a view of) an input, that
    // input must stay as it is.
    bool aliases_input = std::any_of(inputs.begin(), inputs.end(),
                                     [&](const at::Tensor& t) { return t.is_alias_of(result); });
    outputs.push_back(aliases_input ? empty_tensor(output_types_[0]) : result);
  } else {
    for (const TensorType& type : output_types_) outputs.push_back(empty_tensor(type));
  }
  std::vector<void*> output_ptrs;
  for (at::Tensor& t : outputs) output_ptrs.push_back(t.data_ptr());
  run_epilogue(values, output_ptrs.data());
  return outputs;
}

void AtenServedKernel::run_epilogue(const std::vector<at::Tensor>& values,
                                    void* const* outputs) const {
  if (epilogue_) {
    c10::SmallVector<void*, 16> epilogue_args;
    for (int v : epilogue_inputs_) epilogue_args.push_back(values[v].data_ptr());
    for (int j : epilogue_outputs_) epilogue_args.push_back(outputs[j]);
    epilogue_->launch(epilogue_args.data());
  }
  for (auto [j, v] : copied_out_) tensor_over(outputs[j], output_types_[j]).copy_(values[v]);
}

void AtenServedKernel::launch(void* const* args) const {
  std::vector<at::Tensor> values;
  values.reserve(input_types_.size() + 2 * calls_.size());
  for (size_t i = 0; i < input_types_.size(); ++i)
    values.push_back(tensor_over(args[i], input_types_[i]));
  run_calls(values);
  run_epilogue(values, args + input_types_.size());
}

}  // namespace kiln
