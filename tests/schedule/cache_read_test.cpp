// Schedule::cache_read: copies of an operand in another layout, in panels, with the reduce axis
// in groups, widened to f32; each lowered, recorded in the trace and replayed.
#include <gtest/gtest.h>

#include <sstream>

#include "core/ir/structural.h"
#include "core/schedule/lower.h"
#include "core/support/error.h"
#include "tests/tune/workloads.h"

namespace kiln {
namespace {

using tune_test::linear;

TEST(Schedule, CacheReadCopiesInTheLayoutAsked) {
  Schedule s({linear(8, 12, 4)});
  std::string copy = s.cache_read("s0", 1, {1, 0});
  EXPECT_EQ(s.stage(copy).tensor->shape, (std::vector<int64_t>{4, 12}));  // w [12, 4] transposed
  std::ostringstream os;
  os << lower(s, "f");
  EXPECT_NE(os.str().find("w.cache[y.r0, y.i1]"), std::string::npos) << os.str();
  EXPECT_NE(s.trace().to_text().find("cache_read s0 1 1 0"), std::string::npos);
  Schedule again = replay({linear(8, 12, 4)}, Trace::from_text(s.trace().to_text()));
  EXPECT_TRUE(structural_equal(lower(s, "f").body, lower(again, "f").body));
  try {
    Schedule(std::vector<Tensor>{linear(8, 12, 4)}).cache_read("s0", 1, {0, 0});
    FAIL();
  } catch (const ScheduleError& e) {
    EXPECT_NE(std::string(e.what()).find("layout [0 0] of w is not a permutation"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(Schedule(std::vector<Tensor>{linear(8, 12, 4)}).cache_read("s0", 1, {0}),
               ScheduleError);
}

TEST(Schedule, CacheReadCopiesInPanels) {
  // w [12, 4] transposed into panels of 8 columns: [2, 4, 8], the second panel half past w.
  Schedule s({linear(8, 12, 4)});
  std::string copy = s.cache_read("s0", 1, {1, 0}, 8);
  EXPECT_EQ(s.stage(copy).tensor->shape, (std::vector<int64_t>{2, 4, 8}));
  std::ostringstream os;
  os << lower(s, "f");
  EXPECT_NE(os.str().find("w.cache[floordiv(y.i1, 8), y.r0, floormod(y.i1, 8)]"), std::string::npos)
      << os.str();
  EXPECT_NE(os.str().find("select"), std::string::npos) << os.str();  // zeros past column 12
  EXPECT_NE(s.trace().to_text().find("cache_read s0 1 1 0 8"), std::string::npos);
  Schedule again = replay({linear(8, 12, 4)}, Trace::from_text(s.trace().to_text()));
  EXPECT_TRUE(structural_equal(lower(s, "f").body, lower(again, "f").body));
  // Split by the panel width, the tile's index is the panel's own again.
  Schedule tiled({linear(8, 16, 4)});
  tiled.cache_read("s0", 1, {1, 0}, 8);
  tiled.split("s0", "i1", 8);
  std::ostringstream tiled_text;
  tiled_text << lower(tiled, "f");
  EXPECT_NE(tiled_text.str().find("w.cache[y.i1.o, y.r0, y.i1.i]"), std::string::npos)
      << tiled_text.str();
  EXPECT_EQ(tiled_text.str().find("select"), std::string::npos) << tiled_text.str();
  EXPECT_THROW(Schedule(std::vector<Tensor>{linear(8, 12, 4)}).cache_read("s0", 1, {1, 0}, -8),
               ScheduleError);
}

TEST(Schedule, CacheReadKeepsGroupsAdjacentInPanels) {
  // w [12, 4] transposed ([4, 12]: K = 4 rows of 12 columns) into panels of 8 columns with the
  // reduce axis in groups of 4: [2, 1, 8, 4], each column's four k adjacent.
  Schedule s({linear(8, 12, 4)});
  std::string copy = s.cache_read("s0", 1, {1, 0}, 8, std::nullopt, 4);
  EXPECT_EQ(s.stage(copy).tensor->shape, (std::vector<int64_t>{2, 1, 8, 4}));
  std::ostringstream os;
  os << lower(s, "f");
  // k = y.r0 < 4: group 0, element y.r0.
  EXPECT_NE(os.str().find("w.cache[floordiv(y.i1, 8), 0, floormod(y.i1, 8), y.r0]"),
            std::string::npos)
      << os.str();
  EXPECT_NE(s.trace().to_text().find("cache_read s0 1 1 0 8 4"), std::string::npos);
  Schedule again = replay({linear(8, 12, 4)}, Trace::from_text(s.trace().to_text()));
  EXPECT_TRUE(structural_equal(lower(s, "f").body, lower(again, "f").body));
  // Groups need panels, and a reduce axis they divide.
  EXPECT_THROW(Schedule(std::vector<Tensor>{linear(8, 12, 4)})
                   .cache_read("s0", 1, {1, 0}, 0, std::nullopt, 4),
               ScheduleError);
  EXPECT_THROW(Schedule(std::vector<Tensor>{linear(8, 12, 4)})
                   .cache_read("s0", 1, {1, 0}, 8, std::nullopt, 3),
               ScheduleError);
}

TEST(Schedule, CacheReadWidensSixteenBitFloats) {
  // A bf16 matmul (product in f32, cast back): B copied as f32 in panels; the product reads the
  // copy's elements directly, without converting them again.
  auto bf16_matmul = [] { return tune_test::matmul_bf16(8, 12, 4); };
  Schedule s({bf16_matmul()});
  std::string copy = s.cache_read("s0", 1, {0, 1}, 8, DType::F32);
  EXPECT_EQ(s.stage(copy).tensor->dtype, DType::F32);
  std::ostringstream os;
  os << lower(s, "f");
  EXPECT_NE(os.str().find("(f32(A[C.i0, C.r0]) * B.cache[floordiv(C.i1, 8), C.r0, "
                          "floormod(C.i1, 8)])"),
            std::string::npos)
      << os.str();
  std::string text = s.trace().to_text();
  EXPECT_NE(text.find("cache_read s0 f32 1 0 1 8\n"), std::string::npos) << text;
  Trace parsed = Trace::from_text(text);
  EXPECT_EQ(parsed, s.trace());
  Schedule again = replay({bf16_matmul()}, parsed);
  EXPECT_TRUE(structural_equal(lower(s, "f").body, lower(again, "f").body));
  // Narrowing, or converting anything but a float, would change the values.
  try {
    Schedule({bf16_matmul()}).cache_read("s0", 0, {}, 0, DType::F16);
    FAIL();
  } catch (const ScheduleError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot convert to f16"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kiln
