"""Tests of the SOAP first phase (`pk.SOAP`, `pinnkit.train.optim.soap`): spec errors, the
JSON round trip, training in float32 and float64, exact resume (inside SOAP, in the polish,
in a float64 stage after it), the NaN guard, and the error when the package is missing."""

from __future__ import annotations

import json
import sys

import pytest
import torch

import pinnkit as pk
from pinnkit.runs import load_checkpoint, read_metrics
from pinnkit.train import Trainer
from tests.helpers import TINY, Crash, NanOnce, crash_at, heat_problem

pytest.importorskip("pytorch_optimizer")

#: TINY with SOAP: an eigenbasis refresh every 3 steps, so that the crashes below fall
#: between refreshes and a resume must restore the preconditioner mid-cycle.
SOAPY = TINY.replace(optimizer=pk.SOAP(precondition_frequency=3))


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: pk.SOAP(learning_rate=0), "learning_rate=0 is out of range"),
        (lambda: pk.SOAP(decay_rate=1.5), r"decay_rate=1.5 is out of range.*> 0 and <= 1"),
        (lambda: pk.SOAP(betas=(0.9,)), r"SOAP.betas=\(0.9,\): need two numbers in \[0, 1\)"),
        (lambda: pk.SOAP(betas=(0.9, 1.0)), "need two numbers in"),
        (lambda: pk.SOAP(betas="0.9"), "need two numbers in"),
        (lambda: pk.SOAP(precondition_frequency=0), "precondition_frequency=0 is out of range"),
        (lambda: pk.SOAP(precondition_frequency=2.5), "2.5: expected a whole number"),
        (lambda: pk.SOAP(weight_decay=-1e-3), r"weight_decay=-0.001 is out of range.*>= 0"),
        (lambda: pk.SOAP(eps=0), r"eps=0 is out of range.*> 0"),
        (lambda: pk.Config(optimizer=pk.LBFGS()), r"expected `pk.Adam\(...\)` or `pk.SOAP"),
    ],
)
def test_bad_soap_settings_are_config_errors(make, match):
    with pytest.raises(pk.ConfigError, match=match):
        make()


def test_soap_round_trips_through_json_and_set():
    config = pk.Config(optimizer=pk.SOAP(betas=(0.9, 0.999), precondition_frequency=2))
    assert pk.Config.from_json(config.to_json()) == config
    assert isinstance(pk.Config.from_json(config.to_json()).optimizer.betas, tuple)
    edited = pk.apply_overrides(
        pk.Config(),
        ['optimizer={"type": "SOAP", "learning_rate": 1e-3}', "optimizer.betas=[0.9,0.999]"],
    )
    assert edited.optimizer == pk.SOAP(learning_rate=1e-3, betas=(0.9, 0.999))
    assert pk.apply_overrides(edited, ['optimizer={"type": "Adam"}']).optimizer == pk.Adam()


def test_the_trainer_builds_the_librarys_soap_over_every_trained_tensor():
    from pytorch_optimizer import SOAP

    trainer = Trainer(heat_problem(), SOAPY)
    assert isinstance(trainer.optimizer, SOAP)
    group = trainer.optimizer.param_groups[0]
    assert group["params"] == trainer.params
    assert group["weight_decay"] == 0.0 and group["precondition_frequency"] == 3
    assert group["betas"] == (0.95, 0.95)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_soap_trains_and_logs_its_phase(dtype):
    """On one fixed point set the loss SOAP minimises falls (from step 50 to 200, measured
    to 0.24x in float32 and 0.22x in float64, seed 0; 0.4x leaves room for other BLAS
    builds); the learning rate follows the step decay, and the eigenbases are kept in the
    run's precision."""
    config = SOAPY.replace(
        dtype=dtype,
        steps=200,
        log_every=50,
        lbfgs=pk.LBFGS(),
        sampling=pk.Sampling(interior=64, boundary=16, initial=16, resample_every=0),
    )
    trainer = Trainer(heat_problem(), config)
    run = trainer.run()
    rows = run.metrics
    assert [r["phase"] for r in rows] == ["soap"] * 4
    assert rows[-1]["loss"] < 0.4 * rows[0]["loss"]
    opt = config.optimizer
    assert rows[-1]["lr"] == pytest.approx(opt.learning_rate * opt.decay_rate ** (200 / 2000))
    assert all(p.dtype == getattr(torch, dtype) for p in run.model.parameters())
    weight = next(p for p in trainer.params if p.ndim == 2)
    bases = [q for q in trainer.optimizer.state[weight]["Q"] if len(q)]
    assert bases and all(q.dtype == getattr(torch, dtype) for q in bases)


#: Two Adam-sized phases and a float64 SSBroyden stage after SOAP (steps 30-60).
STAGED = SOAPY.replace(steps=20, lbfgs=pk.LBFGS(steps=10), stages=(pk.SSBroyden(steps=30),))


