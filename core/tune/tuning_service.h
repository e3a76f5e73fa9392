// The tuning service: AutoTVM's loop inside a running process. One background thread watches the
// kernel slots a model calls, tunes the workload with the largest share of observed time first
// (model-guided search, the cost model warmed from every record in the tuning cache), measures
// candidates in isolation (MeasureOptions::worker), checks the winner against the kernel it would
// replace on fresh inputs, times both in this process, and swaps it in only when it is faster
// beyond noise. The slot's next calls confirm the gain; a swap that made calls slower is rolled
// back. Every record goes to the tuning cache; every swap is logged.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/runtime/kernel_compiler.h"
#include "core/runtime/kernel_slot.h"
#include "core/tune/cost_model.h"
#include "core/tune/duty_cycle.h"
#include "core/tune/kernel_pipeline.h"
#include "core/tune/record_store.h"
#include "core/tune/swap_event.h"
#include "core/tune/tuner.h"

namespace kiln {

struct TuningServiceOptions {
  int trials = 64;                ///< Measurements per workload at most.
  double workload_seconds = 120;  ///< Wall time per workload at most.
  double budget_seconds = 600;    ///< Wall time of all tuning in this process (0: none).
  int early_stop = 32;            ///< Trials without improvement that end a workload's search.
  MeasureOptions measure;         ///< Threads, repeats and the isolated worker for candidates.
  int min_calls = 2;              ///< A slot is tuned once it has run this often.
  double min_gain = 0.03;         ///< A swap needs this relative gain, and more than the noise
                                  ///< (a sign test over the A/B's paired calls; outside the
                                  ///< model's calls, the winner's spread up to 25%).
  uint64_t confirm_calls = 16;    ///< Calls after a swap that confirm (or roll back) its gain.
  /// The mean slowdown of the model's calls that background tuning may cause (DutyCycle): the
  /// service pauses between trials as long as that takes. `tune_all` does not pause.
  double max_slowdown = 0.10;
  std::string kiln_version;  ///< Written into each record.
  /// Runs the background thread, and so the measuring worker it spawns, at SCHED_IDLE: the model's
  /// threads always take the CPU first. NOTE: on a machine whose cores the model's thread pool
  /// fills, a busy tuner would otherwise stall every barrier of the pool (a descheduled team
  /// member costs a scheduler quantum, milliseconds), making calls many times slower.
  bool idle_priority = true;
};

/// What the service needs of the process it runs in.
class TuningHost {
 public:
  virtual ~TuningHost() = default;
  /// Seconds per call of each kernel (all with the parameters of the first) on the same
  /// arguments, measured here on the calling thread: the kernels take turns. For an A/B when
  /// the model is not being called (a trial in its calls is preferred).
  virtual std::vector<double> time_in_process(const std::vector<const Kernel*>& kernels) = 0;
  /// Reports progress and swaps (info) and failures (warning).
  virtual void log(bool warning, const std::string& message) = 0;
  /// Called on the service's background thread before it does anything else: keeps the
  /// libraries it calls there (kernels, ATen) to that one thread. NOTE: with OpenMP, a parallel
  /// region opened from a second thread builds a second thread team; once a process has more
  /// OpenMP threads than cores, libgomp stops spinning at barriers and every parallel region of
  /// the model pays a futex wake-up: on 2 cores, each call of a GPT-2 block took twice as long.
  virtual void enter_background_thread() {}
};

/// A slot's tuning as kiln.stats() reports it.
struct SlotTuning {
  /// waiting, tuning, tuned, kept, rolled back, failed, cached, or skipped (the process's tuning
  /// budget was spent before its turn).
  std::string state = "waiting";
  int trials = 0;
  double first_seconds = 0;  ///< The slot's first kernel, per call (in process).
  double best_seconds = 0;   ///< What serves it now, per call (in process).
  int swaps = 0, rollbacks = 0;
  /// Whether the search's offer was the default schedule's kernel: no searched schedule beat
  /// it (then a swap installs the default's kernel, not a tuned one).
  bool default_won = false;
  /// Why it was kept or failed; for "tuned", empty, or kDefaultWonDetail when the kernel swapped
  /// in is the default schedule's (no searched schedule beat it, and it beat what served before).
  std::string detail;
};

inline constexpr const char* kDefaultWonDetail =
    "no searched schedule beat the default; it beat what served before";

class TuningService {
 public:
  /// Tunes with `source`'s compiler for its target, records into its store (may be null: nothing
  /// persists) and keeps promoted kernels in its object cache (may be null), so that the next
  /// process loads what this one tuned. The compiler, store, cache and `host` must outlive it.
  TuningService(KernelSource source, TuningServiceOptions options, TuningHost& host);
  ~TuningService();

  /// Adds a slot whose group computes `workload` (the compute definitions its kernels compute);
  /// slots of structurally equal workloads are tuned once and swapped together. The service
  /// holds `slot` weakly: once its owner frees it, the service forgets it (and a workload whose
  /// slots are all gone). A slot whose workload the tuning cache settled before (`settled`: a
  /// record serves it, or a decision keeps the default schedule) is reported as "cached" and
  /// not tuned again.
  void add_slot(int64_t id, std::shared_ptr<KernelSlot> slot, std::vector<Tensor> workload,
                std::string name, bool settled = false);

