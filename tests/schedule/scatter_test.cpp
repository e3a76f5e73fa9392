// Scatters (an init, then updates at computed indices, tensor.h): what makes them structurally
// distinct, how they are checked, the schedule primitives that would run an update too early,
// and the loop nest lowering gives their updates.
#include <gtest/gtest.h>

#include <sstream>

#include "core/ir/structural.h"
#include "core/schedule/lower.h"
#include "core/support/error.h"
#include "core/templates/default_schedule.h"
#include "tests/tune/workloads.h"

namespace kiln {
namespace {

using tune_test::scatter_add;

TEST(Scatter, IsStructurallyItsInitAndItsUpdates) {
  EXPECT_TRUE(structural_equal({scatter_add(6, 8, 9, "a")}, {scatter_add(6, 8, 9, "b")}));
  EXPECT_FALSE(structural_equal({scatter_add(6, 8, 9)}, {scatter_add(6, 8, 10)}));
  Tensor self = placeholder("self", {6, 8}, DType::F32);
  Tensor copy = compute("s", {6, 8}, [&](const std::vector<Var>& i) { return self(i[0], i[1]); });
  EXPECT_FALSE(structural_equal({copy}, {scatter_add(6, 8, 9)}));
  std::ostringstream os;
  os << scatter_add(6, 8, 9);
  EXPECT_NE(os.str().find("scatter s: f32[6, 8]"), std::string::npos) << os.str();
  EXPECT_NE(os.str().find("then (s.u0.0:9, s.u0.1:8) s[sindex[s.u0.0, s.u0.1], s.u0.1]"),
            std::string::npos)
      << os.str();
}

TEST(Scatter, ItsStateIsNoKernelInputAndABadUpdateIsRefused) {
  Tensor s = scatter_add(6, 8, 9);
  std::vector<std::string> names;
  for (auto& p : placeholders_of({s})) names.push_back(p->name);
  EXPECT_EQ(names, (std::vector<std::string>{"sself", "sindex", "ssrc"}));
  auto init = [](const std::vector<Var>&) { return Expr(0.0); };
  auto keep = [](const std::vector<Var>&, const Expr& old) { return old; };
  auto at_zero = [](const std::vector<Var>&) { return std::vector<Expr>{Expr(int64_t{0})}; };
  EXPECT_THROW(scatter("none", {3}, init, {}), IRError);
  EXPECT_THROW(scatter("rank", {3, 2}, init, {{{4}, at_zero, keep}}), IRError);
  auto as_int = [](const std::vector<Var>&, const Expr&) { return Expr(int64_t{1}); };
  EXPECT_THROW(scatter("dtype", {3}, init, {{{4}, at_zero, as_int}}), IRError);
  auto float_index = [](const std::vector<Var>&) { return std::vector<Expr>{Expr(1.0)}; };
  EXPECT_THROW(scatter("index", {3}, init, {{{4}, float_index, keep}}), IRError);
}

TEST(Scatter, IsNeitherInlinedNorComputedAtAnotherLoop) {
  Tensor s = scatter_add(6, 8, 9);
  Tensor y = compute("y", {6, 8}, [&](const std::vector<Var>& i) { return s(i[0], i[1]) * 2.0; });
  Schedule sch({y});
  const std::string scatter_stage = sch.stages()[0].name, reader = sch.stages()[1].name;
  EXPECT_THROW(sch.compute_inline(scatter_stage), ScheduleError);
  EXPECT_THROW(sch.compute_at(scatter_stage, reader, "i0"), ScheduleError);
  // What the updates read stays materialized: compute_inline does not rewrite them.
  Tensor src = placeholder("src", {9, 8}, DType::F32);
  Tensor twice =
      compute("twice", {9, 8}, [&](const std::vector<Var>& i) { return src(i[0], i[1]) * 2.0; });
  Tensor self = placeholder("self", {6, 8}, DType::F32);
  Tensor into = scatter(
      "into", {6, 8}, [&](const std::vector<Var>& i) { return self(i[0], i[1]); },
      {{{9, 8},
        [&](const std::vector<Var>& u) {
          return std::vector<Expr>{floormod(u[0], Expr(int64_t{6})), u[1]};
        },
        [&](const std::vector<Var>& u, const Expr& old) { return old + twice(u[0], u[1]); }}});
  Schedule reads({into});
  EXPECT_THROW(reads.compute_inline(reads.stages()[0].name), ScheduleError);
  EXPECT_NO_THROW(lower(default_schedule({into}, tune_test::avx512()), "into"));
}

TEST(Scatter, ItsUpdatesRunAfterItsInitOwnedAxesOutermostAndInParallel) {
  LoweredFunc f =
      lower(default_schedule({scatter_add(512, 1024, 10000)}, tune_test::avx512()), "s");
  std::ostringstream os;
  os << f;
  std::string ir = os.str();
  // The init is a copy (vector loops); the update runs over the 1024 columns, which the target
  // is (owned), in 4 parallel chunks of 256, then over the 10000 source rows in order, then over
  // the chunk's columns as a vector loop, so that each row of the source is read in long runs.
  size_t init = ir.find("vectorized"), update = ir.find("for s.u0.1.o in 0..4 parallel {");
  ASSERT_NE(init, std::string::npos) << ir;
  ASSERT_NE(update, std::string::npos) << ir;
  EXPECT_LT(init, update) << ir;
  size_t rows = ir.find("for s.u0.0 in 0..10000 {", update);
  EXPECT_NE(rows, std::string::npos) << ir;
  EXPECT_NE(ir.find("for s.u0.1.i in 0..256 vectorized {", rows), std::string::npos) << ir;
  EXPECT_NE(ir.find("= (s[sindex[s.u0.0, ((s.u0.1.o * 256) + s.u0.1.i)], "), std::string::npos)
      << "reads its own storage\n"
      << ir;
  EXPECT_EQ(ir.find("s.old"), std::string::npos) << ir;
}

// An index expanded along the columns (stride 0, as `index.unsqueeze(1).expand_as(src)` gives):
// every load of it reads column 0, so the target row is the same for the whole vector of lanes.
TEST(Scatter, AnExpandedIndexIsReadAtColumnZero) {
  Tensor self = placeholder("self", {512, 1024}, DType::F32);
  Tensor index = placeholder("index", {10000, 1024}, DType::I64, {1, 0});
  Tensor src = placeholder("src", {10000, 1024}, DType::F32);
  Tensor s = scatter(
      "s", {512, 1024}, [&](const std::vector<Var>& i) { return self(i[0], i[1]); },
      {{{10000, 1024},
        [&](const std::vector<Var>& u) { return std::vector<Expr>{index(u[0], u[1]), u[1]}; },
        [&](const std::vector<Var>& u, const Expr& old) { return old + src(u[0], u[1]); }}});
  std::ostringstream os;
  os << lower(default_schedule({s}, tune_test::avx512()), "s");
  EXPECT_NE(os.str().find("s[index[s.u0.0, 0], "), std::string::npos) << os.str();
  EXPECT_EQ(os.str().find("index[s.u0.0, (("), std::string::npos) << os.str();
}

}  // namespace
}  // namespace kiln
