#include "core/tune/tuning_service.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>

#include "core/ir/error.h"
#include "core/ir/structural.h"
#include "core/schedule/lower.h"
#include "core/tune/serving_decision.h"
#include "core/tune/trial_records.h"
#include "core/tune/verify.h"
#include "core/tune/warm_model.h"

namespace kiln {

/// One workload and every slot that computes it (repeated layers share one search).
struct TuningService::Job {
  struct Member {
    int64_t id;
    /// Expires when the slot is released (its compiled graph freed); the service then drops it.
    std::weak_ptr<KernelSlot> slot;
    /// While a swap awaits confirmation: the kernel it replaced, the counters at the swap and the
    /// time per call observed before it.
    std::shared_ptr<const Kernel> previous;
    SlotStats at_swap;
    double before_per_call = 0;
  };
  std::string name;
  std::vector<Tensor> workload;
  Workload description;
  /// NOTE: a deque, so that add_slot may append while the service holds references to members.
  std::deque<Member> members;
  bool done = false;
  /// The kernel promoted for this workload; a slot added later is swapped to it at once.
  std::shared_ptr<const Kernel> tuned;
  /// The tuning record it was built from (what a fresh process loads), when one was committed.
  std::optional<TuningRecord> tuned_record;

  uint64_t calls() const {
    uint64_t n = 0;
    for (auto& m : members)
      if (auto slot = m.slot.lock()) n += slot->stats().calls;
    return n;
  }
  uint64_t total_ns() const {
    uint64_t n = 0;
    for (auto& m : members)
      if (auto slot = m.slot.lock()) n += slot->stats().total_ns;
    return n;
  }
};

namespace {

double per_call(const SlotStats& now, const SlotStats& before) {
  uint64_t calls = now.calls - before.calls;
  return calls ? static_cast<double>(now.total_ns - before.total_ns) * 1e-9 / calls : 0;
}

std::string ms(double seconds) { return str_cat(seconds * 1e3, " ms"); }

}  // namespace

TuningService::TuningService(KernelSource source, TuningServiceOptions options, TuningHost& host)
    : source_(std::move(source)),
      options_(std::move(options)),
      host_(host),
      started_(std::chrono::steady_clock::now()),
      duty_(options_.max_slowdown) {}

TuningService::~TuningService() { stop(); }

double TuningService::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

void TuningService::add_slot(int64_t id, std::shared_ptr<KernelSlot> slot, std::vector<Tensor> workload,
                             std::string name, bool settled) {
  std::lock_guard lock(mutex_);
  Job* job = nullptr;
  for (auto& j : jobs_)
    if (structural_equal(j->workload, workload)) job = j.get();
  if (!job) {
    jobs_.push_back(std::make_unique<Job>());
    job = jobs_.back().get();
    job->name = std::move(name);
    job->description = describe_workload(workload);
    job->workload = std::move(workload);
    job->done = settled;
  }
  job->members.push_back({id, slot, nullptr, {}, 0});
  SlotTuning& state = states_[id];
  if (job->tuned) {
    // Another slot of this workload was tuned and confirmed faster: this one serves it too.
    state = states_[job->members.front().id];
    state.swaps = 1, state.rollbacks = 0;
    slot->swap(job->tuned);
  } else if (job->done) {
    state.state = settled ? "cached" : states_[job->members.front().id].state;
  }
  wake_.notify_all();
}

void TuningService::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { loop(); });
}

void TuningService::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TuningService::pause(bool paused) {
  {
    std::lock_guard lock(mutex_);
    paused_ = paused;
  }
  wake_.notify_all();
}

void TuningService::hold_while_paused() {
  if (!paused_) return;
  auto t0 = std::chrono::steady_clock::now();
  while (paused_ && !stop_) {
    confirm_swaps();  // measures nothing: a slower swapped-in kernel still goes back while held
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(200),
                   [&] { return stop_.load() || !paused_.load(); });
  }
  held_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::map<int64_t, SlotTuning> TuningService::slots() const {
  std::lock_guard lock(mutex_);
  std::map<int64_t, SlotTuning> live;  // a freed slot's state stays until the next search
  for (auto& job : jobs_)
    for (auto& m : job->members)
      if (auto it = states_.find(m.id); it != states_.end() && !m.slot.expired()) live.insert(*it);
  return live;
}

