"""The folder map in docs/architecture.md is the tree's: every folder it names exists, every source
file lives in a folder it names, every `#include` of a repository header keeps to the table's
"may use" column, a header whose opening comment says "Private to <folder>" is included only from
that folder (and its tests), and no source file grows past the length a reader can hold."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAP = ROOT / "docs" / "architecture.md"
MAX_LINES = 500
SOURCE = re.compile(r"\.(h|cpp|py|sh)$")


def folder_map() -> dict[str, set[str] | None]:
    """Folder -> the folders it may use (None: everything), from the table under "Folders"."""
    rules: dict[str, set[str] | None] = {}
    for line in MAP.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not re.fullmatch(r"`[^`]+`", cells[0]):
            continue
        uses = cells[2]
        rules[cells[0].strip("`")] = (
            None if uses == "everything" else set(re.findall(r"`([^`]+)`", uses))
        )
    return rules


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.split()


def repo_includes(path: str):
    """(line number, header) of each `#include "…"` in `path` that names a path."""
    for n, line in enumerate((ROOT / path).read_text(errors="replace").splitlines(), 1):
        m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
        if m and "/" in m.group(1):
            yield n, m.group(1)


def owner(path: str, folders) -> str | None:
    """The most specific mapped folder that holds `path`."""
    best = None
    for f in folders:
        if path.startswith(f + "/") and (best is None or len(f) > len(best)):
            best = f
    return best


def test_the_map_names_folders_that_exist_and_only_those_it_may_use():
    rules = folder_map()
    assert len(rules) >= 10, (
        f"the folder table in {MAP} was not found or lost rows: {sorted(rules)}"
    )
    missing = [f for f in rules if not (ROOT / f).is_dir()]
    assert not missing, f"docs/architecture.md names folders that do not exist: {missing}"
    unknown = {u for uses in rules.values() if uses for u in uses} - set(rules)
    assert not unknown, (
        f"the 'may use' column names folders the table does not list: {sorted(unknown)}"
    )


def test_every_source_file_lives_in_a_mapped_folder():
    rules = folder_map()
    unmapped = [
        p
        for p in tracked_files()
        if SOURCE.search(p) and "/" in p and not p.startswith(".ci/") and owner(p, rules) is None
    ]
    assert not unmapped, f"source files outside every folder of docs/architecture.md: {unmapped}"


def test_includes_keep_to_the_folder_map():
    rules = folder_map()
    violations = []
    for path in tracked_files():
        if not re.search(r"\.(h|cpp)$", path):
            continue
        mine = owner(path, rules)
        allowed = rules.get(mine) if mine else set()
        if allowed is None:
            continue
        for n, header in repo_includes(path):
            theirs = owner(header, rules)
            if theirs is not None and theirs != mine and theirs not in allowed:
                violations.append(f"{path}:{n} includes {header} ({mine} may not use {theirs})")
    assert not violations, "\n".join(violations)


def private_folder(header: Path) -> str | None:
    """The folder a header's opening comment keeps it to ("Private to core/graph."), if any."""
    for line in header.read_text(errors="replace").splitlines():
        if not line.startswith("//"):
            break
        m = re.search(r"Private to ([\w/]+)", line)
        if m:
            return m.group(1).rstrip("/")
    return None


def test_private_headers_stay_in_their_folder():
    files = tracked_files()
    private = {p: private_folder(ROOT / p) for p in files if p.endswith(".h")}
    private = {p: f for p, f in private.items() if f}
    assert private, "no header says 'Private to <folder>': the marker this test reads changed"
    unknown = {f for f in private.values() if not (ROOT / f).is_dir()}
    assert not unknown, f"headers are private to folders that do not exist: {sorted(unknown)}"
    leaks = []
    for path in files:
        if not re.search(r"\.(h|cpp)$", path) or path.startswith("tests/"):
            continue  # a part's tests may reach its private headers
        for n, header in repo_includes(path):
            folder = private.get(header)
            if folder and not path.startswith(folder + "/"):
                leaks.append(f"{path}:{n} includes {header}, private to {folder}")
    assert not leaks, "\n".join(leaks)


def test_no_source_file_is_longer_than_a_reader_can_hold():
    long = []
    for path in tracked_files():
        if SOURCE.search(path) and not path.startswith("benchmarks/results/"):
            lines = (ROOT / path).read_text(errors="replace").count("\n")
            if lines > MAX_LINES:
                long.append(f"{path}: {lines} lines")
    assert not long, f"split these files (at most {MAX_LINES} lines each): {long}"
