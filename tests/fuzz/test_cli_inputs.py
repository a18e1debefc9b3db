"""The corpus of bad command-line, config and run-directory input: each case exits 2 with one
message naming the culprit, no traceback, and leaves no run directory behind; damaged,
edited, foreign and unfinished runs are refused with what to do."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from pinnkit.cli import main
from pinnkit.integrity import RunLock
from tests.fuzz.problem_files import GOOD, HEADER

SMALL = (
    "config = pk.Config(steps=20, model=pk.MLP(width=8, depth=1), progress=False, "
    "sampling=pk.Sampling(interior=64, boundary=8, initial=8), eval_every=10, "
    "checkpoint_every=10)\n"
)
SOURCE = HEADER + GOOD + SMALL


def _run(argv: list[str], capsys) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


def _assert_one_error(code: int, err: str, pattern: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err, err
    assert re.match(r"^[A-Za-z]+Error: ", err.strip().splitlines()[0]), err
    assert re.search(pattern, err, re.IGNORECASE | re.DOTALL), err


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished 20-step run of the heat problem, made by this user's `pinnkit fit`."""
    root = tmp_path_factory.mktemp("runs")
    (root / "heat.py").write_text(SOURCE)
    assert main(["fit", str(root / "heat.py"), "--out", str(root / "runs"), "--no-plot"]) == 0
    (run,) = (root / "runs" / "problem").iterdir()
    return run


# -- options of a new run: refused before any directory exists --------------------------------

SET_CASES = [
    (["--set", 'weights={"eq0": "abc"}'], r"weights\.eq0='abc': expected a number"),
    (["--set", 'weights={"eq0": -1}'], r"weights\.eq0=-1 is out of range"),
    (["--set", 'weights={"nosuch": 1}'], r"no loss term named 'nosuch'"),
    (["--set", "lbfgs.history=0"], r"lbfgs\.history=0 is out of range"),
    (["--set", "seed=-1"], r"seed=-1 is out of range"),
    (["--seed", "-1"], r"seed=-1 is out of range"),
    (["--set", "steps=1e99"], r"steps=1e\+99 is out of range"),
    (["--steps", "-5"], r"steps=-5 is out of range"),
    (["--set", "sampling.interior=0"], r"sampling\.interior=0 is out of range"),
    (["--set", "sampling.interior=-10"], r"sampling\.interior=-10 is out of range"),
    (["--set", "lbfgs.points=0"], r"lbfgs\.points=0(\.0)? is out of range"),
    (["--set", "sampling.resample_every=-1"], r"resample_every=-1 is out of range"),
    (["--set", "lbfgs.steps=-3"], r"lbfgs\.steps=-3 is out of range"),
    (["--set", "optimizer.learning_rate=Infinity"], r"learning_rate=inf is out of range"),
    (["--set", "optimizer.learning_rate=NaN"], r"learning_rate=nan is out of range"),
    (["--set", "model.width=abc"], r"model\.width"),
    (["--set", "nosuchkey=1"], r"nosuchkey"),
    (["--set", "model.nosuch=1"], r"nosuch"),
    (["--set", 'stages=[{"type": "Nope"}]'], r"unknown spec type 'Nope'"),
    (["--set", "steps"], r"KEY=VALUE|="),
    (["--config", "nosuch"], r"no config named 'nosuch'"),
    (["--device", "cuda:7"], r"cuda"),
    (["--trust"], r"--trust and --force apply to `--resume"),
]


