"""Every bundled problem file loads, checks, is listed, and (slow) trains for two steps.

Problem files are user-facing examples: importing one must not train or write anything,
`pinnkit check` must compile it, and `pinnkit problems` must show its one-line summary.
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest

from pinnkit.cli import bundled_problems, main
from pinnkit.problem import Problem
from pinnkit.problem.file import load_problem_file
from tests.helpers import UNFOLLOWED

PROBLEMS_DIR = Path(__file__).resolve().parent.parent / "problems"
PROBLEM_FILES = sorted(p for p in PROBLEMS_DIR.glob("*.py") if not p.name.startswith("_"))
IDS = [p.stem for p in PROBLEM_FILES]


def _summary_line(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def test_problem_files_exist():
    assert PROBLEM_FILES, f"no problem files found in {PROBLEMS_DIR}"


@pytest.mark.parametrize("path", PROBLEM_FILES, ids=IDS)
def test_problem_file_has_summary_line(path):
    line = _summary_line(path)
    assert line, f"{path.name}: the module docstring needs a one-line summary"
    assert len(line) <= 100, f"{path.name}: summary line is {len(line)} characters"


@pytest.mark.parametrize("path", PROBLEM_FILES, ids=IDS)
def test_problem_file_loads_without_side_effects(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    problem, config, source = load_problem_file(path)
    assert isinstance(problem, Problem)
    assert problem.name == path.stem
    assert problem.reference is not None, f"{path.name}: give a `reference=` for error reports"
    assert config is not None, f"{path.name}: give a default `config`"
    assert source == path.read_text()
    assert list(tmp_path.iterdir()) == [], "importing a problem file wrote files"


@pytest.mark.parametrize("path", PROBLEM_FILES, ids=IDS)
def test_check_compiles_problem_file(path, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    problem, _, _ = load_problem_file(path)
    for equation in problem.equations:
        assert equation.name in out
    assert "equations:" in out
    assert list(tmp_path.iterdir()) == [], "`pinnkit check` wrote files"


def test_problems_lists_every_file_with_its_summary(capsys):
    assert set(bundled_problems()) == set(IDS)
    assert main(["problems"]) == 0
    out = capsys.readouterr().out
    for path in PROBLEM_FILES:
        assert any(
            line.split(None, 1)[0] == path.stem and _summary_line(path) in line
            for line in out.splitlines()
        ), f"`pinnkit problems` does not list {path.stem} with its summary"


@pytest.mark.slow
@pytest.mark.filterwarnings(UNFOLLOWED)  # two steps follow no observations
@pytest.mark.parametrize("path", PROBLEM_FILES, ids=IDS)
def test_fit_two_steps(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "runs"
    argv = ["fit", str(path), "--steps", "2", "--set", "lbfgs.steps=2"]
    argv += ["--no-plot", "--quiet", "--device", "cpu", "--out", str(out)]
    assert main(argv) == 0
    (summary_path,) = out.glob("*/*/summary.json")
    summary = json.loads(summary_path.read_text())
    assert summary["steps"] == 4
    assert summary["rel_l2"], f"{path.name}: no error against the reference was reported"
    assert sorted(os.listdir(tmp_path)) == ["runs"], "fit wrote outside --out"
