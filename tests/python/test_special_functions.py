"""The special functions against eager: lgamma, digamma, polygamma of several orders, erfinv, the
Hurwitz zeta function, the modified Bessel functions i0, i0e, i1, i1e, ndtri, and the
NaN-ignoring fmin/fmax. Each runs inside a Kiln kernel on the edge
values (poles at zero and the negative integers, ±inf, NaN, ±0.0, outside the domain), in float64,
float16 and bfloat16, on integer inputs, and through autograd (lgamma's gradient is digamma,
digamma's is polygamma(1))."""

from __future__ import annotations

import ctypes

import kiln
import pytest
import torch
from test_elementwise_math import check, values

UNARY = {
    "lgamma": torch.lgamma,
    "digamma": torch.digamma,
    "polygamma0": lambda x: torch.polygamma(0, x),
    "polygamma1": lambda x: torch.polygamma(1, x),
    "polygamma2": lambda x: torch.polygamma(2, x),
    "polygamma5": lambda x: torch.polygamma(5, x),
    "i0": torch.i0,
    "i0e": torch.special.i0e,
    "i1": torch.special.i1,
    "i1e": torch.special.i1e,
}


def unit_interval(dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """erfinv's domain, its ends and beyond: ±1, just inside, 0 of either sign, outside."""
    edges = torch.tensor([1.0, -1.0, 0.0, -0.0, 0.5, -0.5, 0.7, -0.7, 0.999999, 1.5, -2.0])
    inside = torch.rand(64, generator=torch.Generator().manual_seed(2)) * 2 - 1
    return torch.cat([edges, inside, torch.tensor([float("nan"), float("inf")])]).to(dtype)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_edge_values_match_eager(name, coverage):
    # Poles (0, -1, -2, ...), and points near them where the functions are steep.
    near_poles = torch.tensor([-2.0, -3.0, -0.999, -2.5, 1e-3, -1e-3, 1e-30, 10.0, 1e20])
    check(UNARY[name], torch.cat([values(), near_poles]), coverage=coverage)


def test_erfinv_matches_eager(coverage):
    check(torch.erfinv, unit_interval(), coverage=coverage)


def test_float_erfinv_is_within_4_ulp_of_the_exact_value():
    # Kiln's float erfinv is a vector polynomial (Giles's), not eager's algorithm: held to its
    # bound over the middle, both tails and tiny values, against erfinv in double.
    g = torch.Generator().manual_seed(3)
    tails = 1 - torch.logspace(-7, -1, 500)
    x = torch.cat(
        [torch.rand(100_000, generator=g) * 2 - 1, tails, -tails, torch.logspace(-30, -1, 500)]
    )
    actual = kiln.compile(torch.erfinv)(x)
    exact = torch.erfinv(x.double()).float()
    ulps = (actual.view(torch.int32).long() - exact.view(torch.int32).long()).abs()
    assert ulps.max().item() <= 4


def sleef_present() -> bool:
    try:
        ctypes.CDLL("libsleef.so.3")
        return True
    except OSError:
        return False


@pytest.mark.skipif(
    not sleef_present() or torch.backends.cpu.get_cpu_capability() == "DEFAULT",
    reason="Kiln's lgamma is glibc's without SLEEF, and eager's is std::lgamma on a CPU "
    "without vector kernels",
)
def test_float_lgamma_gives_eagers_bits(coverage):
    # Eager's float lgamma is SLEEF's vector lgamma, and so is Kiln's (glibc's lgammaf agrees with
    # it in about 2 of 3 elements). An odd length, so that the loop's scalar tail counts too.
    g = torch.Generator().manual_seed(4)
    x = torch.cat([torch.rand(50_001, generator=g) * 20, torch.randn(50_000, generator=g) * 6])
    actual = kiln.compile(torch.lgamma)(x)
    assert coverage()[0] == 1.0
    same = actual.view(torch.int32) == torch.lgamma(x).view(torch.int32)
    assert same.float().mean().item() >= 0.999


def dense_sample(low: float, high: float, edges: list[float]) -> torch.Tensor:
    """150,001 values uniform in [low, high) and normal around its middle (inside the range), then
    `edges`."""
    g = torch.Generator().manual_seed(5)
    uniform = torch.rand(100_001, generator=g) * (high - low) + low
    middle = (low + high) / 2
    normal = (torch.randn(50_000, generator=g) * (high - low) / 8 + middle).clamp(low, high)
    return torch.cat([uniform, normal, torch.tensor(edges)])


# Each float function Kiln computes as vector code of its own, on a dense sample of its domain and
# the edges of its branches, with the ulps it may differ from eager by (None: digamma, whose roots
# make ulps meaningless; held to assert_close instead).
BESSEL_EDGES = [8.0, -8.0, 7.9999995, 8.0000005, 88.0, 89.0, 700.0, 1e-30, -0.0]
VECTOR_CODE = {
    "i0": (torch.i0, -100, 100, BESSEL_EDGES, 4),
    "i0e": (torch.special.i0e, -100, 100, BESSEL_EDGES, 4),
    "i1": (torch.special.i1, -100, 100, BESSEL_EDGES, 4),
    "i1e": (torch.special.i1e, -100, 100, BESSEL_EDGES, 4),
    "digamma": (
        torch.digamma,
        -20,
        20,
        [0.0, -0.0, -1.0, -2.5, 1.0, 9.0, 10.0, 1e-30, 1e17, 1e20, -1e20],
        None,
    ),
    "polygamma1": (
        UNARY["polygamma1"],
        -20,
        20,
        [0.5, 0.49999997, 0.0, -3.0, -2.5, 1e-30, 1e20, -1e20],
        8,
    ),
    "ndtri": (
        torch.special.ndtri,
        0,
        1,
        [0.0, 1.0, 0.13533528, 0.8646647, 0.86466473, 1e-38, 1e-20, 1.5, -0.1],
        8,
    ),
    "atanh": (
        torch.atanh,
        -1,
        1,
        [0.5, 0.49999997, -0.5, 1.0, -1.0, 1.0000001, -2.0, 1e-30, -1e-40, -0.0],
        2,
    ),
}


@pytest.mark.parametrize("name", sorted(VECTOR_CODE))
def test_float_vector_code_matches_eager_on_a_dense_sample(name, coverage):
    fn, low, high, edges, max_ulps = VECTOR_CODE[name]
    x = dense_sample(low, high, edges)
    actual, expected = kiln.compile(fn)(x), fn(x)
    assert coverage()[0] == 1.0
    assert torch.equal(actual.isinf(), expected.isinf())
    assert torch.equal(actual.isnan(), expected.isnan())
    torch.testing.assert_close(actual, expected, equal_nan=True)
    if max_ulps is not None:
        finite = expected.isfinite()
        ulps = actual.view(torch.int32).long() - expected.view(torch.int32).long()
        assert ulps[finite].abs().max().item() <= max_ulps


def test_ndtri_matches_eager(coverage):
    # The middle, both tails (sqrt(-2 log y) below and above 8), 0, 1 and outside.
    tails = torch.tensor([1e-3, 1e-10, 1e-20, 1e-30, 1e-37, 0.2, 0.9, 0.99999])
    p = torch.cat([(unit_interval() + 1) / 2, tails])
    check(torch.special.ndtri, p, coverage=coverage)
    check(torch.special.ndtri, p.double())


def test_zeta_matches_eager(coverage):
    x = torch.tensor([1.0, 0.5, 1.5, 2.0, 3.5, 5.0, 12.0, float("nan"), float("inf")])
    q = torch.cat([values()[:12], torch.tensor([0.25, 2.0, -2.5, 40.0, 1e-3])])
    check(torch.special.zeta, x.repeat_interleave(len(q)), q.repeat(len(x)), coverage=coverage)
    check(lambda q: torch.special.zeta(2.0, q), q)


@pytest.mark.parametrize("op", [torch.fmin, torch.fmax])
def test_fmin_fmax_ignore_one_nan(op, coverage):
    x = values()
    a = x[:12].repeat_interleave(12)  # every pair of edge values
    b = x[:12].repeat(12)
    check(op, a, b, coverage=coverage)
    check(op, torch.arange(-5, 7), torch.arange(6, -6, -1))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_other_float_dtypes_match_eager(dtype):
    for fn in (torch.lgamma, torch.digamma, UNARY["polygamma2"]):
        torch._dynamo.reset()
        check(fn, values(dtype))
    check(torch.erfinv, unit_interval(dtype))
    check(torch.special.i1, values(dtype))


def test_bessel_functions_on_both_sides_of_their_series_switch(coverage):
    # |x| = 8 switches from one Chebyshev series to the other; i0 overflows float past ~88.
    x = torch.linspace(-100, 100, 401)
    x = torch.cat([x, torch.tensor([8.0, -8.0, 7.9999995, 8.000001, 88.0, 89.0, 700.0])])
    for name in ("i0", "i0e", "i1", "i1e"):
        torch._dynamo.reset()
        check(UNARY[name], x, coverage=coverage)
        check(UNARY[name], x.double())


def test_integer_inputs_compute_in_float():
    ints = torch.arange(-4, 9)
    check(torch.lgamma, ints)
    check(torch.digamma, ints)
    check(UNARY["polygamma1"], ints)


def test_polygamma_of_a_negative_order_raises_like_eager():
    x = torch.rand(5)
    with pytest.raises(RuntimeError):
        torch.polygamma(-1, x)
    with pytest.raises(Exception, match="n >= 0|negative"):
        kiln.compile(lambda x: torch.polygamma(-1, x))(x)


def test_gradients_match_eager(coverage):
    def fn(x: torch.Tensor) -> torch.Tensor:
        return (torch.lgamma(x) + torch.digamma(x) * torch.erfinv(x / 20)).sum()

    x = torch.rand(64, generator=torch.Generator().manual_seed(3)) * 8 + 0.1
    expected_x, actual_x = x.clone().requires_grad_(), x.clone().requires_grad_()
    fn(expected_x).backward()
    kiln.compile(fn)(actual_x).backward()
    torch.testing.assert_close(actual_x.grad, expected_x.grad)
    fraction, unsupported = coverage()
    assert fraction == 1.0, f"stayed ATen: {unsupported}"