@pytest.mark.parametrize(("extra", "pattern"), SET_CASES, ids=[" ".join(c[0]) for c in SET_CASES])
def test_a_bad_option_is_refused_and_writes_nothing(tmp_path, capsys, extra, pattern):
    (tmp_path / "heat.py").write_text(SOURCE)
    out = tmp_path / "runs"
    code, err = _run(["fit", str(tmp_path / "heat.py"), "--out", str(out), *extra], capsys)
    _assert_one_error(code, err, pattern)
    assert not out.exists() or not any(out.rglob("config.json"))


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["fit", "missing_file.py"], r"no such problem file"),
        (["fit", "nosuchproblem"], r"neither a file nor a bundled problem"),
        (["fit", "heat.py", "--resume", "x"], r"--resume continues a run exactly"),
        (["fit", "heat.py", "--out", "heat.py"], r"cannot create the run directory"),
        (["fit", "--resume", "no_such_run"], r"no config\.json"),
        (["plot", "no_such_run"], r"no config\.json|no such"),
        (["discover", "no_such_run"], r"no config\.json"),
    ],
)
def test_bad_paths_are_refused(tmp_path, monkeypatch, capsys, argv, pattern):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "heat.py").write_text(SOURCE)
    code, err = _run(argv, capsys)
    _assert_one_error(code, err, pattern)
    assert not (tmp_path / "runs").exists()


# -- run directories: damaged, edited, foreign, unfinished, busy -------------------------------


def _copy(finished: Path, tmp_path: Path) -> Path:
    run = tmp_path / "copy"
    shutil.copytree(finished, run)
    return run


def _damage(name: str, data: bytes | str | None):
    def apply(run: Path) -> None:
        path = run / name
        if data is None:
            path.unlink()
        elif isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data)

    return apply


def _truncate(run: Path) -> None:
    path = run / "checkpoint.pt"
    path.write_bytes(path.read_bytes()[:200])


def _edit_config(run: Path) -> None:
    data = json.loads((run / "config.json").read_text())
    data["steps"] = "abc"
    (run / "config.json").write_text(json.dumps(data))


def _append(name: str, text: str):
    def apply(run: Path) -> None:
        with open(run / name, "a") as handle:
            handle.write(text)

    return apply


RANDOM = bytes(range(256)) * 8

RUN_CASES = [
    # (name, damage, command (RUN is replaced), pattern)
    ("checkpoint truncated", _truncate, ["fit", "--resume", "RUN", "--trust"], r"checkpoint"),
    ("checkpoint empty", _damage("checkpoint.pt", b""), ["plot", "RUN", "--trust"], r"damaged"),
    ("checkpoint random", _damage("checkpoint.pt", RANDOM), ["plot", "RUN", "--trust"], r"chec"),
    (
        "checkpoint of another kind",
        _damage("checkpoint.pt", b"PK\x03\x04" + RANDOM),
        ["fit", "--resume", "RUN", "--trust"],
        r"checkpoint",
    ),
    (
        "config not JSON",
        _damage("config.json", "{"),
        ["fit", "--resume", "RUN", "--force", "--trust"],
        r"not valid JSON",
    ),  # fmt: skip
    (
        "config steps a string",
        _edit_config,
        ["fit", "--resume", "RUN", "--force", "--trust"],
        r"steps='abc'",
    ),
    ("config edited", _edit_config, ["fit", "--resume", "RUN", "--trust"], r"config\.json chan"),
    (
        "problem edited",
        _append("problem.py", "v = sp.Function('v')(x, t)\n"),
        ["fit", "--resume", "RUN", "--trust"],
        r"problem\.py changed since",
    ),
    (
        "problem edited, discover",
        _append("problem.py", "# edited\n"),
        ["discover", "RUN", "--trust"],
        r"problem\.py changed since",
    ),
    (
        "problem with a syntax error",
        _append("problem.py", "x = (\n"),
        ["fit", "--resume", "RUN", "--force", "--trust"],
        r"syntax error",
    ),
    (
        "problem renames the field",
        _damage("problem.py", SOURCE.replace('"u"', '"w"')),
        ["fit", "--resume", "RUN", "--force", "--trust"],
        r"checkpoint does not fit",
    ),
    ("hashes damaged", _damage("hashes.json", "[1]"), ["fit", "--resume", "RUN"], r"hashes"),
    ("origin damaged", _damage("origin.json", "[1, 2]"), ["plot", "RUN", "--trust"], r"origin"),
    ("summary damaged", _damage("summary.json", "nope"), ["plot", "RUN", "--trust"], r"summary"),
    ("no config", _damage("config.json", None), ["fit", "--resume", "RUN", "--trust"], r"missing"),
    (
        "foreign plot without figure data",
        _damage("plot.npz", None),
        ["plot", "RUN"],
        r"executes the run's problem\.py.*--trust",
    ),
    ("figure data damaged", _damage("plot.npz", RANDOM), ["plot", "RUN"], r"plot\.npz cannot"),
    ("foreign resume", None, ["fit", "--resume", "RUN"], r"not created by your own"),
    ("foreign discover", None, ["discover", "RUN"], r"not created by your own"),
    (
        "unfinished discover",
        _damage("summary.json", None),
        ["discover", "RUN", "--trust"],
        r"has not finished.*--allow-unfinished",
    ),
    ("no hidden term", None, ["discover", "RUN", "--trust"], r"Hidden"),
    (
        "steps below the run",
        None,
        ["fit", "--resume", "RUN", "--steps", "5", "--trust"],
        r"stands at step 20",
    ),  # fmt: skip
]


