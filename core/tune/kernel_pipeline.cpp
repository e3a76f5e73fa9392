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

/// The kernel a record describes, or the reason it cannot serve: it must replay on `outputs`
/// and, when it came from elsewhere, match the default schedule in an isolated measurement that
/// also times it here.
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
      if (m.seconds > kClaimTolerance * record.seconds) {
        *why_not = str_cat("ran ", m.seconds * 1e3, " ms here, ", m.seconds / record.seconds,
                           "x the ", record.seconds * 1e3, " ms that ", record.source, " measured");
        return nullptr;
      }
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
