"""The CLI: each bad input gives one clear message and exit code 2; fit/resume/check/plot work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pinnkit.cli import main

HEADER = """
import sympy as sp
import pinnkit as pk
x, t = sp.symbols("x t")
u = sp.Function("u")(x, t)
"""

GOOD = (
    HEADER
    + """
problem = pk.Problem(
    name="tiny", domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1), fields=[u],
    equations=[sp.Eq(u.diff(t), u.diff(x, 2) / 10)],
    conditions=[pk.Initial(u, sp.sin(sp.pi * x)), pk.Dirichlet(u, 0)],
    reference=pk.reference.Exact({u: sp.exp(-sp.pi**2 * t / 10) * sp.sin(sp.pi * x)}),
)
config = pk.Config(steps=20, model=pk.MLP(width=8, depth=2), log_every=10, checkpoint_every=10,
                   sampling=pk.Sampling(interior=64, boundary=16, initial=16))
"""
)

BAD = {
    "undeclared symbol": (
        HEADER + 'D = pk.Parameter("D")\nproblem = pk.Problem(domain=pk.Interval(x, 0, 1) * '
        "pk.TimeInterval(t, 0, 1), fields=[u], equations=[sp.Eq(u.diff(t), "
        'sp.Symbol("d") * u.diff(x, 2) + D)])\n',
        r'equation "eq0": symbol `d` is free but is not a coordinate, field or Parameter\. '
        r"Did you mean `D`\?",
    ),
    "derivative in a non-coordinate": (
        HEADER + 'y = sp.Symbol("y")\nproblem = pk.Problem(domain=pk.Interval(x, 0, 1) * '
        "pk.TimeInterval(t, 0, 1), fields=[u], "
        "equations=[sp.Eq(u.diff(t), sp.Derivative(u, y))])\n",
        r"derivative .* is taken in `y`, which is not a coordinate",
    ),
    "field of a non-coordinate": (
        HEADER + 'y = sp.Symbol("y")\nv = sp.Function("v")(x, y, t)\nproblem = pk.Problem('
        "domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1), fields=[v], "
        "equations=[sp.Eq(v.diff(t), v.diff(y))])\n",
        r"field v\(x, y, t\) takes \(x, y, t\), but the domain's coordinates are \(x, t\)",
    ),
    "condition outside the domain": (
        HEADER + "problem = pk.Problem(domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1), "
        "fields=[u], equations=[sp.Eq(u.diff(t), u.diff(x, 2))], "
        "conditions=[pk.Dirichlet(u, 0, on=sp.Eq(x, 2))])\n",
        r"`x = 2` is not on the boundary",
    ),
    "missing problem object": (HEADER + "prob = 1\n", r"the file defines no `problem`"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_problem_files_give_one_clear_error(tmp_path, capsys, case):
    source, pattern = BAD[case]
    path = tmp_path / "bad.py"
    path.write_text(source)
    code = main(["check", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    assert err.startswith(f"ProblemError: {path}: ")
    assert len(err.strip().splitlines()) <= 3
    import re

    assert re.search(pattern, err), err


def test_misspelled_set_key(tmp_path, capsys):
    path = tmp_path / "good.py"
    path.write_text(GOOD)
    code = main(["fit", str(path), "--set", "optimizer.learning_rat=1e-3", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "Did you mean `learning_rate`" in err
    assert not (tmp_path / "tiny").exists(), "a bad --set must fail before creating a run"


def test_debug_shows_the_traceback(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text(BAD["missing problem object"][0])
    from pinnkit.errors import ProblemError

    with pytest.raises(ProblemError):
        main(["--debug", "check", str(path)])


def test_fit_resume_plot_and_check(tmp_path, capsys):
    path = tmp_path / "good.py"
    path.write_text(GOOD)
    assert (
        main(
            [
                "fit",
                str(path),
                "--out",
                str(tmp_path / "runs"),
                "--quiet",
                "--no-plot",
                "--seed",
                "3",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    run_dir = Path(out.splitlines()[0].split(": ", 1)[1])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["steps"] == 20 and summary["seed"] == 3
    # "auto" records what it chose per region: Taylor mode would carry u, u_x, u_t, u_xx (4
    # rows), autograd takes 1 + 2 passes; 4 > 1.25 x 3, so autograd.
    assert summary["engine"] == "auto" and summary["engines"]["interior"] == "autograd"
    assert summary["engines"]["initial"] == "forward pass"
    assert "relative L2 of u" in out
    assert main(["fit", "--resume", str(run_dir), "--steps", "30", "--no-plot"]) == 0
    assert json.loads((run_dir / "summary.json").read_text())["steps"] == 30
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "derivatives: u_t, u_xx" in out
    assert "intermediate: u, u_x" in out
    assert main(["plot", str(run_dir.parent)]) == 2  # the problem's folder: names the run
    assert f"it holds 1 run directory ({run_dir.name}). Fix: name one, e.g. the last: " in (
        capsys.readouterr().err
    )
    assert main(["plot", str(run_dir)]) == 0
    assert (run_dir / "figures" / "solution.png").stat().st_size > 0


def test_resume_refuses_changed_settings(tmp_path, capsys):
    assert main(["fit", "--resume", str(tmp_path), "--seed", "2"]) == 2
    assert "only --steps may change" in capsys.readouterr().err


def test_problems_lists_bundled_files(capsys):
    assert main(["problems"]) == 0
    assert "burgers" in capsys.readouterr().out


def test_unknown_bundled_problem_name(capsys):
    assert main(["check", "burger"]) == 2
    assert "Did you mean `burgers`" in capsys.readouterr().err


def test_check_shows_the_engine_auto_picks_and_why(capsys):
    assert main(["check", "burgers"]) == 0
    out = capsys.readouterr().out
    assert "engine: autograd (Taylor mode carries 4 partials, autograd makes 3 passes" in out
    assert main(["check", "burgers", "--set", "compile=true"]) == 0
    out = capsys.readouterr().out
    assert "under torch.compile" in out and "engine: taylor (compile=True needs" in out
    assert main(["check", "burgers", "--set", "engine=taylor"]) == 0
    assert "Compiled with the taylor engine" in capsys.readouterr().out
