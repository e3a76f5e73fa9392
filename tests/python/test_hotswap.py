"""Swapping kernels behind their slots while threads run the model never changes a result."""

from __future__ import annotations

import threading

import kiln
import torch
from kiln import _C
from models import make


def test_swap_under_load():
    model, x = make("cnn")
    model.eval()
    compiled = kiln.compile(model)
    with torch.no_grad():
        expected = model(x)
        torch.testing.assert_close(compiled(x), expected, rtol=1e-4, atol=1e-4)
    slots = [slot for g in kiln.stats()["graphs"] for slot in g["slots"]]
    assert slots

    stop = threading.Event()
    errors: list[BaseException] = []
    calls_per_thread = 25

    def call() -> None:
        try:
            with torch.no_grad():
                for _ in range(calls_per_thread):
                    torch.testing.assert_close(compiled(x), expected, rtol=1e-4, atol=1e-4)
        except BaseException as e:  # noqa: BLE001  (reported by the main thread)
            errors.append(e)

    swaps = 0

    def swap() -> None:
        nonlocal swaps
        try:
            while not stop.is_set():
                for slot in slots:
                    _C._testing.swap_kernel(slot)
                    swaps += 1
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    versions_before = {s["slot"]: s["version"] for s in kiln.stats()["slots"]}
    swapper = threading.Thread(target=swap)
    callers = [threading.Thread(target=call) for _ in range(4)]
    swapper.start()
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    stop.set()
    swapper.join()

    assert not errors, errors[0]
    after = {s["slot"]: s for s in kiln.stats()["slots"]}
    assert swaps >= len(slots)
    assert all(after[slot]["version"] > versions_before[slot] for slot in slots[:1])
    assert sum(after[slot]["calls"] for slot in slots) >= 4 * calls_per_thread
