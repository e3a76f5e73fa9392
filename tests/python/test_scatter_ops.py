"""Scatters (scatter, scatter_add, scatter_reduce, index_put, index_add, index_copy,
index_fill, index_reduce) inside Kiln kernels, against eager: repeated indices (the last write
wins a copy; a reduction combines every value in ATen's order, so sums are bit-exact),
negative dims and indices, every reduction with and without self, non-contiguous and integer
and bfloat16 tensors, empty indices, the special values (NaN, +-inf, -0.0), indices out of range
(the same exception as eager), the `y[idx] = v` pattern, and the gradients that scatter."""

from __future__ import annotations

import math

import kiln
import pytest
import torch

GEN = torch.Generator().manual_seed(5)
X = torch.randn(6, 9, generator=GEN)
SRC = torch.randn(11, 9, generator=GEN)
IDX = torch.randint(0, 6, (11, 9), generator=GEN)  # repeats: 11 writes into 6 rows
ROWS = torch.randint(0, 6, (11,), generator=GEN)
EXACT = {"rtol": 0, "atol": 0}

CASES = {
    "scatter_src": lambda x, s, i, r: x.scatter(0, i, s),
    "scatter_value": lambda x, s, i, r: x.scatter(0, i, -2.5),
    "scatter_multiply": lambda x, s, i, r: x.scatter(0, i, s, reduce="multiply"),
    "scatter_add": lambda x, s, i, r: x.scatter_add(0, i, s),
    "scatter_add_last_dim": lambda x, s, i, r: x.scatter_add(-1, i[:6] * 7 % 9, s[:6]),
    "index_put": lambda x, s, i, r: x.index_put((r,), s),
    "index_put_accumulate": lambda x, s, i, r: x.index_put((r,), s, accumulate=True),
    "index_put_broadcast": lambda x, s, i, r: x.index_put((r - 6, r % 9), s[0, 0]),
    "index_add": lambda x, s, i, r: x.index_add(0, r, s),
    "index_add_alpha": lambda x, s, i, r: x.index_add(0, r, s, alpha=-3),
    "index_copy": lambda x, s, i, r: x.index_copy(1, r % 9, s.T[:6]),
    "index_fill_negative": lambda x, s, i, r: x.index_fill(1, r - 6, math.pi),
}
for _reduce in ["sum", "prod", "mean", "amax", "amin"]:
    for _self in [True, False]:
        CASES[f"scatter_reduce_{_reduce}{'' if _self else '_without_self'}"] = (
            lambda x, s, i, r, red=_reduce, inc=_self: x.scatter_reduce(
                0, i, s, red, include_self=inc
            )
        )
for _reduce in ["prod", "mean", "amax", "amin"]:
    CASES[f"index_reduce_{_reduce}"] = lambda x, s, i, r, red=_reduce: x.index_reduce(
        0, r, s, red, include_self=False
    )


def check(fn, *args, coverage=None, **tolerance):
    want = fn(*args)
    got = kiln.compile(fn)(*args)
    torch.testing.assert_close(got, want, equal_nan=True, **(tolerance or EXACT))
    if want.is_floating_point():  # the sign of zero too (assert_close takes -0.0 == 0.0)
        assert torch.equal(torch.signbit(got), torch.signbit(want)), (got, want)
    if coverage is not None:
        _, unsupported = coverage()
        assert not unsupported, f"stayed ATen: {unsupported}"
        # Every compute node in Kiln's kernels (views and constants such as index_fill's
        # scalar_tensor are no compute).
        for graph in kiln.stats()["graphs"]:
            assert graph["compute_coverage"] == 1.0, graph["ops"]


def check_with_gradients(f, *inputs):
    """f's value and the gradients of its floating-point inputs match eager's under Kiln."""
    ours, theirs = (
        [t.clone().requires_grad_(t.is_floating_point()) for t in inputs] for _ in range(2)
    )
    got, want = kiln.compile(f)(*ours), f(*theirs)
    got.backward()
    want.backward()
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
    for a, b in zip(ours, theirs):
        if a.requires_grad:
            torch.testing.assert_close(a.grad, b.grad)


@pytest.mark.parametrize("name", sorted(CASES))
def test_scatters_match_eager_bit_for_bit(name, coverage):
    tolerance = {"rtol": 1e-6, "atol": 1e-6} if "alpha" in name or "mean" in name else {}
    check(CASES[name], X, SRC, IDX, ROWS, coverage=coverage, **tolerance)


SPECIAL = torch.tensor([0.5, -0.0, math.nan, math.inf, -math.inf, 1.0, -0.0, 3.0, math.nan])


@pytest.mark.parametrize(
    "name",
    ["scatter_add", "index_put_accumulate", "index_add"]
    + [f"scatter_reduce_{r}{s}" for r in ["sum", "amax", "amin"] for s in ["", "_without_self"]],
)
def test_special_values_combine_as_in_eager(name, coverage):
    """NaN wins a max or min from either side, inf - inf is NaN, -0.0 + -0.0 stays -0.0 and a
    reduction without self starts from +0.0."""
    x = SPECIAL.roll(3).repeat(6, 1)
    s = SPECIAL.repeat(11, 1)
    check(CASES[name], x, s, IDX, ROWS, coverage=coverage)


