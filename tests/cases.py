"""Registry of manufactured-solution cases (after torchdiffeq's `tests/problems.py`).

Each `Case` is a `Problem` factory and the exact solution of every field. The forcing on the
right-hand side of every equation (and the value of every condition) is the operator applied
to that solution, taken symbolically, so every residual of the exact solution is zero to
round-off; Parameters enter the forcing at their `init` values. Each case stores its own
exactness tolerance.

Together the cases cover: 1-D, 2-D and 3-D steady problems, time-dependent and nonlinear
ones, third and fourth order, mixed derivatives (`u_xt`, `u_xxy`), several fields, an ODE on
a `TimeInterval` alone, a `Disk` with a Neumann condition, Parameters (`log=True` too),
Robin and periodic conditions, and data terms.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.compile import compile_problem
from pinnkit.problem import Problem
from tests.helpers import EXACT_RTOL, perturbation, sample_batches, sympy_residuals

x, y, z, t = sp.symbols("x y z t")
U, V, P = sp.Function("u"), sp.Function("v"), sp.Function("p")
# Seed of the observation points of data terms (fixed, so problems are deterministic).
DATA_SEED = 1


@dataclass(frozen=True)
class Case:
    """A manufactured-solution case.

    **Arguments**

    - `name`: registry key and test id.
    - `build`: makes the `Problem` (a fresh one on every call).
    - `solution`: field name -> exact SymPy expression in the problem's coordinates.
    - `rtol`: exactness tolerance of this case (see `tests/helpers.py`).
    """

    name: str
    build: Callable[[], Problem]
    solution: Mapping[str, sp.Expr]
    rtol: float = EXACT_RTOL


CASES: dict[str, Case] = {}


def _register(name: str, solution: Mapping[str, sp.Expr], *, rtol: float = EXACT_RTOL):
    def decorate(build: Callable[[], Problem]) -> Callable[[], Problem]:
        CASES[name] = Case(name, build, dict(solution), rtol)
        return build

    return decorate


def apply(expr: sp.Expr, solution: Mapping[sp.Expr, sp.Expr]) -> sp.Expr:
    """`expr` with each field (`u(x, t)`) replaced by its solution, derivatives taken, and
    every Parameter set to its `init`: the forcing that makes the solution exact."""
    for field, value in solution.items():
        expr = expr.replace(field.func, sp.Lambda(field.args, value))
    expr = expr.doit()
    params = {s: s.init for s in expr.free_symbols if isinstance(s, pk.Parameter)}
    return expr.subs(params)


def manufacture(lhs: sp.Expr, solution: Mapping[sp.Expr, sp.Expr]) -> sp.Eq:
    """`Eq(lhs, f)` with `f = lhs(solution)`."""
    return sp.Eq(lhs, apply(lhs, solution))


def _data(domain: pk.AbstractDomain, solution: Mapping[sp.Expr, sp.Expr], n: int, **kwargs):
    """Observations of the exact solution at `n` interior points of `domain`."""
    points = domain.sample("interior", n, np.random.default_rng(DATA_SEED)).points
    coords = {c: points[:, i] for i, c in enumerate(domain.coords)}
    values = {
        f: sp.lambdify(domain.coords, value, modules="numpy")(*coords.values())
        + np.zeros(n)  # constant expressions lambdify to scalars
        for f, value in solution.items()
    }
    return pk.Data(coords, values, **kwargs)


# -- steady problems --------------------------------------------------------------------------

POISSON_1D = {"u": sp.sin(sp.pi * x) + x**3 / 2}


@_register("poisson_1d", POISSON_1D)
def poisson_1d() -> Problem:
    u = U(x)
    solution = {u: POISSON_1D["u"]}
    return pk.Problem(
        domain=pk.Interval(x, 0, 1),
        fields=[u],
        equations=[manufacture(-u.diff(x, 2), solution)],
        conditions=[
            pk.Dirichlet(u, solution[u], on="left"),
            pk.Dirichlet(u, solution[u], on=sp.Eq(x, 1)),
        ],
        name="poisson_1d",
    )


HELMHOLTZ_2D = {"u": sp.sin(sp.pi * x) * sp.cos(sp.pi * y / 2) + x * y**2}


@_register("helmholtz_2d", HELMHOLTZ_2D)
def helmholtz_2d() -> Problem:
    u = U(x, y)
    solution = {u: HELMHOLTZ_2D["u"]}
    domain = pk.Rectangle((x, 0, 1), (y, 0, 2))
    return pk.Problem(
        domain=domain,
        fields=[u],
        equations={"helmholtz": manufacture(u.diff(x, 2) + u.diff(y, 2) + 16 * u, solution)},
        conditions=[pk.Dirichlet(u, solution[u])],
        data=_data(domain, solution, 7, name="observations"),
        name="helmholtz_2d",
    )


POISSON_3D = {"u": sp.exp(x / 2) * sp.sin(y) * sp.cos(z) + x * y * z}


@_register("poisson_3d", POISSON_3D)
def poisson_3d() -> Problem:
    u = U(x, y, z)
    solution = {u: POISSON_3D["u"]}
    laplacian = u.diff(x, 2) + u.diff(y, 2) + u.diff(z, 2)
    return pk.Problem(
        domain=pk.Box((x, 0, 1), (y, -1, 1), (z, 0, 2)),
        fields=[u],
        equations=[manufacture(-laplacian, solution)],
        conditions=[pk.Dirichlet(u, solution[u])],
        name="poisson_3d",
    )


DISK = {"u": sp.exp(x) * sp.sin(y) + x**2}


@_register("disk_neumann", DISK)
def disk_neumann() -> Problem:
    u = U(x, y)
    solution = {u: DISK["u"]}
    laplacian = u.diff(x, 2) + u.diff(y, 2)
    flux = pk.Normal(x) * DISK["u"].diff(x) + pk.Normal(y) * DISK["u"].diff(y)
    return pk.Problem(
        domain=pk.Disk(x, y, center=(0.5, 0), radius=1),
        fields=[u],
        equations=[manufacture(-laplacian + u, solution)],
        conditions=[pk.Neumann(u, flux)],
        name="disk_neumann",
    )


# Stokes flow from a stream function: u = psi_y, v = -psi_x is divergence-free exactly.
_PSI = sp.sin(sp.pi * x) ** 2 * sp.sin(sp.pi * y) ** 2 / sp.pi
STOKES = {
    "u": _PSI.diff(y),
    "v": -_PSI.diff(x),
    "p": sp.cos(sp.pi * x) * sp.sin(sp.pi * y),
}


@_register("stokes_2d", STOKES)
def stokes_2d() -> Problem:
    u, v, p = U(x, y), V(x, y), P(x, y)
    solution = {u: STOKES["u"], v: STOKES["v"], p: STOKES["p"]}
    domain = pk.Rectangle((x, 0, 1), (y, 0, 1))

    def laplacian(f):
        return f.diff(x, 2) + f.diff(y, 2)

    return pk.Problem(
        domain=domain,
        fields=[u, v, p],
        equations={
            "momentum_x": manufacture(-laplacian(u) + p.diff(x), solution),
            "momentum_y": manufacture(-laplacian(v) + p.diff(y), solution),
            "continuity": sp.Eq(u.diff(x) + v.diff(y), 0),
        },
        conditions=[
            pk.Dirichlet(u, solution[u]),
            pk.Dirichlet(v, solution[v]),
            pk.Condition(p - solution[p], on="left"),
        ],
        data=_data(domain, {u: solution[u], p: solution[p]}, 5),
        name="stokes_2d",
    )


# -- time-dependent problems ------------------------------------------------------------------

BURGERS = {"u": -sp.sin(sp.pi * x) * sp.exp(-t) + x * t / 10}


@_register("burgers", BURGERS)
def burgers() -> Problem:
    u = U(x, t)
    solution = {u: BURGERS["u"]}
    nu = sp.Rational(1, 100) / sp.pi
    return pk.Problem(
        domain=pk.Interval(x, -1, 1) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations=[manufacture(u.diff(t) + u * u.diff(x) - nu * u.diff(x, 2), solution)],
        conditions=[
            pk.Initial(u, solution[u].subs(t, 0)),
            pk.Dirichlet(u, solution[u]),
        ],
        name="burgers",
    )


KDV = {"u": 1 / (2 * sp.cosh(x - t) ** 2) + sp.sin(x) / 10}


@_register("kdv", KDV)
def kdv() -> Problem:
    u = U(x, t)
    solution = {u: KDV["u"]}
    return pk.Problem(
        domain=pk.Interval(x, -2, 2) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations=[manufacture(u.diff(t) + 6 * u * u.diff(x) + u.diff(x, 3), solution)],
        conditions=[
            pk.Initial(u, solution[u].subs(t, 0)),
            pk.Dirichlet(u, solution[u]),
            pk.Neumann(u, pk.Normal(x) * KDV["u"].diff(x)),
        ],
        name="kdv",
    )


# Periodic in x on [0, 2 pi], so the soft periodic condition holds exactly (to order 3).
KS = {"u": sp.cos(x) * sp.exp(-t / 2) + sp.sin(2 * x) * sp.cos(t) / 5}


@_register("kuramoto_sivashinsky", KS)
def kuramoto_sivashinsky() -> Problem:
    u = U(x, t)
    solution = {u: KS["u"]}
    lhs = u.diff(t) + u * u.diff(x) + u.diff(x, 2) + u.diff(x, 4)
    return pk.Problem(
        domain=pk.Interval(x, 0, 2 * sp.pi) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations=[manufacture(lhs, solution)],
        conditions=[pk.Initial(u, solution[u].subs(t, 0)), pk.Periodic(x, order=3)],
        name="kuramoto_sivashinsky",
    )


MIXED = {"u": sp.sin(x + 2 * y) * sp.exp(-t) + x**2 * y * t}


@_register("mixed_derivatives", MIXED)
def mixed_derivatives() -> Problem:
    u = U(x, y, t)
    solution = {u: MIXED["u"]}
    lhs = u.diff(t) - u.diff(x, 2) - u.diff(y, 2) + u.diff(x, t) + u.diff(x, 2, y)
    return pk.Problem(
        domain=pk.Rectangle((x, 0, 1), (y, 0, 1)) * pk.TimeInterval(t, 0, sp.Rational(1, 2)),
        fields=[u],
        equations=[manufacture(lhs, solution)],
        conditions=[pk.Initial(u, solution[u].subs(t, 0)), pk.Dirichlet(u, solution[u])],
        name="mixed_derivatives",
    )


D_HEAT = pk.Parameter("D", init=0.1, log=True)
HEAT = {"u": sp.exp(-t) * sp.sin(2 * x + sp.Rational(3, 10)) + x}


@_register("heat_robin", HEAT)
def heat_robin() -> Problem:
    u = U(x, t)
    solution = {u: HEAT["u"]}
    robin_value = HEAT["u"] + pk.Normal(x) * HEAT["u"].diff(x) / 2
    return pk.Problem(
        domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations=[manufacture(u.diff(t) - D_HEAT * u.diff(x, 2), solution)],
        conditions=[
            pk.Initial(u, solution[u].subs(t, 0)),
            pk.Dirichlet(u, solution[u], on="left"),
            pk.Robin(u, 1, sp.Rational(1, 2), robin_value, on="right"),
        ],
        name="heat_robin",
    )


D_RD = pk.Parameter("D", init=0.05, log=True)
K_RD = pk.Parameter("k", init=1.5)
REACTION_DIFFUSION = {
    "u": sp.exp(-t) * sp.cos(sp.pi * x) + 1,
    "v": sp.sin(sp.pi * x) * (1 + t) / 2,
}


@_register("reaction_diffusion", REACTION_DIFFUSION)
def reaction_diffusion() -> Problem:
    u, v = U(x, t), V(x, t)
    solution = {u: REACTION_DIFFUSION["u"], v: REACTION_DIFFUSION["v"]}
    return pk.Problem(
        domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1),
        fields=[u, v],
        equations={
            "u": manufacture(u.diff(t) - D_RD * u.diff(x, 2) + u * v**2, solution),
            "v": manufacture(v.diff(t) - 2 * D_RD * v.diff(x, 2) - u * v**2 + K_RD * v, solution),
        },
        conditions=[
            pk.Initial(u, solution[u].subs(t, 0)),
            pk.Initial(v, solution[v].subs(t, 0)),
            pk.Dirichlet(u, solution[u]),
            pk.Dirichlet(v, solution[v]),
        ],
        name="reaction_diffusion",
    )


OMEGA = pk.Parameter("omega", init=2.0)
ZETA = sp.Rational(1, 10)
_DAMPED = sp.sqrt(1 - ZETA**2) * OMEGA.init
OSCILLATOR = {"u": sp.exp(-ZETA * OMEGA.init * t) * sp.cos(_DAMPED * t)}


@_register("oscillator", OSCILLATOR)
def oscillator() -> Problem:
    u = U(t)
    solution = {u: OSCILLATOR["u"]}
    lhs = u.diff(t, 2) + 2 * ZETA * OMEGA * u.diff(t) + OMEGA**2 * u
    return pk.Problem(
        domain=pk.TimeInterval(t, 0, 3),
        fields=[u],
        equations=[manufacture(lhs, solution)],
        conditions=[
            pk.Initial(u, 1),
            pk.Initial(u.diff(t), -ZETA * OMEGA.init),
        ],
        name="oscillator",
    )


# -- per-case helpers shared by the tests of pinnkit.compile ---------------------------------


@functools.cache
def case_problem(name: str) -> pk.Problem:
    return CASES[name].build()


def perturbed_solution(case) -> dict[str, sp.Expr]:
    problem = case_problem(case.name)
    return {
        name: case.solution[name] + perturbation(problem.coords, i)
        for i, name in enumerate(problem.field_names)
    }


@functools.cache
def case_batches_and_expected(name: str):
    """Sampled batches of a case and SymPy's residuals of its perturbed solution there.

    Cached: SymPy's `doit()` and `lambdify` are the slow part, and both engines share them.
    """
    problem = case_problem(name)
    compiled = compile_problem(problem, dtype=torch.float64)
    batches = sample_batches(compiled, np.random.default_rng(0))
    params = {k: v.item() for k, v in compiled.parameter_values().items()}
    return batches, sympy_residuals(problem, perturbed_solution(CASES[name]), batches, params)
