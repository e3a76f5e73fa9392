// kiln._C.GraphExecutor: the binding of plugin/torch/graph_executor.h. Python (kiln.executor)
// adds the rewritten FX graph's nodes in order; this side matches each ATen node's arguments to
// its operator's schema once, so that a call only moves tensors.
#include "plugin/python/kiln/_C/executor_bindings.h"

#include <pybind11/stl.h>
#include <torch/csrc/Exceptions.h>
#include <torch/csrc/autograd/python_variable.h>
#include <torch/csrc/jit/python/pybind_utils.h>

#include <string>
#include <vector>

#include "core/support/error.h"
#include "plugin/python/kiln/_C/py_value.h"
#include "plugin/torch/graph_executor.h"

namespace py = pybind11;

namespace kiln {

namespace {

constexpr int kNone = ExecutorArg::kNone;

/// Whether `a` is a list or tuple holding a Value.
bool holds_values(py::handle a) {
  if (!py::isinstance<py::list>(a) && !py::isinstance<py::tuple>(a)) return false;
  for (py::handle item : a)
    if (py::isinstance<PyValue>(item)) return true;
  return false;
}

/// A list argument with Values in it: Tensor[] or Tensor?[], the only lists whose elements an
/// ATen graph computes once its sizes are static.
ExecutorArg list_of_values(py::handle a, const c10::Argument& argument,
                           const c10::FunctionSchema& schema) {
  auto list_type = argument.real_type()->cast<c10::ListType>();
  c10::TypePtr element = list_type ? list_type->getElementType() : nullptr;
  ExecutorArg arg;
  if (element && element->kind() == c10::TypeKind::TensorType) {
    arg.kind = ExecutorArg::Kind::TensorList;
  } else if (element && element->kind() == c10::TypeKind::OptionalType &&
             element->castRaw<c10::OptionalType>()->getElementType()->kind() ==
                 c10::TypeKind::TensorType) {
    arg.kind = ExecutorArg::Kind::OptionalTensorList;
  } else {
    throw py::type_error(str_cat(schema.operator_name(), ": argument ", argument.name(), " (",
                                 argument.real_type()->str(),
                                 ") holds graph values; only Tensor[] and Tensor?[] may"));
  }
  for (py::handle item : a) {
    if (py::isinstance<PyValue>(item))
      arg.values.push_back(item.cast<const PyValue&>().id);
    else if (item.is_none() && arg.kind == ExecutorArg::Kind::OptionalTensorList)
      arg.values.push_back(kNone);
    else
      throw py::type_error(str_cat(schema.operator_name(), ": argument ", argument.name(),
                                   " mixes graph values with ",
                                   py::repr(item).cast<std::string>()));
  }
  return arg;
}

/// Argument `i` of `schema`: positional `args[i]`, else `kwargs[name]`, else its default.
ExecutorArg executor_arg(const c10::FunctionSchema& schema, size_t i, const py::tuple& args,
                         const py::dict& kwargs) {
  const c10::Argument& argument = schema.arguments()[i];
  py::object a;
  if (i < args.size() && !argument.kwarg_only())
    a = args[i];
  else if (kwargs.contains(argument.name()))
    a = kwargs[argument.name().c_str()];
  ExecutorArg arg;
  if (!a) {
    if (!argument.default_value())
      throw py::type_error(str_cat(schema.operator_name(), ": argument ", argument.name(),
                                   " is missing and has no default"));
    arg.constant = *argument.default_value();
    return arg;
  }
  if (py::isinstance<PyValue>(a)) {
    arg.kind = ExecutorArg::Kind::Value;
    arg.values = {a.cast<const PyValue&>().id};
    return arg;
  }
  if (holds_values(a)) return list_of_values(a, argument, schema);
  try {
    // As torch.ops calls from Python take them: a number where a Tensor goes is a 0-dim tensor
    // (a wrapped number, which type promotion treats as a Python scalar).
    torch::jit::ToIValueAllowNumbersAsTensors numbers_as_tensors(true);
    arg.constant = torch::jit::argumentToIValue(schema, i, a);
  } catch (const torch::jit::schema_match_error& e) {
    throw py::type_error(e.what());
  }
  return arg;
}

void add_aten(GraphExecutor& ex, const std::string& name, const std::string& overload,
              const py::tuple& args, const py::dict& kwargs, std::vector<int> outputs) {
  c10::OperatorHandle op =
      c10::Dispatcher::singleton().findSchemaOrThrow(name.c_str(), overload.c_str());
  const c10::FunctionSchema& schema = op.schema();
  if (args.size() > schema.arguments().size())
    throw py::type_error(str_cat(schema.operator_name(), " takes ", schema.arguments().size(),
                                 " arguments, given ", args.size()));
  std::vector<ExecutorArg> exec_args;
  for (size_t i = 0; i < schema.arguments().size(); ++i)
    exec_args.push_back(executor_arg(schema, i, args, kwargs));
  ex.add_aten(op, std::move(exec_args), std::move(outputs));
}

/// An argument of a compiled graph's call (or a constant of the graph): a tensor, or a number
/// or None (the sizes that a graph specialized from one with symbolic sizes still takes and
/// returns).
c10::IValue input_of(py::handle a, size_t index) {
  if (THPVariable_Check(a.ptr())) return THPVariable_Unpack(a.ptr());
  if (a.is_none()) return {};
  if (py::isinstance<py::bool_>(a)) return a.cast<bool>();  // before int: bool is an int
  if (py::isinstance<py::int_>(a)) return a.cast<int64_t>();
  if (py::isinstance<py::float_>(a)) return a.cast<double>();
  throw py::type_error(str_cat("kiln: argument ", index, " of the compiled graph is a ",
                               py::str(py::type::of(a)).cast<std::string>(),
                               "; expected a tensor, a number or None"));
}

py::object run(const GraphExecutor& ex, const py::list& args, bool as_list) {
  HANDLE_TH_ERRORS
  std::vector<c10::IValue> inputs;
  inputs.reserve(args.size());
  for (size_t i = 0; i < args.size(); ++i) inputs.push_back(input_of(args[i], i));
  std::vector<c10::IValue> outputs;
  {
    // Other Python threads go on while the kernels and ATen ops run; an operator that calls
    // into Python takes the GIL itself. `inputs` outlives this block: dropping the last C++
    // reference to a tensor Python owns takes the GIL (GraphExecutor::run).
    py::gil_scoped_release release;
    outputs = ex.run(inputs);
  }
  py::list result(outputs.size());
  for (size_t k = 0; k < outputs.size(); ++k) {
    if (outputs[k].isTensor())
      result[k] = py::reinterpret_steal<py::object>(THPVariable_Wrap(outputs[k].toTensor()));
    else
      result[k] = torch::jit::toPyObject(std::move(outputs[k]));
  }
  if (as_list) return result;
  return py::tuple(result);
  END_HANDLE_TH_ERRORS_PYBIND
}

}  // namespace

void bind_executor(py::module_& m) {
  py::class_<GraphExecutor>(m, "GraphExecutor",
                            "A rewritten graph as one C++ call (plugin/torch/graph_executor.h).")
      .def(py::init<int>(), py::arg("num_inputs"))
      .def(
          "add_constant",
          [](GraphExecutor& ex, int id, py::handle value) {
            c10::IValue constant = input_of(value, id);
            if (constant.isNone()) throw py::type_error("GraphExecutor.add_constant: None");
            ex.add_constant(id, std::move(constant));
          },
          py::arg("id"), py::arg("value"),
          "Value `id` is `value` (a tensor or a number) on every call.")
      .def("add_aten", &add_aten, py::arg("name"), py::arg("overload"), py::arg("args"),
           py::arg("kwargs"), py::arg("outputs"),
           "ATen operator name::overload with FX's args and kwargs (graph values as Value); "
           "return k becomes value outputs[k] (-1: unread).")
      .def("add_launch", &GraphExecutor::add_launch, py::arg("slot"), py::arg("inputs"),
           py::arg("outputs"), "Launches `slot` on values `inputs`; output k → outputs[k].")
      .def("add_item", &GraphExecutor::add_item, py::arg("list"), py::arg("index"),
           py::arg("output"), "Value `output` = element `index` of list value `list`.")
      .def("set_outputs", &GraphExecutor::set_outputs, py::arg("outputs"),
           "The values run() returns (-1: None); ends the plan.")
      .def("run", &run, py::arg("args"), py::arg("as_list") = false,
           "Runs the graph on `args`; a tuple (a list with as_list) of its outputs.")
      .def("__str__", &GraphExecutor::describe);
}

}  // namespace kiln
