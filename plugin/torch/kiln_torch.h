// The C++ API of libkiln_torch.so: compile an op graph into kernel slots and run them on
// PyTorch tensors, without Python. The Python extension kiln._C is a thin binding of this.
//
//   kiln::Graph g;                          // from core/graph/graph.h
//   kiln::ValueId x = g.add_input({kiln::DType::F32, {4, 8}});
//   ... g.add_node("aten.relu.default", {kiln::ValueRef{x}}, {{kiln::DType::F32, {4, 8}}}) ...
//   kiln::CompiledGraph plan = kiln::compile_graph(g);
//   std::vector<at::Tensor> out = kiln::launch_slot(plan.groups[0].slot, {input});
//
// Loading the library also registers the operator `torch.ops.kiln.launch(slot, inputs)` (CPU)
// and makes Kiln's parallel loops run on PyTorch's intra-op thread pool.
//
// NOTE: only the functions below are exported; Kiln's own libraries are linked in with hidden
// symbols. A program that builds a Graph links kiln_graph itself (for Graph's methods).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/graph/graph.h"
#include "core/runtime/kernel_slot.h"
#include "core/support/log.h"
#include "core/tune/swap_event.h"

#define KILN_TORCH_API __attribute__((visibility("default")))

namespace kiln {

/// One fused group of a compiled graph, served by a kernel slot.
struct CompiledGroup {
  int64_t slot = -1;             ///< Argument of launch_slot / torch.ops.kiln.launch.
  std::vector<int> nodes;        ///< Indices into Graph::nodes(), in order.
  std::vector<ValueId> inputs;   ///< The slot's inputs, in launch order.
  std::vector<ValueId> outputs;  ///< What the slot returns, in order.
  std::vector<std::string> ops;  ///< The op of each node, in order.
  std::string served_by;         ///< What serves the slot after compiling (SlotInfo::served_by).
};

/// How a compiled graph runs: slots for the groups, ATen for the fallback nodes.
struct CompiledGraph {
  std::vector<CompiledGroup> groups;  ///< Ordered by their first node.
  std::vector<int> fallback_nodes;    ///< Nodes that stay ATen calls, in order.
  /// Ops that caused a fallback → why (Partition::unsupported).
  std::map<std::string, std::string> unsupported;
  /// Every group (index into `groups`) and fallback node once, in an order that respects the
  /// data flow (see Partition::steps; a group whose kernel failed to compile is replaced by its
  /// nodes as fallback steps).
  std::vector<PartitionStep> steps;
};

/// How a slot serves a group with a contraction (matmul, convolution).
enum class ContractionPolicy : uint8_t {
  /// Whichever runs faster, measured once per workload at compile time on random inputs: Kiln's
  /// kernel of the whole group, or ATen's contraction followed by Kiln's kernel of the rest.
  Fastest,
  Kiln,  ///< Kiln's kernel of the whole group.
  Aten,  ///< ATen's contraction, then Kiln's kernel of the rest.
};

/// What the tuning cache and the tuning service do for a compiled graph.
enum class TuneMode : uint8_t {
  Off,         ///< Default schedules only; the cache is neither read nor written.
  CacheOnly,   ///< Tuned kernels from the cache where it has them; nothing is tuned.
  Background,  ///< As CacheOnly, and the hot slots are tuned in the background and swapped.
};

/// Parses "off", "cache-only" or "background"; throws Error naming the bad value.
KILN_TORCH_API TuneMode tune_mode_from_name(std::string_view name);
/// "off", "cache-only" or "background".
KILN_TORCH_API std::string_view tune_mode_name(TuneMode mode);

struct CompileOptions {
  ContractionPolicy contractions = ContractionPolicy::Fastest;
  TuneMode tune = TuneMode::Off;
  std::string cache_dir;       ///< The tuning cache's folder (tuning.sqlite); "" for none.
  std::string cache_url;       ///< The fleet's Redis behind it (redis://, rediss://); "" for none.
  double tune_budget_s = 600;  ///< Wall time the service may tune in this process (0: no limit).
  int tune_threads = 0;        ///< Threads candidates are measured with (0: the model's).
  int tune_trials = 64;        ///< Measurements per workload at most.
};

/// Partitions `g` (core/graph), schedules each group with the default schedule, compiles it with
/// the process's LLVM compiler and registers a slot for it (a group with a contraction is served
/// as `options.contractions` says). A group that fails to schedule or compile (a Kiln bug) is
/// logged once and its nodes become fallback nodes; so do the nodes of a group without inputs
/// (a constant: torch.ops.kiln.launch needs a tensor argument to dispatch on). Thread-safe.
/// Throws IRError for a malformed graph.
KILN_TORCH_API CompiledGraph compile_graph(const Graph& g, const CompileOptions& options = {});

/// Runs slot `slot` on CPU tensors of exactly the types it was compiled for (dtype, shape,
/// strides, where dimensions of size 1 may have any stride) and returns new tensors. Throws
/// c10::Error naming the slot, the input and both types on a mismatch; Error for an unknown slot.
/// This is the CPU kernel of torch.ops.kiln.launch.
KILN_TORCH_API std::vector<at::Tensor> launch_slot(int64_t slot, at::TensorList inputs);

/// What a slot serves and how it has been used.
struct SlotInfo {
  int64_t slot = -1;
  std::string ops;                  ///< The fused ops, "aten.add.Tensor+aten.relu.default".
  uint64_t key = 0;                 ///< Workload key: structural_hash of the group's computes.
  std::vector<TensorType> inputs;   ///< What launch_slot accepts.
  std::vector<TensorType> outputs;  ///< What it returns (row-major).
  /// What serves it now: "Kiln kernel", "Kiln kernel (tuned)" (from the tuning cache or swapped in
  /// by the tuning service), or "aten.mm.default + Kiln epilogue", with " in place"
  /// when the epilogue writes over the matmul's result (see ContractionPolicy).
  std::string served_by;
  SlotStats stats;
  /// Calls that filled buffers prepared from the model's constants (packed weights): the first
  /// call, one after a parameter changed in place or a new kernel was swapped in.
  int64_t prepared_fills = 0;
  /// The bytes those buffers hold: memory beyond eager's, kept while the slot lives.
  int64_t prepared_bytes = 0;
};

/// The slot's description and counters; throws Error for an unknown slot.
KILN_TORCH_API SlotInfo slot_info(int64_t slot);
/// Every live slot, by slot number.
KILN_TORCH_API std::vector<SlotInfo> all_slots();
/// Kernels whose machine code is loaded in this process (compiled or from the code cache, and
/// not yet freed). Sets up nothing.
KILN_TORCH_API int64_t live_jit_kernels();
/// Frees the slots of a compiled graph that is gone: their kernels and JIT code go when no
/// running call and no other slot uses them. Unknown or already released slots are skipped.
KILN_TORCH_API void release_slots(const std::vector<int64_t>& slots);

/// A slot's tuning, for kiln.stats(): state (waiting, tuning, tuned, kept, cached, failed,
/// rolled back), trials measured, its first kernel's and its current kernel's time per call.
struct SlotTuningInfo {
  int64_t slot = -1;
  std::string state;
  int trials = 0;
  double first_ms = 0, best_ms = 0;
  int swaps = 0, rollbacks = 0;
  bool default_won = false;  ///< SlotTuning::default_won
  std::string detail;
};
/// Every slot the tuning service knows; empty when none tunes.
KILN_TORCH_API std::vector<SlotTuningInfo> tuning_stats();
/// Every swap and roll-back the tuning service made, in order (SwapEvent: slot, versions, time per
/// call before and after, seconds since the service started).
KILN_TORCH_API std::vector<SwapEvent> tuning_swaps();
/// What background tuning measured of its cost to the model: the slowdown of the model's kernel
/// calls while the tuner worked, and the share of time it works to keep that within 10% on
/// average (core/tune/duty_cycle.h). Both 0 when no tuning service runs.
struct TuningCost {
  double model_slowdown = 0, duty = 0;
};
KILN_TORCH_API TuningCost tuning_cost();
/// One call of a compiled graph took `ns` (for the tuning service's duty cycle).
KILN_TORCH_API void observe_model_call(uint64_t ns);
/// Stops the background tuning service, waiting for the measurement in flight (at exit).
KILN_TORCH_API void stop_tuning();
/// Holds (`true`) or resumes background tuning; a hold starts after the measurement in flight
/// and also holds a service that a later compile starts.
KILN_TORCH_API void pause_tuning(bool paused);
KILN_TORCH_API bool tuning_paused();
/// With the fleet's Redis behind the tuning cache: waits up to `timeout_s` until the records
/// committed in this process reached it; returns how many still wait.
KILN_TORCH_API int64_t flush_fleet(double timeout_s);
/// Tunes every slot that has run, now, on the calling thread, within `budget_s` seconds (0: no
/// limit), calling `progress(workload, trial, trials, best GFLOP/s, elapsed s)` after each trial.
/// For `kiln tune`; needs a compile with TuneMode::Background before. Returns false when none did.
KILN_TORCH_API bool tune_now(
    double budget_s,
    const std::function<void(const std::string&, int, int, double, double)>& progress);

/// What Kiln sees of this machine (for `kiln doctor`).
struct DoctorReport {
  std::string cpu;       ///< LLVM's name of the host CPU ("znver5").
  std::string features;  ///< "+avx512f,+fma,...".
  int vector_bits = 0;   ///< Widest vector register the kernels use.
  int threads = 0;       ///< Threads Kiln's parallel loops may use (torch.get_num_threads()).
  /// Threads a parallel loop of Kiln's actually ran on just now: `threads`, unless the intra-op
  /// pool is broken (an OpenMP region compiled without OpenMP runs on one thread).
  int parallel_loop_threads = 0;
  std::string llvm_version;  ///< Of the LLVM linked in.
  std::string kiln_version;
  std::string build;  ///< build_identity(): what keys the kernel object cache.
  /// What the CUDA backend finds here: NVRTC's version and the GPU it would compile for, or why
  /// not ("NVRTC 13.0; no GPU: libcuda.so.1 was not found ...").
  std::string cuda_backend;
};
KILN_TORCH_API DoctorReport doctor();

/// Kiln's version, without setting up the JIT (`import kiln` must stay cheap).
KILN_TORCH_API std::string version();

/// The file this library was loaded from, for torch.ops.load_library in other processes.
KILN_TORCH_API std::string library_path();

/// Sets the log level by name (debug, info, warning, error); throws Error for another name.
KILN_TORCH_API void set_log_level(std::string_view level);
/// Sends Kiln's diagnostics to `sink` (nullptr: stderr); see core/support/log.h.
KILN_TORCH_API void route_log(LogSink sink);

}  // namespace kiln
