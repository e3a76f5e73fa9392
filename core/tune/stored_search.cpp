#include "core/tune/stored_search.h"

#include "core/tune/trial_records.h"
#include "core/tune/warm_model.h"

namespace kiln {

TuneResult stored_search(const TuningTask& task, const Workload& workload, TuneOptions tune,
                         const StoredSearchContext& context,
                         const std::function<void(const TuneProgress&)>& progress) {
  tune.seed = workload.key.lo;
  std::unique_ptr<CostModel> model;
  if (!has_xgboost()) {
    tune.strategy = SearchStrategy::Random;
  } else if (context.store) {
    WarmModel warm = warm_cost_model(*context.store, context.target);
    model = std::move(warm.model);
    tune.warm_model = warm.samples > 0;
    tune.transferred = std::move(warm.exemplars);
    if (tune.warm_model && context.warmed) context.warmed(warm.samples, warm.tasks);
  } else {
    model = make_xgboost_model(1);
  }
  Tuner tuner(task, *context.compiler, context.measure, tune, model.get());
  size_t committed = 0;
  auto commit = [&](const TuneResult& so_far) {
    if (!context.store || committed == so_far.trials.size()) return;
    context.store->commit(workload, records_of_trials(so_far, workload, context.target,
                                                      context.kiln_version, committed));
    committed = so_far.trials.size();
  };
  TuneResult result = tuner.run([&](const TuneProgress& p) {
    if (p.so_far->trials.size() - committed >= static_cast<size_t>(tune.batch)) commit(*p.so_far);
    if (progress) progress(p);
  });
  commit(result);
  return result;
}

}  // namespace kiln
