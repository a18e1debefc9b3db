"""Refit a formula of an ODE problem by integrating it: the trajectory refit.

In an ODE problem the likelihood of a candidate formula needs no network. Written in for the
Hidden term, the formula makes the equations an initial-value problem; integrated
(LSODA, `scipy.integrate.odeint`) and compared with the observations, its constants, the
problem's Parameters and the start values no condition fixes are fitted by least squares
(`scipy.optimize.least_squares`), each field's misfit in units of its noise (re-estimated
from the refit's own misfits, field by field, until the weights settle). That is the
maximum-likelihood fit the PINN refit only approaches: on ODEBench's logistic growth
x' = 2.1 x - 0.5 x^2 (1% noise, 50 observations) the PINN refit gave 2.042 and the trajectory
refit the maximum-likelihood 2.084 (see `pinnkit.discover.refit`).

`ode_of(problem, name)` recognises the problems this applies to and returns None for the
rest, which keep the PINN refit alone:

- one coordinate (time, or a space coordinate);
- every equation solvable (`sympy.solve`) for the highest derivative of each field, first or
  second; a field of second order is lifted to two states, its value and its first
  derivative (`Ode.lifted`), which may then appear in the Hidden term's arguments (a
  damping d(x')); other derivatives appear nowhere else;
- no Hidden term other than `name` (a term already written in as a formula is fine);
- conditions all `pk.Initial(field, number)` (or `pk.Initial(field.diff(t), number)` for a
  field of second order): an initial-value problem, integrated from there; or else one
  condition per state at the interval's ends (Dirichlet, Neumann, Robin, `pk.Boundary` of
  the states): a boundary-value problem, solved by collocation
  (`pinnkit.discover.two_point`);
- at least one observed field.

`fit_formula(ode, formula, ...)` returns each observed field's mean square misfit, the
formula with its constants as fitted, their standard errors and their Fisher information (a
`Fitted`; `fit_trajectory`: the same for a formula whose constants are symbols, as a
`Traced`), or None when the formula's ODE
cannot be integrated from its starting constants (it blows up or stalls within `STEP_LIMIT`
right-hand-side calls). Discovery uses it for the chosen formula's reported constants, for
the constants of a round form (`pinnkit.discover.select`), and with
`pk.discover(run, trajectory=True)` to judge every candidate (not the default: measured, it
chose worse; docs/discovery.md).
"""

from __future__ import annotations

import builtins
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import sympy as sp

from pinnkit.discover import ties, two_point
from pinnkit.problem import is_hidden

__all__ = [
    "Ode",
    "Traced",
    "Fitted",
    "ode_of",
    "fit_formula",
    "fit_trajectory",
    "fit_precision",
    "STEP_LIMIT",
    "FIT_EVALUATIONS",
    "DIFF_STEP",
]

#: Right-hand-side evaluations one integration may take before it counts as failed (a formula
#: that blows up or turns stiff): far above what a sound candidate needs (a few hundred).
STEP_LIMIT = 20_000
#: Function evaluations of the least-squares fit (`least_squares(max_nfev=...)`), each one
#: integration; a Jacobian by differences costs one per free value.
FIT_EVALUATIONS = 60
#: Relative step of the least-squares fit's finite-difference Jacobian
#: (`least_squares(diff_step=...)`). SciPy's default (about 1.5e-8) is below what an
#: integration at `RTOL` resolves: the Jacobian is then noise, and along a direction the data
#: fix only loosely the fit stops early (`xtol`) where it started. On ODEBench's glycolytic
#: oscillator (id 39, 1% noise) the default left the coefficient of x0^2 x1 at 1.175 (deviance
#: 106.4) where the maximum-likelihood fit is 1.056 (104.6, reached with 1e-6 to 1e-3).
DIFF_STEP = 1e-5
#: Integration tolerances (relative, absolute in units of each field's observed RMS).
RTOL = 1e-8
ATOL = 1e-10
#: A state this many times the observations' largest magnitude counts as blown up.
BLOW_UP = 1e3
#: Further passes of the trajectory refit with each field's noise scale re-estimated from
#: the last pass's misfit (`_reweighted_fit`), and the relative change of a field's weight
#: below which they stop. Measured on ODEBench's 43:x_1 (two fields, 5% noise, started from
#: each field's RMS) the weights moved 16% after the first pass, 1.5% after the second, 0.1%
#: after the third; on the glycolytic oscillator of tests/discover/test_trajectory.py with
#: one field's starting scale 1.5-10 times off, one further pass reaches the fixed point's
#: constants to 4-5 digits and the second pass costs 75-100% of the first's integrations.
REWEIGHT_PASSES = 3
REWEIGHT_TOLERANCE = 0.02
#: A field's re-estimated noise scale is at least this fraction of the one given (a formula
#: that fits one field to round-off does not weigh it without bound).
SCALE_FLOOR = 1e-3


