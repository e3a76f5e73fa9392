#include "core/tune/kernel_pipeline.h"

#include "core/schedule/lower.h"
#include "core/support/error.h"
#include "core/templates/default_schedule.h"
#include "core/tune/serving_decision.h"

namespace kiln {

namespace {

/// How much slower than its record claims a record from elsewhere may run here and still serve:
/// the same target measures within noise of this; a record far off is from a noisy or lying
/// machine, and serving it would make the slower kernel win here too.
constexpr double kClaimTolerance = 2.0;

/// Whether two records were measured by the same claimant: the same source, or both the fleet's
/// (whose records carry the medians of the machines that measured each, so their machine lists
/// differ from record to record).
bool same_claimant(const std::string& a, const std::string& b) {
  return a == b || (a.starts_with("fleet:") && b.starts_with("fleet:"));
}

/// The default schedule's time as `record`'s claimant measured it: the baseline record of the
/// same workload, target and claimant; 0 when there is none.
double claimed_baseline_seconds(RecordStore& store, const TuningRecord& record) {
  double seconds = 0;
  store.for_each({record.workload, record.target, record_kind::kBaseline, false},
                 [&](const TuningRecord& b) {
                   if (measured_well(b) && same_claimant(b.source, record.source))
                     seconds = b.seconds;
                 });
  return seconds;
}

/// Why `record`'s kernel, which ran `seconds` here, may not serve, or "" when it runs as fast as
/// it claims. A time far over the claim is judged against the default schedule measured here
/// and now: a machine slower than the claimant's (or slowed for the moment by its neighbours)
/// runs both slower, so the record must keep the speed-up over the default that its claimant
/// measured (within kClaimTolerance). Without the claimant's baseline the time alone judges.
std::string claim_not_kept(double seconds, const TuningRecord& record, const Measurer& measurer,
                           const std::vector<Tensor>& outputs, const KernelSource& source) {
  if (seconds <= kClaimTolerance * record.seconds) return "";
  std::string far_off =
      str_cat("ran ", seconds * 1e3, " ms here, ", seconds / record.seconds, "x the ",
              record.seconds * 1e3, " ms that ", record.source, " measured");
  const double baseline = claimed_baseline_seconds(*source.store, record);
  if (baseline <= 0) return far_off;
  MeasureResult d = measurer.measure(default_schedule(outputs, source.compiler->target()));
  if (!d.ok()) return str_cat(far_off, "; the default schedule failed here too");
  const double claimed_speedup = baseline / record.seconds, speedup = d.seconds / seconds;
  if (speedup * kClaimTolerance >= claimed_speedup) return "";
  return str_cat(far_off, "; it is ", speedup, "x as fast as the default schedule here, not the ",
                 claimed_speedup, "x claimed");
}

/// The kernel a record describes, or the reason it cannot serve: it must replay on `outputs`
/// and, when it came from elsewhere, match the default schedule in an isolated measurement that
/// also times it here (and keep its claim: claim_not_kept).
std::unique_ptr<Kernel> kernel_of_record(const std::vector<Tensor>& outputs,
                                         const std::string& name, const TuningRecord& record,
                                         const KernelSource& source, std::string* why_not) {
  try {
    LoweredFunc f = lower(replay(outputs, Trace::from_text(record.trace)), name + "_tuned");
    if (record.status == "unverified") {
      // Measured with the threads the record was (the target's), so its time compares.
      MeasureOptions options = source.verify;
      options.threads = record.target.threads;
      TuningTask task{name, outputs};
      Measurer measurer(task, *source.compiler, options);
      MeasureResult m = measurer.measure(f);
      if (m.ok() && m.seconds > kClaimTolerance * record.seconds) {
        // Once more before it is judged: a busy moment of this machine is no verdict.
        MeasureResult again = measurer.measure(f);
        if (again.ok() && again.seconds < m.seconds) m = again;
      }
      if (!m.ok()) {
        *why_not =
            str_cat("failed verification (", measure_status_name(m.status), ": ", m.error, ")");
        return nullptr;
      }
      *why_not = claim_not_kept(m.seconds, record, measurer, outputs, source);
      if (!why_not->empty()) return nullptr;
      source.store->set_status(record.id, "ok", "");
    }
    std::unique_ptr<Kernel> kernel = source.compile(f);
    kernel->mark_tuned();
    return kernel;
  } catch (const Error& e) {
    *why_not = str_cat("does not replay: ", e.what());
  } catch (const InternalError& e) {
    *why_not = str_cat("hit a Kiln bug: ", e.what());
  }
  return nullptr;
}

}  // namespace

KernelChoice choose_kernel(const std::vector<Tensor>& outputs, const std::string& name,
                           const KernelSource& source) {
  KernelChoice choice;
  if (source.store) {
    Workload workload = describe_workload(outputs);
    // Each failed record is quarantined, so the loop ends: records are finite.
    while (std::optional<TuningRecord> record = source.store->best(workload, source.target)) {
      if (find_decision(*source.store, workload, source.target, record_kind::kServing,
                        decision_subject(record)) == "serves=default") {
        choice.origin += str_cat("; record ", record->id, " did not beat it in a running model");
        choice.settled = true;
        break;
      }
      std::string why_not;
      choice.kernel = kernel_of_record(outputs, name, *record, source, &why_not);
      if (choice.kernel) {
        choice.origin = str_cat("tuned (record ", record->id, ")");
        choice.record = std::move(record);
        choice.settled = true;
        return choice;
      }
      source.store->set_status(record->id, "quarantined", why_not);
      choice.origin = str_cat("; record ", record->id, " quarantined: it ", why_not);
    }
  }
  choice.kernel = source.compile(lower(default_schedule(outputs, source.compiler->target()), name));
  choice.origin = "default schedule" + choice.origin;
  return choice;
}

}  // namespace kiln
