#include "plugin/torch/compile_service.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "core/ir/structural.h"
#include "core/runtime/thread_pool.h"
#include "core/schedule/lower.h"
#include "core/support/error.h"
#include "core/support/log.h"
#include "core/templates/default_schedule.h"
#include "core/tune/serving_decision.h"
#include "plugin/torch/aten_served_kernel.h"
#include "plugin/torch/slot_registry.h"
#include "plugin/torch/torch_kernel_timing.h"
#include "plugin/torch/torch_types.h"
#include "plugin/torch/tuning_runtime.h"

namespace kiln {

namespace {

/// "aten.add.Tensor+aten.relu.default".
std::string joined_ops(const Graph& g, const std::vector<int>& nodes) {
  std::string s;
  for (int n : nodes) s += (s.empty() ? "" : "+") + g.nodes()[n].op;
  return s;
}

/// A kernel name that reads in a profile: "add_relu" (op names without "aten." and overload).
std::string kernel_name(const Graph& g, const std::vector<int>& nodes) {
  std::string name;
  for (int n : nodes) {
    std::string op = g.nodes()[n].op;
    if (op.rfind("aten.", 0) == 0) op = op.substr(5);
    op = op.substr(0, op.find('.'));
    if (name.size() + op.size() > 48) break;
    name += (name.empty() ? "" : "_") + op;
  }
  return name;
}

/// Which inputs of `group` are constants of the model (Graph::is_constant).
std::vector<bool> constant_inputs(const Graph& g, const FusionGroup& group) {
  std::vector<bool> constant;
  for (ValueId v : group.inputs) constant.push_back(g.is_constant(v));
  return constant;
}

}  // namespace

CompileService::CompileService(std::unique_ptr<LLVMCompiler> compiler)
    : compiler_(std::move(compiler)) {}

CompileService& CompileService::global() {
  // Leaked on purpose: kernels share the JIT, and may run while statics are destroyed at exit.
  static CompileService* service = new CompileService(LLVMCompiler::create());
  return *service;
}

CompileService::CacheEntry* CompileService::cached(uint64_t key,
                                                   const std::vector<Tensor>& results) {
  for (CacheEntry& c : cache_[key])
    if (structural_equal(c.results, results)) return &c;
  return nullptr;
}

std::optional<CompileService::CachedKernel> CompileService::usable(const CacheEntry& entry) {
  if (entry.failed) return CachedKernel{};
  if (std::shared_ptr<const Kernel> kernel = entry.kernel.lock())
    return CachedKernel{std::move(kernel), entry.subject, entry.settled};
  return std::nullopt;
}

void CompileService::forget_freed_kernels() {
  for (auto it = cache_.begin(); it != cache_.end();) {
    std::erase_if(it->second, [](const CacheEntry& c) {
      return !c.failed && c.kernel.expired() && c.aten_is_faster.empty();
    });
    it = it->second.empty() ? cache_.erase(it) : std::next(it);
  }
}

CompileService::CachedKernel CompileService::kernel_for(const std::vector<Tensor>& results,
                                                        uint64_t key, const std::string& name,
                                                        const KernelSource& source) {
  {
    std::lock_guard lock(mutex_);
    if (CacheEntry* c = cached(key, results))
      if (std::optional<CachedKernel> k = usable(*c)) return *k;
  }
  CachedKernel made;
  bool failed = false;
  try {
    KernelChoice choice = choose_kernel(results, name, source);
    made.kernel = std::move(choice.kernel);
    made.subject = decision_subject(choice.record);
    made.settled = choice.settled;
    log_message(LogLevel::Debug, str_cat("workload ", key, " (", name, "): ", choice.origin));
  } catch (const Error& e) {
    // NOTE: partition only fuses what the op library lowers, so a failure here is a Kiln bug.
    // ATen still gives the right answer: warn (once per workload, as failures are cached too)
    // and let the group's nodes fall back.
    log_message(LogLevel::Warning, str_cat("a fused group (workload ", key, ") failed to compile; ",
                                           "its ops run in ATen: ", e.what()));
    failed = true;
  } catch (const InternalError& e) {
    log_message(LogLevel::Warning, str_cat("a fused group (workload ", key, ") hit a Kiln bug; ",
                                           "its ops run in ATen: ", e.what()));
    failed = true;
  }
  std::lock_guard lock(mutex_);
  CacheEntry* c = cached(key, results);
  if (c) {
    if (std::optional<CachedKernel> k = usable(*c)) return *k;  // Another thread was faster.
    // A decision measured against another kernel (another tuning record) no longer holds.
    if (c->subject != made.subject) c->aten_is_faster.clear();
  } else {
    c = &cache_[key].emplace_back();
    c->results = results;
  }
  c->kernel = made.kernel;
  c->failed = failed;
  c->subject = made.subject;
  c->settled = made.settled;
  return made;
}

bool CompileService::aten_is_faster(uint64_t key, const std::vector<Tensor>& results,
                                    const Kernel& whole, const std::string& kernel_subject,
                                    const Kernel& served, const std::vector<bool>& constant,
                                    const KernelSource& source) {
  {
    std::lock_guard lock(mutex_);
    CacheEntry* c = cached(key, results);
    if (c && c->aten_is_faster.count(constant)) return c->aten_is_faster[constant];
  }
  // The decision holds for the Kiln kernel it was measured against, and the inputs it kept.
  std::string subject = kernel_subject;
  for (size_t i = 0; i < constant.size(); ++i)
    if (constant[i]) subject += str_cat(" constant", i);
  std::optional<bool> faster;
  Workload workload;
  if (source.store) {
    workload = describe_workload(results);
    if (std::optional<std::string> choice = find_decision(*source.store, workload, source.target,
                                                          record_kind::kContraction, subject))
      faster = *choice == "served_by=aten";
  }
  if (!faster) {
    std::vector<double> seconds = fastest_of_runs({&whole, &served}, 3, constant);
    faster = seconds[1] < seconds[0];
    log_message(LogLevel::Debug,
                str_cat("workload ", key, ": Kiln kernel ", seconds[0] * 1e3,
                        " ms, ATen contraction + epilogue ", seconds[1] * 1e3, " ms"));
    if (source.store)
      commit_decision(*source.store, workload, source.target, record_kind::kContraction,
                      *faster ? "served_by=aten" : "served_by=kiln", subject,
                      std::min(seconds[0], seconds[1]), KILN_VERSION);
  }
  std::lock_guard lock(mutex_);
  if (CacheEntry* c = cached(key, results)) c->aten_is_faster[constant] = *faster;
  return *faster;
}

CompiledGraph CompileService::compile(const Graph& g, const CompileOptions& options) {
  {
    std::lock_guard lock(mutex_);
    forget_freed_kernels();
  }
  Partition p = partition(g);
  size_t num_groups = p.groups.size();
  std::vector<uint64_t> keys(num_groups);
  std::vector<std::shared_ptr<const Kernel>> kernels(num_groups), epilogues(num_groups);
  std::vector<FusionGroup> epilogue_groups(num_groups);
  bool aten_contractions = options.contractions != ContractionPolicy::Kiln;
  KernelSource source = TuningRuntime::global().configure(options, *compiler_);
  int64_t loaded_before = source.objects ? source.objects->hits() : 0;
  int64_t compiled_before = source.objects ? source.objects->misses() : 0;
  std::vector<CachedKernel> made(num_groups);
  // Groups compile independently; LLVMCompiler::compile is thread-safe.
  parallel_tasks(num_groups, [&](size_t k) {
    const FusionGroup& group = p.groups[k];
    // NOTE: the dispatcher routes torch.ops.kiln.launch by its tensor arguments; with none it
    // cannot reach the CPU kernel. A group without inputs is a constant: ATen makes it.
    if (group.inputs.empty()) return;
    std::string name = kernel_name(g, group.nodes);
    keys[k] = structural_hash(group.results);
    made[k] = kernel_for(group.results, keys[k], name, source);
    kernels[k] = made[k].kernel;
    if (!kernels[k] || group.contraction < 0 || !aten_contractions) return;
    epilogue_groups[k] = lower_epilogue(g, p, static_cast<int>(k));
    const std::vector<Tensor>& rest = epilogue_groups[k].results;
    if (!rest.empty())
      epilogues[k] = kernel_for(rest, structural_hash(rest), name + "_epilogue", source).kernel;
  });
  // Measured one after another, on the threads the model will run on.
  for (size_t k = 0; k < num_groups; ++k) {
    if (!kernels[k] || p.groups[k].contraction < 0 || !aten_contractions) continue;
    if (!epilogue_groups[k].results.empty() && !epilogues[k]) continue;  // logged, stays Kiln
    auto served = std::make_shared<AtenServedKernel>(g, p.groups[k], epilogue_groups[k],
                                                     kernels[k]->func(), epilogues[k]);
    if (options.contractions == ContractionPolicy::Aten ||
        aten_is_faster(keys[k], p.groups[k].results, *kernels[k], made[k].subject, *served,
                       constant_inputs(g, p.groups[k]), source))
      kernels[k] = std::move(served);
  }

  CompiledGraph out;
  out.unsupported = p.unsupported;
  out.fallback_nodes = p.fallback_nodes;
  std::vector<int> compiled_index(num_groups, -1);
  for (size_t k = 0; k < num_groups; ++k) {
    const FusionGroup& group = p.groups[k];
    if (!kernels[k]) {
      out.fallback_nodes.insert(out.fallback_nodes.end(), group.nodes.begin(), group.nodes.end());
      continue;
    }
    const LoweredFunc& f = kernels[k]->func();
    KILN_CHECK(f.num_inputs == static_cast<int>(group.inputs.size()) &&
                   f.params.size() == group.inputs.size() + group.outputs.size(),
               "the kernel's parameters do not match its group");
    CompiledGroup c;
    c.nodes = group.nodes;
    c.inputs = group.inputs;
    c.outputs = group.outputs;
    for (int n : group.nodes) c.ops.push_back(g.nodes()[n].op);
    auto entry = std::make_shared<SlotEntry>(joined_ops(g, group.nodes), keys[k], input_types(f),
                                             row_major_types(g, group.outputs), kernels[k],
                                             group.checks, constant_inputs(g, group));
    c.slot = SlotRegistry::global().add(entry);
    log_message(LogLevel::Debug, str_cat("slot ", c.slot, ": ", joined_ops(g, group.nodes)));
    if (options.tune == TuneMode::Background) {
      if (TuningService* service = TuningRuntime::global().service())
        service->add_slot(c.slot, std::shared_ptr<KernelSlot>(entry, &entry->slot), group.results,
                          kernel_name(g, group.nodes), made[k].settled);
    }
    compiled_index[k] = static_cast<int>(out.groups.size());
    out.groups.push_back(std::move(c));
  }
  std::sort(out.fallback_nodes.begin(), out.fallback_nodes.end());

  for (const PartitionStep& step : p.steps) {
    if (step.kind == PartitionStep::Kind::Fallback) {
      out.steps.push_back(step);
    } else if (compiled_index[step.index] >= 0) {
      out.steps.push_back({PartitionStep::Kind::Group, compiled_index[step.index]});
    } else {
      // A group's nodes in node order can run where the group would have.
      for (int n : p.groups[step.index].nodes)
        out.steps.push_back({PartitionStep::Kind::Fallback, n});
    }
  }
  if (source.objects)
    log_message(LogLevel::Info, str_cat("kiln: ", source.objects->hits() - loaded_before,
                                        " kernels loaded from the code cache, ",
                                        source.objects->misses() - compiled_before, " compiled"));
  if (!out.unsupported.empty() && log_enabled(LogLevel::Info)) {
    std::string ops;
    for (const auto& [op, why] : out.unsupported)
      ops += str_cat(ops.empty() ? "" : "; ", op, " (", why, ")");
    log_message(LogLevel::Info, str_cat(out.fallback_nodes.size(), " of ", g.nodes().size(),
                                        " nodes stay ATen calls; unsupported ops: ", ops));
  }
  return out;
}

void CompileService::recompile(int64_t slot) {
  std::shared_ptr<SlotEntry> entry = SlotRegistry::global().get(slot);
  std::shared_ptr<const Kernel> current = entry->slot.current();
  std::unique_ptr<Kernel> kernel = compiler_->compile(current->func());
  if (current->tuned()) kernel->mark_tuned();
  entry->slot.swap(std::move(kernel));
}

}  // namespace kiln