std::vector<SwapEvent> TuningService::swaps() const {
  std::lock_guard lock(mutex_);
  return swaps_;
}

void TuningService::set_state(Job& job, const std::string& state, const std::string& detail) {
  std::lock_guard lock(mutex_);
  for (auto& m : job.members) {
    states_[m.id].state = state;
    states_[m.id].detail = detail;
  }
}

void TuningService::mark_done(Job& job) {
  std::lock_guard lock(mutex_);
  job.done = true;
}

void TuningService::forget_released_slots() {
  for (auto& job : jobs_)
    std::erase_if(job->members, [&](const Job::Member& m) {
      if (!m.slot.expired()) return false;
      states_.erase(m.id);
      return true;
    });
  std::erase_if(jobs_, [](const std::unique_ptr<Job>& job) { return job->members.empty(); });
}

TuningService::Job* TuningService::next_job(uint64_t min_calls) {
  std::lock_guard lock(mutex_);
  forget_released_slots();
  Job* best = nullptr;
  uint64_t best_ns = 0;
  for (auto& job : jobs_) {
    if (job->done || job->calls() < min_calls) continue;
    uint64_t ns = job->total_ns();
    if (!best || ns > best_ns) best = job.get(), best_ns = ns;
  }
  return best;
}

void TuningService::loop() {
  host_.enter_background_thread();
  if (options_.idle_priority) {
    // Linux applies this to the calling thread only; the workers it spawns inherit it.
    sched_param param{};
    if (sched_setscheduler(0, SCHED_IDLE, &param) != 0)
      host_.log(true, str_cat("kiln: tuning runs at normal priority (SCHED_IDLE: ",
                              std::strerror(errno), ")"));
  }
  while (!stop_) {
    hold_while_paused();
    confirm_swaps();
    bool budget_left = options_.budget_seconds <= 0 || tuning_seconds_ < options_.budget_seconds;
    Job* job = budget_left ? next_job(options_.min_calls) : nullptr;
    if (!job) {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stop_.load(); });
      continue;
    }
    auto t0 = std::chrono::steady_clock::now();
    double held_before = held_seconds_;
    tune(*job, {}, true);
    tuning_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() -
                       (held_seconds_ - held_before);
  }
}

void TuningService::tune_all(
    double budget_seconds,
    const std::function<void(const std::string&, const TuneProgress&)>& progress) {
  stop();
  stop_ = false;
  auto t0 = std::chrono::steady_clock::now();
  while (!stop_) {
    double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (budget_seconds > 0 && spent >= budget_seconds) break;
    Job* job = next_job(1);
    if (!job) break;
    tune(
        *job, [&](const TuneProgress& p) {
          if (progress) progress(job->name, p);
        },
        false);
  }
}

CallSample TuningService::model_calls() const {
  if (uint64_t calls = observed_calls_.load(std::memory_order_relaxed))
    return {observed_ns_.load(std::memory_order_relaxed), calls};
  std::lock_guard lock(mutex_);
  CallSample sum;
  for (auto& job : jobs_)
    for (auto& m : job->members) {
      std::shared_ptr<KernelSlot> slot = m.slot.lock();
      if (!slot) continue;
      SlotStats stats = slot->stats();
      sum.ns += stats.total_ns;
      sum.calls += stats.calls;
    }
  return sum;
}

double TuningService::model_slowdown() const {
  std::lock_guard lock(mutex_);
  return duty_.slowdown();
}

double TuningService::duty() const {
  std::lock_guard lock(mutex_);
  return duty_.duty();
}

