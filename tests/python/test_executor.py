"""The C++ graph executor (kiln.executor): compiled graphs run as one C++ call, with the results,
errors, gradients and aliasing that the same graph gives as FX code and eager gives."""

from __future__ import annotations

import threading

import kiln
import pytest
import torch
from torch import nn


def runs_as() -> list[str]:
    return [g["runs_as"] for g in kiln.stats()["graphs"]]


class Mixed(nn.Module):
    """Kiln kernels around ATen ops of every shape of result: sort (two results, one read),
    topk (both read), split (a list), a tensor constant, and an input returned as it is."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(16, 16)

    def forward(self, x: torch.Tensor) -> tuple:
        y = torch.relu(self.fc(x))
        values, _ = torch.sort(y, dim=-1)
        top, where = torch.topk(y, 3, dim=-1)
        a, b = torch.split(y * 2, [6, 10], dim=-1)
        scale = torch.tensor([1.5, -2.0, 0.25])
        z = top * scale + where.to(y.dtype) + values[:, :3].exp()
        return z, a.sum(-1), b.tanh(), x


@pytest.mark.parametrize("executor", ["cpp", "fx"])
def test_results_match_eager(executor):
    torch.manual_seed(0)
    model, x = Mixed(), torch.randn(8, 16)
    with torch.no_grad():
        want = model(x)
        got = kiln.compile(model, executor=executor)(x)
    torch.testing.assert_close(got, want)
    assert got[3] is x  # an input returned as it is stays that tensor
    assert runs_as() == ["cpp" if executor == "cpp" else "fx: the option executor='fx'"]


def test_training_matches_eager():
    torch.manual_seed(0)
    model, x = Mixed(), torch.randn(8, 16, requires_grad=True)
    compiled = kiln.compile(model)
    for _ in range(2):  # a second call runs the same executors
        out = compiled(x)
        (out[0].sum() + out[1].sum() + out[2].square().sum()).backward()
        grads = [x.grad, model.fc.weight.grad, model.fc.bias.grad]
        x.grad = model.fc.weight.grad = model.fc.bias.grad = None
        want = model(x)
        (want[0].sum() + want[1].sum() + want[2].square().sum()).backward()
        torch.testing.assert_close(grads, [x.grad, model.fc.weight.grad, model.fc.bias.grad])
        x.grad = model.fc.weight.grad = model.fc.bias.grad = None
    assert runs_as() == ["cpp", "cpp"]  # forward and backward


def raised(fn, *args) -> BaseException:
    with pytest.raises(Exception) as info:
        fn(*args)
    return info.value


def test_a_launch_check_raises_as_eager():
    """A launch's index check reaches Python with eager's exception type."""

    def gather(x, index):
        return torch.gather(x.exp(), 1, index) * 2

    x, good = torch.randn(4, 5), torch.randint(0, 5, (4, 3))
    compiled = kiln.compile(gather)
    torch.testing.assert_close(compiled(x, good), gather(x, good))
    want, got = raised(gather, x, good + 5), raised(compiled, x, good + 5)
    assert type(got) is type(want), (got, want)
    assert "out of bounds" in str(got)
    assert runs_as() == ["cpp"]


def test_an_aten_error_raises_as_eager():
    """An ATen step's error (cholesky of a matrix that is not positive definite) too."""

    def f(x):
        return torch.linalg.cholesky(x.exp() - 1) * 2

    spd = torch.eye(3) * 0.5
    compiled = kiln.compile(f)
    torch.testing.assert_close(compiled(spd), f(spd))
    bad = -torch.ones(3, 3)
    want, got = raised(f, bad), raised(compiled, bad)
    assert type(got) is type(want), (got, want)
    assert runs_as() == ["cpp"]


def test_a_mutated_input_is_written():
    """AOTAutograd's copy_ back into a mutated input is an ATen step like any other."""

    def f(x, buf):
        buf.add_(x.relu())
        return buf * 2

    x, buf, buf_eager = torch.randn(6), torch.zeros(6), torch.zeros(6)
    compiled = kiln.compile(f)
    out = compiled(x, buf)
    want = f(x, buf_eager)
    torch.testing.assert_close(out, want)
    torch.testing.assert_close(buf, buf_eager)


def test_threads_call_at_once():
    torch.manual_seed(0)
    model, x = Mixed().eval(), torch.randn(8, 16)
    compiled = kiln.compile(model)
    with torch.no_grad():
        want = model(x)
        compiled(x)
    errors = []

    def call():
        try:
            with torch.no_grad():
                for _ in range(50):
                    torch.testing.assert_close(compiled(x)[:3], want[:3])
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


