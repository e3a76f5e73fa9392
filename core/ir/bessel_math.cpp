// The modified Bessel functions of the first kind of orders 0 and 1, plain and exponentially
// scaled, by Chebyshev series on [0, 8] and on [8, inf) in 1/x. Derived from the Cephes Math
// Library's i0, i0e, i1 and i1e (Copyright (c) 2018, Steven Moshier, 3-clause BSD) by way of the
// coefficients and float/double choices of PyTorch's CPU kernels: a float kernel rounds the
// coefficients to float and computes in float, and i1 and i1e keep fewer terms in float.
#include <cmath>

#include "core/ir/bessel_coefficients.h"
#include "core/ir/special_math.h"

namespace {

using kiln::bessel::kI0eFar;
using kiln::bessel::kI0eNear;
using kiln::bessel::kI1eFar;
using kiln::bessel::kI1eFarFloatTerms;
using kiln::bessel::kI1eNear;
using kiln::bessel::kI1eNearFloatTerms;

/// The sum of c[i] T_i(x / 2) over the Chebyshev polynomials T_i, the zero-order term last, the
/// last term halved (Clenshaw's recurrence, as Cephes's chbevl).
template <typename T, size_t N>
T chebyshev(T x, const T (&c)[N]) {
  T b0 = c[0], b1 = 0, b2 = 0;
  for (size_t i = 1; i < N; ++i) {
    b2 = b1;
    b1 = b0;
    b0 = x * b1 - b2 + c[i];
  }
  return T(0.5) * (b0 - b2);
}

/// The float-rounded last N terms of a double table.
template <typename T, size_t N>
struct Terms {
  T c[N];
};

/// The series of `all` at y in T; a float keeps only its last `float_terms` (as PyTorch's float
/// kernels do), rounded to float.
template <size_t float_terms, const auto& all, typename T>
T double_or_float_series(T y) {
  if constexpr (sizeof(T) == sizeof(float)) {
    static constexpr Terms<T, float_terms> kFloat = [] {
      constexpr size_t m = std::size(all);
      Terms<T, float_terms> tail{};
      for (size_t i = 0; i < float_terms; ++i) tail.c[i] = static_cast<T>(all[m - float_terms + i]);
      return tail;
    }();
    return chebyshev(y, kFloat.c);
  } else {
    return chebyshev(y, all);
  }
}

template <typename T>
T i1e_near(T y) {
  return double_or_float_series<kI1eNearFloatTerms, kI1eNear>(y);
}

template <typename T>
T i1e_far(T y) {
  return double_or_float_series<kI1eFarFloatTerms, kI1eFar>(y);
}

/// exp(-|x|) I0(x).
template <typename T>
T i0e(T x) {
  x = std::abs(x);
  if (x <= T(8)) return chebyshev(x / T(2) - T(2), kI0eNear<T>);
  return chebyshev(T(32) / x - T(2), kI0eFar<T>) / std::sqrt(x);
}

template <typename T>
T i0(T x) {
  x = std::abs(x);
  if (x <= T(8)) return std::exp(x) * chebyshev(x / T(2) - T(2), kI0eNear<T>);
  return std::exp(x) * chebyshev(T(32) / x - T(2), kI0eFar<T>) / std::sqrt(x);
}

/// exp(-|x|) I1(x): odd, as I1 is.
template <typename T>
T i1e(T x) {
  T a = std::abs(x);
  T out = a <= T(8) ? i1e_near(a / T(2) - T(2)) * a : i1e_far(T(32) / a - T(2)) / std::sqrt(a);
  return x < 0 ? -out : out;
}

template <typename T>
T i1(T x) {
  T a = std::abs(x);
  T out = a <= T(8) ? std::exp(a) * a * i1e_near(a / T(2) - T(2))
                    : std::exp(a) * i1e_far(T(32) / a - T(2)) / std::sqrt(a);
  return x < 0 ? -out : out;
}

}  // namespace

extern "C" {
float kiln_i0f(float x) {
  return i0(x);
}
double kiln_i0(double x) {
  return i0(x);
}
float kiln_i0ef(float x) {
  return i0e(x);
}
double kiln_i0e(double x) {
  return i0e(x);
}
float kiln_i1f(float x) {
  return i1(x);
}
double kiln_i1(double x) {
  return i1(x);
}
float kiln_i1ef(float x) {
  return i1e(x);
}
double kiln_i1e(double x) {
  return i1e(x);
}
}