@dataclass(frozen=True)
class Ode:
    """An ODE problem as `ode_of` found it: `rates[i]` is the derivative of state `i`, in the
    state symbols `states`, the coordinate `time`, the Problem's Parameters and one symbol
    per application of the Hidden term (`slots`: symbol -> the application's arguments, in
    the state symbols). The states are the fields, in order, then the first derivatives of
    the fields of second order (`lifted`: those fields' indices). `start[i]` is state `i`'s
    value at `span[0]` (None: fitted), or, for a boundary-value problem, `ends`: each
    condition at each end where it holds, `(0 or 1, residual in the states)`
    (`pinnkit.discover.two_point`; then every start is None). `observed`: per observed
    field, its key `(data name, field name)`, the field's index, the observation times and
    values."""

    time: sp.Symbol
    span: tuple[float, float]
    states: tuple[sp.Symbol, ...]
    rates: tuple[sp.Expr, ...]
    slots: Mapping[sp.Symbol, tuple[sp.Expr, ...]]
    start: tuple[float | None, ...]
    parameters: tuple[sp.Symbol, ...]
    observed: tuple[tuple[tuple[str, str], int, np.ndarray, np.ndarray], ...]
    lifted: tuple[int, ...] = ()
    ends: tuple[tuple[int, sp.Expr], ...] = ()


def ode_of(problem, name: str, conditions: bool = True) -> Ode | None:
    """The ODE of `problem` with Hidden `name` left open, or None where the trajectory refit
    does not apply (module docstring). With `conditions=False` the conditions are not read
    (every start None, no `ends`): the equations alone, as a first-order system."""
    if len(problem.coords) != 1 or not problem.data:
        return None
    if any(h.name != name for h in problem.hidden):
        return None
    (time,) = problem.coords
    lows, highs = problem.domain.bounds
    span = (float(np.ravel(lows)[0]), float(np.ravel(highs)[0]))
    lifted = _second_order(problem, time)
    if lifted is None:
        return None
    n = len(problem.fields)
    states = tuple(sp.Symbol(f"_state{i}") for i in range(n + len(lifted)))
    velocity = {problem.fields[i]: states[n + k] for k, i in enumerate(lifted)}
    unknowns = {
        f: sp.Symbol(f"_rate{i}") for i, f in enumerate(problem.fields) if f not in velocity
    }
    unknowns.update({f: sp.Symbol(f"_acceleration{i}") for f, i in zip(velocity, lifted)})
    derivatives = {f.diff(time): v for f, v in velocity.items()}
    derivatives.update({f.diff(time, 1 + (f in velocity)): r for f, r in unknowns.items()})
    lifts = {d: v for d, v in derivatives.items() if v in states}
    to_state = dict(zip(problem.fields, states))
    slots: dict[sp.Symbol, tuple[sp.Expr, ...]] = {}
    applications: dict[sp.Expr, sp.Symbol] = {}

    def open_term(node: sp.Expr) -> sp.Symbol:
        if node not in applications:
            applications[node] = sp.Symbol(f"_slot{len(applications)}")
            slots[applications[node]] = tuple(
                a.xreplace(lifts).xreplace(to_state) for a in node.args
            )
        return applications[node]

    residuals = [
        e.residual.replace(lambda n: is_hidden(n) and n.func.name == name, open_term)
        .xreplace(derivatives)
        .xreplace(to_state)
        for e in problem.equations
    ]
    if any(arg.has(sp.Derivative) for args in slots.values() for arg in args):
        return None
    if any(r.has(sp.Derivative) for r in residuals):
        return None
    rates_of = tuple(unknowns.values())
    try:
        solutions = sp.solve(residuals, rates_of, dict=True)
    except (NotImplementedError, ValueError, TypeError):
        return None
    if len(solutions) != 1 or set(solutions[0]) != set(rates_of):
        return None
    solved = solutions[0]
    if any(r.has(*rates_of) or r.has(sp.Derivative) for r in solved.values()):
        return None
    rates = tuple(velocity.get(f, solved.get(unknowns[f])) for f in problem.fields)
    rates += tuple(solved[unknowns[f]] for f in velocity)
    start, ends = (_start(problem, to_state, lifts, states) if conditions else None), ()
    if start is None and conditions:
        ends = two_point.ends_of(problem, to_state, lifts)
        if len(ends) != len(states):
            return None
    start = start or (None,) * len(states)
    observed = _observed(problem, time)
    if observed is None:
        return None
    return Ode(
        time, span, states, rates, slots, start, tuple(problem.parameters), observed,
        tuple(lifted), ends,
    )  # fmt: skip


