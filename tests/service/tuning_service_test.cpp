// The tuning service end to end without PyTorch: slots with slow first kernels are tuned in the
// background, records reach the cache, faster kernels are swapped in while threads call the slots,
// and the service stops promptly.
#include "core/tune/tuning_service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "backends/llvm/llvm_compiler.h"
#include "core/schedule/lower.h"
#include "core/tune/kernel_pipeline.h"
#include "core/tune/serving_decision.h"
#include "core/tune/verify.h"
#include "tests/service/service_fixture.h"
#include "tuning_cache/sqlite_record_store.h"

namespace kiln {
namespace {

using service_test::naive_kernel;
using service_test::ServiceTest;

TEST_F(ServiceTest, TunesASlowSlotAndSwapsAFasterKernelIn) {
  std::vector<Tensor> workload = {tune_test::matmul(64, 64, 64)};
  auto slot = std::make_shared<KernelSlot>("matmul", naive_kernel(*compiler, workload));
  TuningService service(source(*compiler, target), options(16), host);
  service.add_slot(0, slot, workload, "matmul");
  call(*slot, 3);
  service.start();
  ASSERT_TRUE(wait_for(
      [&] {
        return service.slots().at(0).state != "waiting" && service.slots().at(0).state != "tuning";
      },
      120));
  SlotTuning t = service.slots().at(0);
  EXPECT_EQ(t.state, "tuned") << t.detail;
  EXPECT_EQ(t.swaps, 1);
  EXPECT_EQ(slot->stats().version, 1u);
  EXPECT_LT(t.best_seconds, t.first_seconds);
  // The default won its search only if it beat the naive kernel: then it is not marked tuned.
  EXPECT_EQ(slot->current()->tuned(), !t.default_won) << t.detail;
  EXPECT_EQ(t.default_won, t.detail == kDefaultWonDetail) << t.detail;
  // What serves the slot now computes the matmul.
  EXPECT_LE(disagreement_on_fresh_inputs(*slot->current(), *reference(workload), 7), 1.0);
  // Every trial is a record of this target, with its features, under the workload's key.
  Workload w = describe_workload(workload);
  EXPECT_EQ(store->count({w.key, target, "schedule", false}), t.trials);
  // The default schedule, measured before the trials, is one more record: never served.
  EXPECT_EQ(store->count({w.key, target, "baseline", false}), 1);
  ASSERT_TRUE(store->best(w, target).has_value());
  EXPECT_EQ(store->best(w, target)->kind, "schedule");
  ASSERT_EQ(service.swaps().size(), 1u);
  EXPECT_FALSE(service.swaps()[0].rollback);
}

TEST_F(ServiceTest, CallersAlwaysGetCorrectOutputsWhileKernelsAreSwapped) {
  std::vector<Tensor> workload = {tune_test::matmul(48, 32, 40)};
  auto slot = std::make_shared<KernelSlot>("matmul", naive_kernel(*compiler, workload));
  TuningService service(source(*compiler, target), options(12), host);
  service.add_slot(0, slot, workload, "matmul");
  call(*slot, 3);
  service.start();
  std::shared_ptr<const Kernel> expected = reference(workload);
  std::atomic<bool> done{false};
  std::atomic<int> wrong{0}, calls{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 8; ++t)
    callers.emplace_back([&, t] {
      while (!done) {
        // Every call goes through the slot, whichever kernel it holds at the time.
        wrong += !(service_test::slot_disagreement(*slot, *expected, 100 + t) <= 1.0);
        ++calls;
      }
    });
  bool finished = wait_for(
      [&] {
        return service.slots().at(0).state == "tuned" || service.slots().at(0).state == "kept";
      },
      120);
  done = true;
  for (auto& c : callers) c.join();
  ASSERT_TRUE(finished);
  EXPECT_EQ(wrong, 0);
  EXPECT_GT(calls, 8);
}

TEST_F(ServiceTest, StopsWithinASecondWhileTuning) {
  std::vector<Tensor> workload = {tune_test::matmul(96, 96, 96)};
  auto slot = std::make_shared<KernelSlot>("matmul", naive_kernel(*compiler, workload));
  TuningService service(source(*compiler, target), options(1000), host);
  service.add_slot(0, slot, workload, "matmul");
  call(*slot, 3);
  service.start();
  ASSERT_TRUE(wait_for([&] { return service.slots().at(0).trials >= 2; }, 60));
  auto t0 = std::chrono::steady_clock::now();
  service.stop();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 1.0);
  EXPECT_FALSE(service.running());
}

// The process's budget bounds the search in flight too (not only which search starts next); once
// it is spent, slots whose turn did not come are "skipped", not left "waiting" for ever.
TEST_F(ServiceTest, ABudgetEndsTheSearchInFlightAndSkipsTheRest) {
  std::vector<Tensor> hot = {tune_test::matmul(96, 96, 96, "hot")};
  std::vector<Tensor> cold = {tune_test::matmul(32, 48, 40, "cold")};
  auto first = std::make_shared<KernelSlot>("hot", naive_kernel(*compiler, hot));
  auto second = std::make_shared<KernelSlot>("cold", naive_kernel(*compiler, cold));
  TuningServiceOptions o = options(1000);  // trials and the workload's time never end it
  o.budget_seconds = 2;
  TuningService service(source(*compiler, target), o, host);
  service.add_slot(0, first, hot, "hot");
  service.add_slot(1, second, cold, "cold");
  call(*first, 50);  // the hotter slot goes first
  call(*second, 3);
  auto t0 = std::chrono::steady_clock::now();
  service.start();
  auto settled = [&](int64_t id) {
    std::string state = service.slots().at(id).state;
    return state != "waiting" && state != "tuning";
  };
  ASSERT_TRUE(wait_for([&] { return settled(0) && settled(1); }, 60));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // The search ends at the budget; its promotion (verify, A/B) and the next pass follow.
  EXPECT_LT(seconds, 2 + 10);
  SlotTuning searched = service.slots().at(0), skipped = service.slots().at(1);
  EXPECT_GT(searched.trials, 0);
  EXPECT_NE(searched.state, "skipped");
  EXPECT_EQ(skipped.state, "skipped");
  EXPECT_EQ(skipped.trials, 0);
  EXPECT_NE(skipped.detail.find("budget"), std::string::npos) << skipped.detail;
  EXPECT_EQ(second->stats().version, 0u);  // nothing was swapped into it
}

// A held service tunes nothing, however hot its slot; resumed, it tunes.
TEST_F(ServiceTest, AHeldServiceTunesNothingUntilResumed) {
  std::vector<Tensor> workload = {tune_test::matmul(48, 48, 48)};
  auto slot = std::make_shared<KernelSlot>("matmul", naive_kernel(*compiler, workload));
  TuningService service(source(*compiler, target), options(6), host);
  service.pause(true);
  service.add_slot(0, slot, workload, "matmul");
  call(*slot, 3);
  service.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(service.slots().at(0).state, "waiting");
  EXPECT_EQ(service.slots().at(0).trials, 0);
  service.pause(false);
  ASSERT_TRUE(wait_for(
      [&] {
        return service.slots().at(0).state != "waiting" && service.slots().at(0).state != "tuning";
      },
      120));
  EXPECT_GT(service.slots().at(0).trials, 0);
}

// Two slots of one workload share one search. Whether each swaps is its own A/B timing against
// the kernel it serves (under load a small gain can lose to noise), so the test asks that both
// settle, that the workload was searched once, and that a swapped slot serves the tuned kernel.
TEST_F(ServiceTest, StructurallyEqualSlotsAreTunedOnceAndBothSwapped) {
  std::vector<Tensor> a = {tune_test::matmul(64, 64, 64, "a")};
  std::vector<Tensor> b = {tune_test::matmul(64, 64, 64, "b")};
  auto first = std::make_shared<KernelSlot>("matmul a", naive_kernel(*compiler, a));
  auto second = std::make_shared<KernelSlot>("matmul b", naive_kernel(*compiler, b));
  TuningService service(source(*compiler, target), options(8), host);
  service.add_slot(0, first, a, "a");
  service.add_slot(1, second, b, "b");
  call(*first, 3);
  service.start();
  auto settled = [&](int64_t id) {
    std::string state = service.slots().at(id).state;
    return state != "waiting" && state != "tuning";
  };
  ASSERT_TRUE(wait_for([&] { return settled(0) && settled(1); }, 120));
  EXPECT_EQ(store->count({describe_workload(a).key, target, "schedule", false}),
            service.slots().at(0).trials);
  int swapped = 0;
  for (auto [id, slot] : {std::pair{0, first}, std::pair{1, second}}) {
    SlotTuning state = service.slots().at(id);
    ASSERT_TRUE(state.state == "tuned" || state.state == "kept") << state.state << state.detail;
    EXPECT_EQ(slot->stats().version, state.state == "tuned" ? 1u : 0u);
    swapped += state.state == "tuned";
  }
  EXPECT_GT(swapped, 0) << "a naive 64^3 matmul against its tuned kernel: neither swapped";
  if (swapped == 2) {
    EXPECT_EQ(first->current(), second->current());
  }
}

TEST_F(ServiceTest, ASlotAddedAfterItsWorkloadWasTunedServesTheTunedKernelAtOnce) {
  std::vector<Tensor> a = {tune_test::matmul(64, 64, 64, "a")};
  std::vector<Tensor> b = {tune_test::matmul(64, 64, 64, "b")};
  auto first = std::make_shared<KernelSlot>("matmul a", naive_kernel(*compiler, a));
  TuningService service(source(*compiler, target), options(8), host);
  service.add_slot(0, first, a, "a");
  call(*first, 1);
  service.tune_all(0);
  ASSERT_EQ(service.slots().at(0).state, "tuned") << service.slots().at(0).detail;
  auto later = std::make_shared<KernelSlot>("matmul b", naive_kernel(*compiler, b));
  service.add_slot(1, later, b, "b");
  EXPECT_EQ(later->stats().version, 1u);
  EXPECT_EQ(later->current(), first->current());
  EXPECT_EQ(service.slots().at(1).state, "tuned");
}

// A slot whose compiled graph is gone is forgotten: it is never tuned, never counted, and the
// service does not keep its kernel alive.
TEST_F(ServiceTest, AFreedSlotIsForgottenAndNotTuned) {
  std::vector<Tensor> a = {tune_test::matmul(64, 64, 64, "a")};
  auto slot = std::make_shared<KernelSlot>("matmul a", naive_kernel(*compiler, a));
  std::weak_ptr<const Kernel> kernel = slot->current();
  TuningService service(source(*compiler, target), options(8), host);
  service.add_slot(0, slot, a, "a");
  call(*slot, 3);
  ASSERT_EQ(service.slots().count(0), 1u);
  slot.reset();
  EXPECT_TRUE(kernel.expired());
  service.tune_all(0);
  EXPECT_EQ(service.slots().count(0), 0u);
  EXPECT_EQ(store->count({describe_workload(a).key, target, "schedule", false}), 0);
}
// A workload whose template asks no knob has one schedule: the service keeps its kernel, and a
// warm model-guided search over it must not walk an empty list of knobs.
TEST_F(ServiceTest, AWorkloadWithoutKnobsIsKeptAndAWarmSearchOfItRuns) {
  // A global average pool's sum over 16x16 per channel: one reduction, nothing left open.
  Tensor x = placeholder("x", {8, 16, 16}, DType::F32);
  IterVar ry = reduce_axis(16, "ry"), rx = reduce_axis(16, "rx");
  std::vector<Tensor> workload = {compute("sum", {8, 1, 1}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Sum, x(i[0], ry.var, rx.var), {ry, rx});
  })};
  ASSERT_TRUE(ScheduleSpace(workload, compiler->target()).knobs().empty());
  auto slot = std::make_shared<KernelSlot>("sum", naive_kernel(*compiler, workload));
  TuningService service(source(*compiler, target), options(8), host);
  service.add_slot(0, slot, workload, "sum");
  call(*slot, 2);
  service.tune_all(0);
  EXPECT_EQ(service.slots().at(0).state, "kept");
  auto model = make_xgboost_model(1);
  TuneOptions warm;
  warm.trials = 4;
  warm.warm_model = true;
  TuneResult r = Tuner({"sum", workload}, *compiler, options(1).measure, warm, model.get()).run();
  EXPECT_LE(r.trials.size(), 1u);
}

