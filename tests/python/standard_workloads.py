"""The standard workloads as a script for `kiln tune` (tests and benchmarks/fleet_tuning.py):
ResNet-18's convolutions C1..C12 (batch 1, padding kernel/2), BERT-base's matmuls at sequence
128, its softmax and layer_norm, each compiled with Kiln and run twice. Prints, as JSON after
"slots ", what serves each kernel slot."""

import json

import kiln
import torch
import torch._dynamo
import torch.nn.functional as F

CONVS = [
    (224, 224, 3, 64, 7, 2),
    (56, 56, 64, 64, 3, 1),
    (56, 56, 64, 64, 1, 1),
    (56, 56, 64, 128, 3, 2),
    (56, 56, 64, 128, 1, 2),
    (28, 28, 128, 128, 3, 1),
    (28, 28, 128, 256, 3, 2),
    (28, 28, 128, 256, 1, 2),
    (14, 14, 256, 256, 3, 1),
    (14, 14, 256, 512, 3, 2),
    (14, 14, 256, 512, 1, 2),
    (7, 7, 512, 512, 3, 1),
]
MATMULS = [(128, 2304, 768), (128, 768, 768), (128, 3072, 768), (128, 768, 3072)]


def calls():
    """(function, input shapes) of each workload."""
    for h, w, cin, cout, k, s in CONVS:
        yield (
            (lambda x, wt, s=s, k=k: F.conv2d(x, wt, stride=s, padding=k // 2)),
            [
                (1, cin, h, w),
                (cout, cin, k, k),
            ],
        )
    for m, n, k in MATMULS:
        yield (lambda a, b: a @ b), [(m, k), (k, n)]
    yield (lambda x: torch.softmax(x, dim=-1)), [(12 * 128, 128)]
    yield (lambda x: F.layer_norm(x, (768,))), [(128, 768)]


if __name__ == "__main__":
    # The convolutions share one function (so do the matmuls): each shape is a recompile of it,
    # and Dynamo's default limit (8) would leave the last ones to eager.
    torch._dynamo.config.recompile_limit = 64
    torch.manual_seed(0)
    compiled_calls = []  # kept alive: a slot is freed with its compiled function
    with torch.no_grad():
        for fn, shapes in calls():
            compiled = kiln.compile(fn)
            inputs = [torch.randn(s) for s in shapes]
            compiled(*inputs)
            torch.testing.assert_close(compiled(*inputs), fn(*inputs), atol=1e-3, rtol=1e-3)
            compiled_calls.append(compiled)
    print("slots", json.dumps([s["served_by"] for s in kiln.stats()["slots"]]), flush=True)
