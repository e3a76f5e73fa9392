"""kiln._C and torch.ops.kiln.launch on hand-made graphs, without the FX backend.

Uses the installed package's kiln._C, or with KILN_PLUGIN_DIR (a folder holding _C*.so and
libkiln_torch.so, such as build-plugin/plugin/kiln) the one built there.
"""

import glob
import importlib.util
import os
import subprocess
import sys
import threading

import pytest
import torch


def _load_extension():
    folder = os.environ.get("KILN_PLUGIN_DIR")
    if not folder:
        from kiln import _C

        return _C
    (path,) = glob.glob(os.path.join(folder, "_C*.so"))
    spec = importlib.util.spec_from_file_location("kiln._C", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


C = _load_extension()
torch.ops.load_library(C.library_path())

F32_4x8 = ("f32", [4, 8], [8, 1], "cpu")


def add_relu_graph(input_strides=(8, 1)):
    """relu(a + 2 * b) over two f32[4, 8] inputs: one fused group of two nodes."""
    g = C.Graph()
    a = g.add_input("f32", [4, 8], list(input_strides), "cpu")
    b = g.add_input("f32", [4, 8], [8, 1], "cpu")
    (s,) = g.add_node("aten.add.Tensor", [C.Value(a), C.Value(b), 2], [F32_4x8])
    (r,) = g.add_node("aten.relu.default", [C.Value(s)], [F32_4x8])
    g.mark_output(r)
    return g


def launch(slot, inputs):
    return torch.ops.kiln.launch(slot, inputs)


def test_fused_group_matches_eager():
    plan = C.compile(add_relu_graph())
    assert len(plan.groups) == 1
    group = plan.groups[0]
    assert group.nodes == [0, 1]
    assert group.inputs == [0, 1]
    assert group.outputs == [3]
    assert group.ops == ["aten.add.Tensor", "aten.relu.default"]
    assert plan.fallback_nodes == [] and plan.unsupported == {}
    assert plan.steps == [("group", 0)]
    assert group.served_by == "Kiln kernel"
    assert C.slot_output_types(group.slot) == [("f32", [4, 8], [8, 1])]

    a, b = torch.randn(4, 8), torch.randn(4, 8)
    (out,) = launch(group.slot, [a, b])
    torch.testing.assert_close(out, torch.relu(a + 2 * b))
    assert out.stride() == (8, 1)


def test_strided_input_view_is_read_in_place():
    """An input compiled for a transposed layout runs on a transposed view of other storage."""
    plan = C.compile(add_relu_graph(input_strides=(1, 4)))
    slot = plan.groups[0].slot
    a = torch.randn(8, 4).t()  # f32[4, 8] with strides (1, 4)
    b = torch.randn(4, 8)
    (out,) = launch(slot, [a, b])
    torch.testing.assert_close(out, torch.relu(a + 2 * b))
    # The same values laid out otherwise are copied into the traced layout, never misread.
    (out,) = launch(slot, [a.contiguous(), b])
    torch.testing.assert_close(out, torch.relu(a + 2 * b))


def test_an_input_that_varies_along_a_traced_broadcast_is_a_named_error():
    # Traced with stride 0 along dimension 0 (an expanded row); no copy can hold other rows.
    plan = C.compile(add_relu_graph(input_strides=(0, 1)))
    slot = plan.groups[0].slot
    row = torch.randn(1, 8)
    (out,) = launch(slot, [row.expand(4, 8), torch.zeros(4, 8)])
    torch.testing.assert_close(out, torch.relu(row.expand(4, 8)))
    with pytest.raises(RuntimeError, match=r"input 0: expected f32\[4, 8\] strides \[0, 1\]"):
        launch(slot, [torch.randn(4, 8), torch.zeros(4, 8)])


@pytest.mark.parametrize(
    "bad, message",
    [
        (
            torch.randn(4, 8, dtype=torch.float64),
            r"input 1: expected f32\[4, 8\] .* got f64\[4, 8\]",
        ),
        (torch.randn(4, 9), r"input 1: expected f32\[4, 8\] .* got f32\[4, 9\]"),
        (torch.randn(4, 8).to(torch.int64), r"input 1: expected f32\[4, 8\] .* got i64\[4, 8\]"),
        (torch.zeros(4, 8, dtype=torch.complex64), r"input 1: .* got ComplexFloat\[4, 8\]"),
    ],
)
def test_mismatched_input_is_a_named_error(bad, message):
    slot = C.compile(add_relu_graph()).groups[0].slot
    with pytest.raises(RuntimeError, match=message):
        launch(slot, [torch.randn(4, 8), bad])


def test_wrong_input_count_and_unknown_slot():
    slot = C.compile(add_relu_graph()).groups[0].slot
    with pytest.raises(RuntimeError, match="takes 2 inputs, got 1"):
        launch(slot, [torch.randn(4, 8)])
    with pytest.raises(RuntimeError, match="kiln slot 999999 does not exist"):
        launch(999999, [torch.randn(4, 8)])


def test_size_one_dims_may_have_any_stride():
    g = C.Graph()
    a = g.add_input("f32", [1, 8], [8, 1], "cpu")
    (r,) = g.add_node("aten.relu.default", [C.Value(a)], [("f32", [1, 8], [8, 1], "cpu")])
    g.mark_output(r)
    slot = C.compile(g).groups[0].slot
    a = torch.randn(8, 1).t()  # f32[1, 8] with strides (1, 1)
    (out,) = launch(slot, [a])
    torch.testing.assert_close(out, torch.relu(a))


def test_unsupported_op_stays_aten():
    g = C.Graph()
    a = g.add_input("f32", [4, 8], [8, 1], "cpu")
    (o,) = g.add_node("opaque", [C.Value(a)], [F32_4x8])
    (r,) = g.add_node("aten.relu.default", [C.Value(o)], [F32_4x8])
    g.mark_output(r)
    plan = C.compile(g)
    assert plan.fallback_nodes == [0]
    assert plan.unsupported == {"opaque": "no Kiln lowering"}
    assert [group.nodes for group in plan.groups] == [[1]]
    assert plan.steps == [("fallback", 0), ("group", 0)]
    assert [(s.kind, s.index) for s in plan.steps] == [("fallback", 0), ("group", 0)]
    assert plan.steps[0] != None and plan.steps[0] != "fallback"


def test_compile_options_are_typed_and_checked():
    options = C.CompileOptions()
    assert (options.contractions, options.tune) == ("fastest", "off")
    options.contractions, options.tune, options.tune_trials = "aten", "cache-only", 8
    assert (options.contractions, options.tune, options.tune_trials) == ("aten", "cache-only", 8)
    with pytest.raises(ValueError, match="contractions must be"):
        options.contractions = "sometimes"
    with pytest.raises(RuntimeError, match="tune must be"):
        options.tune = "always"
    with pytest.raises(TypeError):
        options.tune_trials = "many"
    assert (options.contractions, options.tune) == ("aten", "cache-only")


def test_node_arguments_are_checked():
    g = C.Graph()
    a = g.add_input("f32", [4, 8], [8, 1], "cpu")
    with pytest.raises(TypeError, match="aten.add.Tensor: argument 1"):
        g.add_node("aten.add.Tensor", [C.Value(a), object(), 1], [F32_4x8])
    with pytest.raises(RuntimeError, match="refers to value 7"):
        g.add_node("aten.relu.default", [C.Value(7)], [F32_4x8])
    with pytest.raises(RuntimeError, match="f33"):
        g.add_input("f33", [4], [1], "cpu")


def test_stats_count_calls_and_swaps_under_load():
    """Threads launch a slot while its kernel is swapped: every result is right, every call and
    swap is counted."""
    slot = C.compile(add_relu_graph()).groups[0].slot
    a, b = torch.randn(4, 8), torch.randn(4, 8)
    expected = torch.relu(a + 2 * b)
    threads, calls, swaps = 4, 300, 20
    failures = []

    def run():
        for _ in range(calls):
            (out,) = launch(slot, [a, b])
            if not torch.equal(out, expected):
                failures.append(out)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for _ in range(swaps):
        C._testing.swap_kernel(slot)
    for w in workers:
        w.join()
    assert not failures
    (stats,) = [s for s in C.stats() if s.slot == slot]
    assert stats.calls == threads * calls
    assert stats.version == swaps
    assert stats.ops == "aten.add.Tensor+aten.relu.default"
    assert stats.total_ms > 0 and isinstance(stats.key, int)


def test_repeated_workloads_share_a_kernel_but_not_a_slot():
    first = C.compile(add_relu_graph()).groups[0]
    second = C.compile(add_relu_graph()).groups[0]
    assert first.slot != second.slot
    keys = {s.slot: s.key for s in C.stats()}
    assert keys[first.slot] == keys[second.slot]


def test_doctor_follows_torch_threads():
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert C.doctor().threads == 1
    finally:
        torch.set_num_threads(old)
    report = C.doctor()
    assert report.vector_bits >= 128
    assert report.llvm_version.startswith("19.")
    assert report.kiln_version
    # The CUDA backend says what it found, or why not: never empty, never a crash without a GPU.
    assert "NVRTC" in report.cuda_backend, report.cuda_backend
    assert "(sm_" in report.cuda_backend or "no GPU: " in report.cuda_backend, report.cuda_backend


def test_log_level_names_are_checked():
    C.set_log_level("warning")
    with pytest.raises(RuntimeError, match="unknown log level 'loud'"):
        C.set_log_level("loud")


def test_load_library_alone_in_a_fresh_process():
    """torch.ops.load_library makes the operator available without kiln._C (and so without the
    Python half of Kiln)."""
    code = (
        "import sys, torch\n"
        "torch.ops.load_library(sys.argv[1])\n"
        "print(torch.ops.kiln.launch.default._schema)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, C.library_path()], capture_output=True, text=True, check=True
    )
    assert "kiln::launch(int slot, Tensor[] inputs) -> Tensor[]" in result.stdout


def test_parallel_loops_run_on_torch_threads():
    """Kiln's parallel loops use PyTorch's intra-op pool: launching a parallel kernel starts no
    threads of Kiln's own (its default pool would start one per extra hardware thread)."""
    t = ("f32", [512, 1024], [1024, 1], "cpu")
    g = C.Graph()
    a = g.add_input(*t)
    (r,) = g.add_node("aten.relu.default", [C.Value(a)], [t])
    g.mark_output(r)
    slot = C.compile(g).groups[0].slot
    x = torch.randn(512, 1024)
    torch.relu(x)  # PyTorch starts its pool
    before = len(os.listdir("/proc/self/task"))
    for _ in range(10):
        (out,) = launch(slot, [x])
    assert len(os.listdir("/proc/self/task")) == before
    torch.testing.assert_close(out, torch.relu(x))
