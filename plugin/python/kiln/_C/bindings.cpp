// kiln._C: the Python binding of libkiln_torch.so's C++ API (plugin/torch/kiln_torch.h). The
// Python package builds a Graph from an FX graph, compiles it here, and rewrites the FX graph to
// call torch.ops.kiln.launch on the slots it gets back.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "core/ir/error.h"
#include "plugin/torch/kiln_torch.h"

namespace py = pybind11;

namespace kiln {

namespace {

/// A tensor argument of a node: Value(id).
struct PyValue {
  ValueId id;
};

TensorType tensor_type(const std::string& dtype, std::vector<int64_t> shape,
                       std::vector<int64_t> strides, std::string device) {
  return {dtype_from_name(dtype), std::move(shape), std::move(strides), std::move(device)};
}

/// A list argument: Values (Tensor[]), or ints/bools (int[], bool[] as 0/1; empty is int[]).
NodeArg list_arg(const py::sequence& list, const std::string& op, size_t index) {
  std::vector<ValueRef> values;
  std::vector<int64_t> ints;
  for (py::handle item : list) {
    if (py::isinstance<PyValue>(item))
      values.push_back({item.cast<const PyValue&>().id});
    else if (py::isinstance<py::int_>(item))  // bool is an int in Python
      ints.push_back(item.cast<int64_t>());
    else
      throw py::type_error(str_cat(op, ": argument ", index, " is a list holding a ",
                                   py::str(py::type::of(item)).cast<std::string>(),
                                   "; lists may hold Values or ints"));
  }
  if (!values.empty() && !ints.empty())
    throw py::type_error(str_cat(op, ": argument ", index, " mixes Values and ints"));
  if (!values.empty()) return values;
  return ints;
}

/// One node argument, as the Graph API of kiln._C documents it.
NodeArg node_arg(py::handle a, const std::string& op, size_t index) {
  if (a.is_none()) return NoneArg{};
  if (py::isinstance<PyValue>(a)) return ValueRef{a.cast<const PyValue&>().id};
  if (py::isinstance<py::bool_>(a)) return a.cast<bool>();  // before int: bool is an int
  if (py::isinstance<py::int_>(a)) return a.cast<int64_t>();
  if (py::isinstance<py::float_>(a)) return a.cast<double>();
  if (py::isinstance<py::str>(a)) {
    // NOTE: a dtype travels as its Kiln name ("f32"); no ATen string argument takes such a value.
    std::string s = a.cast<std::string>();
    try {
      return dtype_from_name(s);
    } catch (const IRError&) {
      return s;
    }
  }
  if (py::isinstance<py::list>(a) || py::isinstance<py::tuple>(a))
    return list_arg(a.cast<py::sequence>(), op, index);
  throw py::type_error(str_cat(op, ": argument ", index, " has type ",
                               py::str(py::type::of(a)).cast<std::string>(),
                               ", which a Kiln node cannot hold"));
}

std::vector<ValueId> add_node(
    Graph& g, std::string op, const py::list& args,
    const std::vector<std::tuple<std::string, std::vector<int64_t>, std::vector<int64_t>,
                                 std::string>>& output_types) {
  std::vector<NodeArg> node_args;
  for (size_t i = 0; i < args.size(); ++i) node_args.push_back(node_arg(args[i], op, i));
  std::vector<TensorType> types;
  for (const auto& [dtype, shape, strides, device] : output_types)
    types.push_back(tensor_type(dtype, shape, strides, device));
  return g.add_node(std::move(op), std::move(node_args), std::move(types));
}

ContractionPolicy contraction_policy(const std::string& name) {
  if (name == "fastest") return ContractionPolicy::Fastest;
  if (name == "kiln") return ContractionPolicy::Kiln;
  if (name == "aten") return ContractionPolicy::Aten;
  throw py::value_error(str_cat("kiln: contractions must be 'fastest', 'kiln' or 'aten', not '",
                                name, "'"));
}

py::dict compiled_graph_dict(const CompiledGraph& c) {
  py::list groups;
  for (const CompiledGroup& group : c.groups) {
    py::dict d;
    d["slot"] = group.slot;
    d["nodes"] = group.nodes;
    d["inputs"] = group.inputs;
    d["outputs"] = group.outputs;
    d["ops"] = group.ops;
    d["served_by"] = slot_info(group.slot).served_by;
    groups.append(d);
  }
  py::list steps;
  for (const PartitionStep& s : c.steps)
    steps.append(
        py::make_tuple(s.kind == PartitionStep::Kind::Group ? "group" : "fallback", s.index));
  py::dict d;
  d["groups"] = groups;
  d["fallback"] = c.fallback_nodes;
  d["unsupported"] = c.unsupported;
  d["steps"] = steps;
  return d;
}

py::list slot_output_types(int64_t slot) {
  py::list types;
  for (const TensorType& t : slot_info(slot).outputs)
    types.append(py::make_tuple(std::string(dtype_name(t.dtype)), t.shape, t.strides));
  return types;
}

py::list stats() {
  py::list slots;
  for (const SlotInfo& s : all_slots()) {
    py::dict d;
    d["slot"] = s.slot;
    d["ops"] = s.ops;
    d["calls"] = s.stats.calls;
    d["total_ms"] = static_cast<double>(s.stats.total_ns) / 1e6;
    d["version"] = s.stats.version;
    d["key"] = s.key;
    d["served_by"] = s.served_by;
    slots.append(d);
  }
  return slots;
}

py::dict doctor_dict() {
  DoctorReport r = doctor();
  py::dict d;
  d["cpu"] = r.cpu;
  d["features"] = r.features;
  d["vector_bits"] = r.vector_bits;
  d["threads"] = r.threads;
  d["parallel_loop_threads"] = r.parallel_loop_threads;
  d["llvm_version"] = r.llvm_version;
  d["kiln_version"] = r.kiln_version;
  return d;
}

}  // namespace

}  // namespace kiln

