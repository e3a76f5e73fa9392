#include "core/ir/hash128.h"

#include <cstdio>

namespace kiln {

namespace {

constexpr uint64_t kBasisHi = 0xcbf29ce484222325ull, kBasisLo = 0x84222325cbf29ce4ull;

uint64_t step(uint64_t h, uint64_t word) {
  return (h ^ word) * 0x100000001b3ull;
}

uint64_t finish(uint64_t h) {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

}  // namespace

std::string Hash128::hex() const {
  char text[33];
  std::snprintf(text, sizeof text, "%016llx%016llx", static_cast<unsigned long long>(hi),
                static_cast<unsigned long long>(lo));
  return text;
}

Hash128 hash128(const std::vector<uint64_t>& words) {
  uint64_t hi = kBasisHi, lo = kBasisLo;
  for (uint64_t w : words) hi = step(hi, w), lo = step(lo, w);
  return {finish(hi), finish(lo)};
}

Hash128 hash128(std::string_view bytes) {
  uint64_t hi = kBasisHi, lo = kBasisLo;
  for (unsigned char c : bytes) hi = step(hi, c), lo = step(lo, c);
  return {finish(hi), finish(lo)};
}

}  // namespace kiln
