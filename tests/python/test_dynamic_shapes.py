"""Graphs with symbolic sizes stay in Kiln's kernels: plain torch.compile after a shape change and
dynamic=True compile one static specialization per concrete shape, without Dynamo recompiles."""

from __future__ import annotations

import gc
import threading

import kiln
import kiln.specialize
import pytest
import torch
import torch._dynamo
from models import make
from torch import nn

#: model → the shapes it is called with, in turn (batch sizes; sequence lengths for transformers).
#: No size is 1: Dynamo specializes sizes 0 and 1 into a graph of their own (a third compile);
#: and a dimension that starts to vary after the first recompile costs one more (the transformers'
#: batch and sequence length both change at the second call).
SHAPES = {
    "mlp": [(8, 64), (5, 64), (12, 64), (2, 64)],
    "cnn": [(2, 3, 16, 16), (3, 3, 16, 16), (5, 3, 16, 16), (4, 3, 16, 16)],
    "transformer": [(2, 16, 64), (3, 9, 64), (5, 24, 64), (4, 12, 64)],
    "gpt2": [(2, 16, 64), (3, 9, 64), (5, 24, 64), (4, 12, 64)],
}


def _compiled_graphs() -> int:
    return torch._dynamo.utils.counters["stats"]["unique_graphs"]


def _launches() -> int:
    return sum(slot["calls"] for slot in kiln.stats()["slots"])


@pytest.fixture(autouse=True)
def _fresh_dynamo():
    torch._dynamo.reset()
    gc.collect()  # frees the slots of earlier tests' graphs now, not between two counts below
    torch._dynamo.utils.counters.clear()
    kiln.reset_stats()
    torch.backends.mha.set_fastpath_enabled(False)
    yield
    torch.backends.mha.set_fastpath_enabled(True)
    torch._dynamo.reset()


@pytest.mark.parametrize("dynamic", [None, True], ids=["automatic", "dynamic=True"])
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_every_shape_runs_in_kiln_kernels(name, dynamic):
    model, _ = make(name)
    model.eval()
    compiled = torch.compile(model, backend="kiln", dynamic=dynamic)
    with torch.no_grad():
        for shape in SHAPES[name] + SHAPES[name][:1]:
            x = torch.randn(shape)
            before = _launches()
            torch.testing.assert_close(compiled(x), model(x), rtol=1e-4, atol=1e-4)
            assert _launches() > before, f"{shape}: no Kiln kernel ran"
    graphs = kiln.stats()["graphs"]
    assert all(g["compute_coverage"] >= 0.9 for g in graphs), graphs
    assert _compiled_graphs() <= 2
    # One static graph per shape at most, plus the first, static compile of automatic dynamic.
    assert len(graphs) <= len(SHAPES[name]) + (dynamic is None)


def test_training_with_dynamic_batch_matches_eager():
    model, _ = make("cnn")
    reference = make("cnn")[0]
    compiled = torch.compile(model, backend="kiln", dynamic=True)
    for batch in (2, 3, 5):
        x = torch.randn(batch, 3, 16, 16)
        compiled(x).square().sum().backward()
        reference(x).square().sum().backward()
        for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=True):
            torch.testing.assert_close(p.grad, q.grad, rtol=1e-3, atol=1e-4, msg=name)
    backward = [g for g in kiln.stats()["graphs"] if g["kind"] == "backward"]
    assert [g["shape"] != "" for g in backward] == [True] * 3
    assert all(g["compute_coverage"] >= 0.9 for g in backward), backward


def test_specializations_are_bounded_and_release_their_slots(monkeypatch):
    monkeypatch.setattr(kiln.specialize, "SPECIALIZATIONS", 2)
    model = nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 8)).eval()
    compiled = torch.compile(model, backend="kiln", dynamic=True)

    def call(batch: int) -> int:
        x = torch.randn(batch, 16)
        with torch.no_grad():
            torch.testing.assert_close(compiled(x), model(x))
        gc.collect()
        return len(kiln.stats()["slots"])

    slots_for_two = (call(3), call(5))[1]
    assert call(7) == slots_for_two  # the shape 3 was dropped, and its slots freed
    shapes = [g["shape"] for g in kiln.stats()["graphs"]]
    call(3)
    assert [g["shape"] for g in kiln.stats()["graphs"]][len(shapes) :] == [shapes[0]]


def test_a_graph_with_data_dependent_sizes_runs_as_aten(kiln_log):
    def positive_mean(x: torch.Tensor) -> torch.Tensor:
        return x[x > 0].mean() + x

    compiled = torch.compile(positive_mean, backend="kiln", dynamic=True)
    with torch._dynamo.config.patch(capture_dynamic_output_shape_ops=True):
        for batch in (3, 3, 4):
            x = torch.randn(batch, 8)
            torch.testing.assert_close(compiled(x), positive_mean(x))
    assert any("depends on the data" in m for m in kiln_log.messages), kiln_log.messages
    reasons = [g["reason"] for g in kiln.stats()["graphs"]]
    assert len(reasons) == 2 and all(r.startswith("data-dependent sizes") for r in reasons)


def test_threads_meeting_new_shapes_at_once_get_correct_outputs():
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 8)).eval()
    compiled = torch.compile(model, backend="kiln", dynamic=True)
    with torch.no_grad():  # Dynamo's own compile, alone: Dynamo does not compile thread-safely
        compiled(torch.randn(2, 16))
    batches = [3, 5, 7, 3, 5, 7, 9, 3]
    errors: list[str] = []

    def serve(seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        for batch in batches[seed % 3 :] + batches[: seed % 3]:
            x = torch.randn(batch, 16, generator=generator)
            with torch.no_grad():
                if not torch.allclose(compiled(x), model(x), rtol=1e-4, atol=1e-5):
                    errors.append(f"thread {seed}, batch {batch}")

    threads = [threading.Thread(target=serve, args=(seed,)) for seed in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    shapes = [g["shape"] for g in kiln.stats()["graphs"]]
    assert len(shapes) == len(set(shapes)) == 5  # each shape specialized once