void TuningService::pace() {
  auto since = [](CallSample now, CallSample before) {
    return CallSample{now.ns - before.ns, now.calls - before.calls};
  };
  auto now = std::chrono::steady_clock::now();
  CallSample calls = model_calls();
  double pause;
  {
    std::lock_guard lock(mutex_);
    pause = duty_.after_work(std::chrono::duration<double>(now - work_started_).count(),
                             since(calls, calls_at_work_start_));
  }
  if (pause > 0) {
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, std::chrono::duration<double>(std::min(pause, 10.0)),
                   [&] { return stop_.load(); });
    lock.unlock();
    CallSample after = model_calls();
    lock.lock();
    duty_.after_pause(since(after, calls));
    calls = after;
  }
  if (paused_) {  // the calls while held are neither loaded nor quiet samples
    hold_while_paused();
    calls = model_calls();
  }
  work_started_ = std::chrono::steady_clock::now();
  calls_at_work_start_ = calls;
}

void TuningService::tune(Job& job, const std::function<void(const TuneProgress&)>& progress,
                         bool paced) {
  set_state(job, "tuning", "");
  if (paced) {
    work_started_ = std::chrono::steady_clock::now();
    calls_at_work_start_ = model_calls();
  }
  try {
    if (ScheduleSpace(job.workload, source_.compiler->target()).size() <= 1) {
      mark_done(job);
      set_state(job, "kept", "its schedule template has no knobs to tune");
      return;
    }
    TuneOptions tune;
    tune.trials = options_.trials;
    tune.seconds = options_.workload_seconds;
    tune.early_stop = options_.early_stop;
    tune.stop = &stop_;
    tune.seed = job.description.key.lo;
    std::unique_ptr<CostModel> model;
    if (!has_xgboost()) {
      tune.strategy = SearchStrategy::Random;
    } else if (source_.store) {
      WarmModel warm = warm_cost_model(*source_.store, source_.target);
      model = std::move(warm.model);
      tune.warm_model = warm.samples > 0;
      tune.transferred = std::move(warm.exemplars);
      if (tune.warm_model)
        host_.log(false, str_cat("kiln: tuning '", job.name, "' with a cost model warmed from ",
                                 warm.samples, " records of ", warm.tasks, " tasks"));
    } else {
      model = make_xgboost_model(1);
    }
    Tuner tuner({job.name, job.workload}, *source_.compiler, options_.measure, tune, model.get());
    // Records are committed in batches as they come: a process killed in the middle of a long
    // search keeps what it measured.
    size_t committed = 0;
    auto commit = [&](const TuneResult& so_far) {
      if (!source_.store || committed == so_far.trials.size()) return;
      source_.store->commit(job.description, records_of_trials(so_far, job.description,
                                                               source_.target,
                                                               options_.kiln_version, committed));
      committed = so_far.trials.size();
    };
    TuneResult result = tuner.run([&](const TuneProgress& p) {
      {
        std::lock_guard lock(mutex_);
        for (auto& m : job.members) states_[m.id].trials = p.trial;
      }
      if (p.so_far->trials.size() - committed >= static_cast<size_t>(tune.batch)) commit(*p.so_far);
      if (progress) progress(p);
      if (paced) pace();
    });
    commit(result);
    if (stop_) {
      set_state(job, "waiting", "stopped");  // tuned again by the next process
      return;
    }
    mark_done(job);
    if (result.best < 0) {
      set_state(job, "failed", str_cat("no candidate of ", result.trials.size(), " ran correctly"));
      return;
    }
    LoweredFunc f = lower(replay(job.workload, result.best_trace), job.name + "_tuned");
    // The record a fresh process will serve, when it is this kernel's.
    if (source_.store)
      if (std::optional<TuningRecord> best = source_.store->best(job.description, source_.target))
        if (best->trace == result.best_trace.to_text()) job.tuned_record = std::move(best);
    promote(job, source_.compile(f), result.trials[result.best].result.spread, paced);
  } catch (const std::exception& e) {
    mark_done(job);
    set_state(job, "failed", e.what());
    host_.log(true, str_cat("kiln: tuning '", job.name, "' failed: ", e.what()));
  }
}

