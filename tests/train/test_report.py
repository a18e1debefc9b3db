"""Tests of the run report: notes (a large hidden output names a scale), TensorBoard files."""

from __future__ import annotations

import importlib.util
import re
import warnings

import numpy as np
import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.errors import PinnkitWarning
from pinnkit.train.report import TENSORBOARD, fresh_point_notes, missed_data_notes, unheld_notes
from tests.helpers import TINY, TINY_HIDDEN, UNFOLLOWED, heat_problem, small_fisher


def test_a_large_hidden_output_gets_a_note_naming_a_scale():
    from pinnkit.train import Trainer

    def trainer(spec):
        made = Trainer(small_fisher(), TINY_HIDDEN.replace(hidden=spec))
        made._batches()  # draws the interior points the note is measured at
        last = made.compiled.hidden["f"].body[-1]
        last.weight.data.zero_()
        last.bias.data.fill_(30.0)  # the body's output: 30 everywhere
        return made

    plain = trainer(pk.HiddenNet(width=4, depth=1))
    with pytest.warns(PinnkitWarning, match=r'"f" came out 30 in size.*HiddenNet\(scale=30\)'):
        plain._note_scales()
    assert plain.notes and "hidden_terms.f=" in plain.notes[0]
    with pytest.warns(PinnkitWarning):
        plain._note_scales()  # again (trained further): one note per term
    assert len(plain.notes) == 1
    scaled = trainer(pk.HiddenNet(width=4, depth=1, scale=8.0))  # output 240, 30x its scale
    with pytest.warns(
        PinnkitWarning, match=r"came out 240 in size .*, 30x its network's scale 8.*scale=240\)"
    ):
        scaled._note_scales()
    fine = trainer(pk.HiddenNet(width=4, depth=1, scale=8.0))
    fine.compiled.hidden["f"].body[-1].bias.data.fill_(1.0)  # output 8: its scale
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fine._note_scales()
    assert fine.notes == []
    polish_only = Trainer(small_fisher(), TINY_HIDDEN.replace(steps=0))  # as discovery's refits
    polish_only._batches()
    polish_only.compiled.hidden["f"].body[-1].bias.data.fill_(30.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        polish_only._note_scales()
    assert polish_only.notes == []


def _logistic(times=np.linspace(0.0, 10.0, 11)) -> pk.Problem:
    t = sp.Symbol("t")
    n = sp.Function("N")(t)
    return pk.Problem(
        name="logistic",
        domain=pk.TimeInterval(t, 0, 10),
        fields=[n],
        equations={"growth": sp.Eq(n.diff(t), n * (1 - n / 170) / 2)},
        conditions=[pk.Initial(n, 10)],
        data=pk.Data({t: times}, {n: 170 / (1 + 16 * np.exp(-times / 2))}),
    )


@pytest.mark.filterwarnings(UNFOLLOWED)  # two steps: the fit follows no data
def test_a_field_observed_large_for_the_model_scale_gets_a_note_naming_scale_data():
    problem = _logistic()
    small = pk.Config(steps=2, model=pk.MLP(width=4, depth=1), progress=False)
    with pytest.warns(PinnkitWarning, match=r'"N" is observed at 92.6 .*92.6x .*scale="data"'):
        run = pk.fit(problem, small, out=None)
    assert run.summary["notes"][0].startswith('scale: "N" is observed at')
    for model in (pk.MLP(width=4, depth=1, scale="data"), pk.MLP(width=4, depth=1, scale=50.0)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            warnings.filterwarnings("ignore", "data", PinnkitWarning)
            pk.fit(problem, small.replace(model=model), out=None)


def test_observations_the_fit_has_not_followed_get_a_note():
    problem = _logistic()
    seen = problem.data[0].values["N"]
    offset = np.sqrt(0.6 * np.var(seen))  # leaves 60% of the variance unexplained

    def predict(shift: float):
        return lambda points: {"N": seen[: len(points)] + shift}

    notes = missed_data_notes(problem, predict(offset))
    assert list(notes) == ['data: "N"']
    assert "leaves 60% of the spread of its 11 observations" in notes['data: "N"']
    assert "pk.Fourier" in notes['data: "N"']
    assert missed_data_notes(problem, predict(0.5 * offset)) == {}  # 15%: followed
    pinned = _logistic(times=np.array([0.0]))
    assert missed_data_notes(pinned, predict(100.0)) == {}  # one value: no spread to judge


def test_a_fit_that_misses_many_times_the_noise_the_observations_show_gets_a_note():
    problem = _logistic(times=np.linspace(0.0, 10.0, 60))
    truth = problem.data[0].values["N"].copy()
    noise = 0.01 * np.sqrt(np.mean(truth**2)) * np.random.default_rng(0).standard_normal(60)
    problem.data[0].values["N"] = truth + noise
    offset = np.sqrt(0.03 * np.var(truth))  # 3% of the spread: hundreds of noise variances

    def predict(shift: float):
        return lambda points: {"N": truth[: len(points)] + shift}

    notes = missed_data_notes(problem, predict(offset))
    assert list(notes) == ['data: "N"']
    assert re.search(
        r"misses by \d+ times the noise variance .*leaves 3.\d% of", notes['data: "N"']
    )
    assert "mostly noise" not in notes['data: "N"']
    assert missed_data_notes(problem, predict(0.0)) == {}  # the truth: its misfit is the noise
    problem.data[0].values["N"] = truth  # clean: a 0.5% share is below MISSED_SHARE
    assert missed_data_notes(problem, predict(np.sqrt(0.005 * np.var(truth)))) == {}


def test_an_equation_met_far_worse_on_fresh_points_gets_a_note_saying_where():
    problem = _logistic()
    points = torch.linspace(0.0, 10.0, 1000, dtype=torch.float64)[:, None]
    layer = torch.where(points[:, 0] < 0.1, 1.0, 1e-3)  # a jump just after the start: 10 points
    notes = unheld_notes(problem, {"growth": layer}, points, {"growth": 1e-6}, fix="Fix: look.")
    assert list(notes) == ['unheld: "growth"']
    assert re.match(
        r'equation "growth" is met 1e\+04x worse on 1,000 fresh points \(mean square '
        r"0.01\) than where the solution was trained \(1e-06\); 100% of it at 1% of the "
        r"points, where t in \[0, 0.09\d*\]: .* Fix: look\.$",
        notes['unheld: "growth"'],
    )
    held = {"growth": torch.full((1000,), 1e-3, dtype=torch.float64)}
    assert unheld_notes(problem, held, points, {"growth": 2e-7}, fix="") == {}  # 5x: held


class _Interior:
    def __init__(self, points):
        self.points = points


class _HeldOnlyAtItsPoints:
    """A compiled problem whose residual is 1e-6 at the points trained on and 1e-2 elsewhere."""

    def __init__(self, problem, trained):
        self.problem, self.trained = problem, trained

    def residuals(self, _model, points):
        at = points["interior"].points
        size = 1e-6 if at is self.trained else 1e-2
        return {"growth": torch.full((len(at),), size, dtype=torch.float64)}


@pytest.mark.parametrize(
    "config, remedy",
    [
        (pk.Config(lbfgs=pk.LBFGS(steps=10)), r"L-BFGS polish.*\(`pk.LBFGS\(points=4\)`\)"),
        (pk.Config(lbfgs=pk.LBFGS(steps=10, points=4)), r"`pk.LBFGS\(points=16\)`"),
        (
            pk.Config(stages=(pk.SSBroyden(steps=10),)),
            r"fresh draw of points in the last stages \(`resample_every`\)",
        ),
        (pk.Config(sampling=pk.Sampling(resample_every=0)), r"Sampling\(resample_every=1\)"),
        (pk.Config(), r"solution figure; more interior points"),
    ],
)
def test_the_fresh_point_note_names_the_remedy_of_the_stage_that_trained_last(config, remedy):
    problem = _logistic()
    trained = torch.linspace(0.0, 10.0, 200, dtype=torch.float64)[:, None]

    class Sampler:
        def sample(self, rng):
            return {"interior": _Interior(torch.as_tensor(rng.uniform(0, 10, (200, 1))))}

    compiled = _HeldOnlyAtItsPoints(problem, trained)
    notes = fresh_point_notes(compiled, None, Sampler(), {"interior": _Interior(trained)}, config)
    assert list(notes) == ['unheld: "growth"']
    note = notes['unheld: "growth"']
    assert re.search(r"is met 1e\+08x worse on 200 fresh points.*" + remedy, note)
    assert fresh_point_notes(compiled, None, Sampler(), {}, config) == {}  # no interior points


def test_tensorboard_event_files_hold_every_logged_step(tmp_path):
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = pk.fit(heat_problem(), TINY.replace(tensorboard=True), directory=tmp_path / "run")
    events = EventAccumulator(str(tmp_path / "run" / TENSORBOARD))
    events.Reload()
    steps = [e.step for e in events.Scalars("loss")]
    assert steps == [row["step"] for row in run.metrics]
    assert [e.value for e in events.Scalars("terms/eq0")] == pytest.approx(
        [row["terms"]["eq0"] for row in run.metrics], rel=1e-6
    )
    assert {"rel_l2/u", "learning_rate"} <= set(events.Tags()["scalars"])


def test_tensorboard_without_the_package_stops_before_writing(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "tensorboard" else real(name, *args),
    )
    with pytest.raises(pk.ConfigError, match="`pip install tensorboard`"):
        pk.fit(heat_problem(), TINY.replace(tensorboard=True), out=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()  # nothing half-written


def test_no_tensorboard_files_unless_asked(tmp_path):
    pk.fit(heat_problem(), TINY.replace(steps=10, lbfgs=pk.LBFGS()), directory=tmp_path / "run")
    assert not (tmp_path / "run" / TENSORBOARD).exists()


def test_tensorboard_flag_of_the_cli_sets_the_config():
    from pinnkit.cli import _overrides, build_parser

    args = build_parser().parse_args(["fit", "problems/burgers.py", "--tensorboard"])
    assert pk.apply_overrides(pk.Config(), _overrides(args)).tensorboard is True
