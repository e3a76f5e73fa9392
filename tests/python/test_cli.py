"""The ``kiln`` command and the backend's registration by name."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest


def _run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)


def _check_doctor(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    for needle in (
        "cpu features",
        "llvm",
        "torch",
        "tuning cache",
        "tuning.sqlite",
        "gpu",
        "NVRTC",
    ):
        assert needle in result.stdout, result.stdout
    assert 'backend "kiln" found by name' in result.stdout, result.stdout
    assert "kiln was built against" in result.stdout, result.stdout
    # The build's identity keys the kernel object cache: a rebuilt Kiln never loads old code.
    assert re.search(r"build-id [0-9a-f]{40}", result.stdout), result.stdout


def test_doctor_module():
    _check_doctor(_run([sys.executable, "-m", "kiln.cli", "doctor"]))


@pytest.mark.skipif(shutil.which("kiln") is None, reason="the kiln console script is not installed")
def test_doctor_console_script():
    _check_doctor(_run([shutil.which("kiln"), "doctor"]))


def test_backend_by_name_without_import():
    script = textwrap.dedent(
        """
        import sys
        import torch

        model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.ReLU())
        x = torch.randn(2, 8)
        assert "kiln" not in sys.modules
        with torch.no_grad():
            torch.testing.assert_close(torch.compile(model, backend="kiln")(x), model(x))
        stats = sys.modules["kiln"].stats()
        assert stats["coverage"] > 0, stats
        print("ok", stats["coverage"])
        """
    )
    result = _run([sys.executable, "-c", script])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok"), result.stdout


def test_an_unknown_log_level_warns_and_kiln_still_loads():
    script = "import warnings, kiln; print('loaded', kiln.__version__)"
    result = subprocess.run(
        [sys.executable, "-W", "always", "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "KILN_LOG": "verbose"},
    )
    assert result.returncode == 0, result.stderr
    assert "loaded" in result.stdout
    assert result.stderr.count("KILN_LOG='verbose' is not one of") == 1, result.stderr


def test_python_dash_m_kiln_and_version():
    import kiln

    result = _run([sys.executable, "-m", "kiln", "--version"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"kiln {kiln.__version__}"
    _check_doctor(_run([sys.executable, "-m", "kiln", "doctor"]))


def test_a_build_for_another_torch_refuses_to_load_and_says_how_to_rebuild():
    import kiln
    import torch

    script = "import torch; torch.__version__ = '0.0.1'; import kiln"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode != 0
    assert "TorchVersionMismatch" in result.stderr, result.stderr
    assert f"built against torch {torch.__version__}" in result.stderr, result.stderr
    assert "imports torch 0.0.1" in result.stderr and "--force-reinstall" in result.stderr
    assert kiln._BUILT_WITH_TORCH == torch.__version__


def test_report_with_nothing_to_plot_says_so_and_writes_no_file(tmp_path):
    png = tmp_path / "report.png"
    cache = tmp_path / "cache"
    cache.mkdir()
    result = _run(
        [sys.executable, "-m", "kiln.cli", "report", "--dir", str(cache), "--out", str(png)]
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "holds no tuning records of this machine" in result.stderr, result.stderr
    assert "Warning" not in result.stderr, result.stderr
    assert not png.exists()
