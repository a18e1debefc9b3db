"""Tests of `fit`/`resume`: resume reproduces an uninterrupted run exactly (mid-Adam,
mid-polish, every strategy, hidden networks, SIGKILL), the run directory, inverse Parameters.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.compile import compile_problem
from pinnkit.runs import load_checkpoint, read_metrics
from tests.helpers import (
    TINY,
    TINY_HIDDEN,
    UNFOLLOWED,
    Crash,
    crash_at,
    heat_problem,
    small_fisher,
)

x, t = sp.symbols("x t")
u = sp.Function("u")(x, t)


@pytest.mark.parametrize(
    ("crash_step", "resample_every"),
    [(40, 1), (70, 1), (40, 0), (70, 3)],  # in Adam and in the L-BFGS polish; sampling modes
)
def test_resume_matches_uninterrupted(tmp_path, crash_step, resample_every):
    config = TINY.replace(
        sampling=pk.Sampling(interior=64, boundary=16, initial=16, resample_every=resample_every)
    )
    whole = pk.fit(heat_problem(), config, directory=tmp_path / "whole")
    with pytest.raises(Crash):
        pk.fit(heat_problem(), config, directory=tmp_path / "cut", callback=crash_at(crash_step))
    resumed = pk.resume(tmp_path / "cut", problem=heat_problem())
    assert resumed.summary["steps"] == whole.summary["steps"] == 80
    assert resumed.summary["loss_terms"] == whole.summary["loss_terms"]
    steps = [r["step"] for r in read_metrics(tmp_path / "cut")]
    assert steps == sorted(set(steps)), "a resumed run must not repeat metric lines"
    for a, b in zip(whole.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)


def test_run_directory_contents(tmp_path):
    run = pk.fit(heat_problem(), TINY, directory=tmp_path / "run")
    names = {p.name for p in (tmp_path / "run").iterdir()}
    assert {"config.json", "metrics.jsonl", "checkpoint.pt", "summary.json"} <= names
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    for key in (
        "loss_terms",
        "rel_l2",
        "parameters",
        "steps",
        "wall_seconds",
        "device",
        "seed",
        "pinnkit_version",
    ):
        assert key in summary
    assert set(summary["rel_l2"]) == {"u"}
    # An error figure states its precision and network size beside it.
    assert summary["dtype"] == "float32"
    assert summary["network_parameters"] == sum(p.numel() for p in run.model.parameters()) > 0
    state = load_checkpoint(tmp_path / "run")  # weights_only=True inside
    assert state["step"] == 80
    assert pk.Config.from_json((tmp_path / "run" / "config.json").read_text()) == TINY
    assert run.predict(x=np.array([0.5]), t=np.array([0.0]))["u"].shape == (1,)


def test_fit_refuses_a_used_directory(tmp_path):
    pk.fit(heat_problem(), TINY.replace(steps=10, lbfgs=pk.LBFGS()), directory=tmp_path / "r")
    with pytest.raises(pk.ConfigError, match="already holds a run"):
        pk.fit(heat_problem(), TINY, directory=tmp_path / "r")


@pytest.mark.filterwarnings(UNFOLLOWED)  # trained briefly: the note on unfollowed data
def test_inverse_parameter_is_learned_and_reported():
    D = pk.Parameter("D", init=0.5, log=True)
    exact = sp.exp(-(sp.pi**2) * t / 10) * sp.sin(sp.pi * x)
    rng = np.random.default_rng(0)
    xs, ts = rng.uniform(0, 1, 200), rng.uniform(0, 1, 200)
    values = sp.lambdify((x, t), exact, "numpy")(xs, ts)
    problem = pk.Problem(
        name="heat_inverse",
        domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations=[sp.Eq(u.diff(t), D * u.diff(x, 2))],
        conditions=[pk.Initial(u, sp.sin(sp.pi * x)), pk.Dirichlet(u, 0)],
        data=pk.Data({x: xs, t: ts}, {u: values}),
    )
    run = pk.fit(problem, TINY.replace(steps=100, lbfgs=pk.LBFGS()), out=None)
    assert set(run.parameters) == {"D"}
    assert run.summary["parameters"]["D"] == pytest.approx(run.parameters["D"])
    assert run.parameters["D"] != 0.5  # it moved
    assert "data" in run.summary["loss_terms"]


@pytest.mark.slow
def test_sigkill_at_any_moment_then_resume(tmp_path):
    """Kill `pinnkit fit` with SIGKILL at several moments; `--resume` ends where an
    uninterrupted run ends (same seed, CPU)."""
    problem_file = tmp_path / "heat.py"
    problem_file.write_text(_HEAT_FILE)
    common = ["--quiet", "--no-plot", "--out", str(tmp_path / "runs")]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    whole = subprocess.run(
        [sys.executable, "-m", "pinnkit.cli", "fit", str(problem_file), *common],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    whole_dir = Path(whole.stdout.splitlines()[0].split(": ", 1)[1])
    expected = json.loads((whole_dir / "summary.json").read_text())["loss_terms"]
    for delay in (0.5, 2.0, 3.5, 5.0):
        proc = subprocess.Popen(
            [sys.executable, "-m", "pinnkit.cli", "fit", str(problem_file), *common],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        first = proc.stdout.readline()
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        cut = Path(first.split(": ", 1)[1].strip())
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pinnkit.cli",
                "fit",
                "--resume",
                str(cut),
                "--quiet",
                "--no-plot",
            ],
            check=True,
            env=env,
            capture_output=True,
        )
        got = json.loads((cut / "summary.json").read_text())["loss_terms"]
        assert got == expected, f"killed after {delay} s"


_HEAT_FILE = """
import sympy as sp
import pinnkit as pk
x, t = sp.symbols("x t")
u = sp.Function("u")(x, t)
problem = pk.Problem(
    name="heat", domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1), fields=[u],
    equations=[sp.Eq(u.diff(t), u.diff(x, 2) / 10)],
    conditions=[pk.Initial(u, sp.sin(sp.pi * x)), pk.Dirichlet(u, 0)],
)
config = pk.Config(steps=1500, lbfgs=pk.LBFGS(steps=300), model=pk.MLP(width=16, depth=3),
                   sampling=pk.Sampling(interior=256, boundary=32, initial=32),
                   log_every=50, checkpoint_every=50)
