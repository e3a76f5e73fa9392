#include "backends/llvm/host_target.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

namespace kiln {

namespace {

// The size of the level-`level` data or unified cache, from sysfs (what the kernel reports for
// this machine), else sysconf, else `fallback`. sysconf can report a whole host's cache inside a
// virtual machine, so it comes second.
int64_t cache_bytes(int level, int sysconf_name, int64_t fallback) {
  for (int index = 0; index < 8; ++index) {
    std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
    std::ifstream level_file(dir + "level"), type_file(dir + "type"), size_file(dir + "size");
    int l = 0;
    std::string type, size;
    if (!(level_file >> l) || !(type_file >> type) || !(size_file >> size)) break;
    if (l != level || type == "Instruction" || size.empty()) continue;
    int64_t scale = size.back() == 'K' ? 1024 : size.back() == 'M' ? 1024 * 1024 : 1;
    return std::stoll(size) * scale;
  }
  long v = sysconf(sysconf_name);
  return v > 0 ? v : fallback;
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
  long line = sysconf(_SC_LEVEL1_DCACHE_LINESIZE);
  if (line > 0) t.cache_line_bytes = static_cast<int>(line);
  t.l1_bytes = static_cast<int>(cache_bytes(1, _SC_LEVEL1_DCACHE_SIZE, t.l1_bytes));
  t.l2_bytes = static_cast<int>(cache_bytes(2, _SC_LEVEL2_CACHE_SIZE, t.l2_bytes));
  t.l3_bytes = cache_bytes(3, _SC_LEVEL3_CACHE_SIZE, t.l3_bytes);
  return t;
}

}  // namespace kiln
