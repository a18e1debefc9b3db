"""Lagrangian PINN (Mojgani, Balajewicz, Hassanzadeh, arXiv 2205.02902): the rewrite along
characteristics and its residuals (the two-branch model is `pinnkit.models.lagrangian`).

An equation that can be written

$$u_t + a(u, x, t)\\, u_x = R(u, u_{xx}, u_{xxx}, \\dots, x, t)$$

is solved along its characteristics. Two branches of $(\\xi, t)$, where $\\xi$ labels a
characteristic by its start position, learn the characteristic position $X$ and the state
$U = u(X, t)$ carried along it:

$$X(\\xi, t) = \\xi + (t - t_0)\\,[a(u_0(\\xi), \\xi, t_0) + N_X(\\xi, t)], \\qquad
U(\\xi, t) = u_0(\\xi) + (t - t_0)\\, N_U(\\xi, t),$$

so the initial condition holds exactly, and $X$ starts on the free-streaming
characteristics (the first term of its Taylor series in $t$). The residuals on
$(\\xi, t)$ points are

$$r_{\\text{char}} = \\partial_t X - a(U, X, t), \\qquad
r = \\partial_t U - R(U, \\partial_x U, \\partial_x^2 U, \\dots, X, t),
\\quad \\partial_x = (\\partial_\\xi X)^{-1} \\partial_\\xi .$$

Pure advection ($R = 0$) is then trivial for the state branch however large $a$ is, which is
why plain PINNs fail on fast convection and this one does not.

`forward` returns Eulerian values: for each point $(x, t)$ it brackets the $\\xi$ with
$X(\\xi, t) \\equiv x$ (mod the period) on a grid of start positions and refines it by
regula falsi (Illinois), then evaluates $U$ there.

Supported (1-D first): one field, one space coordinate and time, periodic in space (a
`Periodic` condition, exact or soft: the branches are periodic in $\\xi$ either way), one
`Initial` condition giving the field itself, learned `Parameter`s. Not supported, with a
clear error: inflow/outflow boundaries, several fields or equations, data sets, Hidden terms,
time derivatives in $R$, velocities that depend on derivatives, equations nonlinear in
$u_t$ or $u_x$. Where characteristics cross (shocks), the inversion picks the first
crossing; the paper's method does not resolve shocks either.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
import torch
from torch import Tensor, nn

from pinnkit.compile.base import AbstractResiduals, Batch
from pinnkit.compile.codegen import generate
from pinnkit.errors import ProblemError
from pinnkit.problem import Problem

__all__ = [
    "Advection",
    "split_advection",
    "LagrangianSetup",
    "LagrangianResiduals",
    "initial_branch_values",
]

#: The derivative engine of the rewrite, as summaries and `pinnkit check` name it.
ENGINE_NAME = "autograd (lagrangian)"

_SUPPORTED = (
    "The Lagrangian PINN supports 1-D problems `u_t + a(u, x, t) u_x = R(u, u_xx, ..., x, t)` "
    "with one field, periodic in x, and one initial condition `pk.Initial(u, u0(x))`."
)


@dataclass(frozen=True)
class Advection:
    """An equation split as `u_t + velocity * u_x = rest` (see `split_advection`)."""

    field: sp.Expr
    x: sp.Symbol
    t: sp.Symbol
    velocity: sp.Expr
    rest: sp.Expr

    def __str__(self) -> str:
        u, x, t = self.field, self.x, self.t
        lhs = sp.Derivative(u, t) + self.velocity * sp.Derivative(u, x)
        return f"{sp.sstr(lhs)} = {sp.sstr(self.rest)}"


def split_advection(residual: sp.Expr, field: sp.Expr, x: sp.Symbol, t: sp.Symbol) -> Advection:
    """Rewrite `residual = 0` as `u_t + a(u, x, t) u_x = R`, symbolically.

    The residual is divided by its coefficient of $u_t$; $a$ is the coefficient of $u_x$ in
    what remains, and $R$ is the rest. `(u**2 / 2).diff(x)` and `u * u.diff(x)` give the
    same split.

    **Raises**

    `ProblemError` naming what prevents the rewrite: no $u_t$, nonlinear in $u_t$ or $u_x$,
    a velocity that depends on derivatives, or time derivatives (other than $u_t$) left in $R$.
    """
    where = f"Lagrangian rewrite of `{sp.sstr(residual)} = 0`"
    ut, ux = sp.Symbol("_u_t"), sp.Symbol("_u_x")
    uval = sp.Symbol("_u")
    higher: dict[int, sp.Symbol] = {}
    subs = {}
    for d in residual.atoms(sp.Derivative):
        if d.expr != field:
            raise ProblemError(f"{where}: derivative {d} is not of the field {field}. {_SUPPORTED}")
        counts = dict(d.variable_count)
        if counts == {t: 1}:
            subs[d] = ut
        elif set(counts) == {x}:
            order = counts[x]
            subs[d] = ux if order == 1 else higher.setdefault(order, sp.Symbol(f"_u_x{order}"))
        else:
            raise ProblemError(
                f"{where}: the derivative {d} cannot be expressed along characteristics (only "
                f"u_t and pure x-derivatives can). {_SUPPORTED}"
            )
    expr = residual.subs(subs).subs(field, uval)
    coeff = sp.simplify(expr.diff(ut))
    if coeff == 0:
        raise ProblemError(f"{where}: the equation has no u_t term. {_SUPPORTED}")
    if coeff.has(ut):
        raise ProblemError(f"{where}: the equation is nonlinear in u_t. {_SUPPORTED}")
    rest_of = sp.expand(sp.simplify((expr - coeff * ut) / coeff))
    velocity = sp.simplify(rest_of.diff(ux))
    if velocity.has(ux):
        raise ProblemError(
            f"{where}: the equation is nonlinear in u_x (velocity would be {velocity}). "
            f"{_SUPPORTED}"
        )
    if velocity.free_symbols & set(higher.values()):
        raise ProblemError(
            f"{where}: the advection velocity {velocity} depends on higher derivatives of "
            f"{field}; it may depend on u, x and t only. {_SUPPORTED}"
        )
    rest = sp.simplify(-(rest_of - velocity * ux))
    if rest.has(ux) or rest.has(ut):
        raise ProblemError(f"{where}: could not separate u_t and u_x from the rest. {_SUPPORTED}")
    back = {uval: field, **{s: sp.Derivative(field, (x, k)) for k, s in higher.items()}}
    return Advection(field, x, t, velocity.subs(back), rest.subs(back))


@dataclass(frozen=True)
class LagrangianSetup:
    """What the rewrite reads from a problem (validated)."""

    advection: Advection
    equation: str
    field: sp.Expr
    x: sp.Symbol
    t: sp.Symbol
    ix: int
    it: int
    t0: float
    lo: float
    period: float
    initial: sp.Expr

    @classmethod
    def of(cls, problem) -> LagrangianSetup:
        domain = problem.domain
        space = domain.space_coords
        if domain.time is None or len(space) != 1:
            raise ProblemError(
                f"lagrangian: the domain {domain!r} is not 1-D space x time. {_SUPPORTED}"
            )
        if len(problem.fields) != 1 or len(problem.equations) != 1:
            raise ProblemError(
                f"lagrangian: found {len(problem.fields)} fields and {len(problem.equations)} "
                f"equations; one of each is supported. {_SUPPORTED}"
            )
        if problem.data:
            raise ProblemError(
                "lagrangian: data sets are not supported (observations are Eulerian points; "
                f"fitting them needs the inversion inside the loss). {_SUPPORTED}"
            )
        if problem.hidden:
            raise ProblemError(f"lagrangian: Hidden terms are not supported. {_SUPPORTED}")
        (x,), t = space, domain.time
        field = problem.fields[0]
        coords = list(problem.coords)
        eq = problem.equations[0]
        advection = split_advection(eq.residual, field, x, t)
        initial, periodic = None, False
        for cond in problem.conditions:
            if cond.periodic == x:
                periodic = True
                continue
            if cond.on == "initial":
                value = sp.expand(field - cond.expr)
                if not value.has(field) and not value.atoms(sp.Derivative):
                    initial = value.subs(t, domain.bounds[0][coords.index(t)])
                    continue
            raise ProblemError(
                f"lagrangian: condition {cond.name!r} ({sp.sstr(cond.expr)} = 0 on {cond.on}) "
                f"is not supported. {_SUPPORTED}"
            )
        if not periodic:
            raise ProblemError(
                f"lagrangian: no periodic condition in {x}; inflow/outflow boundaries are not "
                f"supported yet. Fix: add `pk.Periodic({x}, exact=True)` if the problem is "
                "periodic. "
                f"{_SUPPORTED}"
            )
        if initial is None:
            raise ProblemError(
                f"lagrangian: no initial condition `pk.Initial({field}, u0)`. {_SUPPORTED}"
            )
        if initial.free_symbols - {x}:
            raise ProblemError(
                f"lagrangian: the initial value {initial} may depend on {x} only. {_SUPPORTED}"
            )
        lo, hi = domain.bounds
        ix, it = coords.index(x), coords.index(t)
        return cls(
            advection,
            eq.name,
            field,
            x,
            t,
            ix,
            it,
            float(lo[it]),
            float(lo[ix]),
            float(hi[ix] - lo[ix]),
            initial,
        )


class LagrangianResiduals(AbstractResiduals):
    """The rewritten problem: `residuals(model, batches)` on Lagrangian `(xi, t)` points.

    Terms: the equation's name for the state along characteristics and
    `<name>_characteristics` for the position. The model is a `LagrangianModel`; every
    derivative is taken with autograd. No data terms and no Hidden terms (the rewrite
    refuses problems with them).

    **Arguments**

    - `problem`: the problem; `setup`: what the rewrite read from it
      (`LagrangianSetup.of(problem)`).
    - `dtype`: of the learned constants; `extra_ops`: as for `compile_problem`.
    """

    def __init__(self, problem: Problem, setup: LagrangianSetup, *, dtype, extra_ops=None):
        super().__init__(problem, dtype)
        self.setup = setup
        adv, field = setup.advection, setup.field
        orders = sorted(
            {dict(d.variable_count)[setup.x] for d in adv.rest.atoms(sp.Derivative)} | {0}
        )
        self.max_order = orders[-1]
        symbols = [sp.Symbol("u" + "_" + "x" * k if k else "u") for k in range(self.max_order + 1)]
        subs = {
            sp.Derivative(field, (setup.x, k)): symbols[k] for k in range(1, self.max_order + 1)
        }
        exprs = [e.subs(subs).subs(field, symbols[0]) for e in (adv.velocity, adv.rest)]
        self._params = [p for p in problem.parameters if any(e.has(p) for e in exprs)]
        inputs = [*symbols, setup.x, setup.t, *self._params]
        self._fn, self.source = generate(
            exprs,
            inputs,
            where=[f'"{self.term_names[1]}"', f'"{self.term_names[0]}"'],
            extra_ops=extra_ops,
            function_name="lagrangian_" + setup.equation,
            labels=[s.name for s in inputs],
        )

    @property
    def term_names(self) -> list[str]:
        return [self.setup.equation, self.setup.equation + "_characteristics"]

    @property
    def sample_regions(self) -> list[str]:
        return ["interior"]

    @property
    def engine_name(self) -> str:
        return ENGINE_NAME

    def domain_region(self, region: str) -> str:
        return region

    def engines(self, model: nn.Module) -> dict[str, str]:
        """The engine per region (`CompiledProblem.engines`): autograd along characteristics."""
        return {region: ENGINE_NAME for region in self.sample_regions}

    def data_batches(self) -> dict[str, Batch]:
        return {}

    def hidden_values(self, model, points) -> dict:
        """Empty: the rewrite has no Hidden terms."""
        return {}

    def mean_squares(self, model: nn.Module, batches) -> dict[str, Tensor]:
        """The mean square of every residual term (`CompiledProblem.mean_squares`)."""
        return {k: r.square().mean() for k, r in self.residuals(model, batches).items()}

    def residuals(self, model: nn.Module, batches) -> dict[str, Tensor]:
        """Residuals at the interior batch's points, read as `(xi, t)`."""
        points = batches["interior"].points.detach().requires_grad_(True)
        ix, it = self.setup.ix, self.setup.it
        x, u = model.branches(points)
        gx = torch.autograd.grad(x.sum(), points, create_graph=True)[0]
        gu = torch.autograd.grad(u.sum(), points, create_graph=True)[0]
        x_xi = gx[:, ix]
        derivs = [u]
        d = gu[:, ix] / x_xi
        for k in range(1, self.max_order + 1):
            derivs.append(d)
            if k < self.max_order:
                d = torch.autograd.grad(d.sum(), points, create_graph=True)[0][:, ix] / x_xi
        values = self.parameter_values()
        velocity, rest = self._fn(
            *derivs, x, points[:, it], *[values[p.name] for p in self._params]
        )
        return {
            self.term_names[0]: gu[:, it] - _full(rest, u),
            self.term_names[1]: gx[:, it] - _full(velocity, u),
        }

    def describe(self, model: nn.Module | None = None) -> str:
        """The rewrite and its generated code (`model` is not needed: one engine)."""
        s = self.setup
        return "\n".join(
            [
                "Lagrangian PINN (Mojgani et al. 2022): the equation along characteristics",
                f"  rewrite: {s.advection}",
                f"  velocity a = {sp.sstr(s.advection.velocity)};  "
                f"rest R = {sp.sstr(s.advection.rest)}",
                f"  initial value u0({s.x.name}) = {sp.sstr(s.initial)}; periodic in {s.x.name} "
                f"with period {s.period:g}",
                f"  terms: {self.term_names[0]!r} (dU/dt = R), {self.term_names[1]!r} (dX/dt = a)",
                *("    " + row for row in self.source.splitlines()),
            ]
        )


def _full(value, like: Tensor) -> Tensor:
    """`value` (a tensor or a Python number) broadcast to `like`'s shape."""
    if isinstance(value, Tensor) and value.shape == like.shape:
        return value
    return torch.as_tensor(value, dtype=like.dtype, device=like.device).expand(like.shape)


def initial_branch_values(
    setup: LagrangianSetup, problem: Problem, *, baseline: bool, extra_ops=None
):
    """`(fn, source)`: the torch function $\\xi \\mapsto (u_0(\\xi), a(u_0(\\xi), \\xi, t_0))$
    the two branches start from (`LagrangianModel`), with learned constants at their initial
    values; with `baseline=False` the velocity is 0 (characteristics start at rest)."""
    params = {p: p.init for p in problem.parameters}
    u0 = setup.initial
    a0 = setup.advection.velocity.subs(setup.field, u0).subs(setup.t, setup.t0).subs(params)
    if not baseline:
        a0 = sp.Integer(0)
    return generate(
        [u0, a0],
        [setup.x],
        where=["initial value", "initial velocity"],
        extra_ops=extra_ops,
        function_name="initial",
        labels=[setup.x.name],
    )
