// kiln._C: the Python binding of libkiln_torch.so's C++ API (plugin/torch/kiln_torch.h). The
// Python package builds a Graph from an FX graph, compiles it here, and rewrites the FX graph to
// call torch.ops.kiln.launch on the slots it gets back.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "core/support/error.h"
#include "plugin/python/kiln/_C/executor_bindings.h"
#include "plugin/python/kiln/_C/py_value.h"
#include "plugin/python/kiln/_C/python_log.h"
#include "plugin/torch/cache_admin.h"
#include "plugin/torch/fleet_admin.h"
#include "plugin/torch/kiln_torch.h"
#include "plugin/torch/test_hooks.h"

namespace py = pybind11;

namespace kiln {

namespace {

TensorType tensor_type(const std::string& dtype, std::vector<int64_t> shape,
                       std::vector<int64_t> strides, std::string device) {
  return {dtype_from_name(dtype), std::move(shape), std::move(strides), std::move(device)};
}

/// A list argument: Values and Nones (Tensor[], Tensor?[]), or ints/bools (int[], bool[] as 0/1;
/// empty is int[]).
NodeArg list_arg(const py::sequence& list, const std::string& op, size_t index) {
  std::vector<ValueRef> values;
  std::vector<int64_t> ints;
  for (py::handle item : list) {
    if (py::isinstance<PyValue>(item))
      values.push_back({item.cast<const PyValue&>().id});
    else if (item.is_none())
      values.push_back({kNoValue});
    else if (py::isinstance<py::int_>(item))  // bool is an int in Python
      ints.push_back(item.cast<int64_t>());
    else
      throw py::type_error(str_cat(op, ": argument ", index, " is a list holding a ",
                                   py::str(py::type::of(item)).cast<std::string>(),
                                   "; lists may hold Values and Nones, or ints"));
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
                                 std::string>>& output_types,
    bool side_effects) {
  std::vector<NodeArg> node_args;
  for (size_t i = 0; i < args.size(); ++i) node_args.push_back(node_arg(args[i], op, i));
  std::vector<TensorType> types;
  for (const auto& [dtype, shape, strides, device] : output_types)
    types.push_back(tensor_type(dtype, shape, strides, device));
  return g.add_node(std::move(op), std::move(node_args), std::move(types), side_effects);
}

constexpr std::pair<ContractionPolicy, const char*> kContractionPolicies[] = {
    {ContractionPolicy::Fastest, "fastest"},
    {ContractionPolicy::Kiln, "kiln"},
    {ContractionPolicy::Aten, "aten"}};

ContractionPolicy contraction_policy(const std::string& name) {
  for (auto [policy, n] : kContractionPolicies)
    if (name == n) return policy;
  throw py::value_error(
      str_cat("kiln: contractions must be 'fastest', 'kiln' or 'aten', not '", name, "'"));
}

std::string contraction_policy_name(ContractionPolicy policy) {
  for (auto [p, name] : kContractionPolicies)
    if (p == policy) return name;
  return "?";
}

const char* step_kind(const PartitionStep& s) {
  return s.kind == PartitionStep::Kind::Group ? "group" : "fallback";
}

/// The typed results of compile, stats and tuning_stats: read-only classes, not dicts.
void bind_results(py::module_& m) {
  py::class_<CompileOptions>(m, "CompileOptions", "How compile serves and tunes a graph.")
      .def(py::init<>())
      .def_property(
          "contractions",
          [](const CompileOptions& o) { return contraction_policy_name(o.contractions); },
          [](CompileOptions& o, const std::string& name) {
            o.contractions = contraction_policy(name);
          },
          "'fastest' (Kiln's kernel or ATen's op + a Kiln epilogue, whichever is faster), "
          "'kiln' or 'aten'.")
      .def_property(
          "tune", [](const CompileOptions& o) { return std::string(tune_mode_name(o.tune)); },
          [](CompileOptions& o, const std::string& name) { o.tune = tune_mode_from_name(name); },
          "'off', 'cache-only' or 'background'.")
      .def_readwrite("cache_dir", &CompileOptions::cache_dir, "The tuning cache's folder.")
      .def_readwrite("cache_url", &CompileOptions::cache_url,
                     "The fleet's Redis behind it (redis://, rediss://); '' for none.")
      .def_readwrite("tune_budget_s", &CompileOptions::tune_budget_s)
      .def_readwrite("tune_threads", &CompileOptions::tune_threads)
      .def_readwrite("tune_trials", &CompileOptions::tune_trials);
  py::class_<CompiledGroup>(m, "CompiledGroup", "A fused group and the slot that runs it.")
      .def_readonly("slot", &CompiledGroup::slot)
      .def_readonly("nodes", &CompiledGroup::nodes)
      .def_readonly("inputs", &CompiledGroup::inputs)
      .def_readonly("outputs", &CompiledGroup::outputs)
      .def_readonly("ops", &CompiledGroup::ops)
      .def_readonly("served_by", &CompiledGroup::served_by);
  py::class_<PartitionStep>(m, "Step", "A group or a fallback node, in the order they run.")
      .def_property_readonly("kind", &step_kind)
      .def_readonly("index", &PartitionStep::index)
      .def("__eq__",
           [](const PartitionStep& s, const py::object& other) {
             // Equal to its tuple form, ("group", 0), as the plan's steps were before.
             return py::make_tuple(step_kind(s), s.index).equal(other);
           })
      .def("__repr__", [](const PartitionStep& s) {
        return str_cat("Step(", step_kind(s), ", ", s.index, ")");
      });
  py::class_<CompiledGraph>(m, "CompiledGraph", "How a compiled graph runs.")
      .def_readonly("groups", &CompiledGraph::groups)
      .def_readonly("fallback_nodes", &CompiledGraph::fallback_nodes)
      .def_readonly("unsupported", &CompiledGraph::unsupported)
      .def_readonly("steps", &CompiledGraph::steps);
  py::class_<SlotInfo>(m, "SlotInfo", "A slot's description and counters.")
      .def_readonly("slot", &SlotInfo::slot)
      .def_readonly("ops", &SlotInfo::ops)
      .def_readonly("key", &SlotInfo::key)
      .def_readonly("served_by", &SlotInfo::served_by)
      .def_property_readonly("calls", [](const SlotInfo& s) { return s.stats.calls; })
      .def_property_readonly("total_ms", [](const SlotInfo& s) { return s.stats.total_ns / 1e6; })
      .def_property_readonly("version", [](const SlotInfo& s) { return s.stats.version; })
      .def_readonly("prepared_fills", &SlotInfo::prepared_fills)
      .def_readonly("prepared_bytes", &SlotInfo::prepared_bytes);
  py::class_<SlotTuningInfo>(m, "SlotTuningInfo", "A slot's tuning.")
      .def_readonly("slot", &SlotTuningInfo::slot)
      .def_readonly("state", &SlotTuningInfo::state)
      .def_readonly("trials", &SlotTuningInfo::trials)
      .def_readonly("first_ms", &SlotTuningInfo::first_ms)
      .def_readonly("best_ms", &SlotTuningInfo::best_ms)
      .def_readonly("swaps", &SlotTuningInfo::swaps)
      .def_readonly("rollbacks", &SlotTuningInfo::rollbacks)
      .def_readonly("default_won", &SlotTuningInfo::default_won)
      .def_readonly("detail", &SlotTuningInfo::detail);
}

py::list slot_output_types(int64_t slot) {
  py::list types;
  for (const TensorType& t : slot_info(slot).outputs)
    types.append(py::make_tuple(std::string(dtype_name(t.dtype)), t.shape, t.strides));
  return types;
}

/// Binds the `kiln cache` functions of cache_admin.h; every one takes the cache folder first.
void bind_cache(py::module_& m) {
  py::class_<CachedWorkload>(m, "CachedWorkload",
                             "A workload of the cache and its records' counts.")
      .def_readonly("key", &CachedWorkload::key)
      .def_readonly("op_class", &CachedWorkload::op_class)
      .def_readonly("flops", &CachedWorkload::flops)
      .def_readonly("description", &CachedWorkload::description)
      .def_readonly("records", &CachedWorkload::records)
      .def_readonly("ok", &CachedWorkload::ok)
      .def_readonly("quarantined", &CachedWorkload::quarantined)
      .def_readonly("here", &CachedWorkload::here)
      .def_readonly("best_seconds", &CachedWorkload::best_seconds);
  py::class_<CachedRecord>(m, "CachedRecord", "One record, its key and target spelled as text.")
      .def_readonly("id", &CachedRecord::id)
      .def_readonly("workload", &CachedRecord::workload)
      .def_readonly("target", &CachedRecord::target)
      .def_readonly("space_version", &CachedRecord::space_version)
      .def_readonly("kiln_version", &CachedRecord::kiln_version)
      .def_readonly("kind", &CachedRecord::kind)
      .def_readonly("config", &CachedRecord::config)
      .def_readonly("trace", &CachedRecord::trace)
      .def_readonly("seconds", &CachedRecord::seconds)
      .def_readonly("spread", &CachedRecord::spread)
      .def_readonly("status", &CachedRecord::status)
      .def_readonly("error", &CachedRecord::error)
      .def_readonly("features", &CachedRecord::features)
      .def_readonly("source", &CachedRecord::source)
      .def_readonly("time", &CachedRecord::time);
  m.def("cache_file", &cache_file, py::arg("dir"));
  m.def("this_target", &this_target);
  m.def("cache_workloads", &cache_workloads, py::arg("dir"));
  m.def("cache_records", &cache_records, py::arg("dir"), py::arg("key"));
  m.def("cache_workload", &cache_workload, py::arg("dir"), py::arg("key"));
  m.def("cache_explain", &cache_explain, py::arg("dir"), py::arg("key"));
  m.def("cache_export", &cache_export, py::arg("dir"), py::arg("path"));
  m.def("cache_import", &cache_import, py::arg("dir"), py::arg("path"));
  m.def("cache_merge", &cache_merge, py::arg("dir"), py::arg("other_file"));
  m.def("cache_prune", &cache_prune, py::arg("dir"), py::arg("keep"));
  m.def("cache_verify", &cache_verify, py::arg("dir"));
}

/// Binds fleet_admin.h: the fleet's Redis for `kiln cache`, `kiln doctor`, `kiln worker` and
/// `kiln tune --fleet`.
void bind_fleet(py::module_& m) {
  py::class_<FleetStatus>(m, "FleetStatus", "Whether the fleet's Redis answers, what it holds.")
      .def_readonly("url", &FleetStatus::url)
      .def_readonly("answers", &FleetStatus::answers)
      .def_readonly("error", &FleetStatus::error)
      .def_readonly("workloads", &FleetStatus::workloads)
      .def_readonly("targets", &FleetStatus::targets)
      .def_readonly("records", &FleetStatus::records);
  py::class_<FleetSync>(m, "FleetSync", "What `kiln cache push | pull` moved.")
      .def_readonly("workloads", &FleetSync::workloads)
      .def_readonly("records", &FleetSync::records)
      .def_readonly("skipped", &FleetSync::skipped)
      .def_readonly("conflicts", &FleetSync::conflicts)
      .def_readonly("garbage", &FleetSync::garbage);
  py::class_<FleetTaskState>(m, "FleetTaskState", "One task of a `kiln tune --fleet` job.")
      .def_readonly("id", &FleetTaskState::id)
      .def_readonly("name", &FleetTaskState::name)
      .def_readonly("state", &FleetTaskState::state)
      .def_readonly("worker", &FleetTaskState::worker)
      .def_readonly("error", &FleetTaskState::error)
      .def_readonly("trials", &FleetTaskState::trials)
      .def_readonly("best_seconds", &FleetTaskState::best_seconds)
      .def_readonly("default_seconds", &FleetTaskState::default_seconds);
  m.def("fleet_status", &fleet_status, py::arg("url"), py::call_guard<py::gil_scoped_release>());
  m.def("check_fleet_login", &check_fleet_login, py::arg("url"),
        py::call_guard<py::gil_scoped_release>(),
        "Raises when the URL is malformed or Redis refuses its credentials.");
  m.def("cache_push", &cache_push, py::arg("dir"), py::arg("url"),
        py::call_guard<py::gil_scoped_release>());
  m.def("cache_pull", &cache_pull, py::arg("dir"), py::arg("url"),
        py::call_guard<py::gil_scoped_release>());
  m.def(
      "run_worker",
      [](const std::string& dir, const std::string& url, const std::string& name, int max_tasks,
         double claim_idle_s, py::object log) {
        py::gil_scoped_release release;
        bool interrupted = false;
        int finished = run_worker(
            dir, url, name, max_tasks, claim_idle_s,
            [&] {  // Ctrl-C and SIGTERM (which kiln worker turns into KeyboardInterrupt)
              py::gil_scoped_acquire acquire;
              if (PyErr_CheckSignals() != 0) interrupted = true;
              return interrupted;
            },
            [&](const std::string& message) {
              py::gil_scoped_acquire acquire;
              log(message);
            });
        if (interrupted) {
          py::gil_scoped_acquire acquire;
          throw py::error_already_set();
        }
        return finished;
      },
      py::arg("dir"), py::arg("url"), py::arg("name"), py::arg("max_tasks") = 0,
      py::arg("claim_idle_s") = 30.0, py::arg("log"),
      "Runs a tuning worker until interrupted or max_tasks; returns the tasks it finished.");
  m.def("fleet_publish", &fleet_publish, py::arg("url"), py::arg("trials"),
        py::arg("seconds_per_task"), py::call_guard<py::gil_scoped_release>());
  m.def("fleet_job", &fleet_job, py::arg("url"), py::arg("job"),
        py::call_guard<py::gil_scoped_release>());
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
             std::vector<int64_t> strides, std::string device, bool constant) {
            return g.add_input(tensor_type(dtype, shape, strides, device), constant);
          },
          py::arg("dtype"), py::arg("shape"), py::arg("strides"), py::arg("device"),
          py::arg("constant") = false,
          "Adds a graph input; returns its value id. constant: a parameter or buffer of an "
          "inference graph, which kernels may prepare once while it stays unchanged.")
      .def("add_node", &add_node, py::arg("op"), py::arg("args"), py::arg("output_types"),
           py::arg("side_effects") = false,
           "Adds a node (op name, complete positional args, output types (dtype, shape, strides, "
           "device), whether it has side effects: then it runs after every node before it); "
           "returns the value ids of its outputs.")
      .def("mark_output", &Graph::mark_output, py::arg("value_id"),
           "Marks a value as a result of the graph.")
      .def_property_readonly("num_nodes", [](const Graph& g) { return g.nodes().size(); })
      .def_property_readonly("num_values", [](const Graph& g) { return g.values().size(); });