def _second_order(problem, time) -> list[int] | None:
    """The indices of the fields whose second derivative appears in an equation; None where
    an equation holds a derivative other than a field's first or second in `time`."""
    lifted = set()
    for equation in problem.equations:
        for d in equation.residual.atoms(sp.Derivative):
            if d.expr not in problem.fields or len(d.variable_count) != 1:
                return None
            variable, count = d.variable_count[0]
            if variable != time or count not in (1, 2):
                return None
            if count == 2:
                lifted.add(problem.fields.index(d.expr))
    return sorted(lifted)


def _observed(problem, time) -> tuple | None:
    """`Ode.observed` of `problem`; None where a data set has other coordinates."""
    observed = []
    for data in problem.data:
        if set(data.coords) != {time.name}:
            return None
        times = np.asarray(data.coords[time.name], dtype=float)
        for field, values in data.values.items():
            index = problem.field_names.index(field)
            observed.append(((data.name, field), index, times, np.asarray(values, dtype=float)))
    return tuple(observed)


def _start(problem, to_state, lifts, states) -> tuple[float | None, ...] | None:
    """Each state's start value from `pk.Initial(field, number)` conditions (for a field of
    second order also `pk.Initial(field.diff(t), number)`, through `lifts`: derivative ->
    velocity state; None: none given); None when any condition is of another kind."""
    start: list[float | None] = [None] * len(states)
    for cond in problem.conditions:
        if cond.on != "initial" or cond.periodic is not None:
            return None
        expr = cond.expr.xreplace(lifts).xreplace(to_state)
        held = [s for s in states if expr.has(s)]
        if expr.has(sp.Derivative) or len(held) != 1:
            return None
        values = sp.solve(expr, held[0])
        if len(values) != 1 or not values[0].is_number or not values[0].is_real:
            return None
        start[states.index(held[0])] = float(values[0])
    return tuple(start)


def _scalar_function(arguments: list[sp.Symbol], expressions: list[sp.Expr]):
    """`sympy.lambdify` for the integrator's one-point calls: Python's `math` functions on
    floats, 2.3x faster per call than NumPy's ufuncs on scalars (measured on a three-state
    right-hand side; these calls are most of a trajectory refit's time), NumPy's where `math`
    lacks a function of the formula (`arg`). A math domain error, a division by zero or a
    complex power raises where NumPy would return nan or inf; either way the integration
    counts as failed. NameError where neither has the function (LambertW, Bessel functions)."""
    for module in ("math", "numpy"):
        try:
            f = sp.lambdify(arguments, expressions, module, cse=True)
        except NotImplementedError:  # SymPy's printer has no such function for `module`
            continue
        if all(n in f.__globals__ or hasattr(builtins, n) for n in f.__code__.co_names):
            return f
    raise NameError("no numerical module has every function of the formula")


_Failed = two_point.Failed


def _integrator(ode: Ode, f, start: np.ndarray, open_starts: list[int], width: int, times):
    """The solution at `times` as a function of the fitted values `theta`: the first `width`
    are the arguments of `f` after the time and the state, the rest the start values of the
    fields `open_starts`. Raises `_Failed` when the integration blows up (a state beyond
    `BLOW_UP` times the observations' magnitude), stalls (`STEP_LIMIT`) or fails.

    LSODA through `scipy.integrate.odeint`, which steps in Fortran to each observation time:
    `solve_ivp`'s LSODA takes each step from Python, 2.2x the time on ODEBench's 42 (the
    same method and tolerances; the two paths agreed to 6e-8)."""
    from scipy.integrate import ODEintWarning, odeint

    largest = max(float(np.max(np.abs(v))) for *_, v in ode.observed)
    limit = BLOW_UP * max(largest, 1.0, float(np.max(np.abs(start))))
    # odeint reports the start time's row first; the observations may begin later.
    grid = times if times[0] == ode.span[0] else np.concatenate([[ode.span[0]], times])
    first = len(grid) - len(times)

    def path(theta: np.ndarray) -> np.ndarray:
        y0 = start.copy()
        y0[open_starts] = theta[width:]
        values = tuple(theta[:width])
        calls = [0]
        shape = np.ones(len(y0))

        def rhs(t, y):
            calls[0] += 1
            state = y.tolist()
            if calls[0] > STEP_LIMIT or not all(abs(v) < limit for v in state):
                raise _Failed
            return np.asarray(f(t, *state, *values), dtype=float) * shape

        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", ODEintWarning)
                y, info = odeint(
                    rhs,
                    y0,
                    grid,
                    tfirst=True,
                    rtol=RTOL,
                    atol=ATOL,
                    mxstep=STEP_LIMIT,  # per interval; `rhs` counts the calls in all
                    full_output=True,
                )
        except (_Failed, ValueError, ZeroDivisionError, OverflowError, TypeError):
            raise _Failed from None
        if info["message"] != "Integration successful." or not np.all(np.isfinite(y)):
            raise _Failed
        return y[first:].T

    return path


