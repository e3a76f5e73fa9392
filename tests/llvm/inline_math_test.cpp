// The backend's inline f32 exp, erf and tanh against the C library in double precision, over a
// dense sweep of their whole useful range plus the special values.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "tests/llvm/llvm_test_util.h"

namespace kiln::testing {
namespace {

/// Distance in units in the last place between two floats (0 for equal, NaN == NaN).
double ulp_distance(float a, double exact) {
  if (std::isnan(a) && std::isnan(exact)) return 0;
  float e = static_cast<float>(exact);
  if (a == e) return 0;
  if (std::isinf(a) || std::isinf(e)) return std::numeric_limits<double>::infinity();
  double ulp = std::nextafter(std::fabs(e), INFINITY) - std::fabs(e);
  return std::fabs(a - exact) / ulp;
}

struct Sweep {
  UnaryOp op;
  double (*reference)(double);
  float lo, hi;
  double max_ulp;  ///< Allowed error in ulp...
  double max_abs;  ///< ...or absolute, whichever is looser (erf near 0 is judged absolutely).
};

class InlineMath : public ::testing::TestWithParam<Sweep> {};

TEST_P(InlineMath, AccurateOverRangeAndSpecials) {
  const Sweep& s = GetParam();
  const int64_t n = 1 << 18;
  std::vector<float> values;
  for (int64_t i = 0; i < n; ++i) values.push_back(s.lo + (s.hi - s.lo) * i / (n - 1));
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-45f, INFINITY, -INFINITY, NAN, 100.0f, -100.0f,
                  88.72f, 88.73f, -87.3f, -103.9f, -104.5f, 3e38f, -3e38f})
    values.push_back(v);
  while (values.size() % 64 != 0) values.push_back(0.5f);
  int64_t count = static_cast<int64_t>(values.size());
  // Three code paths: scalar, explicit 64-lane vectors, and LLVM's loop vectorizer.
  struct Layout {
    std::vector<int64_t> shape;
    ForKind kind;
  };
  for (const Layout& layout :
       {Layout{{count / 64, 64}, ForKind::Serial}, Layout{{count / 64, 64}, ForKind::Vectorized},
        Layout{{count}, ForKind::Vectorized}}) {
    Tensor x = placeholder("x", layout.shape, DType::F32);
    Tensor y = compute("y", layout.shape, [&](const std::vector<Var>& i) {
      return unary(s.op, x.load(std::vector<Expr>(i.begin(), i.end())));
    });
    HostTensor in = HostTensor::zeros(layout.shape, DType::F32);
    std::memcpy(in.data(), values.data(), values.size() * sizeof(float));
    HostTensor out = run(*compiler().compile(lower_elementwise(y, layout.kind)), {in});
    const float* got = static_cast<const float*>(out.data());
    double worst = 0;
    float worst_at = 0;
    for (int64_t i = 0; i < count; ++i) {
      double exact = s.reference(values[i]);
      double err =
          std::min(ulp_distance(got[i], exact) / s.max_ulp,
                   std::isfinite(exact) ? std::fabs(got[i] - exact) / s.max_abs : INFINITY);
      if (std::isnan(exact) != std::isnan(got[i])) err = INFINITY;
      if (err > worst) worst = err, worst_at = values[i];
    }
    EXPECT_LE(worst, 1.0) << unary_op_name(s.op) << " (" << layout.kind << ", rank "
                          << layout.shape.size() << ") worst at x = " << worst_at << ": "
                          << s.reference(worst_at);
  }
}

INSTANTIATE_TEST_SUITE_P(
    F32, InlineMath,
    ::testing::Values(Sweep{UnaryOp::Exp, [](double v) { return std::exp(v); }, -110, 90, 2, 0},
                      Sweep{UnaryOp::Erf, [](double v) { return std::erf(v); }, -6, 6, 8, 4e-7},
                      Sweep{UnaryOp::Tanh, [](double v) { return std::tanh(v); }, -10, 10, 8,
                            4e-7}),
    [](const ::testing::TestParamInfo<Sweep>& info) {
      return std::string(unary_op_name(info.param.op));
    });

}  // namespace
}  // namespace kiln::testing
