"""Tests of the further optimiser stages (`Config.stages`): specs, the switch to float64,
exact resume inside a stage, the run loaded back in the stage's precision, clear errors."""

from __future__ import annotations

import pytest
import torch

import pinnkit as pk
from pinnkit.runs import read_metrics
from pinnkit.train import Trainer
from pinnkit.train.optim.stages import make_stage_optimizer, stage_phase
from tests.helpers import TINY, Crash, crash_at, heat_problem

#: A tiny run whose stages the tests below put after Adam and the L-BFGS polish.
STAGED = TINY.replace(steps=20, lbfgs=pk.LBFGS(steps=10))


@pytest.mark.parametrize(
    "stage",
    [
        pk.SSBroyden(steps=20),
        pk.SSBroyden(steps=20, method="bfgs"),
        pk.LevenbergMarquardt(steps=20),
    ],
)
def test_a_stage_runs_in_float64_and_logs_its_phase(stage):
    run = pk.fit(heat_problem(), STAGED.replace(stages=(stage,)), out=None)
    assert run.summary["steps"] == 50
    assert (run.summary["lbfgs_steps"], run.summary["stage_steps"]) == (10, 20)
    assert run.summary["dtype"] == "float64"
    assert all(p.dtype == torch.float64 for p in run.model.parameters())
    phases = [row["phase"] for row in run.metrics]
    assert phases[-1] == stage_phase(stage)
    assert phases.index(stage_phase(stage)) == 3  # after 2 Adam blocks and 1 L-BFGS block
    first, last = run.metrics[2]["loss"], run.metrics[-1]["loss"]
    assert last < first  # the stage made progress from where the polish left it


@pytest.mark.parametrize(
    ("stage", "crash_step"),
    [
        (pk.SSBroyden(steps=30), 40),  # inside the stage
        (pk.LevenbergMarquardt(steps=30, sketch=40), 50),  # inside, rows drawn from the stream
        (pk.SSBroyden(steps=30), 20),  # before the switch of precision
        (pk.SSBroyden(steps=30, resample_every=10), 40),  # at a fresh draw of the points
        (pk.SSBroyden(steps=30, resample_every=7), 50),  # inside the second point set
        (pk.LevenbergMarquardt(steps=30, resample_every=10), 50),
        (pk.SSBroyden(steps=30, resample_every=10, resample="residual"), 50),  # RAD sets
        (pk.LevenbergMarquardt(steps=30, resample_every=10, resample="residual"), 40),
    ],
)
def test_resume_inside_a_stage_is_exact(tmp_path, stage, crash_step):
    config = STAGED.replace(stages=(stage,))
    whole = pk.fit(heat_problem(), config, directory=tmp_path / "whole")
    with pytest.raises(Crash):
        pk.fit(heat_problem(), config, directory=tmp_path / "cut", callback=crash_at(crash_step))
    resumed = pk.resume(tmp_path / "cut", problem=heat_problem())
    assert resumed.summary["loss_terms"] == whole.summary["loss_terms"]
    for a, b in zip(whole.model.parameters(), resumed.model.parameters()):
        assert a.dtype == b.dtype == torch.float64
        assert torch.equal(a, b)
    steps = [r["step"] for r in read_metrics(tmp_path / "cut")]
    assert steps == sorted(set(steps))


def test_a_run_loads_back_in_the_precision_its_last_stage_left(tmp_path):
    source = "\n".join(
        [
            "from tests.helpers import heat_problem",
            "problem = heat_problem()",
        ]
    )
    config = STAGED.replace(stages=(pk.SSBroyden(steps=10),))
    run = pk.fit(heat_problem(), config, directory=tmp_path / "run", source=source)
    loaded = pk.Run.load(tmp_path / "run")
    assert next(loaded.model.parameters()).dtype == torch.float64
    for a, b in zip(run.model.parameters(), loaded.model.parameters()):
        assert torch.equal(a, b)


