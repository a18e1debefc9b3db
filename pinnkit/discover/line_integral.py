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
(least squares with the start values free). The trained solution's states and first
derivatives (central differences on `GRID` points of the network's values) fill the
integrals; the noisy observations stand only on the left. The members of that front are
judged with the other candidates (`Front.integral`), as for an ODE.

Measured on five steady problems with a Hidden term (`benchmarks/discovery/unseen/`, 40
observations at 1% noise; docs/discovery.md, "Steady problems and second-order ODEs"): on
`-u'' + g(u) = 10` the sampled network's front led to `8.407*u - 4.857`, and this front
holds `2.932*u**3`, refit to the truth's `3*u**3`.

`line_front` is None where this does not apply: more than one coordinate, no observations,
another Hidden term open, a first-order initial-value ODE (`pinnkit.discover.trajectory.ode_of`: the
integral regression with its starts serves there), a derivative above the second or inside
the term's arguments, equations that do not solve for the top derivatives, the term applied
more than once or not linearly, or no observed field whose top rate holds it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from pinnkit.discover.base import Front
from pinnkit.discover.offline import Offline
from pinnkit.discover.trajectory import ode_of
from pinnkit.errors import DiscoveryError
from pinnkit.problem import is_hidden

__all__ = [
    "Line",
    "line_of",
    "line_front",
    "repeated_integral",
    "trapezoid_operator",
    "GRID",
    "MAX_ORDER",
]

#: Points of the grid the integrals are taken on (the trapezoid rule).
GRID = 2001
#: The highest derivative the regression integrates away.
MAX_ORDER = 2


@dataclass(frozen=True)
class Line:
    """A one-coordinate problem as `line_of` found it: field `i` has order `orders[i]` and
    its top derivative is `tops[i]`, in the coordinate `coord`, the state symbols `states`,
    their first derivatives `slopes`, the Problem's Parameters and the Hidden term's symbol
    `slot` (its arguments: `args`); `observed`: per observed field its index, the
    observation coordinates and values."""

    coord: sp.Symbol
    span: tuple[float, float]
    states: tuple[sp.Symbol, ...]
    slopes: tuple[sp.Symbol, ...]
    orders: tuple[int, ...]
    tops: tuple[sp.Expr, ...]
    slot: sp.Symbol
    args: tuple[sp.Expr, ...]
    parameters: tuple[sp.Symbol, ...]
    observed: tuple[tuple[int, np.ndarray, np.ndarray], ...]


def line_of(problem, name: str) -> Line | None:
    """The problem of one coordinate with Hidden `name` left open, or None where the
    regression does not apply (module docstring)."""
    if len(problem.coords) != 1 or not problem.data:
        return None
    ode = ode_of(problem, name)
    if ode is not None and not ode.ends and not ode.lifted:
        return None  # a first-order initial-value ODE: `pinnkit.discover.integral`
    if any(h.name != name for h in problem.hidden):
        return None
    (coord,) = problem.coords
    n = len(problem.fields)
    states = tuple(sp.Symbol(f"_state{i}") for i in range(n))
    slopes = tuple(sp.Symbol(f"_slope{i}") for i in range(n))
    curvatures = tuple(sp.Symbol(f"_curvature{i}") for i in range(n))
    slot = sp.Symbol("_slot")
    to_state = dict(zip(problem.fields, states))
    orders = [0] * n
    applications, residuals = set(), []
    for equation in problem.equations:
        residual = equation.residual
        for node in residual.atoms(sp.Function):
            if is_hidden(node) and node.func.name == name:
                applications.add(node)
        derivatives = {}
        for d in residual.atoms(sp.Derivative):
            if d.expr not in to_state or len(d.variable_count) != 1:
                return None
            variable, count = d.variable_count[0][0], int(d.variable_count[0][1])
            if variable != coord or not 1 <= count <= MAX_ORDER:
                return None
            i = problem.fields.index(d.expr)
            orders[i] = max(orders[i], count)
            derivatives[d] = (slopes if count == 1 else curvatures)[i]
        residuals.append(residual.xreplace(derivatives))
    if len(applications) != 1 or min(orders) == 0:
        return None
    (application,) = applications
    args = tuple(a.xreplace(to_state) for a in application.args)
    residuals = [r.xreplace({application: slot}).xreplace(to_state) for r in residuals]
    top_symbols = [(slopes if k == 1 else curvatures)[i] for i, k in enumerate(orders)]
    if any(a.has(sp.Derivative, *top_symbols, *curvatures) for a in args):
        return None
    try:
        solutions = sp.solve(residuals, top_symbols, dict=True)
    except (NotImplementedError, ValueError, TypeError):
        return None
    if len(solutions) != 1 or set(solutions[0]) != set(top_symbols):
        return None
    tops = tuple(solutions[0][s] for s in top_symbols)
    if any(t.has(*top_symbols, *curvatures, sp.Derivative) for t in tops):
        return None
    lows, highs = problem.domain.bounds
    span = (float(np.ravel(lows)[0]), float(np.ravel(highs)[0]))
    observed = []
    for data in problem.data:
        if set(data.coords) != {coord.name}:
            return None
        where = np.asarray(data.coords[coord.name], dtype=float)
        for field, values in data.values.items():
            index = problem.field_names.index(field)
            observed.append((index, where, np.asarray(values, dtype=float)))
    return Line(
        coord, span, states, slopes, tuple(orders), tops, slot, args,
        tuple(problem.parameters), tuple(observed),
    )  # fmt: skip


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
    rows = [(i, w, v) for i, w, v in line.observed if i in rates]
    if not rows:
        return None
    grid = np.linspace(*line.span, GRID)
    predicted = run.predict(**{line.coord.name: grid})
    states = [np.asarray(predicted[n], dtype=float) for n in run.problem.field_names]
    slopes = [np.gradient(s, grid, edge_order=2) for s in states]
    parameters = [float(run.parameters[p.name]) for p in line.parameters]
    variables = [line.coord, *line.states, *line.slopes, *line.parameters]

    def along(expr: sp.Expr) -> np.ndarray:
        function = sp.lambdify(variables, expr, "numpy")
        with np.errstate(all="ignore"):
            values = function(grid, *states, *slopes, *parameters)
        return np.broadcast_to(values, grid.shape).astype(float)

    operators, targets = [], []
    for index, where, values in rows:
        keep = (where >= line.span[0]) & (where <= line.span[1])
        where, values = where[keep], values[keep]
        order = line.orders[index]
        if len(where) <= order:
            continue
        coefficient, known = rates[index]
        # The term's coefficient along the path goes inside the integral.
        operator = repeated_integral(grid, where, order)
        # The start values' columns, projected out of the rows.
        nuisance = np.stack([(where - line.span[0]) ** m for m in range(order)], axis=1)
        basis, _ = np.linalg.qr(nuisance)
        weight = 1.0 / max(float(np.sqrt(np.mean(values**2))), 1e-300)
        target = values - operator @ along(known)
        operator = operator * along(coefficient)[None, :]
        operators.append(weight * (operator - basis @ (basis.T @ operator)))
        targets.append(weight * (target - basis @ (basis.T @ target)))
    if not operators:
        return None
    inputs = {s: along(arg) for s, arg in zip(symbols, line.args)}
    method = backend if isinstance(backend, Offline) else Offline()
    try:
        return method.fit(inputs, np.concatenate(targets), operator=np.vstack(operators))
    except (DiscoveryError, ValueError, np.linalg.LinAlgError):
        return None  # non-finite states or inputs: no candidates


def _opened_tops(line: Line) -> dict[int, tuple[sp.Expr, sp.Expr]] | None:
    """For each field whose top rate holds the Hidden term, the term's coefficient there (a
    number or a known function of the coordinate, the states and their slopes: `q(x) u`) and
    the rest of the rate; None where the term enters a top rate otherwise than linearly."""
    rates = {}
    for i, top in enumerate(line.tops):
        if not top.has(line.slot):
            continue
        top = sp.expand(top)
        coefficient = sp.diff(top, line.slot)
        known = sp.expand(top - coefficient * line.slot)
        if coefficient == 0 or coefficient.has(line.slot) or known.has(line.slot):
            return None
        rates[i] = (coefficient, known)
    return rates or None
