"""Trainer: resume reproduces an uninterrupted run exactly, the NaN guard, checkpoints, summary."""

from __future__ import annotations

import copy
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
from pinnkit.runs import load_checkpoint, read_metrics
from tests.helpers import heat_problem

x, t = sp.symbols("x t")
u = sp.Function("u")(x, t)

TINY = pk.Config(
    steps=60,
    lbfgs=pk.LBFGS(steps=20),
    model=pk.MLP(width=8, depth=2),
    sampling=pk.Sampling(interior=64, boundary=16, initial=16),
    log_every=10,
    eval_every=20,
    checkpoint_every=20,
    progress=False,
)


class _Crash(Exception):
    pass


def _crash_at(step):
    def callback(current, row):
        if current == step:
            raise _Crash

    return callback


@pytest.mark.parametrize(
    ("crash_step", "resample_every"),
    [(40, 1), (70, 1), (40, 0), (70, 3)],  # in Adam and in the L-BFGS polish; sampling modes
)
def test_resume_matches_uninterrupted(tmp_path, crash_step, resample_every):
    config = TINY.replace(
        sampling=pk.Sampling(interior=64, boundary=16, initial=16, resample_every=resample_every)
    )
    whole = pk.fit(heat_problem(), config, directory=tmp_path / "whole")
    with pytest.raises(_Crash):
        pk.fit(heat_problem(), config, directory=tmp_path / "cut", callback=_crash_at(crash_step))
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
    state = load_checkpoint(tmp_path / "run")  # weights_only=True inside
    assert state["step"] == 80
    assert pk.Config.from_json((tmp_path / "run" / "config.json").read_text()) == TINY
    assert run.predict(x=np.array([0.5]), t=np.array([0.0]))["u"].shape == (1,)


def test_fit_refuses_a_used_directory(tmp_path):
    pk.fit(heat_problem(), TINY.replace(steps=10, lbfgs=pk.LBFGS()), directory=tmp_path / "r")
    with pytest.raises(pk.ConfigError, match="already holds a run"):
        pk.fit(heat_problem(), TINY, directory=tmp_path / "r")


def test_unknown_weight_name_is_a_config_error():
    with pytest.raises(pk.ConfigError, match="Did you mean `bc_u`"):
        pk.fit(heat_problem(), TINY.replace(weights={"bc_v": 2.0}), out=None)


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


class _Exploding(torch.nn.Module):
    """Returns NaN from a given call on, to drive the NaN guard."""

    def __init__(self, inner, after):
        super().__init__()
        self.inner, self.after, self.calls = inner, after, 0

    def forward(self, points):
        self.calls += 1
        out = self.inner(points)
        return out * float("nan") if self.calls > self.after else out


def test_nan_guard_gives_up_with_a_clear_error():
    from pinnkit.train import Trainer

    trainer = Trainer(heat_problem(), TINY.replace(lbfgs=pk.LBFGS()))
    trainer.model = _Exploding(trainer.model, after=3 * 15)
    with pytest.raises(pk.TrainingError, match=r"step \d+: loss term 'eq0' is not finite"):
        trainer.run()


