"""The Taylor engine's large float32 products through oneDNN (`pinnkit.compile._linear`):
the custom op passes torch's checks, the products are taken where they should be, and the
residuals and parameter gradients are as accurate as `F.linear`'s, eager and compiled."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.build import build_model
from pinnkit.compile import _linear, compile_problem
from tests.helpers import sample_batches

pytestmark = pytest.mark.skipif(not _linear._AVAILABLE, reason="torch built without oneDNN")

x, t = sp.symbols("x t")
u = sp.Function("u")(x, t)
#: Third order in x: four tangent rows, so (4 x 4096 points) x 64 x 64 passes MIN_SIZE.
KDV = pk.Problem(
    name="kdv",
    domain=pk.Interval(x, -1, 1) * pk.TimeInterval(t, 0, 1),
    fields=[u],
    equations=[sp.Eq(u.diff(t) + u * u.diff(x) + 0.0025 * u.diff(x, 3), 0)],
    conditions=[pk.Initial(u, sp.cos(sp.pi * x))],
)
POINTS = 4096


def test_the_op_passes_torchs_custom_op_checks():
    x_ = torch.randn(3, 70, 16, requires_grad=True)
    weight = torch.randn(8, 16, requires_grad=True)
    with warnings.catch_warnings():
        # torch 2.14's `test_aot_dispatch_dynamic` reads `.grad` of a non-leaf tensor itself,
        # which warns (an error under this suite's filter); the op's checks are unaffected.
        warnings.filterwarnings("ignore", message="The .grad attribute of a Tensor that is not")
        torch.library.opcheck(torch.ops.pinnkit.linear.default, (x_, weight))


def test_flop_counters_count_the_op_as_f_linear():
    from torch.utils.flop_counter import FlopCounterMode

    x_ = torch.randn(2, 300, 16, requires_grad=True)
    weight = torch.randn(8, 16, requires_grad=True)
    counts = []
    for fn in (_linear._onednn_linear, torch.nn.functional.linear):
        with FlopCounterMode(display=False) as counter:
            fn(x_, weight).sum().backward()
        counts.append(counter.get_total_flops())
    assert counts[0] == counts[1] == 3 * 2 * 600 * 16 * 8  # forward, and two in backward


def test_the_op_is_f_linear_to_float32_round_off():
    x_ = torch.randn(5000, 64, dtype=torch.float64)
    weight = torch.randn(32, 64, dtype=torch.float64)
    exact = x_ @ weight.t()
    ours = _linear._onednn_linear(x_.float(), weight.float()).double()
    theirs = torch.nn.functional.linear(x_.float(), weight.float()).double()
    scale = exact.abs().max()
    assert (ours - exact).abs().max() / scale < 1e-6
    assert (ours - exact).abs().max() <= 2 * (theirs - exact).abs().max() + 1e-12


def test_only_large_float32_cpu_products_take_onednn():
    weight = torch.zeros(128, 128)
    assert _linear.uses_onednn(torch.zeros(4 * 17500, 128), weight)
    assert not _linear.uses_onednn(torch.zeros(2780, 20), torch.zeros(20, 20))  # the example
    assert not _linear.uses_onednn(torch.zeros(4 * 17500, 128).double(), weight.double())
    assert not _linear.uses_onednn(torch.zeros(4, 1, 128), weight)  # broadcast first tangents


def _residuals_and_gradients(compiled, model, batches):
    residuals = compiled.residuals(model, batches)
    loss = sum(r.square().mean() for r in residuals.values())
    return residuals, torch.autograd.grad(loss, list(model.parameters()))


@pytest.mark.parametrize("compiled", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_residuals_and_gradients_are_as_accurate_as_f_linears(monkeypatch, compiled):
    """float32 through oneDNN and through F.linear, both against float64: the same error."""
    calls = []
    op = _linear._onednn_linear

    def counting(x_, weight):
        calls.append(x_.shape)
        return op(x_, weight)

    exact = compile_problem(KDV, dtype=torch.float64, engine="taylor")
    config = pk.Config(model=pk.MLP(width=64, depth=3))
    model = build_model(KDV, config, torch.Generator().manual_seed(0)).double()
    batches = sample_batches(exact, np.random.default_rng(0), POINTS)
    res64, grad64 = _residuals_and_gradients(exact, model, batches)
    model32 = model.float()
    batches32 = {k: b.to(dtype=torch.float32) for k, b in batches.items()}
    errors = {}
    for name, min_size in (("onednn", _linear.MIN_SIZE), ("f_linear", 1 << 62)):
        monkeypatch.setattr(_linear, "MIN_SIZE", min_size)
        monkeypatch.setattr(_linear, "_onednn_linear", counting)
        ours = compile_problem(KDV, dtype=torch.float32, engine="taylor", compile=compiled)
        res, grad = _residuals_and_gradients(ours, model32, batches32)
        errors[name] = (
            max(
                ((res[k].double() - res64[k]).abs().max() / res64[k].abs().max()).item()
                for k in res64
            ),
            max(
                ((g.double() - g64).abs().max() / g64.abs().max()).item()
                for g, g64 in zip(grad, grad64)
            ),
        )
        if name == "onednn":
            assert calls, "no product went through oneDNN"
            calls.clear()
        else:
            assert not calls
    for i, what in enumerate(("residual", "gradient")):
        assert errors["onednn"][i] < 1e-4, what
        assert errors["onednn"][i] <= 3 * errors["f_linear"][i] + 1e-7, what