def test_unknown_executor_option_is_refused():
    with pytest.raises(Exception, match="executor='python'; expected 'cpp' or 'fx'"):
        kiln.compile(nn.ReLU(), executor="python")(torch.randn(2))


def test_executor_refuses_what_it_cannot_run():
    """A plan naming a value no step wrote, or an operator with the wrong count of arguments, is
    an error at build time, never a wrong call."""
    from kiln import _C

    ex = _C.GraphExecutor(1)
    with pytest.raises(RuntimeError, match="value 5"):
        ex.add_aten("aten::relu", "", (_C.Value(5),), {}, [1])
    with pytest.raises(TypeError, match="takes 1 arguments"):
        ex.add_aten("aten::relu", "", (_C.Value(0), 1), {}, [1])
    with pytest.raises(RuntimeError, match="written twice"):
        ex.add_aten("aten::relu", "", (_C.Value(0),), {}, [1])
        ex.add_aten("aten::relu", "", (_C.Value(0),), {}, [1])
    ex.set_outputs([1, -1])
    x = torch.randn(3)
    out = ex.run([x])
    torch.testing.assert_close(out[0], x.relu())
    assert out[1] is None
    with pytest.raises(RuntimeError, match="takes 1 inputs, got 2"):
        ex.run([x, x])


def test_each_value_is_dropped_after_its_last_reader():
    from kiln import _C

    ex = _C.GraphExecutor(1)
    ex.add_aten("aten::relu", "", (_C.Value(0),), {}, [1])
    ex.add_aten("aten::neg", "", (_C.Value(1),), {}, [2])
    ex.add_aten("aten::add", "Tensor", (_C.Value(1), _C.Value(2)), {"alpha": 2}, [3])
    ex.add_aten("aten::mul", "Tensor", (_C.Value(3), _C.Value(3)), {}, [4])
    ex.set_outputs([4, 3])
    assert str(ex).splitlines() == [
        "%1 = aten::relu(%0)  # then drop %0",
        "%2 = aten::neg(%1)",
        "%3 = aten::add.Tensor(%1, %2, 2)  # then drop %1, %2",  # %3 is returned: kept
        "%4 = aten::mul.Tensor(%3, %3)",
        "return (%4, %3)",
    ]
    x = torch.randn(5)
    y = x.relu() + 2 * -x.relu()
    torch.testing.assert_close(ex.run([x]), (y * y, y))


@pytest.mark.parametrize("name", ["mlp", "cnn", "resnet18", "transformer", "gpt2", "decoder_lm"])
def test_standard_models_run_in_the_executor(name):
    """Inference and training graphs alike: no node of theirs needs FX."""
    from models import make

    model, x = make(name)
    compiled = kiln.compile(model)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), model(x), rtol=1e-4, atol=1e-4)
    if x.is_floating_point():
        x.requires_grad_(True)
    compiled(x).sum().backward()
    assert runs_as() == ["cpp"] * 3, runs_as()  # inference, forward, backward


def test_a_number_where_a_tensor_goes_is_a_wrapped_number():
    """As torch.ops takes it from Python: div(int32 tensor, 2.5) is float32, not float64."""
    from kiln import _C

    ex = _C.GraphExecutor(1)
    ex.add_aten("aten::div", "Tensor_mode", (_C.Value(0), 2.5), {"rounding_mode": "floor"}, [1])
    ex.set_outputs([1])
    x = torch.arange(-6, 6, dtype=torch.int32)
    (got,) = ex.run([x])
    want = torch.ops.aten.div.Tensor_mode(x, 2.5, rounding_mode="floor")
    assert got.dtype == want.dtype == torch.float32
    torch.testing.assert_close(got, want)


def test_training_with_symbolic_sizes_runs_in_the_executor():
    """The forward graph of a shape specialized from a symbolic one returns sizes (ints) that its
    backward reads: constants of the plan."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(5))
    model(torch.randn(2, 3, 8, 8))
    compiled = torch.compile(model, backend="kiln", dynamic=True)
    for batch in (2, 3):
        x = torch.randn(batch, 3, 8, 8, requires_grad=True)
        compiled(x).square().sum().backward()
        grad = x.grad
        x.grad = None
        model(x).square().sum().backward()
        torch.testing.assert_close(grad, x.grad, rtol=1e-4, atol=1e-5)
    assert runs_as() and set(runs_as()) == {"cpp"}, runs_as()
