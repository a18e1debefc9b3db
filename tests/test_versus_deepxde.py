"""The DeepXDE side-by-side benchmark compares like with like: on DeepXDE's points with
DeepXDE's initial weights, pinnkit's loss terms equal DeepXDE's at the start, and with the
same parametrisation the two Adam trajectories agree (benchmarks/speed/versus_deepxde.py).

Skipped unless DeepXDE is installed: it comes with the `bench` extra, not with `dev`, so CI
does not run these.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.helpers import load_script

# Not imported here: the benchmark module picks DeepXDE's PyTorch backend before importing it.
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("deepxde") is None,
    reason="DeepXDE is in the `bench` extra, not in `dev`",
)

#: float32 round-off of a few hundred points' mean squares, with both codes summing in
#: different orders (measured: 1e-7 to 3e-7 relative).
LOSS_RTOL = 1e-5

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "speed" / "versus_deepxde.py"


@pytest.fixture(scope="module")
def bench():
    module = load_script(PATH, "versus_deepxde")
    return module


@pytest.mark.parametrize("equation", ["burgers", "kdv"])
def test_same_initial_loss_and_trajectory(bench, equation):
    setting = bench.Setting("tiny", equation, (8, 8), 64, 8, 16, 1)
    model = bench.deepxde_model(setting, 0, "cpu")
    points, weights = bench.deepxde_points(setting, model), bench.deepxde_weights(model)
    trainer = bench.pinnkit_trainer(setting, {"engine": "autograd"}, "cpu", points, weights)
    names = bench.loss_names(setting)
    theirs = bench.deepxde_loss_terms(setting, model, names)
    ours = bench.pinnkit_loss_terms(trainer)
    assert bench.relative_gap(theirs, ours) < LOSS_RTOL
    assert bench.same_trajectory(setting, 0, "cpu", steps=3) < LOSS_RTOL
