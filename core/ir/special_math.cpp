// Derived from the Cephes Math Library's digamma, ndtri and zeta (Copyright (c) 2018, Steven
// Moshier, 3-clause BSD) and from Gary L. Pavlis's erfinv (Copyright (c) 2014 Indiana University,
// new BSD), by way of the algorithms, constants and float/double choices of PyTorch's CPU kernels.
#include "core/ir/special_math.h"

#include <cmath>
#include <limits>
#include <numbers>

#include "core/ir/special_coefficients.h"

namespace {

template <typename T>
constexpr T kInf = std::numeric_limits<T>::infinity();
template <typename T>
constexpr T kNaN = std::numeric_limits<T>::quiet_NaN();

/// c[0] * x^n + c[1] * x^(n-1) + ... + c[n], by Horner's rule.
template <typename T, size_t N>
T polynomial(T x, const T (&c)[N]) {
  T result = 0;
  for (T coefficient : c) result = result * x + coefficient;
  return result;
}

/// Digamma: the reflection formula below zero, the recurrence up to 10, then the asymptotic
/// series. The reflection's pi / tan(pi r) is computed in double from the fractional part r.
template <typename T>
T digamma(T x) {
  if (x == 0) return std::copysign(kInf<T>, -x);
  if (x < 0) {
    if (x == std::trunc(x)) return kNaN<T>;
    double r = static_cast<double>(x) - std::trunc(static_cast<double>(x));
    T reflection = static_cast<T>(std::numbers::pi / std::tan(std::numbers::pi * r));
    return digamma<T>(1 - x) - reflection;
  }
  T result = 0;
  while (x < 10) {
    result -= 1 / x;
    x += 1;
  }
  if (x == 10) return result + T(kiln::special::kDigammaAt10);
  T y = 0;
  if (x < T(1.0e17)) {
    T z = 1 / (x * x);
    y = z * polynomial(z, kiln::special::kDigammaAsymptotic<T>);
  }
  return result + std::log(x) - (T(0.5) / x) - y;
}

/// Trigamma: reflection below 1/2, six steps of the recurrence, then the asymptotic series.
template <typename T>
T trigamma(T x) {
  constexpr T pi = std::numbers::pi_v<T>;
  T sign = 1, result = 0;
  if (x < T(0.5)) {
    sign = -1;
    T sin_pi_x = std::sin(pi * x);
    result -= (pi * pi) / (sin_pi_x * sin_pi_x);
    x = 1 - x;
  }
  for (int i = 0; i < 6; ++i) {
    result += 1 / (x * x);
    x += 1;
  }
  T ixx = 1 / (x * x);
  result += (1 + 1 / (2 * x) + ixx * (T(1) / 6 - ixx * (T(1) / 30 - ixx * (T(1) / 42)))) / x;
  return sign * result;
}

/// Inverse error function: a rational approximation, then two Newton steps on erf.
template <typename T>
T erfinv(T y) {
  T y_abs = std::abs(y);
  if (y_abs > 1) return kNaN<T>;
  if (y_abs == 1) return std::copysign(kInf<T>, y);
  T x;
  if (y_abs <= T(0.7)) {
    static const T a[] = {T(-0.140543331), T(0.914624893), T(-1.645349621), T(0.886226899)};
    static const T b[] = {T(0.012229801), T(-0.329097515), T(1.442710462), T(-2.118377725), T(1)};
    T z = y * y;
    x = y * polynomial(z, a) / polynomial(z, b);
  } else {
    static const T c[] = {T(1.641345311), T(3.429567803), T(-1.624906493), T(-1.970840454)};
    static const T d[] = {T(1.637067800), T(3.543889200), T(1)};
    T z = std::sqrt(-std::log((1 - y_abs) / 2));
    x = std::copysign(polynomial(z, c), y) / polynomial(z, d);
  }
  const T two_over_sqrt_pi = T(2) / static_cast<T>(std::sqrt(std::numbers::pi));
  for (int i = 0; i < 2; ++i) x = x - (std::erf(x) - y) / (two_over_sqrt_pi * std::exp(-x * x));
  return x;
}

/// The inverse of the standard normal distribution function: a rational function of y - 1/2 in
/// the middle, else of 1 / sqrt(-2 log y) for the nearer tail (Cephes's ndtri).
template <typename T>
T ndtri(T y0) {
  using namespace kiln::special;
  constexpr T kExpMinus2 = T(kNdtriExpMinus2);
  if (y0 == 0) return -kInf<T>;
  if (y0 == 1) return kInf<T>;
  if (y0 < 0 || y0 > 1 || std::isnan(y0)) return kNaN<T>;
  bool lower = true;
  T y = y0;
  if (y > 1 - kExpMinus2) {
    y = 1 - y;
    lower = false;
  }
  if (y > kExpMinus2) {
    y = y - T(0.5);
    T y2 = y * y;
    T x = y + y * (y2 * polynomial(y2, kNdtriMiddleP<T>) / polynomial(y2, kNdtriMiddleQ<T>));
    return x * T(kSqrt2Pi);
  }
  T x = std::sqrt(T(-2) * std::log(y));
  T x0 = x - std::log(x) / x;
  T z = 1 / x;
  T x1 = x < 8 ? z * polynomial(z, kNdtriTailP<T>) / polynomial(z, kNdtriTailQ<T>)
               : z * polynomial(z, kNdtriFarP<T>) / polynomial(z, kNdtriFarQ<T>);
  x = x0 - x1;
  return lower ? -x : x;
}

/// Hurwitz zeta, in double whatever T: direct summation of at least 9 terms (until q + k > 9),
/// then the Euler-Maclaurin correction, stopping once a term is below double precision.
template <typename T>
T zeta(T x_in, T q_in) {
  const double x = x_in, q = q_in;
  constexpr double kMachEp = 1.11022302462515654042E-16;
  static const double kEulerMaclaurin[] = {12.0,
                                           -720.0,
                                           30240.0,
                                           -1209600.0,
                                           47900160.0,
                                           -1.8924375803183791606e9,
                                           7.47242496e10,
                                           -2.950130727918164224e12,
                                           1.1646782814350067249e14,
                                           -4.5979787224074726105e15,
                                           1.8152105401943546773e17,
                                           -7.1661652561756670113e18};
  if (x == 1) return kInf<T>;
  if (x < 1) return kNaN<T>;
  if (q <= 0) {
    if (q == std::floor(q)) return kInf<T>;
    if (x != std::floor(x)) return kNaN<T>;
  }
  double s = std::pow(q, -x), a = q, b = 0;
  for (int i = 0; i < 9 || a <= 9.0;) {
    ++i;
    a += 1;
    b = std::pow(a, -x);
    s += b;
    if (-kMachEp * s < b && b < kMachEp * s) return static_cast<T>(s);
  }
  const double w = a;
  s += b * w / (x - 1);
  s -= 0.5 * b;
  a = 1;
  double k = 0;
  for (double coefficient : kEulerMaclaurin) {
    a *= x + k;
    b /= w;
    double t = a * b / coefficient;
    s += t;
    if (std::fabs(t / s) < kMachEp) break;
    k += 1;
    a *= x + k;
    b /= w;
    k += 1;
  }
  return static_cast<T>(s);
}

}  // namespace