def test_nan_guard_recovers_from_a_transient_failure(caplog):
    from pinnkit.train import Trainer

    class _Once(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner, self.calls = inner, 0

        def forward(self, points):
            self.calls += 1
            out = self.inner(points)
            return out * float("nan") if self.calls == 40 else out

    trainer = Trainer(heat_problem(), TINY.replace(lbfgs=pk.LBFGS()))
    trainer.model = _Once(trainer.model)
    run = trainer.run()
    assert run.summary["steps"] == 60
    assert trainer.lr_scale == 0.5
    assert "rolled back" in caplog.text


def test_nan_guard_reads_terms_and_every_gradient_entry():
    from pinnkit.train.terms import LossTerms
    from pinnkit.train.trainer import _nonfinite

    a, b = torch.nn.Parameter(torch.zeros(3)), torch.nn.Parameter(torch.zeros(2))
    terms = LossTerms({"eq": torch.tensor(1.0), "ic": torch.tensor(2.0)}, {})
    a.grad, b.grad = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([3e38, 3e38])
    assert _nonfinite(terms, [a, b]) is None  # large but finite: its sum would overflow
    b.grad = torch.tensor([0.0, float("nan")])
    assert _nonfinite(terms, [a, b]) == "gradient"
    bad = LossTerms({"eq": torch.tensor(1.0), "ic": torch.tensor(float("inf"))}, {})
    assert _nonfinite(bad, [a, b]) == "ic"


@pytest.mark.parametrize(
    ("grad_dtype", "term_dtype"),
    [
        (torch.float32, torch.float32),
        (torch.float64, torch.float64),
        (torch.float64, torch.float32),
    ],
)
def test_finiteness_check_sees_every_entry_and_changes_no_gradient(grad_dtype, term_dtype):
    """The fused check (one device and dtype: the first two cases) and the concatenation
    (float64 gradients beside float32 loss terms) agree, and the fused one's in-place scale
    by 1 leaves every gradient bit for bit."""
    from pinnkit.train.trainer import _all_finite

    values = torch.tensor([1.0, 2.0], dtype=term_dtype)
    grads = [torch.randn(4, 3, dtype=grad_dtype), torch.tensor([3e38, -3e38], dtype=grad_dtype)]
    before = [g.clone() for g in grads]
    assert _all_finite([values, *grads])
    assert all(torch.equal(g, b) for g, b in zip(grads, before, strict=True))
    for bad in (float("nan"), float("inf"), float("-inf")):
        grads[0][2, 1] = bad
        assert not _all_finite([values, *grads])
        grads[0][2, 1] = 0.0
        assert not _all_finite([values.new_tensor([bad, 1.0]), *grads])


def test_loss_total_adds_terms_by_their_weights():
    from pinnkit.train.terms import LossTerms

    eq = torch.tensor(0.3, requires_grad=True)
    terms = LossTerms(
        {"eq": eq, "ic": torch.tensor(0.5), "bc": torch.tensor(float("nan"))},
        {"ic": 2.0, "bc": 0.0},
    )
    total = terms.total()
    assert total.item() == pytest.approx(0.3 + 2 * 0.5)  # the NaN term has weight 0
    total.backward()
    assert eq.grad.item() == 1.0
    assert LossTerms({"eq": eq}, {"eq": 0.0}).total().item() == 0.0


@pytest.mark.slow
def test_compiled_training_follows_the_eager_run():
    """compile=True trains through the compiled mean squares: 30 Adam steps (and 5 L-BFGS)
    end where the eager Taylor run ends, to float32 round-off accumulated over the steps."""
    config = TINY.replace(steps=30, lbfgs=pk.LBFGS(steps=5), engine="taylor")
    eager = pk.fit(heat_problem(), config, out=None)
    compiled = pk.fit(heat_problem(), config.replace(compile=True), out=None)
    for k, v in eager.summary["loss_terms"].items():
        assert compiled.summary["loss_terms"][k] == pytest.approx(v, rel=1e-3), k


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


def test_lbfgs_only_run_rolls_a_non_finite_step_back_to_the_start(caplog):
    """With `steps=0` no Adam step takes a snapshot; the polish keeps the starting state."""
    from pinnkit.train import Trainer

    trainer = Trainer(heat_problem(), TINY.replace(steps=0, lbfgs=pk.LBFGS(steps=6)))
    start = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.model = _Exploding(trainer.model, after=0)
    run = trainer.run()
    assert "non-finite" in caplog.text
    for k, v in trainer.model.inner.state_dict().items():
        assert torch.equal(v, start[k])
    assert run.summary["steps"] == 6


def test_use_points_trains_on_exactly_the_given_points():
    from pinnkit.train import Trainer

    config = TINY.replace(sampling=pk.Sampling(resample_every=0))
    trainer = Trainer(heat_problem(), config)
    rng = np.random.default_rng(0)
    points = {
        "interior": rng.uniform(0, 1, (50, 2)),
        "initial": np.column_stack([rng.uniform(0, 1, 7), np.zeros(7)]),
        "boundary": np.column_stack([rng.integers(0, 2, 9), rng.uniform(0, 1, 9)]),
    }
    trainer.use_points(points)
    for _ in range(3):
        trainer._adam_step()
    for region, given in points.items():
        np.testing.assert_array_equal(trainer.fixed[region].points.numpy(), given.astype("f4"))


def test_use_points_refuses_resampling_and_wrong_regions():
    from pinnkit.train import Trainer

    with pytest.raises(pk.ConfigError, match="would replace the given points"):
        Trainer(heat_problem(), TINY).use_points({})
    trainer = Trainer(heat_problem(), TINY.replace(sampling=pk.Sampling(resample_every=0)))
    with pytest.raises(pk.ConfigError, match="expected exactly"):
        trainer.use_points({"interior": np.zeros((4, 2))})


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_adam_step_is_torch_adams_step(dtype):
    """`pinnkit.train.adam.step` makes exactly torch's fused Adam update, across the first
    step (which creates the state), a learning-rate change, a parameter without a gradient
    and a reload of the state (the NaN guard's rollback)."""
    from pinnkit.train import adam

    g = torch.Generator().manual_seed(0)
    start = [torch.randn(5, 3, generator=g, dtype=dtype), torch.randn(3, generator=g, dtype=dtype)]
    ours = [torch.nn.Parameter(p.clone()) for p in start]
    theirs = [torch.nn.Parameter(p.clone()) for p in start]
    a, b = adam.make_adam(ours, 1e-2), torch.optim.Adam(theirs, lr=1e-2, fused=True)
    assert adam._direct(a)
    saved = None
    for k in range(6):
        grads = [torch.randn(p.shape, generator=g, dtype=dtype) for p in start]
        for opt, params in ((a, ours), (b, theirs)):
            opt.zero_grad(set_to_none=True)
            for p, gr in zip(params, grads):
                if not (k == 3 and p.ndim == 1):  # step 3: the bias has no gradient
                    p.grad = gr.clone()
            if k == 2:
                opt.param_groups[0]["lr"] = 3e-3
        adam.step(a)
        b.step()
        if k == 1:
            saved = copy.deepcopy((a.state_dict(), b.state_dict(), [p.detach() for p in ours]))
        for p, q in zip(ours, theirs):
            assert torch.equal(p, q), k
    a.load_state_dict(saved[0])
    b.load_state_dict(saved[1])
    with torch.no_grad():
        for p, q, s in zip(ours, theirs, saved[2]):
            p.copy_(s)
            q.copy_(s)
    for opt, params in ((a, ours), (b, theirs)):
        for p in params:
            p.grad = torch.ones_like(p)
    adam.step(a)
    b.step()
    for p, q in zip(ours, theirs):
        assert torch.equal(p, q)
    assert int(a.state[ours[0]]["step"]) == int(b.state[theirs[0]]["step"]) == 3


def test_adam_step_falls_back_where_the_direct_call_does_not_apply():
    from pinnkit.train import adam

    mixed = [torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2).double())]
    assert not adam._direct(adam.make_adam(mixed, 1e-3))
    plain = [torch.nn.Parameter(torch.ones(2))]
    assert not adam._direct(torch.optim.Adam(plain, lr=1e-3, amsgrad=True, fused=True))
    assert not adam._direct(torch.optim.Adam(plain, lr=1e-3))  # not fused
    unfused = torch.optim.Adam(plain, lr=1e-1)
    plain[0].grad = torch.ones(2)
    adam.step(unfused)  # takes adam.step()
    assert torch.allclose(plain[0].detach(), torch.full((2,), 0.9))