class Fitted(NamedTuple):
    """`fit_formula`'s result: each observed field's mean square misfit and number of
    observations, the formula with its constants as fitted, and by each fitted constant
    (its Float in that formula) its standard error and its Fisher information (`Traced`)."""

    misfit: dict[tuple[str, str], tuple[float, int]]
    expr: sp.Expr
    errors: dict[sp.Float, float]
    information: dict[sp.Float, float]


def fit_formula(
    ode: Ode,
    formula,
    parameters: Mapping[str, float],
    guess: Mapping[int, float],
    scales: Mapping[tuple[str, str], float],
) -> Fitted | None:
    """`fit_trajectory` of `formula` (a `Formula` of the Hidden term) with each of its
    constants (`pinnkit.discover.ties.constants`: floats of equal magnitude are one) started
    at its value, as a `Fitted`, its errors and information keyed by each constant's fitted
    float (read them with `ties.lookup`); None when it fails."""
    numbers = ties.constants(formula.expr)
    constants = sp.symbols(f"_k0:{len(numbers)}")
    template = ties.templated(formula.expr, dict(zip(numbers, constants)))
    start = {c: float(n) for c, n in zip(constants, numbers)}
    result = fit_trajectory(ode, formula.symbols, template, start, parameters, guess, scales)
    if result is None:
        return None
    fitted = {c: sp.Float(result.values[c.name]) for c in constants}
    errors = {fitted[c]: result.errors[c.name] for c in constants}
    information = {fitted[c]: result.information[c.name] for c in constants}
    return Fitted(result.misfit, template.xreplace(fitted), errors, information)


@dataclass(frozen=True)
class Traced:
    """A trajectory refit (`fit_trajectory`): each observed field's mean square misfit and
    number of observations (`misfit`), every fitted value by name (`values`: the constants
    and the Problem's Parameters), its standard error (`errors`: from the Jacobian at the
    fit, the noise variance estimated from the fit's own residuals; inf where the data do
    not fix it) and its Fisher information (`information`: the diagonal of J^T J over that
    variance, 1/sigma^2 of the value with the others held: how precisely the data fix it
    alone, which prices a constant in `pinnkit.discover.criteria.constants_price`)."""

    misfit: dict[tuple[str, str], tuple[float, int]]
    values: dict[str, float]
    errors: dict[str, float]
    information: dict[str, float]