def test_stages_round_trip_through_json_and_set():
    config = pk.Config(stages=(pk.SSBroyden(steps=5, points=2), pk.LevenbergMarquardt(steps=3)))
    assert pk.Config.from_json(config.to_json()) == config
    edited = pk.apply_overrides(
        pk.Config(), ['stages=[{"type": "LevenbergMarquardt", "steps": 7, "sketch": 100}]']
    )
    assert edited.stages == (pk.LevenbergMarquardt(steps=7, sketch=100),)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: pk.SSBroyden(method="newton"), "method='newton' is unknown"),
        (lambda: pk.SSBroyden(dtype="float16"), "choose `float32` or `float64`"),
        (lambda: pk.LevenbergMarquardt(damping=0), r"damping=0 is out of range.*> 0"),
        (lambda: pk.Config(stages=[{"steps": 5}]), "names its kind"),
        (lambda: pk.Config(stages=[pk.LBFGS(steps=5)]), "expected a stage spec"),
        (lambda: pk.Config(stages=pk.SSBroyden()), "expected a list of stages"),
        (
            lambda: pk.Config(causal=pk.Causal(), stages=(pk.LevenbergMarquardt(steps=1),)),
            "causal weights change with the residuals",
        ),
    ],
)
def test_bad_stages_are_config_errors(make, match):
    with pytest.raises(pk.ConfigError, match=match):
        make()


def test_a_stage_optimizer_is_made_over_every_trained_tensor():
    trainer = Trainer(heat_problem(), STAGED)
    lm = make_stage_optimizer(pk.LevenbergMarquardt(), trainer.params)
    assert lm.params == trainer.params
    quasi_newton = make_stage_optimizer(pk.SSBroyden(method="bfgs"), trainer.params)
    assert quasi_newton.param_groups[0]["params"] == trainer.params


def test_convert_moves_points_data_and_constants_to_the_new_precision():
    trainer = Trainer(heat_problem(), STAGED)
    trainer._batches()
    trainer.convert(torch.float64)
    assert trainer.dtype == torch.float64
    assert all(b.points.dtype == torch.float64 for b in trainer.points.values())
    assert all(p.dtype == torch.float64 for p in trainer.params)
    assert trainer.sampler.sample(trainer.rng)["interior"].points.dtype == torch.float64


def test_levenberg_marquardt_refuses_a_data_parallel_run():
    from pinnkit.train import World

    config = STAGED.replace(stages=(pk.LevenbergMarquardt(steps=1),))
    with pytest.raises(pk.ConfigError, match="runs in one process"):
        Trainer(heat_problem(), config, world=World(rank=0, size=2, local_rank=0))


@pytest.mark.parametrize("stage", [pk.SSBroyden, pk.LevenbergMarquardt])
def test_a_stage_draws_fresh_points_every_resample_every_iterations(stage):
    """The stage starts at step 30 and draws a fresh set every 10 iterations: the set in use
    at the log of step 40 (after the block 35-40) is the first one, the next block's the
    second."""
    seen = {}
    config = STAGED.replace(stages=(stage(steps=30, resample_every=10),), log_every=5)
    trainer = Trainer(heat_problem(), config)
    trainer.callback = lambda step, row: seen.__setitem__(
        step, trainer.points["interior"].points.clone()
    )
    trainer.run()
    same = [torch.equal(seen[a], seen[a + 5]) for a in (35, 40, 45, 50, 55)]
    assert same == [True, False, True, False, True]
    assert seen[35].shape == seen[45].shape == seen[55].shape  # the same counts each time


@pytest.mark.parametrize("stage", [pk.SSBroyden, pk.LevenbergMarquardt])
def test_an_unknown_resample_is_refused(stage):
    with pytest.raises(pk.ConfigError, match="resample='residuals' is unknown"):
        stage(steps=10, resample="residuals")