"""


STRATEGIES = pk.Config(
    steps=20,
    lbfgs=pk.LBFGS(steps=6),
    model=pk.MLP(width=8, depth=2),
    sampling=pk.Sampling(interior=48, boundary=8, initial=8, resample_every=3),
    log_every=5,
    eval_every=10,
    checkpoint_every=10,
    progress=False,
    causal=pk.Causal(chunks=4, schedule=(0.1, 1.0, 10.0), threshold=0.5),
    balance=pk.Balance(every=4),
    rar=pk.RAR(every=6, candidates=200, add=10),
)


def test_resume_is_exact_with_every_strategy(tmp_path):
    """Crash mid-Adam (after RAR, balancing and causal states have moved), resume, and end
    exactly where an uninterrupted run ends; the polish afterwards uses the restored state."""

    def crash(step, row):
        if step == 15:
            raise Crash

    whole = pk.fit(heat_problem(), STRATEGIES, directory=tmp_path / "whole")
    with pytest.raises(Crash):
        pk.fit(heat_problem(), STRATEGIES, directory=tmp_path / "cut", callback=crash)
    resumed = pk.resume(tmp_path / "cut", problem=heat_problem())
    assert resumed.summary["loss_terms"] == whole.summary["loss_terms"]
    for a, b in zip(whole.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)
    strategies = load_checkpoint(tmp_path / "cut")["strategies"]
    assert strategies["rar"]["points"].shape == (30, 2)  # refined at steps 6, 12, 18
    assert strategies["balance"]["calls"] == 20
    rows, expected = read_metrics(tmp_path / "cut"), read_metrics(tmp_path / "whole")
    for key in ("causal_min_weight", "causal_epsilon", "balance", "rar_points"):
        assert [r[key] for r in rows] == [r[key] for r in expected], key
    assert [r["rar_points"] for r in rows] == [0, 10, 20, 30, 30, 30]


def test_training_updates_the_hidden_network_and_resumes_exactly(tmp_path):
    before = compile_problem(small_fisher(), generator=torch.Generator().manual_seed(0))
    whole = pk.fit(small_fisher(), TINY_HIDDEN, directory=tmp_path / "whole")
    before_weights = before.hidden["f"].state_dict()
    after_weights = whole.compiled.hidden["f"].state_dict()
    assert not torch.equal(before_weights["body.0.weight"], after_weights["body.0.weight"])

    def crash(step, _row):
        if step == 20:
            raise Crash

    with pytest.raises(Crash):
        pk.fit(small_fisher(), TINY_HIDDEN, directory=tmp_path / "cut", callback=crash)
    resumed = pk.resume(tmp_path / "cut", problem=small_fisher())
    assert resumed.summary["loss_terms"] == whole.summary["loss_terms"]
    for name, value in whole.compiled.state_dict().items():
        assert torch.equal(value, resumed.compiled.state_dict()[name]), name
