"""Lagrangian PINN (Mojgani, Balajewicz, Hassanzadeh, arXiv 2205.02902): the model and its rewrite.

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

from pinnkit.compile.codegen import generate
from pinnkit.compile.compiled import constant_values, learned_constants
from pinnkit.errors import ConfigError, ProblemError
from pinnkit.models.mlp import MLP

__all__ = ["Advection", "split_advection", "Lagrangian", "LagrangianModel", "LagrangianResiduals"]

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
class Lagrangian:
    """Spec of the Lagrangian PINN (see the module docstring for the formulas).

    Both branches use the config's input features (`fourier`, `gaussians`) in front of their
    body; the state branch's body is `config.model`.

    **Arguments**

    - `position`: body (`MLP`) of the characteristic-position branch; None uses `config.model`.
    - `grid`: start positions per period used to bracket the inversion in `forward` (default 128).
    - `baseline`: start the characteristics at the free-streaming ones,
      $\\xi + (t - t_0) a(u_0(\\xi), \\xi, t_0)$ (default True); False starts them at rest.
    """

    position: MLP | None = None
    grid: int = 128
    baseline: bool = True

    def __post_init__(self):
        if int(self.grid) < 4:
            raise ConfigError(f"lagrangian.grid={self.grid} must be >= 4.")

    def build(self, problem, config, generator: torch.Generator, *, dtype, extra_ops=None):
        """`(residuals, model)` for `problem`: the rewrite and the two-branch model.

        **Raises**

        `ProblemError` when the problem is outside what is supported (see the module docstring).
        """
        from pinnkit.models import FieldModel

        setup = _Setup.of(problem)
        params = {p: p.init for p in problem.parameters}
        u0 = setup.initial
        a0 = setup.advection.velocity.subs(setup.field, u0).subs(setup.t, setup.t0).subs(params)
        if not self.baseline:
            a0 = sp.Integer(0)
        initial_fn, _ = generate(
            [u0, a0],
            [setup.x],
            where=["initial value", "initial velocity"],
            extra_ops=extra_ops,
            function_name="initial",
            labels=[setup.x.name],
        )
        lo, hi = problem.domain.bounds
        kwargs = dict(
            lo=[float(v) for v in lo],
            hi=[float(v) for v in hi],
            n_out=1,
            generator=generator,
            periods={setup.ix: setup.period},
            harmonics=config.harmonics,
            fourier=config.fourier,
            gaussians=config.gaussians,
        )
        position = FieldModel(body=self.position or config.model, **kwargs)
        state = FieldModel(body=config.model, **kwargs)
        model = LagrangianModel(
            position,
            state,
            initial_fn,
            ix=setup.ix,
            it=setup.it,
            t0=setup.t0,
            lo=setup.lo,
            period=setup.period,
            grid=int(self.grid),
        )
        residuals = LagrangianResiduals(problem, setup, dtype=dtype, extra_ops=extra_ops)
        return residuals, model


@dataclass(frozen=True)
class _Setup:
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
    def of(cls, problem) -> _Setup:
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
        if getattr(problem, "hidden", None):
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


class LagrangianModel(nn.Module):
    """The two branches; `forward` maps Eulerian points `(batch, 2)` to `(batch, 1)` values.

    `branches(points)` gives `(X, U)` at Lagrangian points `(xi, t)` (same column order).
    """

    def __init__(self, position, state, initial_fn, *, ix, it, t0, lo, period, grid):
        super().__init__()
        self.position = position
        self.state = state
        self._initial = initial_fn  # xi -> (u0(xi), a(u0(xi), xi, t0))
        self.ix, self.it, self.t0 = ix, it, t0
        self.lo, self.period, self.grid = lo, period, grid

    def branches(self, points: Tensor) -> tuple[Tensor, Tensor]:
        xi, tau = points[:, self.ix], points[:, self.it] - self.t0
        u0, a0 = (_full(v, xi) for v in self._initial(xi))
        x = xi + tau * (a0 + self.position(points)[:, 0])
        u = u0 + tau * self.state(points)[:, 0]
        return x, u

    def forward(self, points: Tensor, *, chunk: int = 4096) -> Tensor:
        outs = [self._eulerian(points[s : s + chunk]) for s in range(0, len(points), chunk)]
        return torch.cat(outs) if outs else points.new_zeros((0, 1))

    def _eulerian(self, points: Tensor) -> Tensor:
        xi = self._invert(points[:, self.ix], points[:, self.it])
        lag = points.clone()
        lag[:, self.ix] = xi
        return self.branches(lag)[1][:, None]

    def _positions(self, xi: Tensor, t: Tensor) -> Tensor:
        pts = torch.empty(xi.shape + (2,), dtype=xi.dtype, device=xi.device)
        pts[..., self.ix], pts[..., self.it] = xi, t
        return self.branches(pts.reshape(-1, 2))[0].reshape(xi.shape)

    @torch.no_grad()
    def _invert(self, x: Tensor, t: Tensor, iterations: int = 30) -> Tensor:
        """The start position xi in [lo, lo + period) with X(xi, t) = x (mod period)."""
        m, period = self.grid, self.period
        times, inverse = torch.unique(t, return_inverse=True)
        xi_grid = self.lo + period * torch.arange(m + 1, dtype=x.dtype, device=x.device) / m
        rows = self._positions(
            xi_grid[None, :m].expand(len(times), m), times[:, None].expand(-1, m)
        )
        rows = torch.cat([rows, rows[:, :1] + period], dim=1)  # X(xi + L) = X(xi) + L
        phi = rows[inverse] - x[:, None]
        q = torch.floor(phi / period)
        j = torch.argmax((q[:, 1:] > q[:, :-1]).to(torch.int8), dim=1)
        shift = period * q.gather(1, (j + 1)[:, None])[:, 0]
        a, b = xi_grid[j], xi_grid[j + 1]
        fa = phi.gather(1, j[:, None])[:, 0] - shift
        fb = phi.gather(1, (j + 1)[:, None])[:, 0] - shift
        side = torch.zeros_like(a)
        for _ in range(iterations):  # regula falsi, Illinois variant
            c = torch.where(fb != fa, b - fb * (b - a) / (fb - fa), (a + b) / 2)
            fc = self._positions(c, t) - x - shift
            left = fc < 0
            a, fa, b, fb = (
                torch.where(left, c, a),
                torch.where(left, fc, fa),
                torch.where(left, b, c),
                torch.where(left, fb, fc),
            )
            fb = torch.where(left & (side < 0), fb / 2, fb)
            fa = torch.where(~left & (side > 0), fa / 2, fa)
            side = torch.where(left, -torch.ones_like(side), torch.ones_like(side))
        xi = torch.where(fb.abs() < fa.abs(), b, a)
        return self.lo + torch.remainder(xi - self.lo, period)


class LagrangianResiduals(nn.Module):
    """The rewritten problem: `residuals(model, batches)` on Lagrangian `(xi, t)` points.

    Terms: the equation's name for the state along characteristics and
    `<name>_characteristics` for the position. Same interface as `CompiledProblem`.
    """

    def __init__(self, problem, setup: _Setup, *, dtype, extra_ops=None):
        super().__init__()
        self.problem = problem
        self.setup = setup
        self.engine = _EngineName("autograd (lagrangian)")
        self.parameters_raw = learned_constants(problem, dtype)
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

    def domain_region(self, region: str) -> str:
        return region

    def engines(self, model: nn.Module) -> dict[str, str]:
        """The engine per region (`CompiledProblem.engines`): autograd along characteristics."""
        return {region: self.engine.name for region in self.sample_regions}

    def parameter_values(self) -> dict[str, Tensor]:
        return constant_values(self.parameters_raw, self.problem)

    def data_batches(self) -> dict:
        return {}

    def mean_squares(self, model: LagrangianModel, batches) -> dict[str, Tensor]:
        """The mean square of every residual term (`CompiledProblem.mean_squares`)."""
        return {k: r.square().mean() for k, r in self.residuals(model, batches).items()}

    def residuals(self, model: LagrangianModel, batches) -> dict[str, Tensor]:
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

    def describe(self) -> str:
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


@dataclass(frozen=True)
class _EngineName:
    name: str


def _full(value, like: Tensor) -> Tensor:
    """`value` (a tensor or a Python number) broadcast to `like`'s shape."""
    if isinstance(value, Tensor) and value.shape == like.shape:
        return value
    return torch.as_tensor(value, dtype=like.dtype, device=like.device).expand(like.shape)
