// Every op and dtype of the expression IR, compiled by the LLVM backend, against the interpreter.
#include <cmath>
#include <limits>

#include "llvm_test_util.h"

namespace kiln::testing {
namespace {

constexpr int64_t kN = 37;  // not a multiple of a vector width: remainders are exercised

// Random values with a NaN and infinities planted among them (floats only).
HostTensor with_specials(std::vector<int64_t> shape, DType dt, uint64_t seed, double lo,
                         double hi) {
  HostTensor t = HostTensor::random(shape, dt, seed, lo, hi);
  if (is_float(dt)) {
    t.set_flat(3, std::numeric_limits<double>::quiet_NaN());
    t.set_flat(5, std::numeric_limits<double>::infinity());
    t.set_flat(8, -std::numeric_limits<double>::infinity());
  }
  return t;
}

TEST(LlvmOps, EveryBinaryOpMatchesInterpreter) {
  const BinaryOp ops[] = {BinaryOp::Add,      BinaryOp::Sub,      BinaryOp::Mul, BinaryOp::Div,
                          BinaryOp::FloorDiv, BinaryOp::FloorMod, BinaryOp::Mod, BinaryOp::Min,
                          BinaryOp::Max,      BinaryOp::Pow,      BinaryOp::Eq,  BinaryOp::Ne,
                          BinaryOp::Lt,       BinaryOp::Le,       BinaryOp::Gt,  BinaryOp::Ge};
  for (DType dt : {DType::F32, DType::F64, DType::I32, DType::I64, DType::F16, DType::BF16}) {
    for (BinaryOp op : ops) {
      for (ForKind kind : {ForKind::Serial, ForKind::Vectorized}) {
        SCOPED_TRACE(str_cat(dt, " ", op, " ", kind));
        Tensor a = placeholder("a", {kN}, dt);
        Tensor b = placeholder("b", {kN}, dt);
        Tensor c = compute("c", {kN}, [&](const std::vector<Var>& i) {
          Expr y = b(i[0]);
          // Integer divisors must not be zero; pow exponents stay small.
          if (!is_float(dt)) y = select(y == 0, make_const(dt, 3), y);
          if (op == BinaryOp::Pow && !is_float(dt)) y = floormod(y, make_const(dt, 5));
          return BinaryNode::make(op, a(i[0]), y);
        });
        // Extent 37 exceeds no limit but is odd: vectorized takes the explicit path.
        double lo = op == BinaryOp::Pow && is_float(dt) ? 0 : -20;
        expect_matches_interpreter(
            c, {with_specials({kN}, dt, 1, lo, 20), with_specials({kN}, dt, 2, -4, 4)}, kind);
      }
    }
  }
}

TEST(LlvmOps, LogicalOpsOnBools) {
  for (BinaryOp op : {BinaryOp::And, BinaryOp::Or, BinaryOp::Xor, BinaryOp::Lt, BinaryOp::Eq}) {
    SCOPED_TRACE(str_cat(op));
    Tensor a = placeholder("a", {kN}, DType::Bool);
    Tensor b = placeholder("b", {kN}, DType::Bool);
    Tensor c = compute("c", {kN}, [&](const std::vector<Var>& i) {
      return BinaryNode::make(op, a(i[0]), !b(i[0]));
    });
    expect_matches_interpreter(
        c, {HostTensor::random({kN}, DType::Bool, 3), HostTensor::random({kN}, DType::Bool, 4)});
  }
}

TEST(LlvmOps, EveryUnaryOpMatchesInterpreter) {
  const UnaryOp ops[] = {
      UnaryOp::Neg,   UnaryOp::Abs,   UnaryOp::Exp,   UnaryOp::Exp2,  UnaryOp::Log,  UnaryOp::Log1p,
      UnaryOp::Expm1, UnaryOp::Sqrt,  UnaryOp::Rsqrt, UnaryOp::Sin,   UnaryOp::Cos,  UnaryOp::Tanh,
      UnaryOp::Erf,   UnaryOp::Floor, UnaryOp::Ceil,  UnaryOp::Round, UnaryOp::Trunc};
  for (DType dt : {DType::F32, DType::F64, DType::BF16}) {
    for (UnaryOp op : ops) {
      for (ForKind kind : {ForKind::Serial, ForKind::Vectorized}) {
        SCOPED_TRACE(str_cat(dt, " ", op, " ", kind));
        Tensor a = placeholder("a", {kN}, dt);
        Tensor c = compute("c", {kN}, [&](const std::vector<Var>& i) {
          Expr x = a(i[0]);
          return unary(op, x);
        });
        expect_matches_interpreter(c, {with_specials({kN}, dt, 5, -3, 3)}, kind);
      }
    }
  }
  for (DType dt : {DType::I32, DType::I64}) {
    for (UnaryOp op : {UnaryOp::Neg, UnaryOp::Abs, UnaryOp::Floor, UnaryOp::Round}) {
      SCOPED_TRACE(str_cat(dt, " ", op));
      Tensor a = placeholder("a", {kN}, dt);
      Tensor c = compute("c", {kN}, [&](const std::vector<Var>& i) { return unary(op, a(i[0])); });
      expect_matches_interpreter(c, {HostTensor::random({kN}, dt, 6, -100, 100)});
    }
  }
}

TEST(LlvmOps, IsNanNotAndSelect) {
  Tensor a = placeholder("a", {kN}, DType::F32);
  Tensor c = compute("c", {kN}, [&](const std::vector<Var>& i) {
    Expr x = a(i[0]);
    return select(!unary(UnaryOp::IsNan, x), x, make_const(DType::F32, -7));
  });
  for (ForKind kind : {ForKind::Serial, ForKind::Vectorized})
    expect_matches_interpreter(c, {with_specials({kN}, DType::F32, 7, -1, 1)}, kind);
}

// Exact values where the semantics differ between C and Python, or in rounding.
TEST(LlvmOps, FloorDivFloorModRoundEvenExactly) {
  const std::vector<double> a_vals = {-7, 7, -6, 6, 0, -1, 5, -5};
  const std::vector<double> b_vals = {2, -2, 3, -3, 4, 3, -4, 2};
  int64_t n = static_cast<int64_t>(a_vals.size());
  for (DType dt : {DType::I64, DType::I32, DType::F32}) {
    Tensor a = placeholder("a", {n}, dt);
    Tensor b = placeholder("b", {n}, dt);
    Tensor q =
        compute("q", {n}, [&](const std::vector<Var>& i) { return floordiv(a(i[0]), b(i[0])); });
    Tensor r =
        compute("r", {n}, [&](const std::vector<Var>& i) { return floormod(a(i[0]), b(i[0])); });
    HostTensor ha = HostTensor::zeros({n}, dt), hb = HostTensor::zeros({n}, dt);
    for (int64_t i = 0; i < n; ++i) {
      ha.set_flat(i, a_vals[i]);
      hb.set_flat(i, b_vals[i]);
    }
    HostTensor hq = run(*compiler().compile(lower_elementwise(q)), {ha, hb});
    HostTensor hr = run(*compiler().compile(lower_elementwise(r)), {ha, hb});
    for (int64_t i = 0; i < n; ++i) {
      double want_q = std::floor(a_vals[i] / b_vals[i]);
      EXPECT_EQ(hq.get_flat(i), want_q) << dt << " " << a_vals[i] << " // " << b_vals[i];
      EXPECT_EQ(hr.get_flat(i), a_vals[i] - want_q * b_vals[i])
          << dt << " " << a_vals[i] << " % " << b_vals[i];
    }
  }
  const std::vector<double> x = {0.5, 1.5, 2.5, -0.5, -2.5, 3.5, -1.5, 2.4999};
  const std::vector<double> want = {0, 2, 2, -0.0, -2, 4, -2, 2};
  Tensor a = placeholder("a", {8}, DType::F32);
  Tensor c =
      compute("c", {8}, [&](const std::vector<Var>& i) { return unary(UnaryOp::Round, a(i[0])); });
  HostTensor ha = HostTensor::zeros({8}, DType::F32);
  for (int i = 0; i < 8; ++i) ha.set_flat(i, x[i]);
  HostTensor hc = run(*compiler().compile(lower_elementwise(c, ForKind::Vectorized)), {ha});
  for (int i = 0; i < 8; ++i) EXPECT_EQ(hc.get_flat(i), want[i]) << "round(" << x[i] << ")";
}

TEST(LlvmOps, NanPropagatesThroughMinMax) {
  Tensor a = placeholder("a", {4}, DType::F32);
  Tensor c = compute("c", {4}, [&](const std::vector<Var>& i) {
    return min(a(i[0]), make_const(DType::F32, 1)) + max(make_const(DType::F32, -1), a(i[0]));
  });
  HostTensor ha = HostTensor::zeros({4}, DType::F32);
  ha.set_flat(0, std::nan(""));
  ha.set_flat(1, 3);
  for (ForKind kind : {ForKind::Serial, ForKind::Vectorized}) {
    HostTensor hc = run(*compiler().compile(lower_elementwise(c, kind)), {ha});
    EXPECT_TRUE(std::isnan(hc.get_flat(0)));
    EXPECT_EQ(hc.get_flat(1), 4);
  }
}

TEST(LlvmOps, DtypeRoundTripsAndCasts) {
  const DType all[] = {DType::Bool, DType::I32, DType::I64, DType::F16,
                       DType::BF16, DType::F32, DType::F64};
  for (DType from : all) {
    for (DType to : all) {
      for (ForKind kind : {ForKind::Serial, ForKind::Vectorized}) {
        SCOPED_TRACE(str_cat(from, " -> ", to, " ", kind));
        Tensor a = placeholder("a", {kN}, from);
        Tensor c = compute("c", {kN}, [&](const std::vector<Var>& i) { return cast(to, a(i[0])); });
        HostTensor input = HostTensor::random({kN}, from, 9, -300, 300);
        input.set_flat(0, 0);
        if (is_float(from)) input.set_flat(1, 1.00390625);  // ties to even in bf16
        if (from == to) {                                   // a copy is exact
          HostTensor out = run(*compiler().compile(lower_elementwise(c, kind)), {input});
          for (int64_t j = 0; j < kN; ++j) EXPECT_EQ(out.get_flat(j), input.get_flat(j));
        } else {
          expect_matches_interpreter(c, {input}, kind);
        }
      }
    }
  }
}

}  // namespace
}  // namespace kiln::testing