TEST_F(ServiceTest, AFreshPipelineServesTheTunedRecord) {
  std::vector<Tensor> workload = {tune_test::matmul(96, 96, 96)};
  auto slot = std::make_shared<KernelSlot>("matmul", naive_kernel(*compiler, workload));
  std::string objects = (dir / "objects").string();
  {
    KernelObjectCache tuning_objects(objects, "t");
    KernelSource tuning = source(*compiler, target);
    tuning.objects = &tuning_objects;
    TuningService service(tuning, options(12), host);
    service.add_slot(0, slot, workload, "matmul");
    call(*slot, 1);
    service.tune_all(0);
    ASSERT_EQ(service.slots().at(0).state, "tuned") << service.slots().at(0).detail;
  }
  // A fresh process (a fresh object cache) loads the promoted kernel instead of compiling it.
  KernelObjectCache fresh_objects(objects, "t");
  KernelSource fresh = source(*compiler, target);
  fresh.objects = &fresh_objects;
  KernelChoice choice = choose_kernel(workload, "matmul", fresh);
  EXPECT_LE(disagreement_on_fresh_inputs(*choice.kernel, *reference(workload), 3), 1.0);
  // Another target's records are not served.
  TargetFingerprint other = target;
  other.threads += 1;
  KernelChoice elsewhere = choose_kernel(workload, "matmul", source(*compiler, other));
  EXPECT_FALSE(elsewhere.record.has_value());
  LookupMiss miss = store->explain(describe_workload(workload), other);
  ASSERT_FALSE(miss.reasons.empty());
  EXPECT_NE(miss.reasons[0].find("threads"), std::string::npos) << miss.reasons[0];
  // Either way the fresh process compiles nothing: it loads what the running process swapped in.
  EXPECT_EQ(fresh_objects.hits(), 1);
  EXPECT_EQ(fresh_objects.misses(), 0);
  // What served the running process serves the fresh one, marked tuned when a search chose it.
  EXPECT_EQ(choice.kernel->tuned(), slot->current()->tuned());
  EXPECT_EQ(choice.kernel->tuned(), choice.record.has_value());
  if (!choice.record) {
    // On a busy machine the search may find nothing faster than the default schedule: then the
    // running process serves the default's kernel, and so does a fresh process.
    EXPECT_NE(choice.origin.find("did not beat it in a running model"), std::string::npos)
        << choice.origin;
    return;
  }
  EXPECT_EQ(choice.record->id, store->best(describe_workload(workload), target)->id);
  // The swap decided Kiln's kernel over what served before (ATen's op, for a contraction): a
  // record, against the tuned record a fresh process loads, so that it re-times nothing.
  std::vector<std::string> choices;
  store->for_each({describe_workload(workload).key, target, "contraction", true},
                  [&](const TuningRecord& r) { choices.push_back(r.config); });
  EXPECT_EQ(choices,
            std::vector<std::string>{"served_by=kiln against=" + decision_subject(choice.record)});
}

