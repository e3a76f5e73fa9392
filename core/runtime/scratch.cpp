#include "core/runtime/scratch.h"

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

constexpr size_t kAlignment = 64;
/// The header before each block: its capacity, padded to the alignment.
constexpr size_t kHeader = kAlignment;
/// Blocks larger than this go back to malloc at once; a thread keeps at most kKeptBlocks.
constexpr size_t kScratchKeepBytes = size_t{64} << 20;
constexpr size_t kKeptBlocks = 8;

size_t& capacity_of(void* block) {
  return *reinterpret_cast<size_t*>(static_cast<char*>(block) - kHeader);
}

/// The blocks this thread freed, returned to malloc when the thread ends.
struct KeptBlocks {
  std::vector<void*> blocks;
  ~KeptBlocks() {
    for (void* b : blocks) std::free(static_cast<char*>(b) - kHeader);
  }
};

thread_local KeptBlocks t_kept;

}  // namespace

__attribute__((visibility("default"))) void* kiln_scratch_alloc(size_t bytes) {
  // The smallest kept block that fits.
  std::vector<void*>& kept = t_kept.blocks;
  size_t best = kept.size();
  for (size_t i = 0; i < kept.size(); ++i)
    if (capacity_of(kept[i]) >= bytes &&
        (best == kept.size() || capacity_of(kept[i]) < capacity_of(kept[best])))
      best = i;
  if (best < kept.size()) {
    void* block = kept[best];
    kept.erase(kept.begin() + static_cast<std::ptrdiff_t>(best));
    return block;
  }
  size_t capacity = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* raw = std::aligned_alloc(kAlignment, kHeader + capacity);
  if (!raw) {
    std::fprintf(stderr, "kiln: out of memory for a kernel's scratch buffer of %zu bytes\n", bytes);
    std::abort();
  }
  void* block = static_cast<char*>(raw) + kHeader;
  capacity_of(block) = capacity;
  return block;
}

__attribute__((visibility("default"))) void kiln_scratch_free(void* block) {
  if (!block) return;
  std::vector<void*>& kept = t_kept.blocks;
  if (capacity_of(block) > kScratchKeepBytes) {
    std::free(static_cast<char*>(block) - kHeader);
    return;
  }
  kept.push_back(block);
  if (kept.size() > kKeptBlocks) {
    // The smallest goes: the large ones are the costly ones to fault in again.
    size_t smallest = 0;
    for (size_t i = 1; i < kept.size(); ++i)
      if (capacity_of(kept[i]) < capacity_of(kept[smallest])) smallest = i;
    std::free(static_cast<char*>(kept[smallest]) - kHeader);
    kept.erase(kept.begin() + static_cast<std::ptrdiff_t>(smallest));
  }
}
