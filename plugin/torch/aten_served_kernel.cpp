#include "plugin/torch/aten_served_kernel.h"

#include <ATen/ATen.h>
#include <c10/util/SmallVector.h>

#include <algorithm>

#include "core/ir/error.h"
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
  auto handle = c10::Dispatcher::singleton().findSchema({name, overload == "default" ? "" : overload});
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
        } else if constexpr (std::is_same_v<T, ValueRef> || std::is_same_v<T, std::vector<ValueRef>>) {
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

const Node& contraction_of(const Graph& g, const FusionGroup& group) {
  KILN_CHECK(group.contraction >= 0, "a group without a contraction");
  return g.nodes()[group.contraction];
}

TensorType param_type(const Tensor& t) {
  return {t->dtype, t->shape, t->strides, "cpu"};
}

/// Whether `t` is laid out as `type` (strides of size-1 dimensions do not matter).
bool has_layout(const at::Tensor& t, const TensorType& type) {
  if (t.sizes() != at::IntArrayRef(type.shape)) return false;
  for (size_t d = 0; d < type.shape.size(); ++d)
    if (type.shape[d] != 1 && t.stride(d) != type.strides[d]) return false;
  return true;
}

}  // namespace

AtenServedKernel::AtenServedKernel(const Graph& g, const FusionGroup& group,
                                   const FusionGroup& epilogue_group, LoweredFunc whole,
                                   std::shared_ptr<const Kernel> epilogue)
    : Kernel(std::move(whole)),
      op_(find_operator(contraction_of(g, group).op)),
      epilogue_(std::move(epilogue)) {
  const Node& node = contraction_of(g, group);
  description_ = node.op + (epilogue_ ? " + Kiln epilogue" : "");
  for (const NodeArg& arg : node.args) {
    Argument a;
    auto input = [&](ValueId v) {
      int i = index_of(group.inputs, v);
      KILN_CHECK(i >= 0, "the contraction reads value ", v, ", which is not an input of its slot");
      return i;
    };
    if (auto* r = std::get_if<ValueRef>(&arg)) {
      a.inputs = {input(r->id)};
    } else if (auto* list = std::get_if<std::vector<ValueRef>>(&arg)) {
      a.is_list = true;
      for (const ValueRef& r : *list) a.inputs.push_back(input(r.id));
    } else {
      a.constant = constant(arg);
    }
    arguments_.push_back(std::move(a));
  }
  const LoweredFunc& f = func();
  for (int i = 0; i < f.num_inputs; ++i) input_types_.push_back(param_type(f.params[i]));
  output_types_ = row_major_types(g, group.outputs);
  for (ValueId v : node.outputs) contraction_types_.push_back(g.values()[v]);

  KILN_CHECK((epilogue_ != nullptr) == !epilogue_group.results.empty(),
             "an epilogue kernel must come with a non-empty epilogue group");
  for (ValueId v : epilogue_group.inputs) {
    int k = index_of(node.outputs, v);
    epilogue_inputs_.push_back(k >= 0 ? Source{true, k} : Source{false, index_of(group.inputs, v)});
    KILN_CHECK(epilogue_inputs_.back().index >= 0, "the epilogue reads value ", v,
               ", which is neither a slot input nor made by the contraction");
  }
  for (ValueId v : epilogue_group.outputs) {
    epilogue_outputs_.push_back(index_of(group.outputs, v));
    KILN_CHECK(epilogue_outputs_.back() >= 0, "epilogue output ", v, " is not a slot output");
  }
  for (int j = 0; j < static_cast<int>(group.outputs.size()); ++j) {
    if (index_of(epilogue_group.outputs, group.outputs[j]) >= 0) continue;
    int k = index_of(node.outputs, group.outputs[j]);
    KILN_CHECK(k >= 0, "slot output ", group.outputs[j], " is made by neither part");
    copied_out_.push_back({j, k});
  }
}

std::vector<at::Tensor> AtenServedKernel::run_contraction(
    const std::vector<at::Tensor>& inputs) const {
  torch::jit::Stack stack;
  for (const Argument& a : arguments_) {
    if (a.is_list) {
      c10::List<at::Tensor> list;
      for (int i : a.inputs) list.push_back(inputs[i]);
      stack.emplace_back(std::move(list));
    } else if (!a.inputs.empty()) {
      stack.emplace_back(inputs[a.inputs[0]]);
    } else {
      stack.push_back(a.constant);
    }
  }
  {
    // The slot's inputs need no autograd: the graph around the launch records it.
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    op_.callBoxed(&stack);
  }
  KILN_CHECK(stack.size() == contraction_types_.size(), "the contraction returned ",
             stack.size(), " values for ", contraction_types_.size(), " results");
  std::vector<at::Tensor> results;
  for (size_t k = 0; k < stack.size(); ++k) {
    at::Tensor t = stack[k].toTensor();
    // The epilogue was compiled for the layout the traced graph recorded; ATen may choose
    // another one (channels-last, say) at run time.
    if (!has_layout(t, contraction_types_[k]))
      t = empty_tensor(contraction_types_[k]).copy_(t);
    results.push_back(std::move(t));
  }
  return results;
}

void AtenServedKernel::launch(void* const* args) const {
  std::vector<at::Tensor> inputs;
  inputs.reserve(input_types_.size());
  for (size_t i = 0; i < input_types_.size(); ++i)
    inputs.push_back(tensor_over(args[i], input_types_[i]));
  std::vector<at::Tensor> made = run_contraction(inputs);
  void* const* outputs = args + input_types_.size();
  if (epilogue_) {
    c10::SmallVector<void*, 16> epilogue_args;
    for (const Source& s : epilogue_inputs_)
      epilogue_args.push_back(s.from_contraction ? made[s.index].data_ptr() : args[s.index]);
    for (int j : epilogue_outputs_) epilogue_args.push_back(outputs[j]);
    epilogue_->launch(epilogue_args.data());
  }
  for (auto [j, k] : copied_out_) tensor_over(outputs[j], output_types_[j]).copy_(made[k]);
}

}  // namespace kiln