extern "C" {
float kiln_digammaf(float x) {
  return digamma(x);
}
double kiln_digamma(double x) {
  return digamma(x);
}
float kiln_trigammaf(float x) {
  return trigamma(x);
}
double kiln_trigamma(double x) {
  return trigamma(x);
}
float kiln_erfinvf(float y) {
  return erfinv(y);
}
double kiln_erfinv(double y) {
  return erfinv(y);
}
float kiln_zetaf(float x, float q) {
  return zeta(x, q);
}
double kiln_zeta(double x, double q) {
  return zeta(x, q);
}
float kiln_ndtrif(float y) {
  return ndtri(y);
}
double kiln_ndtri(double y) {
  return ndtri(y);
}
}

namespace kiln {

std::span<const SpecialFunction> special_functions() {
  static const SpecialFunction functions[] = {
      {"kiln_digammaf", reinterpret_cast<void*>(&kiln_digammaf)},
      {"kiln_digamma", reinterpret_cast<void*>(&kiln_digamma)},
      {"kiln_trigammaf", reinterpret_cast<void*>(&kiln_trigammaf)},
      {"kiln_trigamma", reinterpret_cast<void*>(&kiln_trigamma)},
      {"kiln_erfinvf", reinterpret_cast<void*>(&kiln_erfinvf)},
      {"kiln_erfinv", reinterpret_cast<void*>(&kiln_erfinv)},
      {"kiln_zetaf", reinterpret_cast<void*>(&kiln_zetaf)},
      {"kiln_zeta", reinterpret_cast<void*>(&kiln_zeta)},
      {"kiln_ndtrif", reinterpret_cast<void*>(&kiln_ndtrif)},
      {"kiln_ndtri", reinterpret_cast<void*>(&kiln_ndtri)},
      {"kiln_i0f", reinterpret_cast<void*>(&kiln_i0f)},
      {"kiln_i0", reinterpret_cast<void*>(&kiln_i0)},
      {"kiln_i0ef", reinterpret_cast<void*>(&kiln_i0ef)},
      {"kiln_i0e", reinterpret_cast<void*>(&kiln_i0e)},
      {"kiln_i1f", reinterpret_cast<void*>(&kiln_i1f)},
      {"kiln_i1", reinterpret_cast<void*>(&kiln_i1)},
      {"kiln_i1ef", reinterpret_cast<void*>(&kiln_i1ef)},
      {"kiln_i1e", reinterpret_cast<void*>(&kiln_i1e)},
  };
  return functions;
}

}  // namespace kiln
