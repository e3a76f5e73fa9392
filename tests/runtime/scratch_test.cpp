#include "core/runtime/scratch.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <thread>

namespace {

bool aligned(void* p) {
  return reinterpret_cast<uintptr_t>(p) % 64 == 0;
}

TEST(Scratch, AFreedBlockServesTheThreadsNextRequestThatFits) {
  void* a = kiln_scratch_alloc(1 << 20);
  ASSERT_TRUE(aligned(a));
  std::memset(a, 1, 1 << 20);
  kiln_scratch_free(a);
  void* b = kiln_scratch_alloc(1000);  // fits in a: no new memory to fault in
  EXPECT_EQ(b, a);
  void* c = kiln_scratch_alloc(2 << 20);  // does not fit in the block b holds
  EXPECT_NE(c, a);
  ASSERT_TRUE(aligned(c));
  std::memset(c, 2, 2 << 20);
  kiln_scratch_free(b);
  kiln_scratch_free(c);
}

TEST(Scratch, TheSmallestBlockThatFitsIsTaken) {
  void* big = kiln_scratch_alloc(4 << 20);
  void* small = kiln_scratch_alloc(64 << 10);
  kiln_scratch_free(big);
  kiln_scratch_free(small);
  void* again = kiln_scratch_alloc(32 << 10);
  EXPECT_EQ(again, small);
  kiln_scratch_free(again);
}

TEST(Scratch, ThreadsKeepTheirOwnBlocks) {
  void* mine = kiln_scratch_alloc(1 << 16);
  kiln_scratch_free(mine);
  void* theirs = nullptr;
  std::thread([&] {
    theirs = kiln_scratch_alloc(1 << 16);
    std::memset(theirs, 3, 1 << 16);
    kiln_scratch_free(theirs);
  }).join();
  EXPECT_NE(theirs, mine);  // the other thread's block, freed when it ended
  EXPECT_EQ(kiln_scratch_alloc(1 << 16), mine);
  kiln_scratch_free(mine);
}

TEST(Scratch, HugeBlocksAndNullAreHandled) {
  kiln_scratch_free(nullptr);
  void* huge = kiln_scratch_alloc(size_t{65} << 20);  // above what a thread keeps
  ASSERT_NE(huge, nullptr);
  static_cast<char*>(huge)[(size_t{65} << 20) - 1] = 1;
  kiln_scratch_free(huge);
}

}  // namespace
