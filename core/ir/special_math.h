// The scalar functions behind the IR's special-function ops that the C library lacks (digamma,
// trigamma, erfinv, ndtri, the Hurwitz zeta function, the modified Bessel functions i0 and i1),
// computed as PyTorch's CPU kernels compute them (the Cephes algorithms, the float versions in
// float where PyTorch's are), so that a kernel's result matches eager's to the last few ulps.
//
// They are plain C functions with one name each per float type ("kiln_digammaf" for f32,
// "kiln_digamma" for f64, as libm names lgammaf and lgamma): the reference interpreter calls them
// directly, and a backend's kernels call them by name (`special_functions()` gives every name
// with its address, for a JIT to resolve).
#pragma once

#include <span>
#include <string_view>

extern "C" {
float kiln_digammaf(float x);
double kiln_digamma(double x);
float kiln_trigammaf(float x);
double kiln_trigamma(double x);
float kiln_erfinvf(float y);
double kiln_erfinv(double y);
/// The Hurwitz zeta function: the sum over k >= 0 of (q + k)^-x.
float kiln_zetaf(float x, float q);
double kiln_zeta(double x, double q);
/// The inverse of the standard normal distribution function.
float kiln_ndtrif(float y);
double kiln_ndtri(double y);
/// The modified Bessel functions of the first kind, orders 0 and 1, and the same scaled by
/// exp(-|x|) (core/ir/bessel_math.cpp).
float kiln_i0f(float x);
double kiln_i0(double x);
float kiln_i0ef(float x);
double kiln_i0e(double x);
float kiln_i1f(float x);
double kiln_i1(double x);
float kiln_i1ef(float x);
double kiln_i1e(double x);
}

namespace kiln {

struct SpecialFunction {
  std::string_view name;  ///< the C name a kernel calls ("kiln_digammaf")
  void* address;
};

/// Every function above, by name.
std::span<const SpecialFunction> special_functions();

}  // namespace kiln
