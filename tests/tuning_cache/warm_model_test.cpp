// Transfer learning learns from the cache's records of targets with this one's vector ISA only.
#include "core/tune/warm_model.h"

#include <gtest/gtest.h>

#include "core/tune/features.h"
#include "tests/tuning_cache/cache_fixture.h"
#include "tuning_cache/sqlite_record_store.h"

namespace kiln {
namespace {

using namespace cache_test;

TargetFingerprint with_features(std::string features) {
  TargetFingerprint t = target(2);
  t.features = std::move(features);
  return t;
}

TEST(TargetFingerprint, VectorIsaIsTheWidestVectorExtension) {
  EXPECT_EQ(with_features("+avx,+avx2,+avx512f,+fma").vector_isa(), "cpu avx512f");
  EXPECT_EQ(with_features("+avx,+avx2,+fma,-avx512f,-avx512bw").vector_isa(), "cpu avx2");
  EXPECT_EQ(with_features("+sse2,+sse4.2").vector_isa(), "cpu sse2");
  TargetFingerprint gpu = target();
  gpu.kind = "cuda";
  gpu.cpu = "sm_90";
  EXPECT_EQ(gpu.vector_isa(), "cuda sm_90");
}

// An AVX-512 machine's records (as in the starter cache) do not teach a model for an AVX2 one,
// nor give it configs to start from; another AVX2 machine's do.
TEST(WarmModel, LearnsOnlyFromRecordsOfItsVectorIsa) {
  if (!has_xgboost()) GTEST_SKIP() << "built without XGBoost";
  ScratchDir dir;
  auto store = SqliteRecordStore::open(dir.path("tuning.db"));
  TargetFingerprint avx512 = with_features("+avx2,+avx512f,+fma");
  avx512.cpu_model = "an AVX-512 machine";
  for (int n = 1; n <= 3; ++n) {
    std::vector<TuningRecord> records;
    for (int i = 0; i < 20; ++i) {
      TuningRecord r =
          record(workload(n), avx512, 1e-3 * (i + 1), "s1.tile_i=" + std::to_string(i));
      r.features.assign(FeatureExtractor::length(), 0.1f * i);
      records.push_back(std::move(r));
    }
    store->commit(workload(n), records);
  }
  TargetFingerprint avx2 = with_features("+avx2,+fma,-avx512f");
  WarmModel here = warm_cost_model(*store, avx2);
  EXPECT_EQ(here.samples, 0u);
  EXPECT_TRUE(here.exemplars.empty());

  TargetFingerprint other_avx512 = with_features("+avx2,+avx512bw,+avx512f");
  WarmModel there = warm_cost_model(*store, other_avx512);
  EXPECT_EQ(there.samples, 60u);
  EXPECT_EQ(there.tasks, 3u);
  ASSERT_EQ(there.exemplars.size(), 3u);
  EXPECT_EQ(there.exemplars[0].to_text(), "s1.tile_i=0");  // each task's fastest
}

// A search's baseline (the default schedule it measured first) teaches where defaults stand;
// a serving decision is no schedule and teaches nothing.
TEST(WarmModel, LearnsFromSchedulesAndBaselinesOnly) {
  if (!has_xgboost()) GTEST_SKIP() << "built without XGBoost";
  ScratchDir dir;
  auto store = SqliteRecordStore::open(dir.path("tuning.db"));
  TargetFingerprint here = target(2);
  std::vector<TuningRecord> records;
  for (int i = 0; i < 40; ++i) records.push_back(record(workload(1), here, 1e-3 * (i + 1)));
  records[0].kind = "baseline";
  records[1].kind = "contraction";
  for (TuningRecord& r : records) r.features.assign(FeatureExtractor::length(), 0.5f);
  store->commit(workload(1), records);
  WarmModel warm = warm_cost_model(*store, here);
  EXPECT_EQ(warm.samples, 39u);
  EXPECT_EQ(warm.tasks, 1u);
}

}  // namespace
}  // namespace kiln
