"""Runs op_case_dump once per session and hands its manifest to torch_reference_test.py."""

import json
import pathlib
import subprocess
import tempfile


def pytest_addoption(parser):
    parser.addoption("--dump-exe", required=True, help="path to the op_case_dump executable")


def pytest_configure(config):
    directory = pathlib.Path(tempfile.mkdtemp(prefix="kiln_op_cases_"))
    subprocess.run([config.getoption("dump_exe"), str(directory)], check=True)
    config._kiln_dump_dir = directory
    config._kiln_cases = json.loads((directory / "manifest.json").read_text())