// The tuned kernel loses the in-process A/B (no gain clears a 100% bar): the slot keeps its
// kernel, and the cache says so, so that a fresh process serves the default schedule rather than
// the best record, and does not tune the workload again.
TEST_F(ServiceTest, ATunedKernelThatLostInTheRunningModelIsNotServedByAFreshProcess) {
  std::vector<Tensor> workload = {tune_test::matmul(64, 48, 32)};
  Workload w = describe_workload(workload);
  auto slot = std::make_shared<KernelSlot>("matmul", naive_kernel(*compiler, workload));
  TuningServiceOptions kept_always = options(8);
  kept_always.min_gain = 1.0;
  {
    TuningService service(source(*compiler, target), kept_always, host);
    service.add_slot(0, slot, workload, "matmul");
    call(*slot, 1);
    service.tune_all(0);
    ASSERT_EQ(service.slots().at(0).state, "kept") << service.slots().at(0).detail;
    EXPECT_EQ(slot->stats().version, 0u);
  }
  std::optional<TuningRecord> best = store->best(w, target);
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(find_decision(*store, w, target, "serving", decision_subject(best)), "serves=default");
  KernelChoice fresh = choose_kernel(workload, "matmul", source(*compiler, target));
  EXPECT_FALSE(fresh.record.has_value()) << fresh.origin;
  EXPECT_TRUE(fresh.settled);
  EXPECT_FALSE(fresh.kernel->tuned());
  EXPECT_NE(fresh.origin.find("did not beat it in a running model"), std::string::npos)
      << fresh.origin;
  EXPECT_LE(disagreement_on_fresh_inputs(*fresh.kernel, *reference(workload), 9), 1.0);
  // A better record measured later is not bound by a decision against another one.
  TuningRecord faster = *best;
  faster.seconds = best->seconds / 2;
  faster.trace = lower_trace_of_default(workload);
  store->commit(w, {faster});
  KernelChoice later = choose_kernel(workload, "matmul", source(*compiler, target));
  EXPECT_TRUE(later.record.has_value()) << later.origin;
  EXPECT_TRUE(later.settled);
  EXPECT_TRUE(later.kernel->tuned());
}

