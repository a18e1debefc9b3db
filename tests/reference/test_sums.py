"""Tests of `reference.sums`: lowered sums against their explicit expansion (NumPy and torch,
values and gradients), `Coefficients`, the `Exact` reference with sums, and every error."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.domain import Vector
from pinnkit.errors import ProblemError
from pinnkit.reference import Coefficients, Exact, SumKernel, lower_sums

# A lowered sum adds the same float64 terms as the expansion, in another order (whole-array
# reductions vs SymPy's left-to-right sum): at most ~50 terms of size <= ~100 here, so the
# round-off is ~1e-13 of the terms' scale; 1e-11 fails on any wrong offset, sign or factor.
SUM_RTOL = 1e-11
# The same sums in float32 (6 terms of size <= 4): round-off ~1e-7 relative; 1e-6 is a margin.
FLOAT32_RTOL = 1e-6
D = 6
N = 9

i, j = sp.symbols("i j", integer=True)
t, a = sp.symbols("t a", real=True)
x = Vector("x", D)
c = Coefficients("c", np.linspace(-1.0, 2.0, D))


def _expand(expr: sp.Expr) -> sp.Expr:
    """`expr` with every sum written out, in the component symbols and plain numbers."""

    def component(node: sp.Indexed) -> sp.Expr:
        k = int(node.indices[0])
        return node.base[k] if isinstance(node.base, Coefficients) else x[k]

    return expr.doit().replace(lambda e: isinstance(e, sp.Indexed), component)


def _expanded_function(expr: sp.Expr, module: str):
    return sp.lambdify([*x.components, t, a], _expand(expr), module)


def _points(xp):
    rng = np.random.default_rng(0)
    block, times = rng.uniform(-1, 1, (N, D)), rng.uniform(0, 1, N)
    if xp is torch:
        return torch.tensor(block, requires_grad=True), torch.tensor(times, requires_grad=True)
    return block, times


def _lowered_value(expr: sp.Expr, block, times, xp):
    """`expr` through `lower_sums`: kernels on the block, the rest through lambdify."""
    lowered, kernels = lower_sums(expr)
    values = [k.evaluate({"x": block}, xp, {t: times, "a": 0.7}) for k in kernels.values()]
    args = [*x.components, t, a, *kernels]
    function = sp.lambdify(args, lowered, "torch" if xp is torch else "numpy")
    return function(*(block[:, k] for k in range(D)), times, 0.7, *values)


def _close(actual, expected) -> None:
    actual, expected = (
        np.asarray(v.detach() if torch.is_tensor(v) else v) for v in (actual, expected)
    )
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(
        actual, np.broadcast_to(expected, actual.shape), rtol=0, atol=SUM_RTOL * scale
    )


STDE = (1 - sp.Sum(x[i] ** 2, (i, 0, D - 1))) * sp.Sum(
    c[i] * sp.sin(x[i] + sp.cos(x[i + 1]) + x[i + 1] * sp.cos(x[i])), (i, 0, D - 2)
)
CASES = {
    "stde": STDE,
    "offsets": sp.Sum(x[i + 2] * x[i] - 3 * x[i + 1] ** 3, (i, 0, D - 3)),
    "coefficient offsets": sp.Sum(c[i + 1] * sp.exp(-x[i]) + c[D - 1 - i] * x[i], (i, 0, D - 2)),
    "stride, reversal, wrap": sp.Sum(x[2 * i] * x[D - 1 - i] + x[(i + 1) % D], (i, 0, D // 2 - 1))
    + sp.Sum(x[i] * x[sp.Mod(i + 1, D)], (i, 0, D - 1)),
    "index as a value": sp.Sum((i + 1) * sp.cos(i * x[i]) + sp.Rational(1, 3) ** i, (i, 0, D - 1)),
    "scalars": sp.Sum(t * x[i] ** 2 + a * sp.sin(x[i] - t), (i, 1, D - 1)) * sp.exp(-t),
    "component symbol": sp.Sum(x[i] * x[0] + x[3], (i, 0, D - 1)),
    "functions": sp.Sum(
        sp.atan2(x[i], 1 + x[i + 1] ** 2)
        + sp.sqrt(2 + x[i])
        + sp.log(2 + sp.tanh(x[i]))
        + sp.Abs(x[i]) / (1 + x[i] ** 2)
        + sp.asinh(x[i]) * sp.pi,
        (i, 0, D - 2),
    ),
    "nested": sp.Sum(x[i] * sp.Sum(c[j] * sp.sin(x[j] + x[i]), (j, 0, D - 1)), (i, 0, D - 1)),
    "double limits": sp.Sum(x[i] * sp.cos(x[j]) + x[(i + j) % D], (i, 0, D - 1), (j, 1, D - 2)),
    "several sums": sp.exp(-sp.Sum(x[i] ** 2, (i, 0, D - 1)) / D) * sp.Sum(x[i], (i, 0, D - 1))
    + sp.Sum(c[i] ** 2, (i, 0, D - 1)) / (2 + sp.Sum(sp.cos(x[i]), (i, 0, D - 1))),
    "reversed limits (Karr)": sp.Sum(x[i] ** 2, (i, 4, 1)) + sp.Sum(x[i], (i, 3, 2)),
}


@pytest.mark.parametrize("xp", [np, torch], ids=["numpy", "torch"])
@pytest.mark.parametrize("name", CASES)
def test_lowered_sums_match_their_expansion(name, xp, float64):
    expr = CASES[name]
    block, times = _points(xp)
    expected = _expanded_function(expr, "numpy")(
        *np.asarray(block.detach() if xp is torch else block).T,
        np.asarray(times.detach() if xp is torch else times),
        0.7,
    )
    actual = _lowered_value(expr, block, times, xp)
    assert torch.is_tensor(actual) == (xp is torch)
    _close(actual, expected)


@pytest.mark.parametrize(
    "name", ["stde", "stride, reversal, wrap", "scalars", "nested", "functions"]
)
def test_torch_gradients_match_the_expansion(name, float64):
    expr = CASES[name]
    block, times = _points(torch)
    lowered = _lowered_value(expr, block, times, torch).sum()
    actual = torch.autograd.grad(lowered, (block, times), allow_unused=True)
    block, times = _points(torch)
    expanded = _expanded_function(expr, "torch")(*block.unbind(1), times, 0.7).sum()
    expected = torch.autograd.grad(expanded, (block, times), allow_unused=True)
    assert actual[0] is not None and (actual[1] is None) == (expected[1] is None)
    for got, want in zip(actual, expected):
        if want is not None:
            _close(got, want)


def test_kernels_and_placeholders():
    taken = sp.Symbol("_sum0")
    norm2 = sp.Sum(x[i] ** 2, (i, 0, D - 1))
    lowered, kernels = lower_sums(taken + norm2 * sp.Sum(t * c[i] * x[i], (i, 0, D - 1)) + norm2)
    first, second = kernels
    assert (first.name, second.name) == ("_sum1", "_sum2")  # `_sum0` is taken, norm2 shared
    assert lowered == taken + first * second + first
    assert all(isinstance(k, SumKernel) for k in kernels.values())
    assert dict(kernels[first].vectors) == {"x": D} and kernels[first].scalars == ()
    assert kernels[second].scalars == (t,) and kernels[second].expr.has(c)
    assert "_sum2" in repr(kernels[second])
    assert lower_sums(x[0] + t) == (x[0] + t, {})
    assert list(lower_sums(norm2, prefix="_eq0_")[1]) == [sp.Symbol("_eq0_0", real=True)]
    block = np.random.default_rng(0).uniform(size=(3, D))
    for clone in (pickle.loads(pickle.dumps(kernels[second])), copy.deepcopy(kernels[second])):
        assert np.array_equal(
            clone.evaluate({"x": block}, np, {"t": 0.5}),
            kernels[second].evaluate({"x": block}, np, {t: 0.5}),
        )


def test_gradient_reaches_a_parameter(float64):
    (kernel,) = lower_sums(sp.Sum(a * x[i] ** 2 + sp.sin(a * i), (i, 0, D - 1)))[1].values()
    block = torch.rand((5, D), dtype=torch.float64)
    parameter = torch.tensor(0.7, requires_grad=True)
    (grad,) = torch.autograd.grad(
        kernel.evaluate({"x": block}, torch, {a: parameter}).sum(), parameter
    )
    expected = (block**2).sum() + 5 * sum(k * np.cos(0.7 * k) for k in range(D))
    _close(grad, expected)


def test_evaluate_keeps_dtype_and_broadcasts_constants():
    _, kernels = lower_sums(sp.Sum(x[i] * c[i], (i, 0, D - 1)) + sp.Sum(c[i] ** 2, (i, 0, D - 1)))
    constant, dynamic = sorted(kernels.values(), key=lambda k: len(k.vectors))
    block = torch.ones((3, D), dtype=torch.float32)
    assert dynamic.evaluate({"x": block}, torch).dtype == torch.float32
    value = constant.evaluate({"x": block}, torch)
    assert value.shape == (3,) and value.dtype == torch.float32
    np.testing.assert_allclose(value.numpy(), np.sum(c.values**2), rtol=FLOAT32_RTOL)
    assert constant.evaluate({}, np).shape == ()
    assert dynamic.evaluate({"x": np.ones((3, D), dtype=np.int64)}, np).dtype == np.float64


def test_hundred_thousand_dimensions_evaluate():
    d = 100_000
    big = Vector("x", d)
    coefficients = Coefficients("c", np.linspace(0.0, 1.0, d))
    expr = (1 - sp.Sum(big[i] ** 2, (i, 0, d - 1))) * sp.Sum(
        coefficients[i] * sp.sin(big[i] + sp.cos(big[i + 1]) + big[i + 1] * sp.cos(big[i])),
        (i, 0, d - 2),
    )
    block = np.random.default_rng(0).uniform(-1, 1, (4, d))
    _, kernels = lower_sums(expr)
    for kernel in kernels.values():
        assert kernel.evaluate({"x": block}, np).shape == (4,)
        assert kernel.evaluate({"x": torch.from_numpy(block)}, torch).shape == (4,)
    exact = Exact({sp.Function("u")(big): expr})
    assert exact.evaluate({f"x[{k}]": block[:, k] for k in range(d)})["u"].shape == (4,)


# --- Coefficients -------------------------------------------------------------------------


def test_coefficients_hold_a_read_only_copy():
    values = np.array([1.0, 2.5, -3.0])
    k = pk.Coefficients("k", values)
    values[0] = 99.0
    assert k.values[0] == 1.0 and not k.values.flags.writeable
    assert k[1] == sp.Float(2.5) and k[-1] == sp.Float(-3.0) and k[sp.Integer(0)] == 1.0
    assert isinstance(k[0], sp.Float)
    assert isinstance(k[i], sp.Indexed) and k[i].is_real
    assert k == Coefficients("k", [1.0, 2.5, -3.0]) and hash(k) == hash(
        Coefficients("k", [1, 2.5, -3])
    )
    assert k != Coefficients("k", [1.0, 2.5, -3.5]) and k != Coefficients("q", [1.0, 2.5, -3.0])
    assert pickle.loads(pickle.dumps(k)) == k
    assert pickle.loads(pickle.dumps(k[i + 1] * x[i])) == k[i + 1] * x[i]
    renamed = k.xreplace({k.label: sp.Symbol("q", real=True)})  # SymPy rebuilds from args
    assert isinstance(renamed, Coefficients) and renamed.name == "q"
    assert np.array_equal(renamed.values, k.values)


def test_coefficient_errors():
    with pytest.raises(ProblemError, match=r"expected an identifier and a non-empty 1-D array"):
        Coefficients("2c", [1.0])
    with pytest.raises(ProblemError, match=r"values of shape \(2, 2\).*Fix: e.g."):
        Coefficients("c", np.ones((2, 2)))
    with pytest.raises(ProblemError, match="finite numbers"):
        Coefficients("c", [1.0, np.nan])
    with pytest.raises(ProblemError, match=r"c\[6\]: index out of range; `c` holds 6 values"):
        c[6]


# --- Exact --------------------------------------------------------------------------------


def test_exact_with_sums_matches_hand_evaluation():
    d = 5
    y = Vector("y", d)
    w = Coefficients("w", [0.5, -1.0, 2.0, 0.25, 3.0])
    u = sp.Function("u")(y, t)
    solution = (1 - sp.Sum(y[i] ** 2, (i, 0, d - 1))) * sp.Sum(
        w[i] * sp.sin(y[i] + sp.cos(y[i + 1]) + y[i + 1] * sp.cos(y[i])), (i, 0, d - 2)
    ) * sp.exp(-t) + y[0] * sp.Sum(t * y[i], (i, 0, d - 1))  # fmt: skip
    reference = Exact({u: solution, "v": y[2] ** 2})
    assert reference.coords == ("y[0]", "y[1]", "y[2]", "y[3]", "y[4]", "t")
    points = np.random.default_rng(1).uniform(-1, 1, (7, d))
    times = np.linspace(0, 1, 7)
    values = reference.evaluate({**{f"y[{k}]": points[:, k] for k in range(d)}, "t": times})
    p = points.T
    inner = sum(
        w.values[k] * np.sin(p[k] + np.cos(p[k + 1]) + p[k + 1] * np.cos(p[k]))
        for k in range(d - 1)
    )
    hand = (1 - (points**2).sum(1)) * inner * np.exp(-times) + p[0] * times * points.sum(1)
    np.testing.assert_allclose(values["u"], hand, rtol=SUM_RTOL)
    np.testing.assert_allclose(values["v"], p[2] ** 2, rtol=SUM_RTOL)


def test_fixed_indices_made_by_sympy_become_numbers_and_components():
    expr = sp.Sum(c[i] * x[i] ** 2, (i, 0, D - 1))
    lowered, kernels = lower_sums(expr.doit() + expr.function.subs(i, 2))
    assert kernels == {} and lowered.free_symbols == set(x.components)
    expected = sum(c.values[k] * x[k] ** 2 for k in range(D)) + c[2] * x[2] ** 2
    assert sp.simplify(lowered - expected) == 0
    u = sp.Function("u")(x)
    points = np.random.default_rng(0).uniform(size=(3, D))
    values = Exact({u: expr.doit()}).evaluate({f"x[{k}]": points[:, k] for k in range(D)})
    np.testing.assert_allclose(values["u"], points**2 @ c.values, rtol=SUM_RTOL)


def test_exact_keeps_plain_sums():
    s = sp.Symbol("s")
    reference = Exact({sp.Function("u")(s): sp.Sum(sp.sin(i * s) / i**2, (i, 1, 4))})
    values = reference.evaluate({"s": np.array([0.3, 1.1])})["u"]
    expected = sum(np.sin(k * np.array([0.3, 1.1])) / k**2 for k in range(1, 5))
    np.testing.assert_allclose(values, expected, rtol=SUM_RTOL)


def test_exact_sum_errors():
    u = sp.Function("u")(x, t)
    with pytest.raises(ProblemError, match=r"free symbol\(s\) `nu`.*Fix: substitute"):
        Exact({u: sp.Sum(sp.Symbol("nu") * x[i], (i, 0, D - 1))})
    z = sp.IndexedBase("z", shape=(3,), real=True)
    with pytest.raises(ProblemError, match=r"sums over the components of `z` \(3 of them\).*Fix"):
        Exact({u: sp.Sum(z[i], (i, 0, 2))})
    with pytest.raises(
        ProblemError, match=r"Exact, field `u`: sum .* runs over `x\[1\]` to `x\[6\]`"
    ):
        Exact({u: sp.Sum(x[i + 1], (i, 0, D - 1))})


# --- errors of lowering and evaluation ----------------------------------------------------


LOWERING_ERRORS = {
    "offset above": (
        sp.Sum(x[i + 1], (i, 0, D - 1)),
        r"`x\[i \+ 1\]` runs over `x\[1\]` to `x\[6\]`, outside `x\[0\]` to `x\[5\]` "
        r"\(it has 6\)\. Fix: shorten the range .*\(i, 0, d - 2\)",
    ),
    "offset below": (sp.Sum(x[i - 1], (i, 0, D - 1)), r"runs over `x\[-1\]` to `x\[4\]`.*Fix"),
    "coefficient offset": (
        sp.Sum(c[i + 1] * x[i], (i, 0, D - 1)),
        r"`c\[i \+ 1\]` runs over `c\[1\]` to `c\[6\]`, outside `c\[0\]` to `c\[5\]`",
    ),
    "symbolic limit": (
        sp.Sum(x[i], (i, 0, sp.Symbol("n"))),
        r"the limits `\(i, 0, n\)` of `i` are not integers.*Fix: use integer limits",
    ),
    "float limit": (sp.Sum(x[i], (i, 0, 4.0)), r"limits `\(i, 0, 4\.0+\)` of `i` are not integers"),
    "triangular": (
        sp.Sum(sp.Sum(x[j], (j, 0, i)), (i, 0, D - 1)),
        r"limits `\(j, 0, i\)` of `j` are not integers \(limits with a symbol or another index",
    ),
    "scalar in index": (
        sp.Sum(x[i + t], (i, 0, D - 1)),
        r"the index of `x\[i \+ t\]` is not an integer expression of the summation indices "
        r"\(i\): it uses `t`.*Fix: use integer offsets",
    ),
    "fractional index": (sp.Sum(x[i / 2], (i, 0, D - 1)), r"it uses `1/2`"),
    "piecewise": (
        sp.Sum(sp.Piecewise((x[i], x[i] > 0), (0, True)), (i, 0, D - 1)),
        r"the summand uses `Piecewise.*\(Piecewise: unsupported\); a vectorised sum supports "
        r"numbers.*Fix: rewrite the summand",
    ),
    "field": (sp.Sum(sp.Function("f")(t) * x[i], (i, 0, D - 1)), r"`f\(t\)` \(f: unsupported\)"),
    "kronecker": (sp.Sum(sp.KroneckerDelta(i, 2) * x[i], (i, 0, D - 1)), r"KroneckerDelta: unsup"),
    "complex": (sp.Sum(sp.I * x[i], (i, 0, D - 1)), r"`I` \(ImaginaryUnit: unsupported\)"),
}


@pytest.mark.parametrize("name", LOWERING_ERRORS)
def test_lowering_errors_name_the_sum_the_cause_and_the_fix(name):
    expr, match = LOWERING_ERRORS[name]
    with pytest.raises(ProblemError, match=match):
        lower_sums(expr, where='equation "eq0"')
    with pytest.raises(ProblemError, match=r'^equation "eq0": sum `Sum\('):
        lower_sums(expr, where='equation "eq0"')


def test_idx_outside_its_sum():
    k = sp.Idx("k")
    with pytest.raises(ProblemError, match=r"uses `k` \(Idx: an index outside any sum over it\)"):
        lower_sums(sp.Sum(x[i] * k, (i, 0, D - 1)))


def test_evaluate_errors():
    _, kernels = lower_sums(sp.Sum(t * x[i], (i, 0, D - 1)))
    (kernel,) = kernels.values()
    block = np.ones((4, D))
    fix = r"Fix: `kernel\.evaluate\(\{name: block, \.\.\.\}, xp, scalars=.*"
    fix += r"\(x\) and scalar of `kernel\.scalars` \(t\)"
    with pytest.raises(ProblemError, match=r"the block of `x` is missing, not \(N, 6\)\. " + fix):
        kernel.evaluate({}, np, {t: 1.0})
    with pytest.raises(ProblemError, match=r"the block of `x` is \(4, 5\), not \(N, 6\)"):
        kernel.evaluate({"x": np.ones((4, 5))}, np, {t: 1.0})
    with pytest.raises(ProblemError, match=r"the scalar `t` is missing, not a number or \(N,\)"):
        kernel.evaluate({"x": block}, np)
    with pytest.raises(ProblemError, match=r"the scalar `t` is of shape \(4, 1\)"):
        kernel.evaluate({"x": block}, np, {"t": np.ones((4, 1))})
    with pytest.raises(ProblemError, match=r"the blocks and scalars have different N: \[3, 4\]"):
        kernel.evaluate({"x": block}, np, {t: np.ones(3)})
    shapeless = sp.IndexedBase("y")
    (loose,) = lower_sums(sp.Sum(shapeless[i + 1], (i, 0, 3)))[1].values()
    assert loose.vectors == {"y": None}
    with pytest.raises(ProblemError, match=r"the block of `y` is \(2, 4\), not \(N, >= 5\)"):
        loose.evaluate({"y": np.ones((2, 4))}, np)
    np.testing.assert_allclose(loose.evaluate({"y": np.ones((2, 5))}, np), [4.0, 4.0])
