// kiln._C: the Python binding of libkiln_torch.so's C++ API (plugin/torch/kiln_torch.h). The
// Python package builds a Graph from an FX graph, compiles it here, and rewrites the FX graph to
// call torch.ops.kiln.launch on the slots it gets back.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "core/support/error.h"
#include "plugin/python/kiln/_C/python_log.h"
#include "plugin/torch/cache_admin.h"
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
  throw py::value_error(
      str_cat("kiln: contractions must be 'fastest', 'kiln' or 'aten', not '", name, "'"));
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

py::list tuning_stats_list() {
  py::list slots;
  for (const SlotTuningInfo& t : tuning_stats()) {
    py::dict d;
    d["slot"] = t.slot;
    d["state"] = t.state;
    d["trials"] = t.trials;
    d["first_ms"] = t.first_ms;
    d["best_ms"] = t.best_ms;
    d["swaps"] = t.swaps;
    d["rollbacks"] = t.rollbacks;
    d["detail"] = t.detail;
    slots.append(d);
  }
  return slots;
}

py::dict workload_dict(const CachedWorkload& w) {
  py::dict d;
  d["key"] = w.key;
  d["op_class"] = w.op_class;
  d["flops"] = w.flops;
  d["description"] = w.description;
  d["records"] = w.records;
  d["ok"] = w.ok;
  d["quarantined"] = w.quarantined;
  d["here"] = w.here;
  d["best_seconds"] = w.best_seconds;
  return d;
}

py::dict record_dict(const CachedRecord& r) {
  py::dict d;
  d["id"] = r.id;
  d["workload"] = r.workload;
  d["target"] = r.target;
  d["space_version"] = r.space_version;
  d["kiln_version"] = r.kiln_version;
  d["kind"] = r.kind;
  d["config"] = r.config;
  d["trace"] = r.trace;
  d["seconds"] = r.seconds;
  d["spread"] = r.spread;
  d["status"] = r.status;
  d["error"] = r.error;
  d["features"] = r.features;
  d["source"] = r.source;
  d["time"] = r.time;
  return d;
}