PYBIND11_MODULE(_C, m) {
  using namespace kiln;
  m.doc() = "Kiln's compiler and kernel slots (the C++ half of the kiln package)";

  py::class_<PyValue>(m, "Value", "A tensor argument of a node: Value(id) names a graph value.")
      .def(py::init<ValueId>(), py::arg("id"))
      .def_readonly("id", &PyValue::id)
      .def("__repr__", [](const PyValue& v) { return str_cat("Value(", v.id, ")"); });

  py::class_<Graph>(m, "Graph", "An op graph of ATen nodes with typed tensor values.")
      .def(py::init<>())
      .def(
          "add_input",
          [](Graph& g, const std::string& dtype, std::vector<int64_t> shape,
             std::vector<int64_t> strides, std::string device) {
            return g.add_input(tensor_type(dtype, shape, strides, device));
          },
          py::arg("dtype"), py::arg("shape"), py::arg("strides"), py::arg("device"),
          "Adds a graph input; returns its value id.")
      .def("add_node", &add_node, py::arg("op"), py::arg("args"), py::arg("output_types"),
           "Adds a node (op name, complete positional args, output types (dtype, shape, strides, "
           "device)); returns the value ids of its outputs.")
      .def("mark_output", &Graph::mark_output, py::arg("value_id"),
           "Marks a value as a result of the graph.")
      .def_property_readonly("num_nodes", [](const Graph& g) { return g.nodes().size(); })
      .def_property_readonly("num_values", [](const Graph& g) { return g.values().size(); });

  m.def(
      "compile",
      [](const Graph& g, const std::string& contractions) {
        CompileOptions options{contraction_policy(contractions)};
        CompiledGraph c;
        {
          // LLVM takes a while; other Python threads (and launches) go on meanwhile.
          py::gil_scoped_release release;
          c = compile_graph(g, options);
        }
        return compiled_graph_dict(c);
      },
      py::arg("graph"), py::arg("contractions") = "fastest",
      "Partitions and compiles a graph; contractions (matmul, convolution) are served by "
      "'fastest' of Kiln's kernel and ATen's op + Kiln epilogue, or always by 'kiln' or 'aten'. "
      "Returns {'groups': [{'slot', 'nodes', 'inputs', 'outputs', 'ops', 'served_by'}], "
      "'fallback': [node], 'unsupported': [op], 'steps': [('group', i) | ('fallback', node)]}.");
  m.def("slot_output_types", &slot_output_types, py::arg("slot"),
        "[(dtype, shape, strides)] of what the slot returns.");
  m.def("stats", &stats, "Per slot: {'slot', 'ops', 'calls', 'total_ms', 'version', 'key', 'served_by'}.");
  m.def("swap_kernel_for_test", &swap_kernel_for_test, py::arg("slot"),
        py::call_guard<py::gil_scoped_release>(),
        "Recompiles the slot's kernel and swaps it in (version + 1).");
  m.def("doctor", &doctor_dict, "What Kiln sees of this machine.");
  m.def("library_path", &library_path, "The path of libkiln_torch.so.");
  m.def("set_log_level", &set_log_level, py::arg("level"),
        "Sets the C++ log level: debug, info, warning or error.");
}
