"""Tests of `pinnkit.compile.codegen`: every op-table entry and the generated algebra against
SymPy, complex constants refused, and the `extra_ops` hook for unsupported functions.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.compile import OP_TABLE, compile_problem
from pinnkit.compile.codegen import generate
from pinnkit.errors import CompileError
from tests.helpers import EXACT_RTOL, NONTRIVIAL, SympyModel, sample_batches

x, y, t = sp.symbols("x y t")
u_ = sp.Function("u")


# Points per op-table check: a grid over each op's safe range, endpoints included.
OP_POINTS = 9


# -- code generation -------------------------------------------------------------------------

a, b = sp.symbols("a b", real=True)
# Safe argument ranges (away from poles, branch cuts and domain edges) for every op.
OP_RANGES = {
    sp.sin: [(-3, 3)],
    sp.cos: [(-3, 3)],
    sp.tan: [(-1.2, 1.2)],
    sp.asin: [(-0.95, 0.95)],
    sp.acos: [(-0.95, 0.95)],
    sp.atan: [(-3, 3)],
    sp.atan2: [(-2, 2), (0.5, 2)],
    sp.sinh: [(-3, 3)],
    sp.cosh: [(-3, 3)],
    sp.tanh: [(-3, 3)],
    sp.asinh: [(-3, 3)],
    sp.acosh: [(1.05, 4)],
    sp.atanh: [(-0.95, 0.95)],
    sp.exp: [(-3, 3)],
    sp.log: [(0.1, 5)],
    sp.Abs: [(-2, 2)],
    sp.sign: [(-2, 2)],
    sp.erf: [(-2, 2)],
    sp.erfc: [(-2, 2)],
    sp.sec: [(-1.2, 1.2)],
    sp.csc: [(0.2, 2.9)],
    sp.cot: [(0.2, 2.9)],
    sp.sech: [(-3, 3)],
    sp.csch: [(0.2, 3)],
    sp.coth: [(0.2, 3)],
    sp.Heaviside: [(-2, 2)],
    sp.Max: [(-2, 2), (-1, 1)],
    sp.Min: [(-2, 2), (-1, 1)],
    sp.floor: [(-2.3, 2.3)],
    sp.ceiling: [(-2.3, 2.3)],
}


@pytest.mark.parametrize("op", list(OP_TABLE), ids=lambda op: op.__name__)
def test_op_table_entry_matches_sympy(op):
    assert op in OP_RANGES, f"add a safe argument range for {op.__name__} to OP_RANGES"
    symbols = [a, b][: len(OP_RANGES[op])]
    expr = op(*symbols)
    assert type(expr) is op, "the test expression must not simplify away"
    # An odd number of points puts 0 in the middle of symmetric ranges (sign, Heaviside).
    grids = [np.linspace(lo, hi, OP_POINTS) for lo, hi in OP_RANGES[op]]
    fn, _ = generate([expr], symbols, where=["op"])
    (got,) = fn(*(torch.tensor(g, dtype=torch.float64) for g in grids))
    want = [
        float(expr.subs(dict(zip(symbols, map(sp.Float, values)))).evalf(20))
        for values in zip(*grids)
    ]
    np.testing.assert_allclose(got.numpy(), want, rtol=EXACT_RTOL, atol=EXACT_RTOL)


@pytest.mark.parametrize(
    "expr",
    [
        1 / a,
        a**-3,
        sp.sqrt(a),
        1 / sp.sqrt(a),
        a ** sp.Rational(3, 2),
        a**b,
        3 * a**2 - sp.pi * a * b + sp.E,
        sp.exp(-(a**2)) * sp.cos(b) + sp.exp(-(a**2)) * sp.sin(b),  # CSE shares exp(-a^2)
    ],
    ids=str,
)
def test_generated_algebra_matches_sympy(expr):
    values = (np.linspace(0.5, 2.0, OP_POINTS), np.linspace(-1.0, 1.5, OP_POINTS))
    fn, source = generate([expr], [a, b], where=["algebra"])
    (got,) = fn(*(torch.tensor(v, dtype=torch.float64) for v in values))
    want = sp.lambdify([a, b], expr, modules="numpy")(*values)
    np.testing.assert_allclose(got.numpy(), want, rtol=EXACT_RTOL)
    assert source.startswith("def residuals(")


def test_generate_rejects_complex_constants():
    with pytest.raises(CompileError, match='"eq0": the constant `I` is not a real number'):
        generate([a + sp.I], [a], where=['"eq0"'])


def _bessel_problem():
    u = u_(x)
    return pk.Problem(
        domain=pk.Interval(x, 0, 1),
        fields=[u],
        equations={"bessel": sp.Eq(u.diff(x, 2), sp.besselj(0, 4 * x))},
    )


def test_unsupported_function_names_the_extra_ops_hook():
    with pytest.raises(
        CompileError, match=r'(?s)"bessel" uses `besselj\(0, 4\*x\)`.*extra_ops=\{sympy.besselj'
    ):
        compile_problem(_bessel_problem())


def test_extra_ops_make_an_unsupported_function_work(rng):
    def besselj(order, argument):
        assert order == 0.0, "this test only maps J0"
        return torch.special.bessel_j0(argument)

    problem = _bessel_problem()
    compiled = compile_problem(problem, dtype=torch.float64, extra_ops={sp.besselj: besselj})
    batches = sample_batches(compiled, rng)
    # u = 0 leaves the residual -J0(4x). Compared with the mapped function itself: torch's
    # bessel_j0 is only ~1e-9 accurate against SymPy (mpmath), which is torch's business.
    (residual,) = compiled.residuals(SympyModel(problem.coords, [0]), batches).values()
    points = batches["interior"].points[:, 0]
    torch.testing.assert_close(residual, -torch.special.bessel_j0(4 * points))
    assert residual.abs().min() > NONTRIVIAL


def test_constant_common_subexpressions_fold_into_floats():
    # Both expressions hold sqrt(100 + 4 pi^2), a constant without symbols, and one applies
    # exp to a sum of it: as a CSE variable it would be a Python float, and torch.exp(float)
    # raises (found on Kovasznay's boundary traces).
    x, y = sp.symbols("x y")
    lam = 10 - sp.sqrt(100 + 4 * sp.pi**2)
    exprs = [1 - sp.exp(lam / 2) * sp.cos(2 * sp.pi * y), lam * x]
    fn, source = generate(exprs, [x, y], where=["a", "b"])
    points = torch.linspace(0, 1, 5, dtype=torch.float64)
    out = fn(points, points)
    for got, expr in zip(out, exprs):
        want = sp.lambdify((x, y), expr, "numpy")(points.numpy(), points.numpy())
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-14)


def test_min_and_max_take_numbers():
    """`Min(u, 0)` (a backflow penalty) and `Max(a, b, 1)`: torch.minimum/maximum take two
    tensors only, so numbers go through a clamp."""
    a, b = sp.symbols("a b")
    fn, _ = generate([sp.Min(a, 0), sp.Max(a, b, 1), sp.Min(a, b)], [a, b], where=["1", "2", "3"])
    x = torch.tensor([-1.0, 0.5, 2.0], dtype=torch.float64)
    y = torch.tensor([3.0, -2.0, 0.0], dtype=torch.float64)
    low, high, both = fn(x, y)
    assert torch.equal(low, torch.tensor([-1.0, 0.0, 0.0], dtype=torch.float64))
    assert torch.equal(high, torch.tensor([3.0, 1.0, 2.0], dtype=torch.float64))
    assert torch.equal(both, torch.minimum(x, y))


def test_heaviside_has_the_derivative_zero_so_a_field_can_pass_through_it():
    # torch.heaviside has no derivative: training with H of a field (a switch in a reaction
    # term, or a formula offered to discovery) raised in the backward pass.
    from pinnkit.compile.codegen import _heaviside

    x = torch.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    step = _heaviside(x)
    assert step.tolist() == [0.0, 0.5, 1.0]
    (step * x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.5, 1.0]  # H(x) + x H'(x), H' = 0