std::vector<double> TuningService::time_against(KernelSlot& slot,
                                                std::shared_ptr<const Kernel> current,
                                                std::shared_ptr<const Kernel> candidate,
                                                bool in_model_calls) {
  if (in_model_calls) {
    using Clock = std::chrono::steady_clock;
    slot.begin_trial(candidate, kTrialCalls);
    auto start = Clock::now(), last_call = start;
    uint64_t seen = slot.stats().calls;
    while (!stop_ && slot.trial_calls() < kTrialCalls) {
      if (paused_) {  // held: the model's calls run its own kernel only
        slot.end_trial();
        hold_while_paused();
        slot.begin_trial(candidate, kTrialCalls);
        start = last_call = Clock::now();
        continue;
      }
      auto now = Clock::now();
      if (uint64_t calls = slot.stats().calls; calls > seen) seen = calls, last_call = now;
      // A model not called for a second, or called too rarely, is timed here instead.
      if (now - last_call > std::chrono::seconds(1) || now - start > std::chrono::seconds(30)) break;
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(5),
                     [&] { return stop_.load() || paused_.load(); });
    }
    TrialResult trial = slot.end_trial();
    if (trial.calls >= kTrialCalls) return {trial.current_seconds, trial.candidate_seconds};
  }
  return host_.time_in_process({current.get(), candidate.get()});
}

void TuningService::promote(Job& job, std::shared_ptr<const Kernel> kernel, double spread,
                            bool in_model_calls) {
  size_t members;
  {
    std::lock_guard lock(mutex_);
    members = job.members.size();
  }
  double kept_seconds = 0;  // per call of a kernel the tuned one did not beat
  for (size_t i = 0; i < members; ++i) {
    Job::Member& m = job.members[i];
    std::shared_ptr<KernelSlot> slot = m.slot.lock();
    if (!slot) continue;  // released: its graph is gone
    std::shared_ptr<const Kernel> current = slot->current();
    double disagreement = disagreement_on_fresh_inputs(*kernel, *current, 0x5eed + m.id);
    if (!(disagreement <= 1)) {
      // The worker checked it against the default schedule; a disagreement here is a Kiln bug.
      set_state(job, "failed", str_cat("the tuned kernel disagrees with the current one on fresh "
                                       "inputs (", disagreement, " of tolerance)"));
      host_.log(true, str_cat("kiln: slot ", m.id, " keeps its kernel: the tuned one disagrees on "
                              "fresh inputs"));
      std::lock_guard lock(mutex_);
      quarantine_tuned_kernel(job, "disagreed with the served kernel on fresh inputs");
      return;
    }
    std::vector<double> seconds = time_against(*slot, current, kernel, in_model_calls);
    if (stop_) return;  // the process is exiting: nothing to swap for
    // The worker's spread says how noisy the candidate's own measurement was; under load it can
    // exceed 100%, which no real gain clears, so it counts up to 25%. The A/B above decides; the
    // confirming calls after the swap catch what it got wrong.
    double gain = std::max(options_.min_gain, std::min(spread, 0.25));
    std::lock_guard lock(mutex_);
    SlotTuning& state = states_[m.id];
    if (state.first_seconds == 0) state.first_seconds = seconds[0];
    if (!(seconds[1] < seconds[0] * (1 - gain))) {
      state.state = "kept";
      state.best_seconds = seconds[0];
      kept_seconds = seconds[0];
      state.detail = str_cat("tuned ", ms(seconds[1]), " vs current ", ms(seconds[0]),
                             ": not faster beyond ", gain * 100, "%");
      continue;
    }
    SlotStats before = slot->stats();
    m.previous = current;
    m.at_swap = before;
    m.before_per_call = per_call(before, SlotStats{});
    slot->swap(kernel);
    job.tuned = kernel;
    state.state = "tuned";
    state.best_seconds = seconds[1];
    state.swaps += 1;
    state.detail = "";
    swaps_.push_back({m.id, before.version, before.version + 1, seconds[0], seconds[1], elapsed(), false});
    record_contraction_choice(job);
    host_.log(false, str_cat("kiln: slot ", m.id, " (", job.name, "): swapped in a tuned kernel, ",
                             "version ", before.version, " → ", before.version + 1, ": ",
                             ms(seconds[0]), " → ", ms(seconds[1]), " per call (",
                             seconds[0] / seconds[1], "x)"));
  }
  std::lock_guard lock(mutex_);
  if (!job.tuned && kept_seconds > 0) record_default_serves(job, kept_seconds);
}

