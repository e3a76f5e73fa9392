"""Replays every op case (dumped by op_case_dump with the interpreter's outputs) through PyTorch
eager and checks that the interpreter matches it: the proof that the op library's compute
definitions have PyTorch's semantics (broadcasting, type promotion, rounding, layouts)."""

import pytest
import torch

DTYPES = {
    "bool": torch.bool,
    "i8": torch.int8,
    "i16": torch.int16,
    "i32": torch.int32,
    "i64": torch.int64,
    "f16": torch.float16,
    "bf16": torch.bfloat16,
    "f32": torch.float32,
    "f64": torch.float64,
}


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        cases = metafunc.config._kiln_cases
        metafunc.parametrize("case", cases, ids=[c["name"] for c in cases])


def load_tensor(directory, spec):
    """The dumped tensor with its exact strides and storage offset."""
    raw = bytearray((directory / spec["file"]).read_bytes())
    dtype = DTYPES[spec["dtype"]]
    storage = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
    return torch.as_strided(storage, spec["shape"], spec["strides"], spec["offset"])


def decode_arg(arg, inputs):
    if isinstance(arg, dict):
        if "input" in arg:
            return inputs[arg["input"]]
        if "tensors" in arg:
            return [None if t is None else inputs[t["input"]] for t in arg["tensors"]]
        if "float" in arg:
            return float(arg["float"])
        if "int" in arg:
            return int(arg["int"])
        if "dtype" in arg:
            return DTYPES[arg["dtype"]]
        raise ValueError(f"unknown argument {arg}")
    return arg  # None, bool, str, list of ints


def aten_op(name):
    namespace, op, overload = name.split(".")
    return getattr(getattr(getattr(torch.ops, namespace), op), overload)


def call(op, args):
    """Calls op with the positional, complete argument list, passing keyword-only ones by name."""
    positional, keywords = [], {}
    for schema_arg, value in zip(op._schema.arguments, args, strict=True):
        if schema_arg.kwarg_only:
            keywords[schema_arg.name] = value
        else:
            positional.append(value)
    return op(*positional, **keywords)


#: Ops whose result values eager leaves unspecified: only their dtype and shape compare.
UNSPECIFIED_VALUES = {"aten.empty.memory_format"}


def test_case_matches_torch(case, dump_dir):
    inputs = [load_tensor(dump_dir, s) for s in case["inputs"]]
    args = [decode_arg(a, inputs) for a in case["args"]]
    expected = call(aten_op(case["op"]), args)
    if isinstance(expected, torch.Tensor):
        expected = (expected,)
    actual = [load_tensor(dump_dir, s) for s in case["outputs"]]
    assert len(actual) == len(expected)
    for k, (got, want) in enumerate(zip(actual, expected)):
        assert got.dtype == want.dtype, f"output {k}: dtype {got.dtype}, torch gives {want.dtype}"
        assert got.shape == want.shape, f"output {k}: shape {got.shape}, torch gives {want.shape}"
        if case["op"] in UNSPECIFIED_VALUES:
            continue
        torch.testing.assert_close(
            got,
            want,
            atol=case["atol"],
            rtol=case["rtol"],
            equal_nan=True,
            msg=lambda m, k=k: f"{case['name']} output {k}: {m}",
        )


@pytest.fixture(scope="session")
def dump_dir(request):
    return request.config._kiln_dump_dir