TEST_F(ServiceTest, ARecordThatDoesNotReplayIsQuarantinedNotUsed) {
  std::vector<Tensor> workload = {tune_test::matmul(16, 16, 16)};
  Workload w = describe_workload(workload);
  TuningRecord bad;
  bad.workload = w.key;
  bad.target = target;
  bad.trace = "split s0 i7 4\n";  // the matmul has no loop i7
  bad.seconds = 1e-9;             // "faster" than anything: it would be picked first
  int64_t id = store->commit(w, {bad})[0];
  KernelChoice choice = choose_kernel(workload, "matmul", source(*compiler, target));
  EXPECT_FALSE(choice.record.has_value());
  EXPECT_NE(choice.origin.find("quarantined"), std::string::npos) << choice.origin;
  EXPECT_FALSE(choice.settled);  // the service tunes it anew
  bool quarantined = false;
  store->for_each({w.key, std::nullopt, "", false}, [&](const TuningRecord& r) {
    if (r.id == id) quarantined = r.status == "quarantined" && !r.error.empty();
  });
  EXPECT_TRUE(quarantined);
  EXPECT_LE(disagreement_on_fresh_inputs(*choice.kernel, *reference(workload), 5), 1.0);
}

TEST_F(ServiceTest, AnImportedRecordWithAWrongKernelIsQuarantined) {
  // A compiler that miscompiles every kernel but the reference: the imported record's kernel
  // computes garbage, which the isolated verification must catch before it serves.
  std::vector<Tensor> workload = {tune_test::matmul(16, 16, 16)};
  Workload w = describe_workload(workload);
  service_test::WrongCompiler wrong(*compiler);
  int64_t id = store->commit(w, {imported_default(workload, 1e-9, "imported")})[0];
  KernelChoice choice = choose_kernel(workload, "matmul", source(wrong, target));
  EXPECT_FALSE(choice.record.has_value()) << choice.origin;
  EXPECT_NE(choice.origin.find("wrong result"), std::string::npos) << choice.origin;
  EXPECT_EQ(status_of(w.key, id), "quarantined");
}

