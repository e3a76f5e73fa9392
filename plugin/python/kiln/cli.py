"""The ``kiln`` command. ``kiln doctor`` prints what Kiln sees of this machine and setup."""

from __future__ import annotations

import argparse
import sys


def doctor() -> int:
    """Prints the target, versions, cache, GPU and whether torch.compile finds the backend."""
    import torch
    import torch._dynamo

    import kiln
    from kiln import _C

    info = _C.doctor()
    gpu = (
        f"{torch.cuda.get_device_name(0)} (torch.cuda, {torch.cuda.device_count()} device(s))"
        if torch.cuda.is_available()
        else "none (torch.cuda.is_available() is False)"
    )
    found = "kiln" in torch._dynamo.list_backends()
    rows = [
        ("kiln", f"{kiln.__version__} ({kiln.__file__})"),
        ("library", _C.library_path()),
        ("cpu", info["cpu"]),
        ("cpu features", " ".join(f[1:] for f in info["features"].split(",") if f[:1] == "+")),
        ("vector bits", str(info["vector_bits"])),
        (
            "threads",
            f"{info['threads']} (torch.get_num_threads() = {torch.get_num_threads()}); a parallel "
            f"loop just ran on {info['parallel_loop_threads']}",
        ),
        ("llvm", info["llvm_version"]),
        ("torch", torch.__version__),
        ("tuning cache", "no tuning cache yet"),
        ("gpu", gpu),
        (
            "torch.compile",
            'backend "kiln" found by name'
            if found
            else 'backend "kiln" NOT found: is the package installed with its entry point?',
        ),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0 if found else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``kiln`` console script."""
    parser = argparse.ArgumentParser(prog="kiln", description="Kiln, a tensor compiler for PyTorch")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("doctor", help="check the setup: target, LLVM, torch, GPU, backend")
    args = parser.parse_args(argv)
    return {"doctor": doctor}[args.command]()


if __name__ == "__main__":
    sys.exit(main())