@pytest.mark.parametrize(
    "x, s, i",
    [
        (X.T.contiguous().T, SRC.T.contiguous().T, IDX.T.contiguous().T),
        (X[:, ::1], SRC[:, :], IDX.to(torch.int32)),
        (X.to(torch.bfloat16), SRC.to(torch.bfloat16), IDX),
        (torch.randint(-50, 50, (6, 9), generator=GEN), torch.randint(-9, 9, (11, 9)), IDX),
    ],
    ids=["non_contiguous", "int32_index", "bf16", "int64"],
)
@pytest.mark.parametrize("name", ["scatter_add", "scatter_reduce_mean_without_self", "index_add"])
def test_scatters_of_any_layout_and_dtype_match_eager(name, x, s, i, coverage):
    check(CASES[name], x, s, i, ROWS, coverage=coverage)


def test_an_expanded_index_scatters_as_eager_and_is_checked(coverage):
    """A segment sum with its index expanded along the columns (stride 0, the usual way to
    write one): the same result, and an index out of range raises as eager's does."""
    rows = ROWS[:, None].expand(11, 9)
    for reduce in ["sum", "amax"]:
        torch._dynamo.reset()
        check(
            lambda x, s, i, red=reduce: x.scatter_reduce(0, i, s, red),
            X,
            SRC,
            rows,
            coverage=coverage,
        )
    bad = torch.tensor([1, 6])[:, None].expand(2, 9)
    with pytest.raises(RuntimeError, match="out of bounds"):
        kiln.compile(lambda x, i: x.scatter_add(0, i, torch.ones(2, 9)))(X, bad)


def test_the_assignment_pattern_and_a_gradient_through_it_match_eager(coverage):
    """`y[idx] = v` on a clone is index_put in the graph; its backward reads at the indices."""

    def f(x, v, idx):
        y = x * 2
        y[idx] = v.sin()
        return (y * y).sum()

    check_with_gradients(
        f,
        torch.randn(8, 5, generator=GEN),
        torch.randn(3, 5, generator=GEN),
        torch.tensor([6, 1, 3]),
    )
    _, unsupported = coverage()
    assert not any("index_put" in op for op in unsupported), unsupported


def test_an_embedding_trains_with_its_gradient_scattered_in_kiln(coverage):
    """embedding's backward accumulates the rows of repeated tokens: index_put with accumulate,
    which now runs in a Kiln kernel, summed in eager's order."""
    emb = torch.nn.Embedding(50, 16)
    ref = torch.nn.Embedding(50, 16)
    ref.load_state_dict(emb.state_dict())
    tokens = torch.randint(0, 50, (4, 30), generator=GEN)  # repeats
    kiln.compile(lambda t: emb(t).square().sum())(tokens).backward()
    ref(tokens).square().sum().backward()
    torch.testing.assert_close(emb.weight.grad, ref.weight.grad, rtol=1e-6, atol=1e-6)
    _, unsupported = coverage()
    assert not any("index_put" in op or "embedding" in op for op in unsupported), unsupported


def test_empty_indices_leave_self_as_it_is():
    empty = torch.empty(0, 9, dtype=torch.int64)
    for fn in [
        lambda x, i: x.scatter_add(0, i, torch.ones(0, 9)),
        lambda x, i: x.scatter_reduce(0, i, torch.ones(0, 9), "amax", include_self=False),
        lambda x, i: x.index_add(0, i[:, 0], torch.ones(0, 9)),
    ]:
        torch._dynamo.reset()
        check(fn, X, empty)


@pytest.mark.parametrize(
    "fn, error",
    [
        (lambda x, i: x.scatter_add(0, i, torch.ones(2, 9)), RuntimeError),
        (lambda x, i: x.index_put((i[:, 0],), torch.ones(9)), IndexError),
        (lambda x, i: x.index_add(0, i[:, 0], torch.ones(2, 9)), RuntimeError),  # scatter_add's
        (lambda x, i: x[0].index_add(0, i[:, 0] + 3, torch.ones(2)), IndexError),
        (lambda x, i: x.index_fill(0, i[:, 0], 1.0), IndexError),
    ],
    ids=["scatter_add", "index_put", "index_add", "index_add_1d", "index_fill"],
)
def test_an_index_out_of_range_raises_as_in_eager(fn, error):
    bad = torch.tensor([[1] * 9, [6] * 9])  # 6 is past the 6 rows of X
    with pytest.raises(error):
        fn(X, bad)
    torch._dynamo.reset()
    with pytest.raises(error):
        kiln.compile(fn)(X, bad)


def test_masked_scatter_and_its_gradient_match_eager(coverage):
    """The i-th set element of the (broadcast) mask takes source's i-th element; the gradient
    gathers them back, zeros after the last one."""

    def f(x, mask, source):
        return (x.masked_scatter(mask, source * 3) ** 2).sum()

    x = torch.randn(5, 8, generator=GEN)
    source = torch.randn(6, 9, generator=GEN)  # more than x holds
    mask = torch.rand(8, generator=GEN) > 0.4  # broadcast over the rows
    check_with_gradients(f, x, mask, source)
    _, unsupported = coverage()
    assert not any("masked_scatter" in op for op in unsupported), unsupported


def test_masked_scatter_from_a_smaller_source_stays_aten_and_says_why(coverage):
    """Whether a smaller source has enough elements depends on the mask, and eager raises
    where it has not: that stays ATen's to decide."""
    x, mask = torch.randn(4, 6, generator=GEN), torch.rand(4, 6, generator=GEN) > 0.5
    source = torch.randn(int(mask.sum()), generator=GEN)
    check(lambda x, m, s: x.masked_scatter(m, s), x, mask, source)
    _, unsupported = coverage()
    assert "fewer than self" in unsupported["aten.masked_scatter.default"], unsupported
