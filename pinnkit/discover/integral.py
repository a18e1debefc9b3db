"""Candidates from the observations of an ODE problem: the integral regression.

The offline backend fits a Hidden term's formula to the hidden network's values along the
trained solution (`pinnkit.discover.sample`). Those carry the network's own error, a few
percent and smooth, which a look-alike of the truth can fit better than the truth does: on
ODEBench at 1% noise, 9 hidden terms whose truth, offered to the choice, was chosen never
reached the judged candidates. In an ODE problem whose Hidden term enters a field's rate
additively, $x_i' = g(t, x) + a f(\\text{args})$, the observations $y_i(t_j)$ say what the
term's integral is:

$$y_i(t_j) - x_i(t_0) - \\int_{t_0}^{t_j} g\\,ds = a \\int_{t_0}^{t_j} f(\\text{args}(s))\\,ds,$$

the trained solution's states inside the integrals (smooth, and close to the truth where the
fit succeeded), the noisy observations only on the left. Sums of library terms are fitted
to that by the offline backend's best-subset search (`Offline.fit(..., operator=A)`, `A` the
trapezoid rule from $t_0$ to each $t_j$ on `GRID` points): integral SINDy (Schaeffer and
McCalla, Phys. Rev. E 96, 023302, 2017) on the PINN's states. The `INTEGRAL_SIZE` simplest
members of that front whose forms the other candidates lack are judged with the rest
(`Front.integral`; `pinnkit.discover.select`, step 1). A term in several rates (S' = -f,
I' = f - g I) gives rows from each observed field. `integral_front` is None where this does
not apply: no first-order initial-value ODE (`pinnkit.discover.trajectory.ode_of`; the
others go to `pinnkit.discover.line_integral`), the term applied more than once or not
additively with a numeric coefficient, or no field whose rate holds it observed.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import sympy as sp

from pinnkit.discover.base import Candidate, Front, complexity, form, mean_squared_error
from pinnkit.discover.line_integral import GRID, line_front, trapezoid_operator
from pinnkit.discover.offline import Offline
from pinnkit.discover.shortlist import shortlist
from pinnkit.discover.trajectory import Ode, ode_of
from pinnkit.errors import DiscoveryError

__all__ = [
    "integral_front",
    "integral_candidates",
    "with_integral",
    "trapezoid_operator",
    "GRID",
    "INTEGRAL_SIZE",
]

#: At most this many members of the integral front (the simplest, forms not yet among the
#: candidates) are judged.
INTEGRAL_SIZE = 12


def integral_front(run, name: str, symbols, backend=None) -> Front | None:
    """The integral regression's front (module docstring) for Hidden `name` of `run`, its
    formulas in `symbols` (the term's input symbols, one per argument); `backend` when it is
    an `Offline` (its library), else `Offline()`. Every observed field whose rate holds the
    term gives rows (S' = -f, I' = f - g I: both), each field's weighted by |a| over its
    observations' RMS (noise in proportion to a field's size). None where it does not
    apply."""
    ode = ode_of(run.problem, name)
    first_order = ode is not None and not ode.ends and not ode.lifted
    opened = _opened_rates(ode) if first_order else None
    if not opened:
        return None
    slot, rates = opened
    rows = [(i, t, v) for _, i, t, v in ode.observed if i in rates]
    times = np.concatenate([t for _, t, _ in rows]) if rows else np.zeros(0)
    inside = (times >= ode.span[0]) & (times <= ode.span[1])
    if inside.sum() < 2 or float(np.max(times[inside])) <= ode.span[0]:
        return None
    grid = np.linspace(ode.span[0], float(np.max(times[inside])), GRID)
    predicted = run.predict(**{ode.time.name: grid})
    states = [np.asarray(predicted[n], dtype=float) for n in run.problem.field_names]
    parameters = [float(run.parameters[p.name]) for p in ode.parameters]
    variables = [ode.time, *ode.states, *ode.parameters]

    def along(expr: sp.Expr) -> np.ndarray:
        function = sp.lambdify(variables, expr, "numpy")
        with np.errstate(all="ignore"):
            return np.broadcast_to(function(grid, *states, *parameters), grid.shape).astype(float)

    operators, targets = [], []
    for index, t, values in rows:
        keep = (t >= ode.span[0]) & (t <= ode.span[1])
        t, values = t[keep], values[keep]
        coefficient, known = rates[index]
        operator = trapezoid_operator(grid, t)
        start = ode.start[index] if ode.start[index] is not None else float(states[index][0])
        weight = abs(coefficient) / max(float(np.sqrt(np.mean(values**2))), 1e-300)
        targets.append(weight * (values - start - operator @ along(known)) / coefficient)
        operators.append(weight * operator)
    inputs = {s: along(arg) for s, arg in zip(symbols, ode.slots[slot])}
    method = backend if isinstance(backend, Offline) else Offline()
    try:
        return method.fit(inputs, np.concatenate(targets), operator=np.vstack(operators))
    except (DiscoveryError, ValueError, np.linalg.LinAlgError):
        return None  # non-finite states or inputs: no integral candidates


def _opened_rates(ode: Ode) -> tuple[sp.Symbol, dict[int, tuple[float, sp.Expr]]] | None:
    """The Hidden term's symbol and, for each field whose rate holds it, the term's
    coefficient and the rest of the rate, where the term is applied once and enters every
    rate additively with a numeric coefficient; None otherwise."""
    if len(ode.slots) != 1:
        return None
    (slot,) = ode.slots
    rates = {}
    for i, rate in enumerate(ode.rates):
        if not rate.has(slot):
            continue
        rate = sp.expand(rate)
        coefficient = sp.diff(rate, slot)
        known = sp.expand(rate - coefficient * slot)
        if not coefficient.is_number or coefficient == 0 or known.has(slot):
            return None
        rates[i] = (float(coefficient), known)
    return slot, rates


def integral_candidates(front: Front | None, samples, taken) -> tuple[Candidate, ...]:
    """The `INTEGRAL_SIZE` simplest members of the integral `front` (its Pareto members and
    polynomial sub-front) whose forms are not among `taken`, each once, as candidates scored
    on the term's `samples` (the losses the other candidates carry)."""
    if front is None:
        return ()
    seen = set(taken)
    out = []
    for c in sorted((*front.candidates, *front.subfront), key=lambda c: c.complexity):
        shape = form(c.expr)
        if shape in seen or not c.expr.free_symbols:
            continue
        seen.add(shape)
        loss = mean_squared_error(c.expr, samples.inputs, samples.target)
        out.append(Candidate(c.expr, complexity(c.expr), loss, 0.0))
        if len(out) == INTEGRAL_SIZE:
            break
    return tuple(out)


def with_integral(front: Front, run, name: str, samples, backend=None) -> Front:
    """`front` with the integral regression's candidates for Hidden `name` of `run`
    (`Front.integral`; `integral_candidates` of `integral_front`, or of
    `pinnkit.discover.line_integral.line_front` where the problem has one coordinate but is
    not an initial-value ODE), forms already shortlisted left out; `front` itself where
    there are none."""
    taken = {form(c.expr) for c in shortlist(front, samples)}
    found = integral_front(run, name, samples.symbols, backend)
    if found is None:
        found = line_front(run, name, samples.symbols, backend)
    extra = integral_candidates(found, samples, taken)
    return dataclasses.replace(front, integral=extra) if extra else front