// A contraction's slot serves Kiln's kernel or ATen's op, whichever was faster (the plugin's
// compile service records that choice against the Kiln kernel it measured). The swap just
// measured the tuned kernel faster than what served before, ATen's op included: recorded against
// the tuned record a fresh process will load, so that it re-times nothing and cannot decide
// otherwise on a noisy measurement.
void TuningService::record_contraction_choice(const Job& job) {
  if (!source_.store || job.description.op_class != "contraction" || !job.tuned_record) return;
  commit_decision(*source_.store, job.description, source_.target, "contraction", "served_by=kiln",
                  decision_subject(job.tuned_record), job.tuned_record->seconds,
                  options_.kiln_version);
}

// The tuned kernel lost to the kernel serving before it in the running model: kept by the A/B,
// or rolled back after the swap. A fresh process would serve the tuned record (the best in the
// cache) and so lose the same way; the decision makes it serve the default schedule, as this
// process ends up doing. Needs mutex_.
void TuningService::record_default_serves(const Job& job, double seconds) {
  if (!source_.store || !job.tuned_record) return;
  commit_decision(*source_.store, job.description, source_.target, "serving", "serves=default",
                  decision_subject(job.tuned_record), seconds, options_.kiln_version);
}

// A tuned kernel that disagrees with the served one is never served again: not to slots added
// later, and not by the next process (its record is quarantined).
void TuningService::quarantine_tuned_kernel(Job& job, const std::string& why) {
  job.tuned = nullptr;
  if (source_.store && job.tuned_record)
    source_.store->set_status(job.tuned_record->id, "quarantined", why);
  job.tuned_record.reset();
}

void TuningService::confirm_swaps() {
  std::lock_guard lock(mutex_);
  for (auto& job : jobs_)
    for (auto& m : job->members) {
      std::shared_ptr<KernelSlot> slot = m.slot.lock();
      if (!m.previous || !slot) continue;
      SlotStats now = slot->stats();
      if (now.calls - m.at_swap.calls < options_.confirm_calls) continue;
      double after = per_call(now, m.at_swap);
      std::shared_ptr<const Kernel> previous = std::move(m.previous);
      m.previous = nullptr;
      // Real calls include the launch overhead both kernels pay; 10% slower is beyond noise.
      if (m.before_per_call <= 0 || after <= m.before_per_call * 1.10) continue;
      std::shared_ptr<const Kernel> rolled_back = slot->current();
      slot->swap(previous);
      job->tuned = nullptr;  // a slot added later keeps its own kernel
      // The workload's decision, once no slot of it serves the tuned kernel any more.
      bool still_served = std::any_of(job->members.begin(), job->members.end(), [&](auto& other) {
        std::shared_ptr<KernelSlot> s = other.slot.lock();
        return s && s->current() == rolled_back;
      });
      if (!still_served) record_default_serves(*job, m.before_per_call);
      SlotTuning& state = states_[m.id];
      state.rollbacks += 1;
      state.state = "rolled back";
      state.detail = str_cat("calls ran ", ms(after), " after the swap, ", ms(m.before_per_call),
                             " before");
      swaps_.push_back({m.id, now.version, now.version + 1, after, m.before_per_call, elapsed(), true});
      host_.log(true, str_cat("kiln: slot ", m.id, ": rolled back the tuned kernel, ", state.detail));
    }
}

}  // namespace kiln
