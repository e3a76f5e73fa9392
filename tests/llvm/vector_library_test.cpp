// Which vector math library serves a function, by the width of the machine's vectors.
#include "backends/llvm/vector_library.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace kiln::llvm_backend {
namespace {

bool has(const VectorLibrary& lib, const std::string& soname) {
  return std::count(lib.sonames().begin(), lib.sonames().end(), soname) > 0;
}

TEST(VectorLibrary, SinIsSleefsWithAvx512AndLibmvecsWithAvx2) {
  auto wide = VectorLibrary::load(512), narrow = VectorLibrary::load(256);
  if (!wide || !has(*wide, "libmvec.so.1") || !has(*wide, "libsleef.so.3"))
    GTEST_SKIP() << "libmvec.so.1 or libsleef.so.3 is missing here";
  EXPECT_EQ(wide->scalar_symbol("sinf"), "Sleef_sinf_u35");
  EXPECT_EQ(wide->scalar_symbol("cos"), "Sleef_cos_u35");
  EXPECT_EQ(wide->scalar_symbol("exp2f"), "Sleef_exp2f_u10");
  const VectorVariant* sin16 = wide->widest_for("Sleef_sinf_u35", 32);
  ASSERT_NE(sin16, nullptr);
  EXPECT_EQ(sin16->vector_name, "Sleef_sinf16_u35");
  // AVX2: glibc's, the faster there; lgamma is SLEEF's at every width (eager's own).
  EXPECT_EQ(narrow->scalar_symbol("sinf"), "sinf");
  const VectorVariant* sin8 = narrow->widest_for("sinf", 16);
  ASSERT_NE(sin8, nullptr);
  EXPECT_EQ(sin8->vector_name, "_ZGVdN8v_sinf");
  EXPECT_EQ(narrow->scalar_symbol("lgammaf"), "Sleef_lgammaf_u10");
  EXPECT_EQ(narrow->scalar_symbol("expm1f"), "expm1f");
}

}  // namespace
}  // namespace kiln::llvm_backend
