"""The symbolic-regression backend interface: `AbstractBackend`, its `Candidate`s and `Front`.

A backend turns samples of a hidden term (named input arrays and the term's values) into a
Pareto front of SymPy expressions. Every backend measures complexity, loss and score the same
way (`complexity`, `mean_squared_error`, `make_front`), so fronts from different backends can
be compared and chosen from by one rule.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import sympy as sp

from pinnkit.discover.exact import is_same_form

__all__ = [
    "AbstractBackend",
    "Candidate",
    "Front",
    "complexity",
    "mean_squared_error",
    "make_front",
    "display",
    "form",
]

# Losses below this fraction of the target's mean square are round-off, not fit: they are
# raised to it before the Pareto filter and the scores, so that a noiseless exact fit (loss
# ~1e-31) is not beaten by a longer expression that only fits the round-off (loss ~1e-32).
LOSS_FLOOR = 1e-12
# PySR's "best" rule (model_selection="best"): the highest score among candidates whose loss
# is within this factor of the smallest loss on the front.
BEST_LOSS_FACTOR = 1.5
#: A candidate off the front is kept as a near one (`Front.near`) when its loss is within this
#: factor of the front's at its complexity. The samples are a trained network, whose smooth
#: error can favour a look-alike: on the discovery suite's Allen-Cahn case (seed 1, 1% noise)
#: 0.39*sin(3.03*u) fit the samples 1.3x better than 0.99*u - 0.98*u**3 and pushed it off the
#: front, though with the physics the cubic explained the data far better (loss 0.59x the
#: network's against 1.34x, misfit 28 noise units below against 60 above). At 5% noise the
#: look-alike's advantage on the samples reached 17x (seed 0: 4.5e-5 against 7.7e-4), and
#: the cubic still passed the physics test (its misfit 9 noise units up).
NEAR_FACTOR = 20.0
#: ... and when it explains at least this fraction of the target's variance (the one-term
#: fits that a constant front member makes "near", 0.21*u**3 with R^2 = 0.3, are not judged).
NEAR_EXPLAINED = 0.95
# Significant digits of the constants shown in tables (the expressions keep full precision).
DISPLAY_DIGITS = 4


#: What applying a function (sin, exp, ...) adds to the complexity, besides its argument. A
#: function is a stronger claim than a sum or a product: at 1 (PySR's default), the look-alike
#: 0.38*sin(2.9*u) (6) was simpler than u - u**3 (7) and -5.3*u + 6.3*sin(u) (Taylor
#: cancellation) beat the cubic on the front; at 3 the cubic comes first (7 against 8).
FUNCTION_COMPLEXITY = 3


def complexity(expr: sp.Expr) -> int:
    """Count the nodes of `expr` written as a tree of unary and binary operations.

    A symbol counts 1, and so does a number, whatever its form (`0.98`, `pi**2`, `1/3`), a
    function application `FUNCTION_COMPLEXITY` (3) plus its argument, `a**b` 1 plus both
    sides, and an n-ary sum or product n - 1 (one per binary operation) plus its terms.
    `-u` is `(-1)*u` (3) and `1/(1 + u**2)` is `(1 + u**2)**(-1)` (7). The same count is used
    for every backend, PySR included (its own complexity column is in its exports), so fronts
    are comparable. Example: `0.5*sin(u)` is 6, `u - u**3` is 7, `exp(-x**2)` is 8,
    `pi**2*sin(pi*x)` is 8.
    """
    if expr.is_Atom or expr.is_number:
        return 1
    args = expr.args
    if isinstance(expr, (sp.Add, sp.Mul)):
        return len(args) - 1 + sum(complexity(a) for a in args)
    if isinstance(expr, sp.Pow):
        return 1 + sum(complexity(a) for a in args)
    return FUNCTION_COMPLEXITY + sum(complexity(a) for a in args)


def mean_squared_error(
    expr: sp.Expr, inputs: Mapping[sp.Symbol, np.ndarray], target: np.ndarray
) -> float:
    """Mean squared error of `expr` evaluated (NumPy; SciPy's special functions, erf or
    gamma, where NumPy has none) at `inputs` against `target`.

    Returns `inf` where the expression is not finite at some sample.
    """
    symbols = list(inputs)
    function = sp.lambdify(symbols, expr, modules=["scipy", "numpy"])
    with np.errstate(all="ignore"):
        values = np.real_if_close(function(*(inputs[s] for s in symbols)))  # scipy's lambertw
        if np.iscomplexobj(values):
            return math.inf
        values = np.broadcast_to(values, target.shape)
        error = float(np.mean((values - target) ** 2))
    return error if math.isfinite(error) else math.inf


@dataclass(frozen=True)
class Candidate:
    """One expression on a Pareto front.

    **Arguments**

    - `expr`: the SymPy expression in the backend's input symbols, constants at full precision.
    - `complexity`: `complexity(expr)`.
    - `loss`: mean squared error on the samples the backend was given.
    - `score`: PySR's score, $-\\Delta \\log L / \\Delta c$ against the previous (simpler)
      member of the front, with losses floored at `LOSS_FLOOR` times the target's mean
      square; 0 for the simplest member.
    """

    expr: sp.Expr
    complexity: int
    loss: float
    score: float

    def display(self) -> str:
        """The expression with constants shown to `DISPLAY_DIGITS` significant digits."""
        return str(display(self.expr))


@dataclass(frozen=True)
class Front:
    """A Pareto front of candidate expressions, sorted by increasing complexity.

    Along the front the loss strictly decreases (after the round-off floor). `best` is
    chosen by PySR's "best" rule: among the candidates whose loss is at most
    `BEST_LOSS_FACTOR` times the smallest, the one with the highest score (the simplest on
    ties). This rule looks at the fit only; choosing with the physics comes later.

    **Arguments**

    - `candidates`: the members, simplest first.
    - `inputs`: the input symbols, in the order the backend was given them.
    - `backend`: the backend's name.
    - `seconds`: wall time of the fit.
    - `exports`: files the backend wrote and kept (name -> path), e.g. PySR's hall of fame.
    - `near`: candidates off the front whose loss is within `NEAR_FACTOR` of the front's at
      their complexity and which explain at least `NEAR_EXPLAINED` of the target's
      variance, simplest first (score 0): the choice with the physics judges them too.
    - `subfront`: members of the Pareto front of a sub-library searched on its own (the
      offline backend's polynomials) that are not members above, simplest first (score 0):
      judged too, whatever their rank among the near candidates.
    - `screen`: candidates ranked below those of `subfront` in the same sub-library by their
      fit to the samples (the offline backend's next polynomial supports of each size),
      screened with the physics by a short refit (`pinnkit.discover.screen`) and judged in
      full only where that already rivals the best judged candidate.
    - `integral`: in an ODE problem, members of the front of the integral regression
      (`pinnkit.discover.integral`: formulas fitted to the observations' increments rather
      than to the network's values) whose forms the others lack, simplest first: judged too.
    """

    candidates: tuple[Candidate, ...]
    inputs: tuple[sp.Symbol, ...]
    backend: str
    seconds: float = 0.0
    exports: Mapping[str, str] = field(default_factory=dict)
    near: tuple[Candidate, ...] = ()
    subfront: tuple[Candidate, ...] = ()
    integral: tuple[Candidate, ...] = ()
    screen: tuple[Candidate, ...] = ()

    @property
    def best(self) -> Candidate:
        """The candidate chosen by the default rule, `choose("best")`."""
        return self.choose("best")

    def choose(self, model_selection: str = "best") -> Candidate:
        """The candidate chosen by one of PySR's `model_selection` rules.

        `"best"`: the highest score among candidates with loss at most `BEST_LOSS_FACTOR`
        times the smallest (the default). `"score"`: the highest score overall. `"accuracy"`:
        the smallest loss. Ties go to the simpler candidate.

        **Raises**

        - `ValueError`: for another rule name.
        """
        smallest = min(c.loss for c in self.candidates)
        if model_selection == "accuracy":
            return min(self.candidates, key=lambda c: (c.loss, c.complexity))
        if model_selection == "score":
            close = list(self.candidates)
        elif model_selection == "best":
            close = [c for c in self.candidates if c.loss <= BEST_LOSS_FACTOR * smallest]
        else:
            raise ValueError(
                f"Front.choose: unknown model_selection `{model_selection}`; "
                "expected 'best', 'score' or 'accuracy'."
            )
        return max(close, key=lambda c: (c.score, -c.complexity))

    def contains(self, truth: sp.Expr, *, rtol: float = 0.02) -> bool:
        """Whether some member has the form of `truth` (`is_same_form`)."""
        return any(is_same_form(c.expr, truth, rtol=rtol) for c in self.candidates)

    @property
    def table(self) -> list[dict]:
        """One dict per member: complexity, loss, score, display expression, chosen mark."""
        best = self.best
        return [
            {
                "complexity": c.complexity,
                "loss": c.loss,
                "score": c.score,
                "expression": c.display(),
                "chosen": c is best,
            }
            for c in self.candidates
        ]

    def to_rows(self) -> list[dict]:
        """JSON/CSV-ready rows: the table plus the full-precision `sympy` and `latex` forms."""
        rows = self.table
        for row, c in zip(rows, self.candidates):
            row["sympy"] = sp.srepr(c.expr)
            row["latex"] = sp.latex(display(c.expr))
        return rows

    def __str__(self) -> str:
        lines = [f"Pareto front ({self.backend}, {self.seconds:.2f} s)"]
        lines.append(f"  {'':2}{'complexity':>10}  {'loss':>10}  {'score':>8}  expression")
        for row in self.table:
            mark = ">>" if row["chosen"] else ""
            lines.append(
                f"  {mark:2}{row['complexity']:>10}  {row['loss']:>10.3e}  "
                f"{row['score']:>8.3f}  {row['expression']}"
            )
        return "\n".join(lines)


def make_front(
    pool: Iterable[tuple[sp.Expr, float]],
    target: np.ndarray,
    *,
    inputs: Iterable[sp.Symbol],
    backend: str,
    seconds: float = 0.0,
    exports: Mapping[str, str] | None = None,
    subpool: Iterable[tuple[sp.Expr, float]] = (),
    screen: Iterable[tuple[sp.Expr, float]] = (),
) -> Front:
    """Filter `(expr, loss)` pairs to their Pareto front and score it.

    A candidate joins the front when its floored loss is strictly below that of every
    simpler candidate; at equal complexity the lower loss wins. Non-finite losses are dropped.
    The others whose floored loss is within `NEAR_FACTOR` of the front's at their complexity
    (the last member no more complex) and which explain at least `NEAR_EXPLAINED` of the
    target's variance become `Front.near`, each expression once. The Pareto front of
    `subpool` alone (a sub-library's candidates, also in `pool`), less the members of the
    front, becomes `Front.subfront` (and leaves `near`). `screen`'s finite pairs not among
    these become `Front.screen`, in their order.

    **Raises**

    - `ValueError`: when no candidate has a finite loss.
    """
    floor = LOSS_FLOOR * max(float(np.mean(np.asarray(target) ** 2)), np.finfo(float).tiny)
    explained = (1 - NEAR_EXPLAINED) * float(np.var(target))
    members, near = _pareto(pool, floor, explained)
    if not members:
        raise ValueError("no candidate expression has a finite loss on the samples")
    on_front = {c.expr for c in members}
    subfront = [
        replace(c, score=0.0)
        for c in _pareto(subpool, floor, explained)[0]
        if c.expr not in on_front
    ]
    taken = {c.expr for c in subfront}
    seen = on_front | taken | {c.expr for c in near}
    screened = [
        Candidate(expr, complexity(expr), float(loss), 0.0)
        for expr, loss in screen
        if math.isfinite(loss) and expr not in seen
    ]
    return Front(
        candidates=tuple(members),
        inputs=tuple(inputs),
        backend=backend,
        seconds=seconds,
        exports=dict(exports or {}),
        near=tuple(c for c in near if c.expr not in taken),
        subfront=tuple(subfront),
        screen=tuple(screened),
    )


def _pareto(pool, floor: float, explained: float) -> tuple[list[Candidate], list[Candidate]]:
    """The Pareto members of `(expr, loss)` pairs and the near ones (`make_front`)."""
    scored = sorted(
        ((complexity(e), max(loss, floor), loss, e) for e, loss in pool if math.isfinite(loss)),
        key=lambda item: (item[0], item[1]),
    )
    members: list[Candidate] = []
    near: list[Candidate] = []
    seen: set[sp.Expr] = set()
    previous: tuple[int, float] | None = None
    for size, floored, loss, expr in scored:
        if previous is not None and floored >= previous[1]:
            close = floored <= NEAR_FACTOR * previous[1] and loss <= explained
            if close and expr not in seen:
                near.append(Candidate(expr=expr, complexity=size, loss=loss, score=0.0))
                seen.add(expr)
            continue
        score = 0.0 if previous is None else -math.log(floored / previous[1]) / (size - previous[0])
        members.append(Candidate(expr=expr, complexity=size, loss=loss, score=score))
        seen.add(expr)
        previous = (size, floored)
    return members, near


class AbstractBackend(abc.ABC):
    """A symbolic-regression method: samples of a function in, a Pareto `Front` out.

    Contract: `fit` returns a `Front` whose expressions use exactly (a subset of) the keys
    of `inputs` as free symbols, with `complexity`, `loss` and `score` measured by
    `make_front`; the result depends only on the data, the options and `seed`.
    """

    name: str

    @abc.abstractmethod
    def fit(
        self, inputs: Mapping[sp.Symbol, np.ndarray], target: np.ndarray, *, seed: int = 0
    ) -> Front:
        """Fit expressions in `inputs` (symbol -> 1-D array, all of one length) to `target`.

        **Raises**

        - `DiscoveryError`: when the backend cannot run (say, a missing dependency).
        """


def display(expr: sp.Expr, digits: int = DISPLAY_DIGITS) -> sp.Expr:
    """`expr` with every float rounded to `digits` significant digits (for tables only). The
    floats carry that precision too: SymPy prints a lone Float to its full precision, so a
    formula that is one constant printed as `0.0226100000000000`."""
    return expr.xreplace(
        {f: sp.Float(f"{float(f):.{digits}g}", digits) for f in expr.atoms(sp.Float)}
    )


def form(expr: sp.Expr) -> sp.Expr:
    """`expr` with every coefficient and constant argument set to 1, signs included: its
    form, whatever the constants (`-0.9*u*v` and `3*u*v/4` -> `u*v`; `0.98*u - 0.99*u**2`
    and `u - u**2` -> `u + u**2`; `exp(-1.02*x**2)` -> `exp(x**2)`). Rational exponents are
    kept (`sqrt(u)`, `v**2`); a float exponent becomes the symbol `_c`. Products are
    expanded first, so `u*(1 - u)` has the form of `u - u**2`."""
    return _form(sp.expand(expr))


def _form(expr: sp.Expr) -> sp.Expr:
    """`form` of an expanded expression, node by node."""
    if expr.is_number:
        return sp.Integer(1)
    if expr.is_Pow:
        base, exponent = expr.args
        if isinstance(exponent, sp.Float):
            exponent = sp.Symbol("_c")
        elif not exponent.is_Rational:
            exponent = _form(exponent)
        return sp.Pow(_form(base), exponent)
    if not expr.args:
        return expr
    return expr.func(*(_form(a) for a in expr.args))
