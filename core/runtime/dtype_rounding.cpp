// How a double becomes the value an element of each dtype holds.
#include <cmath>
#include <limits>

#include "core/runtime/element_access.h"
#include "core/runtime/host_tensor.h"

namespace kiln {

namespace {

/// Rounds to a binary format with `mantissa_bits` stored fraction bits, smallest normal exponent
/// `min_exponent` (below it the step stays fixed: subnormals) and largest finite `max_finite`.
/// Scaling by a power of two is exact, so nearbyint performs the one and only rounding.
double round_to_format(double v, int mantissa_bits, int min_exponent, double max_finite) {
  if (!std::isfinite(v) || v == 0) return v;
  int exponent = std::max(std::ilogb(v), min_exponent);
  double step = std::ldexp(1.0, exponent - mantissa_bits);
  double r = std::nearbyint(v / step) * step;
  if (std::fabs(r) > max_finite) return std::copysign(std::numeric_limits<double>::infinity(), v);
  return r;
}

}  // namespace

double round_float(double v, DType t) {
  switch (t) {
    case DType::F16: return round_to_format(v, 10, -14, 65504.0);
    case DType::BF16: return round_to_format(v, 7, -126, 0x1.fep127);
    case DType::F32: return round_to_format(v, 23, -126, std::numeric_limits<float>::max());
    default: return v;
  }
}

int64_t wrap_to_int64(double v) {
  if (!std::isfinite(v)) return 0;
  // fmod is exact, and at magnitudes of 2^63 and above doubles are multiples of 2^11, so every
  // step below is exact and the wrap loses nothing.
  double m = std::fmod(std::trunc(v), 0x1p64);
  if (std::fabs(m) < 0x1p63) return static_cast<int64_t>(m);
  if (m < 0) m += 0x1p64;
  return static_cast<int64_t>(static_cast<uint64_t>(m));
}

double round_to_dtype(double v, DType dtype) {
  if (is_float(dtype)) return round_float(v, dtype);
  return static_cast<double>(wrap_int(wrap_to_int64(v), dtype));
}

}  // namespace kiln
