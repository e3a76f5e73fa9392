#include "core/runtime/prepared_buffers.h"

#include <cstdlib>
#include <new>

#include "core/runtime/kernel.h"
#include "core/runtime/scratch.h"

namespace kiln {

namespace {

/// Whether prepared buffer `b` of `f` reads only inputs marked in `constant`.
bool keepable(const PreparedBuffer& b, const std::vector<bool>& constant) {
  for (int i : b.inputs)
    if (i >= static_cast<int>(constant.size()) || !constant[i]) return false;
  return true;
}

}  // namespace

void PreparedBuffers::Free::operator()(std::byte* p) const {
  std::free(p);
}

bool PreparedBuffers::ready(const Kernel& kernel, const std::vector<bool>& constant) const {
  if (kernel_ != kernel.id()) return false;  // a launch would take them over
  const std::vector<PreparedBuffer>& prepared = kernel.func().prepared;
  for (size_t b = 0; b < prepared.size(); ++b)
    if (keepable(prepared[b], constant) && !filled_[b]) return false;
  return true;
}

void PreparedBuffers::clear() {
  filled_.assign(filled_.size(), false);
}

int64_t PreparedBuffers::bytes() const {
  int64_t total = 0;
  for (int64_t b : bytes_) total += b;
  return total;
}

void launch_with_prepared(const Kernel& kernel, KernelEntry entry, void* const* args,
                          PreparedBuffers& kept, const std::vector<bool>& constant) {
  const LoweredFunc& f = kernel.func();
  size_t n = f.prepared.size();
  if (kept.kernel_ != kernel.id()) {  // another kernel's buffers: another layout
    kept.kernel_ = kernel.id();
    kept.memory_.clear();
    kept.memory_.resize(n);
    kept.bytes_.assign(n, 0);
    kept.filled_.assign(n, false);
  }
  // The thread's own arrays, kept from call to call (a kernel launches no kernel): a launch
  // allocates nothing but what it keeps.
  thread_local std::vector<int32_t> flags;
  thread_local std::vector<void*> block, scratch, all;
  flags.assign(n, 1);
  block.assign(1, flags.data());
  scratch.clear();  // taken for this call only
  bool fills = false;
  for (size_t b = 0; b < n; ++b) {
    const PreparedBuffer& buffer = f.prepared[b];
    if (!keepable(buffer, constant)) {
      scratch.push_back(kiln_scratch_alloc(static_cast<size_t>(buffer.bytes)));
      block.push_back(scratch.back());
      continue;
    }
    auto& memory = kept.memory_[b];
    if (!memory) {
      size_t bytes = (static_cast<size_t>(buffer.bytes) + 63) / 64 * 64;
      memory.reset(static_cast<std::byte*>(std::aligned_alloc(64, bytes)));
      if (!memory) throw std::bad_alloc();
      kept.bytes_[b] = static_cast<int64_t>(bytes);
    }
    flags[b] = kept.filled_[b] ? 0 : 1;
    fills = fills || flags[b];
    block.push_back(memory.get());
  }
  all.assign(args, args + f.params.size());
  all.push_back(block.data());
  entry(all.data());  // compiled code: it does not throw
  for (auto s = scratch.rbegin(); s != scratch.rend(); ++s) kiln_scratch_free(*s);
  for (size_t b = 0; b < n; ++b)
    if (flags[b] && keepable(f.prepared[b], constant)) kept.filled_[b] = true;
  if (fills) ++kept.fills_;
}

}  // namespace kiln
