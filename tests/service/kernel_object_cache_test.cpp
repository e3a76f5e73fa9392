// Compiled kernels on disk: a second process (here: a second cache object) loads what the first
// compiled; another target, or a damaged file, is a miss and compiles again, never a wrong kernel.
#include "core/runtime/kernel_object_cache.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/service/service_fixture.h"

namespace kiln {
namespace {

using service_test::ServiceTest;

class KernelObjectCacheTest : public ServiceTest {
 protected:
  LoweredFunc matmul() const {
    return lower(default_schedule({tune_test::matmul(24, 40, 16)}, compiler->target()), "matmul");
  }
  /// The kernel's outputs agree with a freshly compiled kernel of `f` on random inputs.
  void expect_computes(const Kernel& k, const LoweredFunc& f) const {
    KernelSlot slot("loaded", std::shared_ptr<const Kernel>(compiler->compile(f)));
    std::vector<HostTensor> a = service_test::arguments(f, 3), b = service_test::arguments(f, 3);
    k.launch(service_test::pointers(a).data());
    slot.launch(service_test::pointers(b).data());
    EXPECT_LE(max_relative_error(a.back(), b.back(), 1e-6, 1e-6), 1.0);
  }
  std::filesystem::path objects() const { return dir / "objects"; }
};

TEST_F(KernelObjectCacheTest, ASecondCacheLoadsWhatTheFirstCompiled) {
  LoweredFunc f = matmul();
  KernelObjectCache first(objects().string(), "cpu;+avx;llvm 19");
  first.compile(*compiler, f);
  EXPECT_EQ(first.misses(), 1);
  KernelObjectCache second(objects().string(), "cpu;+avx;llvm 19");
  std::unique_ptr<Kernel> loaded = second.compile(*compiler, f);
  EXPECT_EQ(second.hits(), 1);
  EXPECT_EQ(second.misses(), 0);
  expect_computes(*loaded, f);
}

// A kernel reads exactly the layout it was compiled for: the same computation on an input laid out
// otherwise (a transposed view) is another kernel, never the cached one.
TEST_F(KernelObjectCacheTest, AnInputOfAnotherLayoutIsAnotherKernel) {
  auto copy_of = [&](std::vector<int64_t> strides) {
    Tensor x = placeholder("x", {6, 5}, DType::F32, std::move(strides));
    Tensor y = compute("y", {6, 5}, [&](const std::vector<Var>& i) { return x(i[0], i[1]); });
    return lower(default_schedule({y}, compiler->target()), "copy");
  };
  LoweredFunc row_major = copy_of({5, 1}), column_major = copy_of({1, 6});
  KernelObjectCache cache(objects().string(), "t");
  cache.compile(*compiler, row_major);
  std::unique_ptr<Kernel> loaded = cache.compile(*compiler, column_major);
  EXPECT_EQ(cache.hits(), 0);
  EXPECT_EQ(cache.misses(), 2);
  expect_computes(*loaded, column_major);
}

TEST_F(KernelObjectCacheTest, AnotherTargetNeverLoadsIt) {
  LoweredFunc f = matmul();
  KernelObjectCache(objects().string(), "cpu;+avx;llvm 19").compile(*compiler, f);
  KernelObjectCache other(objects().string(), "cpu;+avx;llvm 20");
  other.compile(*compiler, f);
  EXPECT_EQ(other.hits(), 0);
  EXPECT_EQ(other.misses(), 1);
}

TEST_F(KernelObjectCacheTest, ADamagedFileIsAMissAndIsReplaced) {
  LoweredFunc f = matmul();
  KernelObjectCache(objects().string(), "t").compile(*compiler, f);
  ASSERT_EQ(std::distance(std::filesystem::directory_iterator(objects()), {}), 1);
  for (const auto& entry : std::filesystem::directory_iterator(objects())) {
    std::string bytes;
    {
      std::ifstream in(entry.path(), std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    // Keep the header and key, break the object code: the loader must refuse it.
    for (size_t i = bytes.size() / 2; i < bytes.size(); ++i) bytes[i] = static_cast<char>(0x5a);
    std::ofstream(entry.path(), std::ios::binary | std::ios::trunc) << bytes;
  }
  KernelObjectCache damaged(objects().string(), "t");
  std::unique_ptr<Kernel> k = damaged.compile(*compiler, f);
  expect_computes(*k, f);
  KernelObjectCache repaired(objects().string(), "t");
  repaired.compile(*compiler, f);
  EXPECT_EQ(repaired.hits(), 1);
}

}  // namespace
}  // namespace kiln
