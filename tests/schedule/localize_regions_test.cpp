#include <gtest/gtest.h>

#include "core/schedule/lowering_passes.h"
#include "core/support/error.h"

namespace kiln {
namespace {

// T[i, j] is realized for rows [r, r + 2) in a buffer whose dimensions are (j, i): inside the
// buffer's allocation a load of T reads the buffer at (j, i - r); outside it T stays T.
TEST(LocalizeRegionBuffers, RewritesLoadsInsideTheAllocationOnly) {
  Tensor t = placeholder("T", {8, 4}, DType::F32);
  Tensor out = placeholder("out", {8, 4}, DType::F32);
  Tensor buffer = placeholder("T.local", {4, 2}, DType::F32);
  Var r("r"), i("i"), j("j");
  Stmt inside = StoreNode::make(out, {r + i, j}, t(r + i, j) * 2.0f);
  Stmt outside = StoreNode::make(out, {i, j}, t(i, j));
  LoweredFunc f;
  f.name = "f";
  f.body = SeqNode::make({AllocateNode::make(buffer, MemoryScope::Local, inside), outside});
  f.regions = {{buffer, t, {r, Expr(int64_t{0})}, {1, 0}}};

  LoweredFunc g = localize_region_buffers(f);
  EXPECT_TRUE(g.regions.empty());
  std::string body = str_cat(g.body);
  EXPECT_NE(body.find("T.local[j, i]"), std::string::npos) << body;
  EXPECT_NE(body.find("out[i, j] = T[i, j]"), std::string::npos) << body;
  EXPECT_EQ(body.find("T[(r + i), j]"), std::string::npos) << body;
}

TEST(LocalizeRegionBuffers, LeavesAFunctionWithoutRegionsAlone) {
  Tensor t = placeholder("T", {4}, DType::F32), out = placeholder("out", {4}, DType::F32);
  Var i("i");
  LoweredFunc f;
  f.body = StoreNode::make(out, {i}, t(i));
  EXPECT_TRUE(localize_region_buffers(f).body.same_as(f.body));
}

}  // namespace
}  // namespace kiln