@pytest.mark.parametrize(
    ("config", "crash_step", "saved_step", "dtype"),
    [
        (SOAPY, 40, 20, "float32"),  # inside SOAP, between two refreshes of the eigenbases
        (SOAPY, 70, 60, "float32"),  # SOAP done, the L-BFGS polish next
        # inside the float64 stage: SOAP's float32 state beside the converted weights
        (STAGED, 50, 40, "float64"),
    ],
)
def test_resume_with_soap_is_exact(tmp_path, config, crash_step, saved_step, dtype):
    whole = pk.fit(heat_problem(), config, directory=tmp_path / "whole")
    with pytest.raises(Crash):
        pk.fit(heat_problem(), config, directory=tmp_path / "cut", callback=crash_at(crash_step))
    saved = load_checkpoint(tmp_path / "cut")  # weights_only=True
    assert (saved["step"], saved["dtype"]) == (saved_step, dtype)
    assert "soap" in saved and "adam" not in saved
    assert saved["soap"]["param_groups"][0]["step"] == min(saved_step, int(config.steps))
    resumed = pk.resume(tmp_path / "cut", problem=heat_problem())
    assert resumed.summary["steps"] == whole.summary["steps"]
    assert resumed.summary["loss_terms"] == whole.summary["loss_terms"]
    for a, b in zip(whole.model.parameters(), resumed.model.parameters(), strict=True):
        assert a.dtype == b.dtype == getattr(torch, resumed.summary["dtype"])
        assert torch.equal(a, b)
    steps = [r["step"] for r in read_metrics(tmp_path / "cut")]
    assert steps == sorted(set(steps))


def test_a_checkpoint_of_the_other_optimizer_is_a_config_error(tmp_path):
    pk.fit(heat_problem(), TINY.replace(steps=10, lbfgs=pk.LBFGS()), directory=tmp_path / "run")
    trainer = Trainer(heat_problem(), SOAPY)
    with pytest.raises(pk.ConfigError, match="no state of the `soap` optimiser"):
        trainer.load_state(load_checkpoint(tmp_path / "run"))


def test_the_nan_guard_rolls_soap_back_and_halves_its_step(caplog):
    trainer = Trainer(heat_problem(), SOAPY.replace(lbfgs=pk.LBFGS()))
    trainer.model = NanOnce(trainer.model)
    run = trainer.run()
    assert run.summary["steps"] == 60
    assert trainer.lr_scale == 0.5
    assert "rolled back" in caplog.text


def test_soap_without_its_package_says_how_to_install_it(tmp_path, monkeypatch):
    from pinnkit.train.optim import soap

    monkeypatch.setitem(sys.modules, "pytorch_optimizer", None)  # `import` now fails
    with pytest.raises(pk.ConfigError, match=r'pip install "pinnkit\[soap\]"'):
        pk.fit(heat_problem(), SOAPY, directory=tmp_path / "run")
    assert not (tmp_path / "run").exists(), "nothing is written before the check"
    with pytest.raises(pk.ConfigError, match=r"the `pytorch-optimizer` package.*is not installed"):
        soap.make_soap([torch.nn.Parameter(torch.ones(2))], pk.SOAP())


@pytest.mark.slow
def test_two_processes_train_soap_in_lockstep(tmp_path):
    """Under torchrun the gradients are summed over ranks before SOAP steps, so every rank
    makes the same update: the checkpoints' and the end's lockstep checks (bitwise equal
    parameters on every rank) pass, and SOAP's state is checkpointed.

    Unlike Adam's, the run is not compared with one process on the combined batch to
    DISTRIBUTED_RTOL: SOAP's first eigenbases come from rank-deficient statistics, whose
    null-space basis round-off decides, so the different order of the sums changes the
    trajectory beyond round-off (measured: loss term eq0 4e-4 apart after these 30 steps;
    gradients scaled by 1 + 2^-50 in one process move it by 16%, Adam's by 4e-16)."""
    from tests.train.test_distributed import _PROBLEM, _run_directory, _torchrun

    (tmp_path / "heat.py").write_text(_PROBLEM)
    soap = ['optimizer={"type": "SOAP", "precondition_frequency": 3}', "lbfgs.steps=0"]
    args = [str(tmp_path / "heat.py"), "--out", str(tmp_path / "runs")]
    directory = _run_directory(_torchrun(tmp_path, *args, "--set", soap[0], "--set", soap[1]))
    assert isinstance(pk.Run.load(directory).config.optimizer, pk.SOAP)
    summary = json.loads((directory / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["steps"] == 30
    rows = read_metrics(directory)
    assert [r["phase"] for r in rows] == ["soap"] * 6 and rows[-1]["loss"] < rows[0]["loss"]
    saved = load_checkpoint(directory)
    assert saved["soap"]["param_groups"][0]["step"] == 30 and len(saved["ranks"]) == 2
