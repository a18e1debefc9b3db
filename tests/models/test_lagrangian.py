"""The two-branch Lagrangian model: the free-streaming start, and the Eulerian inversion."""

from __future__ import annotations

import math

import numpy as np
import sympy as sp
import torch

import pinnkit as pk
from tests.helpers import INVERSION_ATOL, build_lagrangian, lagrangian_problem

x, t = sp.symbols("x t")
u = sp.Function("u")(x, t)


def _zero_last_layers(model):
    with torch.no_grad():
        for branch in (model.position, model.state):
            branch.body[-1].weight.zero_()
            branch.body[-1].bias.zero_()


def test_free_streaming_start_is_exact_for_convection(float64):
    """With both networks' outputs zero, X = xi + 50 t and U = sin(xi): the exact solution,
    so `forward` (the Eulerian inversion) must give sin(x - 50 t) to round-off."""
    residuals, model = build_lagrangian(lagrangian_problem(sp.Eq(u.diff(t) + 50 * u.diff(x), 0)))
    _zero_last_layers(model)
    rng = np.random.default_rng(0)
    pts = torch.as_tensor(np.stack([rng.uniform(0, 2 * np.pi, 500), rng.uniform(0, 1, 500)], 1))
    got = model(pts)[:, 0].detach().numpy()
    want = np.sin(pts[:, 0].numpy() - 50 * pts[:, 1].numpy())
    np.testing.assert_allclose(got, want, atol=INVERSION_ATOL)
    r = residuals.residuals(model, {"interior": pk.compile.Batch(pts)})
    assert set(r) == {"pde", "pde_characteristics"}
    assert max(float(v.detach().abs().max()) for v in r.values()) < 1e-10


def test_inversion_returns_a_start_position_that_lands_on_the_point(float64, generator):
    """With random (monotone for these weights) characteristics, X(xi*, t) = x mod 2 pi."""
    problem = lagrangian_problem(sp.Eq(u.diff(t) + 3 * u.diff(x), 0))
    _, model = build_lagrangian(problem, generator=generator)
    rng = np.random.default_rng(1)
    xs = torch.as_tensor(rng.uniform(0, 2 * np.pi, 300))
    ts = torch.as_tensor(rng.choice(np.linspace(0, 1, 7), 300))  # repeated times share a grid row
    xi = model._invert(xs, ts)
    assert bool(((xi >= 0) & (xi < 2 * np.pi)).all())
    lag = torch.stack([xi, ts], 1)
    landed = model.branches(lag)[0].detach()
    gap = torch.remainder(landed - xs + math.pi, 2 * math.pi) - math.pi
    assert float(gap.abs().max()) < INVERSION_ATOL
