// The tuning service's promotion of a searched kernel: checked on fresh inputs, an A/B against
// the slot's kernel (a trial in the model's calls), the swap, its confirmation or roll-back, and
// the decisions a fresh process serves by.
#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/tune/serving_decision.h"
#include "core/tune/tuning_job.h"
#include "core/tune/verify.h"

namespace kiln {

using tuning_detail::ms;
using tuning_detail::per_call;

namespace {

/// The fewest wins in `pairs` coin flips that a fair coin reaches in at most 5% of trials.
int wins_beyond_chance(int pairs) {
  double tail = 0, ways = 1;  // P(wins >= k), C(pairs, k), from k = pairs down
  for (int k = pairs; k >= 0; --k) {
    tail += ways * std::pow(0.5, pairs);
    if (tail > 0.05) return k + 1;
    ways = ways * k / (pairs - k + 1);
  }
  return 0;
}

/// Whether `ab` shows the candidate faster than the current kernel beyond noise. Its medians must
/// differ by `min_gain`, and by more than chance: a trial in the model's calls pairs neighbouring
/// calls (a drift of the machine's speed moves both), so the candidate must win more pairs than a
/// fair coin would but once in twenty trials (a sign test). Timed outside the model's calls there
/// are no pairs; the candidate's spread in the worker (at most 25%) stands for the noise.
bool clearly_faster(const TrialResult& ab, double min_gain, double spread) {
  if (ab.calls == 0) min_gain = std::max(min_gain, std::min(spread, 0.25));
  if (!(ab.candidate_seconds < ab.current_seconds * (1 - min_gain))) return false;
  return ab.calls == 0 || ab.candidate_faster >= wins_beyond_chance(ab.calls);
}

}  // namespace

TrialResult TuningService::time_against(KernelSlot& slot, std::shared_ptr<const Kernel> current,
                                        std::shared_ptr<const Kernel> candidate,
                                        bool in_model_calls) {
  if (in_model_calls) {
    using Clock = std::chrono::steady_clock;
    slot.begin_trial(candidate, kTrialCalls);
    auto start = Clock::now(), last_call = start;
    uint64_t seen = slot.stats().calls;
    while (!stop_ && slot.trial_calls() < kTrialCalls) {
      if (paused_) {  // held: the model's calls run its own kernel only
        // The trial goes on after: a model whose trial outlasts the phases between pauses
        // would otherwise start it over after each one, forever.
        slot.hold_trial(true);
        auto held_from = Clock::now();
        hold_while_paused();
        slot.hold_trial(false);
        start += Clock::now() - held_from;  // time held does not count against the limit
        last_call = Clock::now();
        continue;
      }
      auto now = Clock::now();
      if (uint64_t calls = slot.stats().calls; calls > seen) seen = calls, last_call = now;
      // A model not called for a second, or called too rarely, is timed here instead.
      if (now - last_call > std::chrono::seconds(1) || now - start > std::chrono::seconds(30))
        break;
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(5),
                     [&] { return stop_.load() || paused_.load(); });
    }
    TrialResult trial = slot.end_trial();
    if (trial.calls >= kTrialCalls) return trial;
  }
  std::vector<double> seconds = host_.time_in_process({current.get(), candidate.get()});
  return {seconds[0], seconds[1], 0, 0};
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
      set_state(job, "failed",
                str_cat("the tuned kernel disagrees with the current one on fresh "
                        "inputs (",
                        disagreement, " of tolerance)"));
      host_.log(true, str_cat("kiln: slot ", m.id,
                              " keeps its kernel: the tuned one disagrees on "
                              "fresh inputs"));
      std::lock_guard lock(mutex_);
      quarantine_tuned_kernel(job, "disagreed with the served kernel on fresh inputs");
      return;
    }
    TrialResult ab = time_against(*slot, current, kernel, in_model_calls);
    if (stop_) return;  // the process is exiting: nothing to swap for
    std::lock_guard lock(mutex_);
    SlotTuning& state = states_[m.id];
    if (state.first_seconds == 0) state.first_seconds = ab.current_seconds;
    state.default_won = job.tuned_is_default;
    if (!clearly_faster(ab, options_.min_gain, spread)) {
      state.state = "kept";
      state.best_seconds = ab.current_seconds;
      kept_seconds = ab.current_seconds;
      state.detail = str_cat(job.tuned_is_default ? "no searched schedule beat the default; "
                                                    "the default "
                                                  : "tuned ",
                             ms(ab.candidate_seconds), " vs current ", ms(ab.current_seconds),
                             ": not faster beyond noise");
      if (ab.calls > 0)
        state.detail +=
            str_cat(" (faster in ", ab.candidate_faster, " of ", ab.calls, " paired calls)");
      continue;
    }
    SlotStats before = slot->stats();
    m.previous = current;
    m.at_swap = before;
    m.before_per_call = per_call(before, SlotStats{});
    slot->swap(kernel);
    duty_.model_changed();
    job.tuned = kernel;
    state.state = "tuned";
    state.best_seconds = ab.candidate_seconds;
    state.swaps += 1;
    state.detail = job.tuned_is_default ? kDefaultWonDetail : "";
    swaps_.push_back({m.id, before.version, before.version + 1, ab.current_seconds,
                      ab.candidate_seconds, elapsed(), false});
    record_contraction_choice(job);
    if (job.tuned_is_default) record_default_serves(job, ab.candidate_seconds);
    host_.log(false, str_cat("kiln: slot ", m.id, " (", job.name, "): swapped in ",
                             job.tuned_is_default ? "the default schedule's" : "a tuned",
                             " kernel, ", "version ", before.version, " → ", before.version + 1,
                             ": ", ms(ab.current_seconds), " → ", ms(ab.candidate_seconds),
                             " per call (", ab.current_seconds / ab.candidate_seconds, "x)"));
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
  commit_decision(*source_.store, job.description, source_.target, record_kind::kContraction,
                  "served_by=kiln", decision_subject(job.tuned_record), job.tuned_record->seconds,
                  options_.kiln_version);
}

// The tuned kernel lost to the kernel serving before it in the running model: kept by the A/B,
// or rolled back after the swap. A fresh process would serve the tuned record (the best in the
// cache) and so lose the same way; the decision makes it serve the default schedule, as this
// process ends up doing. Needs mutex_.
void TuningService::record_default_serves(const Job& job, double seconds) {
  if (!source_.store || !job.tuned_record) return;
  commit_decision(*source_.store, job.description, source_.target, record_kind::kServing,
                  "serves=default", decision_subject(job.tuned_record), seconds,
                  options_.kiln_version);
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
      duty_.model_changed();
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
      state.detail =
          str_cat("calls ran ", ms(after), " after the swap, ", ms(m.before_per_call), " before");
      swaps_.push_back(
          {m.id, now.version, now.version + 1, after, m.before_per_call, elapsed(), true});
      host_.log(true,
                str_cat("kiln: slot ", m.id, ": rolled back the tuned kernel, ", state.detail));
    }
}

}  // namespace kiln
