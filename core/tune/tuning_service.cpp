#include "core/tune/tuning_service.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>

#include "core/ir/structural.h"
#include "core/schedule/lower.h"
#include "core/support/error.h"
#include "core/templates/default_schedule.h"
#include "core/tune/stored_search.h"
#include "core/tune/tuning_job.h"

namespace kiln {

using tuning_detail::ms;

TuningService::TuningService(KernelSource source, TuningServiceOptions options, TuningHost& host)
    : source_(std::move(source)),
      options_(std::move(options)),
      host_(host),
      started_(std::chrono::steady_clock::now()),
      duty_(options_.max_slowdown) {}

TuningService::~TuningService() {
  stop();
}

double TuningService::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

void TuningService::add_slot(int64_t id, std::shared_ptr<KernelSlot> slot,
                             std::vector<Tensor> workload, std::string name, bool settled) {
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
      host_.log(
          true,
          str_cat("kiln: tuning runs at normal priority (SCHED_IDLE: ", std::strerror(errno), ")"));
  }
  while (!stop_) {
    hold_while_paused();
    confirm_swaps();
    double budget_left = options_.budget_seconds > 0 ? options_.budget_seconds - tuning_seconds_
                                                     : std::numeric_limits<double>::infinity();
    if (budget_left <= 0) skip_unsearched();
    Job* job = budget_left > 0 ? next_job(options_.min_calls) : nullptr;
    if (!job) {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stop_.load(); });
      continue;
    }
    auto t0 = std::chrono::steady_clock::now();
    double held_before = held_seconds_;
    tune(*job, {}, true, budget_left);
    tuning_seconds_ +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() -
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
    double left =
        budget_seconds > 0 ? budget_seconds - spent : std::numeric_limits<double>::infinity();
    if (left <= 0) break;
    Job* job = next_job(1);
    if (!job) break;
    tune(
        *job,
        [&](const TuneProgress& p) {
          if (progress) progress(job->name, p);
        },
        false, left);
  }
}

std::vector<TuningService::Untuned> TuningService::untuned() {
  std::lock_guard lock(mutex_);
  forget_released_slots();
  std::vector<std::pair<uint64_t, Untuned>> found;
  for (auto& job : jobs_)
    if (!job->done && job->calls() > 0)
      found.push_back({job->total_ns(), {job->name, job->workload, job->description}});
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<Untuned> hottest_first;
  for (auto& [ns, u] : found) hottest_first.push_back(std::move(u));
  return hottest_first;
}

void TuningService::skip_unsearched() {
  std::lock_guard lock(mutex_);
  for (auto& job : jobs_) {
    if (job->done) continue;
    job->done = true;
    for (auto& m : job->members)
      states_[m.id] = {.state = "skipped",
                       .detail = str_cat("the tuning budget (", options_.budget_seconds,
                                         " s) was spent before its turn")};
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
                         bool paced, double budget_left) {
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
    double per_workload = options_.workload_seconds > 0 ? options_.workload_seconds
                                                        : std::numeric_limits<double>::infinity();
    double seconds = std::min(per_workload, budget_left);
    tune.seconds = std::isinf(seconds) ? 0 : seconds;  // 0: no limit
    tune.early_stop = options_.early_stop;
    tune.stop = &stop_;
    StoredSearchContext context{
        source_.compiler,
        source_.store,
        source_.target,
        options_.measure,
        options_.kiln_version,
        [&](size_t records, size_t tasks) {
          host_.log(false, str_cat("kiln: tuning '", job.name, "' with a cost model warmed from ",
                                   records, " records of ", tasks, " tasks"));
        }};
    TuneResult result = stored_search({job.name, job.workload}, job.description, tune, context,
                                      [&](const TuneProgress& p) {
                                        {
                                          std::lock_guard lock(mutex_);
                                          for (auto& m : job.members)
                                            states_[m.id].trials = p.trial;
                                        }
                                        if (progress) progress(p);
                                        if (paced) pace();
                                      });
    if (stop_) {
      set_state(job, "waiting", "stopped");  // tuned again by the next process
      return;
    }
    mark_done(job);
    if (result.best < 0) {
      set_state(job, "failed", str_cat("no candidate of ", result.trials.size(), " ran correctly"));
      return;
    }
    // The default schedule was measured first, the same way: when no searched candidate beat
    // it, it is what the search offers (an A/B against a slot serving it finds them equal).
    const Trial& winner = result.trials[result.best];
    job.tuned_is_default = result.default_won();
    // The default's kernel is the one a process compiles for a workload the cache has no tuned
    // record of, under the same name: a fresh process loads it from the object cache.
    LoweredFunc f =
        job.tuned_is_default
            ? lower(default_schedule(job.workload, source_.compiler->target()), job.name)
            : lower(replay(job.workload, result.best_trace), job.name + "_tuned");
    // The record a fresh process will serve, when it is this kernel's.
    if (source_.store)
      if (std::optional<TuningRecord> best = source_.store->best(job.description, source_.target))
        if (job.tuned_is_default || best->trace == result.best_trace.to_text())
          job.tuned_record = std::move(best);
    std::unique_ptr<Kernel> kernel = source_.compile(f);
    if (!job.tuned_is_default) kernel->mark_tuned();
    promote(job, std::move(kernel), winner.result.spread, paced);
  } catch (const std::exception& e) {
    mark_done(job);
    set_state(job, "failed", e.what());
    host_.log(true, str_cat("kiln: tuning '", job.name, "' failed: ", e.what()));
  }
}

}  // namespace kiln
