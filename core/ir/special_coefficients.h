// Constants of the Cephes algorithms behind the special functions (Copyright (c) 2018, Steven
// Moshier, 3-clause BSD), as PyTorch's CPU kernels use them. Shared by the scalar functions
// (core/ir/special_math.cpp) and the backends' vector code, so that both compute alike.
#pragma once

namespace kiln::special {

/// digamma(10), where the recurrence of an integer argument lands.
inline constexpr double kDigammaAt10 = 2.25175258906672110764;

/// The asymptotic series of digamma in z = 1 / x^2, highest power first.
template <typename T>
inline constexpr T kDigammaAsymptotic[] = {
    T(8.33333333333333333333E-2),  T(-2.10927960927960927961E-2), T(7.57575757575757575758E-3),
    T(-4.16666666666666666667E-3), T(3.96825396825396825397E-3),  T(-8.33333333333333333333E-3),
    T(8.33333333333333333333E-2)};

/// ndtri: the middle, |y - 1/2| up to 1/2 - exp(-2), a rational function in (y - 1/2)^2.
template <typename T>
inline constexpr T kNdtriMiddleP[] = {T(-5.99633501014107895267E1), T(9.80010754185999661536E1),
                                      T(-5.66762857469070293439E1), T(1.39312609387279679503E1),
                                      T(-1.23916583867381258016E0)};
template <typename T>
inline constexpr T kNdtriMiddleQ[] = {T(1.0),
                                      T(1.95448858338141759834E0),
                                      T(4.67627912898881538453E0),
                                      T(8.63602421390890590575E1),
                                      T(-2.25462687854119370527E2),
                                      T(2.00260212380060660359E2),
                                      T(-8.20372256168333339912E1),
                                      T(1.59056225126211695515E1),
                                      T(-1.18331621121330003142E0)};
/// ndtri's nearer tail, for sqrt(-2 log y) in [2, 8): y down to exp(-32), in 1 / sqrt(-2 log y).
template <typename T>
inline constexpr T kNdtriTailP[] = {
    T(4.05544892305962419923E0),   T(3.15251094599893866154E1),   T(5.71628192246421288162E1),
    T(4.40805073893200834700E1),   T(1.46849561928858024014E1),   T(2.18663306850790267539E0),
    T(-1.40256079171354495875E-1), T(-3.50424626827848203418E-2), T(-8.57456785154685413611E-4)};
template <typename T>
inline constexpr T kNdtriTailQ[] = {T(1.0),
                                    T(1.57799883256466749731E1),
                                    T(4.53907635128879210584E1),
                                    T(4.13172038254672030440E1),
                                    T(1.50425385692907503408E1),
                                    T(2.50464946208309415979E0),
                                    T(-1.42182922854787788574E-1),
                                    T(-3.80806407691578277194E-2),
                                    T(-9.33259480895457427372E-4)};
/// ndtri's far tail, for sqrt(-2 log y) in [8, 64).
template <typename T>
inline constexpr T kNdtriFarP[] = {
    T(3.23774891776946035970E0),  T(6.91522889068984211695E0),  T(3.93881025292474443415E0),
    T(1.33303460815807542389E0),  T(2.01485389549179081538E-1), T(1.23716634817820021358E-2),
    T(3.01581553508235416007E-4), T(2.65806974686737550832E-6), T(6.23974539184983293730E-9)};
template <typename T>
inline constexpr T kNdtriFarQ[] = {T(1.0),
                                   T(6.02427039364742014255E0),
                                   T(3.67983563856160859403E0),
                                   T(1.37702099489081330271E0),
                                   T(2.16236993594496635890E-1),
                                   T(1.34204006088543189037E-2),
                                   T(3.28014464682127739104E-4),
                                   T(2.89247864745380683936E-6),
                                   T(6.79019408009981274425E-9)};
/// exp(-2): where ndtri's middle ends.
inline constexpr double kNdtriExpMinus2 = 0.13533528323661269189;
inline constexpr double kSqrt2Pi = 2.50662827463100050242E0;

}  // namespace kiln::special
