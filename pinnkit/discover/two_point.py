"""The trajectory refit of a problem in one coordinate whose conditions hold at both ends: a
boundary-value problem solved by collocation (`scipy.integrate.solve_bvp`).

`pinnkit.discover.trajectory` fits a formula's constants by integrating its ODE from known
(or fitted) start values. A steady problem, `-u'' + q(x) u = 10` with `u(0) = u(1) = 0`, has
no start values: its conditions, Dirichlet, Neumann (`pk.Normal(x)` is -1 at the lower end
and +1 at the upper one), Robin or any `pk.Boundary` of the fields and their first
derivatives, hold at the two ends. Written in for the Hidden term, a formula makes it a
two-point boundary-value problem, which collocation solves (`solve_bvp`, the mesh and the
first solution guessed from the trained network, every later solve from the last good
one); the least-squares fit around it is the trajectory refit's (`fit_trajectory`): the
maximum-likelihood fit of the formula's constants and the Problem's Parameters to the
observations, with no network. On `-u'' + q(x) u = 10`, `u(0) = u(1) = 1`, q = 2 + 8 x^2 (40
observations at 1% noise) the truth's form fits them 15.9 better in deviance than the best
line, `8.736*x`, and 3.2 better in the evidence criterion once its second constant is priced
(`pinnkit.discover.criteria`), which the PINN refits, the network bending towards each
candidate, could not tell (`benchmarks/discovery/unseen/potential_ends.py`).

`ends_of` reads the conditions as `solve_bvp` takes them (one residual per condition and
end); `solver` builds the function from fitted values to the solution at the observation
points. A solve that fails (no convergence within `MAX_NODES` mesh points, non-finite
values) raises `Failed`, as a failed integration does.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from pinnkit.errors import ProblemError
from pinnkit.problem.symbols import Normal

__all__ = [
    "Failed",
    "ends_of",
    "solver",
    "guess_of",
    "state_paths",
    "mesh",
    "MESH",
    "TOLERANCE",
    "MAX_NODES",
]

#: Points of the starting mesh (and of the trained network's values that start the solver).
MESH = 101
#: `solve_bvp`'s tolerance on the collocation residual (relative), and the most mesh points
#: it may refine to. A looser tolerance makes the least-squares Jacobian by differences noise.
TOLERANCE = 1e-8
MAX_NODES = 20_000


class Failed(Exception):
    """One integration or boundary-value solve blew up, stalled or produced non-finite
    values."""


def mesh(span: tuple[float, float]) -> np.ndarray:
    """The starting mesh over the coordinate's interval."""
    return np.linspace(span[0], span[1], MESH)


def ends_of(problem, states: Mapping, derivatives: Mapping) -> tuple[tuple[int, sp.Expr], ...]:
    """Each condition of `problem` at each end of its one coordinate's interval where it holds:
    `(0, residual)` at the lower end, `(1, residual)` at the upper one, the residual in the
    state symbols (`states`: field -> symbol; `derivatives`: a field's first derivative ->
    its velocity state), the Problem's Parameters and numbers. Empty where a condition is of
    another kind (periodic, in the interior, holding a Hidden term or a derivative that is
    not a state)."""
    (coord,) = problem.coords
    lows, highs = problem.domain.bounds
    bounds = (float(np.ravel(lows)[0]), float(np.ravel(highs)[0]))
    points = np.array([[bounds[0]], [bounds[1]]])
    out = []
    for cond in problem.conditions:
        if cond.periodic is not None or cond.on == "interior":
            return ()
        try:
            at = problem.domain.contains(points, cond.on)
        except ProblemError:
            return ()
        expr = cond.expr.xreplace(dict(derivatives))
        if not at.any() or expr.has(sp.Derivative) or expr.atoms(AppliedUndef) - set(states):
            return ()
        expr = expr.xreplace(dict(states))
        for side in (0, 1):
            if at[side]:
                normals = {n: (2 * side - 1 if n.coord == coord else 0) for n in _normals(expr)}
                out.append((side, expr.xreplace({**normals, coord: bounds[side]})))
    return tuple(out)


def guess_of(ode, run) -> dict[int, float | np.ndarray]:
    """The trained `run`'s values for what `fit_trajectory` (`pinnkit.discover.trajectory`)
    starts from and no condition fixes, by state index: each open start value (a field's at
    `span[0]`; a velocity's, the central difference on `mesh`), or, for a boundary-value
    problem, every state's values on that mesh (the solver's first guess)."""
    names = run.problem.field_names
    open_starts = [i for i, s in enumerate(ode.start) if s is None]
    if not open_starts:
        return {}
    guess: dict[int, float | np.ndarray] = {}
    if not ode.ends and any(i < len(names) for i in open_starts):
        values = run.predict(**{ode.time.name: np.array([ode.span[0]])})
        guess = {i: float(values[names[i]][0]) for i in open_starts if i < len(names)}
    if ode.ends or len(open_starts) > len(guess):
        paths = state_paths(ode, run, mesh(ode.span))
        if ode.ends:
            return dict(enumerate(paths))
        guess.update({i: float(paths[i][0]) for i in open_starts if i >= len(names)})
    return guess


def state_paths(ode, run, grid: np.ndarray) -> list[np.ndarray]:
    """Every state of `ode` along `grid` by the trained `run`: the fields' values, then the
    first derivatives of the fields of second order (`Ode.lifted`; central differences)."""
    predicted = run.predict(**{ode.time.name: grid})
    paths = [np.asarray(predicted[n], dtype=float) for n in run.problem.field_names]
    return paths + [np.gradient(paths[i], grid, edge_order=2) for i in ode.lifted]


def _normals(expr: sp.Expr) -> set:
    return {s for s in expr.free_symbols if isinstance(s, Normal)}


def solver(ode, rates: list[sp.Expr], free: list[sp.Symbol], times: np.ndarray, guess: Mapping):
    """The solution at `times` (`(states, len(times))`) as a function of the fitted values
    `theta` (`free`'s, in order) for the boundary-value problem `rates` (the state's
    derivatives) with the conditions `ode.ends`. `guess`: each state's values on
    `mesh(ode.span)` (the trained network's). Raises `Failed` when a solve does."""
    from scipy.integrate import solve_bvp

    try:
        f = sp.lambdify([ode.time, *ode.states, *free], rates, "numpy")
        conditions = sp.lambdify([*ode.states, *free], [e for _, e in ode.ends], "numpy")
    except (TypeError, ValueError, SyntaxError, NameError) as err:
        raise Failed from err
    sides = np.array([side for side, _ in ode.ends])
    last = [mesh(ode.span), np.array([np.asarray(guess[i], float) for i in range(len(rates))])]

    def path(theta: np.ndarray) -> np.ndarray:
        values = tuple(float(v) for v in theta)

        def fun(x, y):
            out = f(x, *y, *values)
            return np.array([np.broadcast_to(np.asarray(r, float), x.shape) for r in out])

        def bc(ya, yb):
            lower = np.asarray(conditions(*ya, *values), float)
            upper = np.asarray(conditions(*yb, *values), float)
            return np.where(sides == 0, lower, upper)

        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                solution = solve_bvp(fun, bc, *last, tol=TOLERANCE, max_nodes=MAX_NODES)
        except (ValueError, ZeroDivisionError, OverflowError, TypeError, np.linalg.LinAlgError):
            raise Failed from None
        if solution.status != 0:
            raise Failed
        y = solution.sol(times)
        if not np.all(np.isfinite(y)):
            raise Failed
        last[:] = [solution.x, solution.y]
        return y

    return path