  bind_results(m);
  m.def(
      "compile",
      [](const Graph& g, const CompileOptions& options) {
        CompiledGraph c;
        {
          // LLVM takes a while; other Python threads (and launches) go on meanwhile.
          py::gil_scoped_release release;
          c = compile_graph(g, options);
        }
        flush_python_log();
        return c;
      },
      py::arg("graph"), py::arg("options") = CompileOptions(),
      "Partitions and compiles a graph as `options` say; returns a CompiledGraph.");
  m.def("slot_output_types", &slot_output_types, py::arg("slot"),
        "[(dtype, shape, strides)] of what the slot returns.");
  m.def("stats", &all_slots, "Every live slot (SlotInfo), by slot number.");
  m.def("live_jit_kernels", &live_jit_kernels,
        "Kernels whose machine code is loaded in this process now.");
  m.def("release_slots", &release_slots, py::arg("slots"), py::call_guard<py::gil_scoped_release>(),
        "Frees the slots of a compiled graph that is gone (unknown slots are skipped).");
  m.def("tuning_stats", &tuning_stats, "Every slot the tuning service knows (SlotTuningInfo).");
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
  m.def("flush_fleet", &flush_fleet, py::arg("timeout_s"), py::call_guard<py::gil_scoped_release>(),
        "Waits up to timeout_s until this process's records reached the fleet's Redis; returns "
        "how many still wait.");
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
  bind_fleet(m);
  bind_executor(m);
  py::class_<DoctorReport>(m, "DoctorReport", "What Kiln sees of this machine (kiln doctor).")
      .def_readonly("cpu", &DoctorReport::cpu)
      .def_readonly("features", &DoctorReport::features)
      .def_readonly("vector_bits", &DoctorReport::vector_bits)
      .def_readonly("threads", &DoctorReport::threads)
      .def_readonly("parallel_loop_threads", &DoctorReport::parallel_loop_threads)
      .def_readonly("llvm_version", &DoctorReport::llvm_version)
      .def_readonly("kiln_version", &DoctorReport::kiln_version)
      .def_readonly("build", &DoctorReport::build)
      .def_readonly("cuda_backend", &DoctorReport::cuda_backend);
  m.def("doctor", &doctor, "What Kiln sees of this machine.");
  m.def("library_path", &library_path, "The path of libkiln_torch.so.");
  m.def("version", &version, "Kiln's version.");
  m.def("set_log_level", &set_log_level, py::arg("level"),
        "Sets the C++ log level: debug, info, warning or error.");
  m.def("close_log", &close_python_log,
        "At exit: delivers queued C++ messages, then sends later ones to stderr.");
  py::module_ testing = m.def_submodule("_testing", "Hooks for Kiln's own tests; not an API.");
  testing.def("swap_kernel", &test_hooks::swap_kernel, py::arg("slot"),
              py::call_guard<py::gil_scoped_release>(),
              "Recompiles the slot's kernel and swaps it in (version + 1).");
  route_log_to_python();
}
