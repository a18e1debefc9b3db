"""A tried candidate (`Scored`) and the choice's measures on it (steps 3 and 4 of the rule in
`pinnkit.discover.select`): the evidence criterion (`criterion`, the rank `rank`), the loss
test that admits a candidate at all (`admissible`), the data test that confirms the chosen
one (`passes`), the pick among the tried candidates (`pick`) and the relative weights of
forms (`weights`).

The criterion is the Bayesian information criterion of the observations, with a price for the
formula's structure: in deviance units (twice nats, the scale of a chi-square),

$$E(c) = \\sum_k n_k \\ln \\hat D_k(c) + p(c) + \\beta\\, s(c),$$

where $\\hat D_k(c)$ is the mean square misfit to the $n_k$ observations of field $k$ after
the refit (the maximum-likelihood noise variance of that field under the formula: the noise
is estimated from each refit itself, never from the trained network, which overfits it),
$N = \\sum_k n_k$, $p(c)$ the price of its constants (`constants_price`: a fitted constant
costs $\\ln N$ whatever its value; an exact number p/q other than 1 costs the bits that
write it, 2 ln(2 |p| q), at most $\\ln N$, since a fitted constant could stand in for it)
and $s(c)$ the complexity of the formula's form, its constants set to 1 (`form`), at
`STRUCTURE_COST` = 2 ln 2 per node (one bit). Where the refit is the maximum-likelihood fit
of an ODE problem (the trajectory refit, which gives each constant's Fisher information
$I$), a constant costs by its precision where that is more: $\\max(\\ln N, \\ln(c^2 I/3))$,
the length of $c$ written to the width $\\sqrt{12/I}$ the data leave it
(`precision_price`, after Bartlett, Desmond and Ferreira's minimum description length).
So in an ODE problem two large constants that cancel (14.5 sin(x) - 15.2 x for -0.7 x), each
fixed far more finely than its value by the others held, pay for the digits they need; on
ODEBench's logistic growth at 1% noise, 0.79 x - 0.0106 x^2 plus 0.78 cos(0.15 x) had won
by 3.0 against the logistic itself at ln N per constant and loses by 1.9 at this price
(both refit by maximum likelihood; re-run, the logistic is chosen at weight 0.75).
Differences $\\Delta E$ between candidates are
log-evidence ratios: $e^{-\\Delta E/2}$ is the relative weight of the data for one over the
other (`weights`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sympy as sp

from pinnkit.discover import ties
from pinnkit.discover.base import Candidate, complexity, form
from pinnkit.discover.exact import charged_number

__all__ = [
    "Scored",
    "rank",
    "admissible",
    "passes",
    "pick",
    "weights",
    "evidence",
    "free_constants",
    "constants_price",
    "precision_price",
    "PHYSICS_FACTOR",
    "DATA_THRESHOLD",
    "PHYSICS_FLOOR",
    "STRUCTURE_COST",
]

#: A formula is admitted when its refit loss (equations, conditions and data) is within this
#: factor of the trained run's loss: it explains the equations about as well as the free
#: network did. Measured on the suite's seed 0 at 1% noise: right forms at 0.97x (Fisher),
#: 1.05x (Lotka-Volterra), 1.47-1.52x (Burgers, whose refit has not settled the equation
#: residual after 400 iterations), wrong simple forms at 3.5x and more.
PHYSICS_FACTOR = 2.0
#: The data test's threshold, in noise units, for `Selection.passed` (whether the chosen
#: formula is *confirmed*, not which one is chosen): the misfit's growth against the trained
#: run, with the noise variance of each field estimated from the formula's own refit. A
#: chi-square with one degree of freedom exceeds 12 with probability 0.05%; the free network
#: overfits the noise somewhat, so the right formula's misfit grows by a few units.
DATA_THRESHOLD = 12.0
#: Losses below this fraction of the term's mean square (over its samples) are round-off:
#: they are raised to it before comparing, so an exact formula (L ~ 1e-30) does not lose to
#: a longer one that only fits the round-off.
PHYSICS_FLOOR = 1e-12
#: The price of one node of a formula's form, in deviance units (2 ln 2: one bit). A fitted
#: constant costs ln N (about 4.6 for 100 observations): a term `c*v**2` added to a formula
#: costs 4.6 + 4 x 1.39 = 10 and must buy that much fit. The sine `c0*sin(c1*u)` (form
#: `sin(u)`, 4 nodes) and the polynomial `c0*u + c1*u**2` (form `u + u**2`, 5 nodes) differ
#: by one node, 1.4: the fit decides between them, not the count of their constants.
STRUCTURE_COST = 2 * math.log(2)


@dataclass(frozen=True)
class Scored:
    """A tried candidate: its loss after the refit (inf when it failed), its complexity
    after rounding constants, the formula with its constants as refit, the data test's
    statistic (the misfit's growth in noise units), for a round form the formula with
    fitted constants it was rounded from, and its evidence criterion `criterion` (`E` of the
    module docstring; lower is better; inf when the refit failed)."""

    candidate: Candidate
    physics: float
    complexity: int
    refit_expr: sp.Expr | None = None
    excess: float = 0.0
    fitted: sp.Expr | None = None
    criterion: float = 0.0

    @property
    def expr(self) -> sp.Expr:
        """The formula, constants as refit when it was refit."""
        return self.refit_expr if self.refit_expr is not None else self.candidate.expr


def free_constants(expr: sp.Expr) -> int:
    """The number of distinct fitted constants of `expr`: its floats, those of equal magnitude
    one (`pinnkit.discover.ties`; round numbers, integers and `pi` are not fitted)."""
    return len(ties.constants(expr))


def constants_price(
    expr: sp.Expr, observations: int, information: Mapping[sp.Float, float] | None = None
) -> float:
    """The price of the constants of `expr` in deviance units, N = `observations` (at least
    e): ln N per distinct fitted constant (float; those of equal magnitude are one, a tie:
    `pinnkit.discover.ties`), whatever its value; an exact number p/q
    (or p pi/q) other than +-1 costs 2 ln(2 |p| q), the bits that write it, at most ln N (a
    fitted constant could take its place): `4*u*v/5` pays 4.6 with 100 observations, as
    much as `0.8*u*v`, and `u - u**2` nothing. Integer and rational exponents are structure
    (`form` keeps them), not constants.

    With `information` (a maximum-likelihood fit's Fisher information of each fitted
    constant, by its Float in `expr`: `pinnkit.discover.trajectory`), a fitted constant c
    costs its precision where that is more, `precision_price`: max(ln N, ln(c^2 I / 3))."""
    cap = math.log(max(observations, math.e))
    price = 0.0
    for constant in ties.constants(expr):
        fisher = ties.lookup(information or {}, constant)
        price += cap if fisher is None else max(cap, precision_price(float(constant), fisher))
    seen: set[sp.Expr] = set()
    for node in _coefficients(expr):
        if node in seen:
            continue
        seen.add(node)
        value = charged_number(node)
        if value is not None:
            bits = 2 * math.log(2 * abs(int(value.p)) * int(value.q))
            price += min(cap, bits + (STRUCTURE_COST if node.has(sp.pi) else 0.0))
    return price


def precision_price(value: float, information: float) -> float:
    """The length, in deviance units (twice nats), of a constant `value` written to the
    precision the data give it (Fisher `information` I, its width sqrt(12 / I) when the others
    are held): ln(value^2 I / 3), 0 for a constant the data do not tell from 0 (Bartlett,
    Desmond and Ferreira, Exhaustive Symbolic Regression, IEEE TEVC 2023, eq. 7)."""
    if not (math.isfinite(information) and information > 0.0 and math.isfinite(value)):
        return 0.0
    return max(0.0, math.log(value * value * information / 3.0)) if value else 0.0


def _coefficients(expr: sp.Expr):
    """The exact numbers of `expr` (rationals, multiples of pi), exponents excepted."""
    if expr.is_number:
        if not expr.atoms(sp.Float):
            yield expr
        return
    if isinstance(expr, sp.Pow):
        yield from _coefficients(expr.base)
        if not expr.exp.is_number:
            yield from _coefficients(expr.exp)
        return
    for arg in expr.args:
        yield from _coefficients(arg)


def evidence(
    deviance: float,
    expr: sp.Expr,
    observations: int,
    information: Mapping[sp.Float, float] | None = None,
) -> float:
    """`E` of the module docstring: `deviance` (sum of n_k ln D_k) plus the price of the
    constants of `expr` (`constants_price`, N = `observations`, priced by their precision
    where `information` gives it) and of its form's nodes (`STRUCTURE_COST` each)."""
    if not math.isfinite(deviance):
        return math.inf
    structure = STRUCTURE_COST * complexity(form(expr))
    return deviance + constants_price(expr, observations, information) + structure


def rank(s: Scored) -> tuple[float, int, float]:
    """The order of preference: the criterion, then the complexity, then the loss."""
    return (s.criterion, s.complexity, s.physics)


def admissible(loss: float, network: float, factor: float, floor: float) -> bool:
    """The loss test: whether a candidate's refit loss is finite and within `factor` of the
    network's (both floored at `floor`)."""
    return math.isfinite(loss) and max(loss, floor) <= factor * max(network, floor)


def passes(
    loss: float,
    network: float,
    factor: float,
    floor: float,
    excess: float = 0.0,
    threshold: float = DATA_THRESHOLD,
) -> bool:
    """Whether a candidate is admissible (`admissible`) and its misfit grew by at most
    `threshold` noise units against the trained run: a confirmed form."""
    return admissible(loss, network, factor, floor) and excess <= threshold


def pick(scored: Sequence[Scored], network: float, factor: float, floor: float = 0.0):
    """The admissible candidate of least criterion (`rank`), or else the one with the
    smallest loss."""
    admitted = [s for s in scored if admissible(s.physics, network, factor, floor)]
    if admitted:
        return min(admitted, key=rank).candidate
    finite = [s for s in scored if math.isfinite(s.physics)]
    pool = finite or list(scored)
    return min(pool, key=lambda s: s.physics if finite else s.candidate.loss).candidate


def weights(scored: Sequence[Scored]) -> list[float]:
    """The relative weight of each of `scored` (Akaike-style weights of the criterion,
    exp(-E/2) normalised over them): the share of the evidence each holds among these."""
    finite = [s.criterion for s in scored if math.isfinite(s.criterion)]
    if not finite:
        return [1.0 / len(scored)] * len(scored) if scored else []
    best = min(finite)
    raw = [
        math.exp(-(s.criterion - best) / 2) if math.isfinite(s.criterion) else 0.0 for s in scored
    ]
    total = sum(raw)
    return [r / total for r in raw]