def fit_trajectory(
    ode: Ode,
    symbols: tuple[sp.Symbol, ...],
    template: sp.Expr,
    constants: Mapping[sp.Symbol, float],
    parameters: Mapping[str, float],
    guess: Mapping[int, float],
    scales: Mapping[tuple[str, str], float],
) -> Traced | None:
    """The trajectory refit (module docstring) of the Hidden term's formula `template` in
    `symbols` (one per input position) whose `constants` (symbol -> starting value) are
    fitted: each observed field's mean square misfit and number of observations, and every
    fitted value by name (the constants and the Problem's Parameters). The Parameters start
    from `parameters` (by name) and the start values no condition fixes from `guess` (by
    field index); `scales` are the observed fields' noise scales to start from (each misfit
    is divided by its; with two or more fields they are then re-estimated from the refit's
    own misfits: `_reweighted_fit`). None when the ODE cannot be integrated from the
    starting values."""
    term = sp.Lambda(symbols, template)
    rates = [r.xreplace({s: term(*args) for s, args in ode.slots.items()}) for r in ode.rates]
    open_starts = [i for i, s in enumerate(ode.start) if s is None and not ode.ends]
    free = [*constants, *ode.parameters]
    initial = np.array(
        [
            *(float(v) for v in constants.values()),
            *(float(parameters[p.name]) for p in ode.parameters),
            *(float(guess[i]) for i in open_starts),
        ]
    )
    times = np.unique(np.concatenate([t for _, _, t, _ in ode.observed]))
    rows = [np.searchsorted(times, t) for _, _, t, _ in ode.observed]
    width = len(free)
    try:
        if ode.ends:
            path = two_point.solver(ode, rates, free, times, guess)
        else:
            f = _scalar_function([ode.time, *ode.states, *free], rates)
            start = np.array([0.0 if s is None else s for s in ode.start])
            path = _integrator(ode, f, start, open_starts, width, times)
    except (_Failed, TypeError, ValueError, SyntaxError, NameError):
        return None

    def misfits(theta: np.ndarray) -> list[np.ndarray]:
        y = path(theta)
        return [y[index, row] - values for (_, index, _, values), row in zip(ode.observed, rows)]

    scale = np.array([max(float(scales[key]), 1e-300) for key, *_ in ode.observed])
    try:
        result, parts = _reweighted_fit(misfits, initial, scale)
    except (_Failed, ValueError, np.linalg.LinAlgError):
        return None
    misfit = {
        key: (float(np.mean(np.square(m))), len(m)) for (key, *_), m in zip(ode.observed, parts)
    }
    if not all(math.isfinite(mean) for mean, _ in misfit.values()):
        return None
    errors, information = fit_precision(result.jac, result.fun)
    names = [p.name for p in free]
    return Traced(
        misfit,
        {n: float(v) for n, v in zip(names, result.x[:width])},
        {n: float(e) for n, e in zip(names, errors[:width])},
        {n: float(i) for n, i in zip(names, information[:width])},
    )


def _reweighted_fit(misfits, initial: np.ndarray, scale: np.ndarray):
    """The least-squares fit of `fit_trajectory` (each field's misfit divided by its noise
    scale, `scale` at first) and the fitted misfits, field by field. With more than one
    observed field, the fit is repeated from its last values with each field's scale its own
    root mean square misfit (at least `SCALE_FLOOR` of the scale given), up to
    `REWEIGHT_PASSES` more times, until no field's relative weight moves by more than
    `REWEIGHT_TOLERANCE`: the maximum-likelihood fit when each field's noise variance is
    unknown, the likelihood the criterion scores (sum of n_k ln D_k). The scales given (the
    trained network's misfits) weigh the fields as the network overfits them, field by
    field: on ODEBench's 43:x_1 (5% noise) they left the coefficient of x_1 3.4% off, the
    reweighted fit 1.7%. Raises `_Failed`, `ValueError` or `LinAlgError` when the fit does."""
    from scipy.optimize import least_squares

    size = sum(len(m) for m in misfits(initial))
    floor = SCALE_FLOOR * scale
    theta = initial
    for _ in range(1 + REWEIGHT_PASSES):
        weights = 1.0 / scale

        def residuals(values: np.ndarray) -> np.ndarray:
            try:
                parts = misfits(values)
            except _Failed:
                return np.full(size, 1e6)
            return np.concatenate([w * m for w, m in zip(weights, parts)])

        result = least_squares(
            residuals, theta, x_scale="jac", diff_step=DIFF_STEP, max_nfev=FIT_EVALUATIONS
        )
        parts = misfits(result.x)
        theta = result.x
        own = np.array([math.sqrt(float(np.mean(np.square(m)))) for m in parts])
        own = np.maximum(np.where(np.isfinite(own), own, scale), floor)
        moved = (own / own[0]) / (scale / scale[0])
        if len(parts) == 1 or np.max(np.abs(moved - 1.0)) <= REWEIGHT_TOLERANCE:
            break
        scale = own
    return result, parts


def fit_precision(jacobian: np.ndarray, residuals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The standard errors of a least-squares fit, the square roots of the diagonal of
    (J^T J)^-1 s^2 (s^2 the residuals' mean square over the degrees of freedom; inf for a
    value the Jacobian leaves undetermined, or every value with no degree of freedom), and
    the Fisher information of each value, the diagonal of J^T J / s^2 (0 where undefined)."""
    jacobian = np.asarray(jacobian, dtype=float)
    width = jacobian.shape[1]
    freedom = residuals.size - width
    if freedom <= 0 or not np.all(np.isfinite(jacobian)):
        return np.full(width, math.inf), np.zeros(width)
    variance = float(np.sum(np.square(residuals))) / freedom
    information = jacobian.T @ jacobian
    fisher = np.diag(information) / variance if variance > 0 else np.zeros(width)
    try:
        covariance = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        return np.full(width, math.inf), fisher
    diagonal = np.diag(covariance) * variance
    return np.where(diagonal >= 0, np.sqrt(np.abs(diagonal)), math.inf), fisher