@pytest.mark.parametrize(
    ("damage", "argv", "pattern"), [c[1:] for c in RUN_CASES], ids=[c[0] for c in RUN_CASES]
)
def test_a_bad_run_directory_is_refused(finished, tmp_path, capsys, damage, argv, pattern):
    run = _copy(finished, tmp_path)
    if damage is not None:
        damage(run)
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    code, err = _run([str(run) if a == "RUN" else a for a in argv], capsys)
    _assert_one_error(code, err, pattern)
    after = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file() and p.name != "run.lock"}
    assert after == {k: v for k, v in before.items() if k != "run.lock"}  # nothing rewritten


def test_a_second_resume_of_a_busy_run_is_refused(finished, tmp_path, capsys):
    with RunLock(finished):
        code, err = _run(["fit", "--resume", str(finished), "--steps", "30"], capsys)
    _assert_one_error(code, err, r"another process \(pid \d+\) is training this run")


def test_metrics_damage_is_tolerated(finished, tmp_path, capsys):
    """Stated reason: metrics.jsonl is a log, read line by line; a damaged line is skipped
    (a kill can cut the last one short), so the run still plots."""
    run = _copy(finished, tmp_path)
    (run / "metrics.jsonl").write_bytes(RANDOM + b"\n[1]\n")
    code, err = _run(["plot", str(run), "--trust"], capsys)
    assert code == 0, err


def test_own_runs_are_trusted_and_resume_goes_on(tmp_path, capsys):
    (tmp_path / "heat.py").write_text(SOURCE)
    assert main(["fit", str(tmp_path / "heat.py"), "--out", str(tmp_path), "--no-plot"]) == 0
    (run,) = (tmp_path / "problem").iterdir()
    code, err = _run(["fit", "--resume", str(run), "--steps", "25", "--no-plot"], capsys)
    assert code == 0, err
    assert json.loads((run / "config.json").read_text())["steps"] == 25
    code, err = _run(["fit", "--resume", str(run), "--no-plot"], capsys)  # hashes updated
    assert code == 0, err
    assert not (run / "run.lock").read_text() or True  # the lock file stays; the lock does not
    with RunLock(run):  # released at the end of the resume
        pass


def test_a_foreign_run_plots_from_its_saved_data_and_runs_no_code(finished, tmp_path, capsys):
    """`pinnkit plot` of a run this user did not create draws from `plot.npz`: a line added
    to its problem.py (which would write a file) is not executed."""
    run = _copy(finished, tmp_path)
    marker = tmp_path / "executed"
    with open(run / "problem.py", "a") as handle:
        handle.write(f"open({str(marker)!r}, 'w').close()\n")
    code, err = _run(["plot", str(run)], capsys)
    assert code == 0, err
    assert not marker.exists()
    assert (run / "figures" / "solution.png").stat().st_size > 1000
    assert (run / "figures" / "loss.png").stat().st_size > 1000
    code, err = _run(["plot", str(run), "--trust"], capsys)  # asked: it runs
    assert code == 0, err
    assert marker.exists()
