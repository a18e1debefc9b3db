"""Exact (hard) initial conditions: the model satisfies `u(x, t0) = u0(x)` by construction.

$$u(x, t) = u_0(x) + \\frac{t - t_0}{t_1 - t_0}\\, N(x, t),$$

with $N$ the network (features and body). The initial loss term is then zero to round-off,
so the equation residual is all that training sees; this helps most with causal weighting,
whose first chunk is otherwise a tug of war between the initial data and the equation
(Wang, Sankaran & Perdikaris, arXiv 2203.07404, use the same construction for some cases).
Fields without an initial *value* condition (`pk.Initial(u, u0)`; a condition on `u_t` is
not a value) keep the plain network output.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import sympy as sp
import torch
from torch import Tensor, nn

from pinnkit.errors import ConfigError, PinnkitWarning

__all__ = ["initial_values", "exact_initial_values", "ExactInitial"]


def initial_values(problem) -> dict[str, sp.Expr]:
    """Field name -> the initial value $u_0$ (a function of the space coordinates) for every
    `Initial(field, value)` condition of the problem that gives the field itself."""
    domain = problem.domain
    if domain.time is None:
        return {}
    t = domain.time
    t0 = domain.bounds[0][list(problem.coords).index(t)]
    out = {}
    for cond in problem.conditions:
        if cond.on != "initial":
            continue
        for field in problem.fields:
            value = sp.expand(field - cond.expr)
            if (
                not value.has(field)
                and not value.atoms(sp.Derivative)
                and not any(value.has(f) for f in problem.fields)
            ):
                out[str(field.func)] = value.subs(t, t0)
    return out


def exact_initial_values(problem) -> dict[str, sp.Expr]:
    """`initial_values(problem)`, checked for `ExactInitial`: at least one, each a function
    of the space coordinates only.

    **Raises**

    `ConfigError` when the problem has no time coordinate or no initial value condition, or
    an initial value depends on a learned constant.
    """
    values = initial_values(problem)
    if not values:
        raise ConfigError(
            "exact_initial=True needs a time-dependent problem with an initial value "
            "condition such as `pk.Initial(u, sp.sin(x))`; this problem has none. "
            "Fix: `--set exact_initial=false`."
        )
    space = set(problem.domain.space_coords)
    for name, value in values.items():
        extra = value.free_symbols - space
        if extra:
            raise ConfigError(
                f"exact_initial: the initial value of {name}, {value}, depends on "
                f"{sorted(map(str, extra))}; it may depend on the space coordinates only "
                "(learned constants cannot be built into the model). "
                "Fix: `--set exact_initial=false`."
            )
    _warn_if_not_periodic(problem, values)
    return values


def _warn_if_not_periodic(problem, values: dict[str, sp.Expr]) -> None:
    """Warn where an initial value does not match itself, up to the matched derivative order,
    across a periodic coordinate: built in, its kink (or jump) stays in the model at every
    later time, where the true solution smooths it, and a smooth network cannot cancel it.
    Measured on Allen-Cahn (x^2 cos(pi x): slope +2 at x = -1, -2 at x = 1): the error
    stalled at 4e-4, 81% of it within 0.03 of the wrap; with the initial value a loss term
    the same recipe reached 2.2e-5."""
    for cond in problem.conditions:
        if cond.periodic is None or cond.bounds is None:
            continue
        c, (a, b) = cond.periodic, cond.bounds
        for name, value in values.items():
            for k in range(cond.order + 1):
                d = value.diff(c, k) if k else value
                gap = sp.N(d.subs(c, b) - d.subs(c, a))
                if gap.free_symbols or abs(complex(gap)) <= 1e-9 * (
                    1 + abs(complex(sp.N(d.subs(c, a))))
                ):
                    continue
                what = "value" if k == 0 else f"derivative of order {k} in {c}"
                warnings.warn(
                    f"exact_initial: the initial value of {name}, {value}, is not periodic in "
                    f"{c}: its {what} differs between {c} = {a:g} and {c} = {b:g} (by "
                    f"{float(sp.re(gap)):.3g}). Built into the model, that kink stays at every "
                    "later time, where the solution smooths it, and caps the accuracy "
                    "(Allen-Cahn stalled at 4e-4). Fix: `--set exact_initial=false` and weigh "
                    "the initial condition instead (e.g. `weights={'initial': 10}`).",
                    PinnkitWarning,
                    stacklevel=3,
                )
                break


class ExactInitial(nn.Module):
    """Wraps a model so that the fields with an initial value hold it exactly (see module).

    **Arguments**

    - `inner`: the network, points `(batch, n_coords)` -> `(batch, n_fields)`.
    - `problem`: gives the coordinates and the time interval.
    - `fields`: names of the fields that hold an initial value, in the order `initial`
      returns them (the keys of `exact_initial_values(problem)`).
    - `initial`: the initial values as a torch function of the space coordinates (one
      tensor per coordinate, in `domain.space_coords` order) returning one value per field;
      `pinnkit.build` generates it from the SymPy values.
    - `source`: the generated code of `initial`, for `describe()`.
    """

    def __init__(
        self,
        inner: nn.Module,
        problem,
        fields: Sequence[str],
        initial: Callable,
        source: str = "",
    ):
        super().__init__()
        domain = problem.domain
        coords = list(problem.coords)
        names = list(problem.field_names)
        self.inner = inner
        self.columns = [names.index(n) for n in fields]
        self.space = [coords.index(c) for c in domain.space_coords]
        self.it = coords.index(domain.time)
        lo, hi = domain.bounds
        self.t0, self.span = float(lo[self.it]), float(hi[self.it] - lo[self.it])
        self._initial, self.source = initial, source

    def forward(self, points: Tensor) -> Tensor:
        out = self.inner(points)
        tau = (points[:, self.it] - self.t0) / self.span
        space = [points[:, i] for i in self.space]
        columns = list(out.unbind(1))
        for j, value in zip(self.columns, self._initial(*space)):
            value = torch.as_tensor(value, dtype=out.dtype, device=out.device).expand_as(tau)
            columns[j] = value + tau * columns[j]
        return torch.stack(columns, dim=1)