  /// Starts the background thread (idempotent).
  void start();
  /// Asks the thread to stop and joins it: it returns after the measurement in flight.
  void stop();
  /// Holds background tuning (`true`) from the end of the measurement in flight until resumed
  /// (`false`): a latency-critical phase of the model runs without the tuner. Time held does
  /// not count against the budget.
  void pause(bool paused);
  /// Stops the background thread, then tunes every slot that has run at least once, on the
  /// calling thread, until done or after `budget_seconds` (0: no limit) (`kiln tune`).
  /// `progress` is called after each trial with the workload's name.
  void tune_all(double budget_seconds,
                const std::function<void(const std::string&, const TuneProgress&)>& progress = {});

  /// A workload whose slots ran but which was not searched yet.
  struct Untuned {
    std::string name;
    std::vector<Tensor> workload;
    Workload description;
  };
  /// Those workloads, hottest first (the order tune_all takes them): what `kiln tune --fleet`
  /// hands to the fleet's workers instead of searching here.
  std::vector<Untuned> untuned();

  std::map<int64_t, SlotTuning> slots() const;
  std::vector<SwapEvent> swaps() const;
  /// The host reports each call of a model whole (a graph's run: its kernels, ATen ops and the
  /// glue between): the duty cycle then weighs what the model's caller sees, not the kernels
  /// alone (a small model's time is mostly glue, which the tuner's cache traffic slows too).
  /// Without reports the slots' kernel counters stand in. Thread-safe, lock-free.
  void observe_model_call(uint64_t ns) {
    observed_ns_.fetch_add(ns, std::memory_order_relaxed);
    observed_calls_.fetch_add(1, std::memory_order_relaxed);
  }
  /// What background tuning measured of its cost to the model (DutyCycle): the slowdown of the
  /// model's calls while it worked, and the share of time it works to stay within max_slowdown.
  double model_slowdown() const;
  double duty() const;
  /// Whether the thread is running.
  bool running() const { return thread_.joinable() && !stop_; }

 private:
  struct Job;  // one workload and the slots that compute it

  void loop();
  /// The job with the most observed time among those called `min_calls` times, or null.
  /// Called by the tuning thread only, between searches (it forgets released slots).
  Job* next_job(uint64_t min_calls);
  /// Drops the members whose slots were freed, and jobs left without members. Needs mutex_;
  /// only between searches (a search holds its job and indexes its members).
  void forget_released_slots();
  /// Searches `job`'s workload for at most `budget_left` seconds (and the options' limits);
  /// `paced`: pauses between trials (background tuning).
  void tune(Job& job, const std::function<void(const TuneProgress&)>& progress, bool paced,
            double budget_left);
  /// Once the budget is spent: every job not searched yet is done, its slots "skipped".
  void skip_unsearched();
  /// The model's calls so far: those observed, else the kernel time and calls of every slot.
  CallSample model_calls() const;
  /// Waits while pause(true) holds the service (returns early on stop), still confirming
  /// swaps (roll-backs measure nothing). Tuning thread only.
  void hold_while_paused();
  /// After a piece of work: pauses as the duty cycle says (returns early on stop).
  void pace();
  /// Swaps `kernel` into each slot of `job` where an A/B says it is faster: a trial in the
  /// model's own calls when `in_model_calls` (background tuning), else timed here.
  void promote(Job& job, std::shared_ptr<const Kernel> kernel, double spread, bool in_model_calls);
  /// The time per call of `current` and of `candidate` in `slot`: a trial in the model's calls
  /// (KernelSlot::begin_trial) while the model is called, else the host's timing (no pairs).
  TrialResult time_against(KernelSlot& slot, std::shared_ptr<const Kernel> current,
                           std::shared_ptr<const Kernel> candidate, bool in_model_calls);
  /// Calls of each kernel a trial in the model's calls takes.
  static constexpr int kTrialCalls = 24;
  /// Records that the job's tuned kernel, faster than ATen's contraction, serves its slots.
  void record_contraction_choice(const Job& job);
  /// Records that the default schedule serves the job's workload rather than its tuned record
  /// (`seconds`: the default's time per call). Needs mutex_.
  void record_default_serves(const Job& job, double seconds);
  /// Rolls back swaps whose confirming calls ran slower than before.
  void confirm_swaps();
  /// The job's tuned kernel is served no more, here or by a fresh process: its record is
  /// quarantined with `why`. Needs mutex_.
  void quarantine_tuned_kernel(Job& job, const std::string& why);
  void set_state(Job& job, const std::string& state, const std::string& detail);
  /// Marks the job searched: it is not picked again.
  void mark_done(Job& job);
  double elapsed() const;

  KernelSource source_;
  TuningServiceOptions options_;
  TuningHost& host_;

  mutable std::mutex mutex_;  ///< Guards jobs_, states_ and swaps_.
  std::vector<std::unique_ptr<Job>> jobs_;
  std::map<int64_t, SlotTuning> states_;
  std::vector<SwapEvent> swaps_;
  std::condition_variable wake_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> paused_{false};
  std::thread thread_;
  std::chrono::steady_clock::time_point started_;
  double tuning_seconds_ = 0;  ///< Spent so far, against budget_seconds.
  double held_seconds_ = 0;    ///< Held by pause() so far (tuning thread only).
  DutyCycle duty_;             ///< Guarded by mutex_.
  std::chrono::steady_clock::time_point work_started_;
  CallSample calls_at_work_start_;
  std::atomic<uint64_t> observed_ns_{0}, observed_calls_{0};
};

}  // namespace kiln