TEST_F(ServiceTest, AnImportedRecordServesOnlyWhenItRunsHereAsFastAsItClaims) {
  // A correct kernel whose record claims far less time than it takes (a noisy or lying
  // machine measured it) must not serve; the same schedule with an honest time does.
  std::vector<Tensor> workload = {tune_test::matmul(32, 32, 32)};
  Workload w = describe_workload(workload);
  TuningRecord lie = imported_default(workload, 1e-12, "fleet: liar");
  int64_t lie_id = store->commit(w, {lie})[0];
  KernelChoice choice = choose_kernel(workload, "matmul", source(*compiler, target));
  EXPECT_FALSE(choice.record.has_value()) << choice.origin;
  EXPECT_NE(choice.origin.find("that fleet: liar measured"), std::string::npos) << choice.origin;

  TuningRecord honest = lie;
  honest.seconds = 1.0;  // anything the kernel runs within
  honest.source = "fleet: honest";
  int64_t honest_id = store->commit(w, {honest})[0];
  choice = choose_kernel(workload, "matmul", source(*compiler, target));
  ASSERT_TRUE(choice.record.has_value()) << choice.origin;
  EXPECT_EQ(choice.record->id, honest_id);
  EXPECT_EQ(status_of(w.key, lie_id), "quarantined");
  EXPECT_EQ(status_of(w.key, honest_id), "ok");
}

TEST_F(ServiceTest, AnImportedRecordOffItsClaimServesWhileItKeepsItsClaimedSpeedup) {
  // A claimant far faster than this machine (or this machine slowed by its neighbours): every
  // time is far under what runs here, but the record's speed-up over the default schedule, as
  // the claimant measured both, holds here. A record claiming a speed-up it lacks does not serve.
  std::vector<Tensor> workload = {tune_test::matmul(32, 32, 32)};
  Workload w = describe_workload(workload);
  // The default schedule's own trace: as fast as the default schedule.
  TuningRecord record = imported_default(workload, 1e-12, "fleet: fast-machine");
  TuningRecord baseline = record;
  baseline.kind = record_kind::kBaseline;
  baseline.source = "fleet: fast-machine other-machine";
  baseline.seconds = 1e-12;  // claims no speed-up: it keeps that here
  std::vector<int64_t> ids = store->commit(w, {record, baseline});
  KernelChoice choice = choose_kernel(workload, "matmul", source(*compiler, target));
  ASSERT_TRUE(choice.record.has_value()) << choice.origin;
  EXPECT_EQ(choice.record->id, ids[0]);
  EXPECT_EQ(status_of(w.key, ids[0]), "ok");

  std::vector<Tensor> wider = {tune_test::matmul(32, 32, 48)};
  Workload w2 = describe_workload(wider);
  record.workload = baseline.workload = w2.key;
  record.trace = baseline.trace = lower_trace_of_default(wider);
  baseline.seconds = 1e-9;  // claims a 1000x speed-up over the default: a lie here
  ids = store->commit(w2, {record, baseline});
  choice = choose_kernel(wider, "matmul", source(*compiler, target));
  EXPECT_FALSE(choice.record.has_value()) << choice.origin;
  EXPECT_NE(choice.origin.find("x claimed"), std::string::npos) << choice.origin;
  EXPECT_EQ(status_of(w2.key, ids[0]), "quarantined");
}

}  // namespace
}  // namespace kiln