/// Binds the `kiln cache` functions of cache_admin.h; every one takes the cache folder first.
void bind_cache(py::module_& m) {
  m.def("cache_file", &cache_file, py::arg("dir"));
  m.def("this_target", &this_target);
  m.def(
      "cache_workloads",
      [](const std::string& dir) {
        py::list rows;
        for (const CachedWorkload& c : cache_workloads(dir)) rows.append(workload_dict(c));
        return rows;
      },
      py::arg("dir"));
  m.def(
      "cache_records",
      [](const std::string& dir, const std::string& key) {
        py::list rows;
        for (const CachedRecord& r : cache_records(dir, key)) rows.append(record_dict(r));
        return rows;
      },
      py::arg("dir"), py::arg("key"));
  m.def(
      "cache_workload",
      [](const std::string& dir, const std::string& key) {
        return workload_dict(cache_workload(dir, key));
      },
      py::arg("dir"), py::arg("key"));
  m.def("cache_explain", &cache_explain, py::arg("dir"), py::arg("key"));
  m.def("cache_export", &cache_export, py::arg("dir"), py::arg("path"));
  m.def("cache_import", &cache_import, py::arg("dir"), py::arg("path"));
  m.def("cache_merge", &cache_merge, py::arg("dir"), py::arg("other_file"));
  m.def("cache_prune", &cache_prune, py::arg("dir"), py::arg("keep"));
  m.def("cache_verify", &cache_verify, py::arg("dir"));
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
  d["build"] = r.build;
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
      [](const Graph& g, const std::string& contractions, const py::dict& tuning) {
        CompileOptions options;
        options.contractions = contraction_policy(contractions);
        if (tuning.contains("mode"))
          options.tune = tune_mode_from_name(tuning["mode"].cast<std::string>());
        if (tuning.contains("cache_dir"))
          options.cache_dir = tuning["cache_dir"].cast<std::string>();
        if (tuning.contains("budget_s")) options.tune_budget_s = tuning["budget_s"].cast<double>();
        if (tuning.contains("threads")) options.tune_threads = tuning["threads"].cast<int>();
        if (tuning.contains("trials")) options.tune_trials = tuning["trials"].cast<int>();
        CompiledGraph c;
        {
          // LLVM takes a while; other Python threads (and launches) go on meanwhile.
          py::gil_scoped_release release;
          c = compile_graph(g, options);
        }
        flush_python_log();
        return compiled_graph_dict(c);
      },
      py::arg("graph"), py::arg("contractions") = "fastest", py::arg("tuning") = py::dict(),
      "Partitions and compiles a graph; contractions (matmul, convolution) are served by "
      "'fastest' of Kiln's kernel and ATen's op + Kiln epilogue, or always by 'kiln' or 'aten'. "
      "tuning: {'mode': 'off'|'cache-only'|'background', 'cache_dir', 'budget_s', 'threads', "
      "'trials'}. "
      "Returns {'groups': [{'slot', 'nodes', 'inputs', 'outputs', 'ops', 'served_by'}], "
      "'fallback': [node], 'unsupported': [op], 'steps': [('group', i) | ('fallback', node)]}.");
  m.def("slot_output_types", &slot_output_types, py::arg("slot"),
        "[(dtype, shape, strides)] of what the slot returns.");
  m.def("stats", &stats,
        "Per slot: {'slot', 'ops', 'calls', 'total_ms', 'version', 'key', 'served_by'}.");
  m.def("live_jit_kernels", &live_jit_kernels,
        "Kernels whose machine code is loaded in this process now.");
  m.def("release_slots", &release_slots, py::arg("slots"), py::call_guard<py::gil_scoped_release>(),
        "Frees the slots of a compiled graph that is gone (unknown slots are skipped).");
  m.def("swap_kernel_for_test", &swap_kernel_for_test, py::arg("slot"),
        py::call_guard<py::gil_scoped_release>(),
        "Recompiles the slot's kernel and swaps it in (version + 1).");
  m.def("tuning_stats", &tuning_stats_list,
        "Per slot the tuning service knows: {'slot', 'state', 'trials', 'first_ms', 'best_ms', "
        "'swaps', 'rollbacks', 'detail'}.");
  m.def(
      "tuning_cost",
      [] {
        TuningCost cost = tuning_cost();
        py::dict d;
        d["model_slowdown"] = cost.model_slowdown;
        d["duty"] = cost.duty;
        return d;
      },
      "{'model_slowdown', 'duty'}: what background tuning measured of its cost to the model.");
  m.def("observe_model_call", &observe_model_call, py::arg("ns"),
        "Reports one call of a compiled graph, for the tuning service's duty cycle.");
  m.def(
      "tuning_swaps",
      [] {
        py::list swaps;
        for (const SwapEvent& e : tuning_swaps()) {
          py::dict d;
          d["slot"] = e.slot;
          d["from_version"] = e.from_version;
          d["to_version"] = e.to_version;
          d["before_ms"] = e.before_seconds * 1e3;
          d["after_ms"] = e.after_seconds * 1e3;
          d["time"] = e.time;
          d["rollback"] = e.rollback;
          swaps.append(d);
        }
        return swaps;
      },
      "Every swap and roll-back of the tuning service: {'slot', 'from_version', 'to_version', "
      "'before_ms', 'after_ms', 'time' (s since it started), 'rollback'}.");
  m.def("stop_tuning", &stop_tuning, py::call_guard<py::gil_scoped_release>(),
        "Stops background tuning (returns after the measurement in flight).");
  m.def("pause_tuning", &pause_tuning, py::arg("paused"), py::call_guard<py::gil_scoped_release>(),
        "Holds (True) or resumes (False) background tuning.");
  m.def("tuning_paused", &tuning_paused, py::call_guard<py::gil_scoped_release>(),
        "Whether background tuning is held.");
  m.def(
      "tune_now",
      [](double budget_s, py::object progress) {
        py::gil_scoped_release release;
        return tune_now(budget_s, [&](const std::string& name, int trial, int trials, double best,
                                      double elapsed) {
          if (progress.is_none()) return;
          py::gil_scoped_acquire acquire;
          progress(name, trial, trials, best, elapsed);
        });
      },
      py::arg("budget_s"), py::arg("progress") = py::none(),
      "Tunes every slot that has run, now; progress(workload, trial, trials, best_gflops, "
      "elapsed_s) after each trial. False when no compile asked for background tuning.");
  bind_cache(m);
  m.def("doctor", &doctor_dict, "What Kiln sees of this machine.");
  m.def("library_path", &library_path, "The path of libkiln_torch.so.");
  m.def("version", &version, "Kiln's version.");
  m.def("set_log_level", &set_log_level, py::arg("level"),
        "Sets the C++ log level: debug, info, warning or error.");
  m.def("close_log", &close_python_log,
        "At exit: delivers queued C++ messages, then sends later ones to stderr.");
  route_log_to_python();
}
