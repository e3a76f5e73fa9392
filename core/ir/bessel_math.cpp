// The modified Bessel functions of the first kind of orders 0 and 1, plain and exponentially
// scaled, by Chebyshev series on [0, 8] and on [8, inf) in 1/x. Derived from the Cephes Math
// Library's i0, i0e, i1 and i1e (Copyright (c) 2018, Steven Moshier, 3-clause BSD) by way of the
// coefficients and float/double choices of PyTorch's CPU kernels: a float kernel rounds the
// coefficients to float and computes in float, and i1 and i1e keep fewer terms in float.
#include <cmath>

#include "core/ir/special_math.h"

namespace {

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

/// exp(-x) I0(x) on [0, 8], in (x / 2 - 2).
template <typename T>
constexpr T kI0eNear[] = {
    T(-4.41534164647933937950E-18), T(3.33079451882223809783E-17),  T(-2.43127984654795469359E-16),
    T(1.71539128555513303061E-15),  T(-1.16853328779934516808E-14), T(7.67618549860493561688E-14),
    T(-4.85644678311192946090E-13), T(2.95505266312963983461E-12),  T(-1.72682629144155570723E-11),
    T(9.67580903537323691224E-11),  T(-5.18979560163526290666E-10), T(2.65982372468238665035E-9),
    T(-1.30002500998624804212E-8),  T(6.04699502254191894932E-8),   T(-2.67079385394061173391E-7),
    T(1.11738753912010371815E-6),   T(-4.41673835845875056359E-6),  T(1.64484480707288970893E-5),
    T(-5.75419501008210370398E-5),  T(1.88502885095841655729E-4),   T(-5.76375574538582365885E-4),
    T(1.63947561694133579842E-3),   T(-4.32430999505057594430E-3),  T(1.05464603945949983183E-2),
    T(-2.37374148058994688156E-2),  T(4.93052842396707084878E-2),   T(-9.49010970480476444210E-2),
    T(1.71620901522208775349E-1),   T(-3.04682672343198398683E-1),  T(6.76795274409476084995E-1)};

/// exp(-x) sqrt(x) I0(x) on [8, inf), in (32 / x - 2).
template <typename T>
constexpr T kI0eFar[] = {
    T(-7.23318048787475395456E-18), T(-4.83050448594418207126E-18), T(4.46562142029675999901E-17),
    T(3.46122286769746109310E-17),  T(-2.82762398051658348494E-16), T(-3.42548561967721913462E-16),
    T(1.77256013305652638360E-15),  T(3.81168066935262242075E-15),  T(-9.55484669882830764870E-15),
    T(-4.15056934728722208663E-14), T(1.54008621752140982691E-14),  T(3.85277838274214270114E-13),
    T(7.18012445138366623367E-13),  T(-1.79417853150680611778E-12), T(-1.32158118404477131188E-11),
    T(-3.14991652796324136454E-11), T(1.18891471078464383424E-11),  T(4.94060238822496958910E-10),
    T(3.39623202570838634515E-9),   T(2.26666899049817806459E-8),   T(2.04891858946906374183E-7),
    T(2.89137052083475648297E-6),   T(6.88975834691682398426E-5),   T(3.36911647825569408990E-3),
    T(8.04490411014108831608E-1)};

/// exp(-x) I1(x) / x on [0, 8], in (x / 2 - 2): double keeps 29 terms, float the last 17.
constexpr double kI1eNear[] = {
    2.77791411276104639959E-18,  -2.11142121435816608115E-17, 1.55363195773620046921E-16,
    -1.10559694773538630805E-15, 7.60068429473540693410E-15,  -5.04218550472791168711E-14,
    3.22379336594557470981E-13,  -1.98397439776494371520E-12, 1.17361862988909016308E-11,
    -6.66348972350202774223E-11, 3.62559028155211703701E-10,  -1.88724975172282928790E-9,
    9.38153738649577178388E-9,   -4.44505912879632808065E-8,  2.00329475355213526229E-7,
    -8.56872026469545474066E-7,  3.47025130813767847674E-6,   -1.32731636560394358279E-5,
    4.78156510755005422638E-5,   -1.61760815825896745588E-4,  5.12285956168575772895E-4,
    -1.51357245063125314899E-3,  4.15642294431288815669E-3,   -1.05640848946261981558E-2,
    2.47264490306265168283E-2,   -5.29459812080949914269E-2,  1.02643658689847095384E-1,
    -1.76416518357834055153E-1,  2.52587186443633654823E-1};

/// exp(-x) sqrt(x) I1(x) on [8, inf), in (32 / x - 2): double keeps 25 terms, float the last 7.
constexpr double kI1eFar[] = {
    7.51729631084210481353E-18,  4.41434832307170791151E-18,  -4.65030536848935832153E-17,
    -3.20952592199342395980E-17, 2.96262899764595013876E-16,  3.30820231092092828324E-16,
    -1.88035477551078244854E-15, -3.81440307243700780478E-15, 1.04202769841288027642E-14,
    4.27244001671195135429E-14,  -2.10154184277266431302E-14, -4.08355111109219731823E-13,
    -7.19855177624590851209E-13, 2.03562854414708950722E-12,  1.41258074366137813316E-11,
    3.25260358301548823856E-11,  -1.89749581235054123450E-11, -5.58974346219658380687E-10,
    -3.83538038596423702205E-9,  -2.63146884688951950684E-8,  -2.51223623787020892529E-7,
    -3.88256480887769039346E-6,  -1.10588938762623716291E-4,  -9.76109749136146840777E-3,
    7.78576235018280120474E-1};

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
  return double_or_float_series<17, kI1eNear>(y);
}

template <typename T>
T i1e_far(T y) {
  return double_or_float_series<7, kI1eFar>(y);
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
