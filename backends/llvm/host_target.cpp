#include "backends/llvm/host_target.h"

#include <unistd.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

namespace kiln {

namespace {

// sysconf answers 0 or -1 where the C library does not know (e.g. in some containers).
int cache_size_or(int name, int fallback) {
  long v = sysconf(name);
  return v > 0 ? static_cast<int>(v) : fallback;
}

}  // namespace

Target host_target() {
  Target t;
  t.kind = TargetKind::CPU;
  t.cpu = llvm::sys::getHostCPUName().str();
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  // Sorted, so that the string is a stable part of the target fingerprint.
  std::vector<std::string> names;
  for (const auto& f : features) {
    std::string name(1, f.second ? '+' : '-');
    name.append(f.first().data(), f.first().size());
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    if (!t.features.empty()) t.features += ',';
    t.features += n;
  }
  auto has = [&](const char* name) {
    auto it = features.find(name);
    return it != features.end() && it->second;
  };
  t.vector_bits = has("avx512f") ? 512 : has("avx") ? 256 : 128;
  t.num_threads = std::max(1u, std::thread::hardware_concurrency());
  t.cache_line_bytes = cache_size_or(_SC_LEVEL1_DCACHE_LINESIZE, t.cache_line_bytes);
  t.l1_bytes = cache_size_or(_SC_LEVEL1_DCACHE_SIZE, t.l1_bytes);
  t.l2_bytes = cache_size_or(_SC_LEVEL2_CACHE_SIZE, t.l2_bytes);
  return t;
}

}  // namespace kiln
