"""Candidates from the observations of a one-coordinate problem that is not an initial-value
problem: the integral regression with the unknown start values projected out.

`pinnkit.discover.integral` fits a Hidden term's formula to the observations' increments
along the trained solution where the problem is an initial-value ODE (its start values
known or taken from the fit). Steady problems in one coordinate, `-u'' + q(x) u = 10` with
`u(0) = u(1) = 0`, or a first-order equation with a condition at its far end, are not: their
conditions hold at both ends, and the rate is of second order. Where the equations solve for
the highest derivative of each field (first or second order), a field $u$ of order $k$ whose
top rate holds the term linearly, $u^{(k)} = g(x, u, u', \\dots) + a\\, f(\\text{args})$ with
$a$ a number or a known function along the path ($q(x)\\,u$: $a = u$),
satisfies at each observation $x_j$ (Cauchy's formula for the repeated integral)

$$y_j - \\int_{x_0}^{x_j} \\frac{(x_j - s)^{k-1}}{(k-1)!}\\, g\\, ds
  = \\sum_{m<k} c_m (x_j - x_0)^m
  + \\int_{x_0}^{x_j} \\frac{(x_j - s)^{k-1}}{(k-1)!}\\, a\\, f(\\text{args}(s))\\, ds,$$

with $c_m$ the unknown start values ($u(x_0)$, $u'(x_0)$): whatever conditions fix them
(Dirichlet, Neumann, Robin, at either end), they enter linearly, so the rows of the target
and of the operator are projected onto the complement of those columns, field by field
(least squares with the start values free). The trained solution's states and the first
derivatives of the fields of second order (central differences on `GRID` points of the
network's values) fill the integrals; the noisy observations stand only on the left. The
members of that front are judged with the other candidates (`Front.integral`), as for an
ODE.

Measured on five steady problems with a Hidden term (`benchmarks/discovery/unseen/`, 40
observations at 1% noise; docs/discovery.md, "Steady problems and second-order ODEs"): on
`-u'' + g(u) = 10` the sampled network's front led to `8.407*u - 4.857`, and this front
holds `2.932*u**3`, refit to the truth's `3*u**3`.

`line_front` is None where this does not apply: more than one coordinate, no observations,
another Hidden term open, a first-order initial-value ODE (`pinnkit.discover.trajectory.ode_of`:
the integral regression with its starts serves there), equations that are not a system of
first or second order in the coordinate (`ode_of` with the conditions not read), the term
applied more than once or not linearly, or no observed field whose top rate holds it.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from pinnkit.discover.base import Front
from pinnkit.discover.offline import Offline
from pinnkit.discover.trajectory import Ode, ode_of
from pinnkit.discover.two_point import state_paths
from pinnkit.errors import DiscoveryError

__all__ = [
    "line_of",
    "tops",
    "line_front",
    "repeated_integral",
    "trapezoid_operator",
    "GRID",
]

#: Points of the grid the integrals are taken on (the trapezoid rule).
GRID = 2001


def line_of(problem, name: str) -> Ode | None:
    """The equations of a one-coordinate problem with Hidden `name` left open, as a
    first-order system (`pinnkit.discover.trajectory.ode_of` with the conditions not read),
    or None where the regression does not apply (module docstring)."""
    if len(problem.coords) != 1 or not problem.data:
        return None
    ode = ode_of(problem, name)
    if ode is not None and not ode.ends and not ode.lifted:
        return None  # a first-order initial-value ODE: `pinnkit.discover.integral`
    return ode_of(problem, name, conditions=False)


def tops(ode: Ode) -> list[tuple[int, sp.Expr]]:
    """Each field's order and top rate (its first derivative's, or for a field of second
    order, the rate of its velocity state)."""
    n = len(ode.states) - len(ode.lifted)
    out = [(1, rate) for rate in ode.rates[:n]]
    for k, i in enumerate(ode.lifted):
        out[i] = (2, ode.rates[n + k])
    return out


def trapezoid_operator(grid: np.ndarray, times: np.ndarray) -> np.ndarray:
    """The `(len(times), len(grid))` matrix of the trapezoid rule from `grid[0]` to each of
    `times` (within the grid) for a function known at `grid` points, linear between them."""
    grid = np.asarray(grid, dtype=float)
    operator = np.zeros((len(times), len(grid)))
    steps = np.diff(grid)
    for row, t in zip(operator, times):
        k = int(np.clip(np.searchsorted(grid, t, side="right") - 1, 0, len(grid) - 2))
        row[:k] += steps[:k] / 2
        row[1 : k + 1] += steps[:k] / 2
        part = t - grid[k]  # the last cell's share, [grid[k], t]
        fraction = part / steps[k]
        row[k] += part * (1 - fraction / 2)
        row[k + 1] += part * fraction / 2
    return operator


def repeated_integral(grid: np.ndarray, where: np.ndarray, order: int) -> np.ndarray:
    """The `(len(where), len(grid))` matrix of the `order`-fold integral from `grid[0]` to
    each of `where` of a function known at `grid` points (Cauchy's formula: the trapezoid rule
    of $(x_j - s)^{k-1} f(s) / (k-1)!$)."""
    operator = trapezoid_operator(grid, where)
    if order == 1:
        return operator
    kernel = (np.asarray(where)[:, None] - np.asarray(grid)[None, :]) ** (order - 1)
    return operator * np.clip(kernel, 0.0, None) / float(np.prod(np.arange(1, order)))


def line_front(run, name: str, symbols, backend=None) -> Front | None:
    """The projected integral regression's front (module docstring) for Hidden `name` of
    `run`, its formulas in `symbols` (the term's input symbols); `backend` when it is an
    `Offline` (its library), else `Offline()`. Every observed field whose top rate holds the
    term gives rows, each field's weighted by one over its observations' RMS. None where it
    does not apply."""
    line = line_of(run.problem, name)
    rates = None if line is None else _opened_tops(line)
    if not rates:
        return None
    rows = [(i, w, v) for _, i, w, v in line.observed if i in rates]
    if not rows:
        return None
    grid = np.linspace(*line.span, GRID)
    paths = state_paths(line, run, grid)
    parameters = [float(run.parameters[p.name]) for p in line.parameters]
    variables = [line.time, *line.states, *line.parameters]

    def along(expr: sp.Expr) -> np.ndarray:
        function = sp.lambdify(variables, expr, "numpy")
        with np.errstate(all="ignore"):
            values = function(grid, *paths, *parameters)
        return np.broadcast_to(values, grid.shape).astype(float)

    operators, targets = [], []
    for index, where, values in rows:
        keep = (where >= line.span[0]) & (where <= line.span[1])
        where, values = where[keep], values[keep]
        order, coefficient, known = rates[index]
        if len(where) <= order:
            continue
        operator = repeated_integral(grid, where, order)
        # The start values' columns, projected out of the rows.
        nuisance = np.stack([(where - line.span[0]) ** m for m in range(order)], axis=1)
        basis, _ = np.linalg.qr(nuisance)
        weight = 1.0 / max(float(np.sqrt(np.mean(values**2))), 1e-300)
        target = values - operator @ along(known)
        # The term's coefficient along the path goes inside the integral.
        operator = operator * along(coefficient)[None, :]
        operators.append(weight * (operator - basis @ (basis.T @ operator)))
        targets.append(weight * (target - basis @ (basis.T @ target)))
    if not operators:
        return None
    ((_, args),) = line.slots.items()
    inputs = {s: along(arg) for s, arg in zip(symbols, args)}
    method = backend if isinstance(backend, Offline) else Offline()
    try:
        return method.fit(inputs, np.concatenate(targets), operator=np.vstack(operators))
    except (DiscoveryError, ValueError, np.linalg.LinAlgError):
        return None  # non-finite states or inputs: no candidates


def _opened_tops(line: Ode) -> dict[int, tuple[int, sp.Expr, sp.Expr]] | None:
    """For each field whose top rate holds the Hidden term (applied once), its order, the
    term's coefficient there (a number or a known function of the coordinate and the states:
    `q(x) u`) and the rest of the rate; None where the term is applied more than once or
    enters a top rate otherwise than linearly."""
    if len(line.slots) != 1:
        return None
    (slot,) = line.slots
    rates = {}
    for i, (order, top) in enumerate(tops(line)):
        if not top.has(slot):
            continue
        top = sp.expand(top)
        coefficient = sp.diff(top, slot)
        known = sp.expand(top - coefficient * slot)
        if coefficient == 0 or coefficient.has(slot) or known.has(slot):
            return None
        rates[i] = (order, coefficient, known)
    return rates or None
