// A 128-bit hash that is stable across runs, builds and machines, for what Kiln persists: workload
// keys and compiled-object keys. Two FNV-1a passes with independent offset bases, each finished
// with splitmix64's avalanche; not cryptographic, so a persisted key is always stored beside the
// text it hashes and compared on lookup.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

struct Hash128 {
  uint64_t hi = 0, lo = 0;
  /// 32 lowercase hex digits, hi first.
  std::string hex() const;
};

Hash128 hash128(const std::vector<uint64_t>& words);
Hash128 hash128(std::string_view bytes);

}  // namespace kiln
