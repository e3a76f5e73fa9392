// What the tuning cache tests share: a scratch directory, made-up workloads, targets and records.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/support/error.h"
#include "tuning_cache/sqlite_record_store.h"

namespace kiln::cache_test {

/// A fresh directory for one test, removed with everything in it afterwards.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = ::testing::TempDir() + "kiln_cache_XXXXXX";
    root_ = ::mkdtemp(pattern.data());
    EXPECT_FALSE(root_.empty()) << "mkdtemp " << pattern;
  }
  ~ScratchDir() { std::filesystem::remove_all(root_); }
  /// `name` inside the directory.
  std::string path(const std::string& name) const { return root_ + "/" + name; }

 private:
  std::string root_;
};

/// Workload number `n`: a key and a canonical form no other number has.
inline Workload workload(int n) {
  return {{0x1000u + n, 0xabcdu * n},
          "canonical form " + std::to_string(n),
          "out[i] = in[i] + " + std::to_string(n) + "\n",
          "injective",
          1e6 * n};
}

/// A CPU target measured with `threads` threads.
inline TargetFingerprint target(int threads = 1) {
  return {"cpu",        "GenuineTest family 6 model 1",    "znver4",
          "+avx2,+fma", "l1=32768,l2=1048576,l3=33554432", threads,
          "llvm 19.1.7"};
}

/// An ok record of `w` on `t` taking `seconds`; `config` tells records apart.
inline TuningRecord record(const Workload& w, const TargetFingerprint& t, double seconds,
                           const std::string& config = "tile=8") {
  TuningRecord r;
  r.workload = w.key;
  r.target = t;
  r.kiln_version = "0.1.0";
  r.config = config;
  r.trace = "split(i, 8)\nvectorize(i.inner)\n";
  r.seconds = seconds;
  r.spread = 0.02;
  r.features = {1.5f, -0.25f, 3e-8f, 0.0f, 1e30f};
  r.time = 1700000000;
  return r;
}

/// Every byte of the file at `path`.
inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

/// Expects `got` to equal `want` in every field.
inline void expect_same(const TuningRecord& got, const TuningRecord& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.workload, want.workload);
  EXPECT_EQ(got.target, want.target);
  EXPECT_EQ(got.space_version, want.space_version);
  EXPECT_EQ(got.kiln_version, want.kiln_version);
  EXPECT_EQ(got.kind, want.kind);
  EXPECT_EQ(got.config, want.config);
  EXPECT_EQ(got.trace, want.trace);
  EXPECT_EQ(got.seconds, want.seconds);
  EXPECT_EQ(got.spread, want.spread);
  EXPECT_EQ(got.status, want.status);
  EXPECT_EQ(got.error, want.error);
  EXPECT_EQ(got.features, want.features);
  EXPECT_EQ(got.source, want.source);
  EXPECT_EQ(got.time, want.time);
}

/// Every record of `store`, oldest first.
inline std::vector<TuningRecord> all_records(SqliteRecordStore& store) {
  std::vector<TuningRecord> all;
  store.for_each({}, [&](const TuningRecord& r) { all.push_back(r); });
  return all;
}

}  // namespace kiln::cache_test
