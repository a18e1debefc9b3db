"""Evaluate a derivative plan on a batch of points: plain autograd, torch.func forward mode
and Taylor mode (`pinnkit.compile.taylor`), and the `"auto"` choice between them.

The engines share one interface and agree to round-off (tests check this). Which is faster
depends on the network, the number of inputs and the derivative orders; `"auto"` picks per
plan and model by a rule measured on a 2-core CPU (`AutoEngine`,
`benchmarks/speed/engines.py`). torch.func is never the fastest measured, so `"auto"` does
not pick it.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from pinnkit.compile.plan import DerivativePlan, Partial
from pinnkit.errors import ConfigError, did_you_mean

__all__ = [
    "AbstractEngine",
    "AutogradEngine",
    "ForwardEngine",
    "TaylorEngine",
    "AutoEngine",
    "make_engine",
    "ENGINES",
]


class AbstractEngine(abc.ABC):
    """Computes every partial of a `DerivativePlan` for a batch of points.

    Contract: `evaluate(model, points, plan)` returns one tensor of shape `(batch,)` per
    partial in `plan.closure`, differentiable with respect to the model's parameters
    (so the residual loss can be back-propagated). Rows are independent: the model must
    map each point on its own (no batch normalisation), which is what makes the
    derivative of a batch sum equal to each point's own derivative.
    """

    name: str

    @abc.abstractmethod
    def evaluate(
        self, model: nn.Module, points: Tensor, plan: DerivativePlan
    ) -> dict[Partial, Tensor]:
        """Field values and derivatives at `points` (batch, n_coords)."""

    def evaluate_many(
        self, model: nn.Module, jobs: Sequence[tuple[Tensor, DerivativePlan]]
    ) -> list[dict[Partial, Tensor]]:
        """`evaluate` for several (points, plan) pairs, in order. Engines that can share
        passes through the network between them (Taylor mode) override this; the results
        are the same."""
        return [self.evaluate(model, points, plan) for points, plan in jobs]

    def prepare(self, model: nn.Module, plans: Sequence[DerivativePlan]) -> None:
        """Build now whatever `evaluate_many` keeps per tuple of plans (for jobs with these
        plans, in this order), so that a traced call (torch.compile) finds it built."""


class AutogradEngine(AbstractEngine):
    """Reverse mode: one `torch.autograd.grad` call per partial that has children.

    One backward pass from a partial yields its derivative in *every* coordinate at once,
    so `u_x` and `u_t` come from one call, and `u_xx`, `u_xt` from the next.
    """

    name = "autograd"

    def evaluate(self, model, points, plan):
        points = points.detach().requires_grad_(True)
        with torch.enable_grad():
            out = model(points)
            values: dict[Partial, Tensor] = {}
            zero = (0,) * len(plan.coords)
            for j, f in enumerate(plan.fields):
                values[Partial(f, zero)] = out[:, j]
            gradients: dict[Partial, Tensor] = {}
            for partial in plan.closure:
                if partial.order == 0:
                    continue
                parent = partial.parent()
                if parent not in gradients:
                    grad = None  # a parent that is constant in the points has zero gradient
                    if values[parent].requires_grad:
                        (grad,) = torch.autograd.grad(
                            values[parent].sum(), points, create_graph=True, allow_unused=True
                        )
                    gradients[parent] = grad if grad is not None else torch.zeros_like(points)
                values[partial] = gradients[parent][:, partial.direction()]
        return {p: values[p] for p in plan.closure}


class ForwardEngine(AbstractEngine):
    """Forward mode with `torch.func.jvp`: nested Jacobian-vector products along chains.

    Each needed partial lies on a chain of coordinate directions (`u -> u_x -> u_xx`); one
    nested `jvp` per chain returns every level of it, so shared prefixes cost nothing extra.
    No `vmap` is needed because rows are independent: the tangent is the unit vector of the
    coordinate on every row.
    """

    name = "func"

    def evaluate(self, model, points, plan):
        points = points.detach()
        values: dict[Partial, Tensor] = {}
        zero = (0,) * len(plan.coords)
        for chain in _chains(plan):
            levels = _nested(model, points, [p.direction() for p in chain[1:]])
            for partial, value in zip(chain, levels):
                column = plan.fields.index(partial.field)
                values.setdefault(partial, value[:, column])
        if not values:
            out = model(points)
            for j, f in enumerate(plan.fields):
                values[Partial(f, zero)] = out[:, j]
        for j, f in enumerate(plan.fields):
            if Partial(f, zero) not in values:
                values[Partial(f, zero)] = model(points)[:, j]
        return {p: values[p] for p in plan.closure}


def _chains(plan: DerivativePlan) -> list[list[Partial]]:
    """Cover the closure by root-to-leaf chains of the parent tree (one per leaf)."""
    parents = {p.parent() for p in plan.closure if p.order > 0}
    leaves = [p for p in plan.closure if p not in parents]
    chains = []
    for leaf in sorted(leaves, key=lambda p: -p.order):
        chain = [leaf]
        while chain[-1].parent() is not None:
            chain.append(chain[-1].parent())
        chains.append(chain[::-1])
    return chains


def _nested(model: nn.Module, points: Tensor, directions: list[int]) -> list[Tensor]:
    """[f, D_d1 f, D_d1 D_d2 f, ...] at `points` by nested forward-mode products."""

    def level(depth: int):
        if depth == 0:
            return lambda p: (model(p),)
        inner = level(depth - 1)
        tangent = torch.zeros_like(points)
        tangent[:, directions[depth - 1]] = 1.0

        def fn(p):
            primal, dual = torch.func.jvp(inner, (p,), (tangent,))
            return (*primal, dual[-1])

        return fn

    return list(level(len(directions))(points))


# The Taylor engine subclasses AbstractEngine, so it is imported once that exists.
from pinnkit.compile.taylor import TaylorEngine, supports_taylor  # noqa: E402

ENGINES = {"autograd": AutogradEngine, "func": ForwardEngine, "taylor": TaylorEngine}


#: `engine="auto"` takes Taylor mode in eager runs when the partials it carries are at most
#: this many times the passes autograd makes (see `AutoEngine`).
TAYLOR_ROWS_PER_PASS = 1.25


class AutoEngine(AbstractEngine):
    """Picks Taylor mode or autograd per plan and model, by a rule measured on a CPU.

    Cost model: Taylor mode pushes $R$ rows (the value and every partial of the plan's
    downward closure) through the network and back; autograd makes $1 + G$ passes, one
    forward and one double-backward `grad` call for each of the $G$ partials that have
    children. Measured ms per Adam step (medians of round-robin blocks, 2 threads of a quiet
    2-core CPU; `benchmarks/speed/engines.py`, `engines.json`):

    | setting | R | 1 + G | autograd | taylor | taylor / autograd | taylor+compile |
    |---|---|---|---|---|---|---|
    | kdv (order 3, 4 x 128, 16k points) | 5 | 4 | 553 | 392 | 0.71 | 231 |
    | burgers (order 2, 3 x 20, 2540 points) | 4 | 3 | 6.89 | 7.04 | 1.02 | 4.47 |
    | burgers_large (4 x 128, 16k points) | 4 | 3 | 270 | 287 | 1.06 | 186 |
    | poisson_3d (3 inputs, order 2) | 7 | 5 | 31.4 | 30.2 | 0.96 | 18.2 |
    | advection_3d (4 inputs, order 1) | 5 | 2 | 8.73 | 18.0 | 2.06 | 13.4 |

    Rule: Taylor mode when it can propagate through the model and $R \\le 1.25\\,(1 + G)$
    (few inputs, high orders: KdV, Kuramoto-Sivashinsky), autograd otherwise (many inputs,
    low orders: 3-D Laplacians, first-order transport). It picks the faster engine on four
    of the five settings; on poisson_3d (R / (1 + G) = 1.4) Taylor mode is now 4% faster
    and the rule keeps autograd, while on the Burgers settings (1.33) Taylor mode is 2-6%
    slower: the ratio R / (1 + G) does not separate these near-ties, and moving the
    threshold would trade one 4-6% miss for another. torch.func is never picked (2.2-4.8x
    slower than autograd everywhere). Under `compile=True`, Taylor mode whenever the model
    allows: torch.compile cannot compile autograd's double backward, and compiled Taylor
    mode is the fastest variant measured except on first-order problems in many inputs
    (advection_3d), where plain autograd without `compile` stays faster.

    **Arguments**

    - `compile`: whether residuals run under torch.compile (default False).
    """

    name = "auto"

    def __init__(self, *, compile: bool = False):
        self.compile = compile
        self.taylor = TaylorEngine()
        self.autograd = AutogradEngine()
        self._rule: dict[DerivativePlan, tuple[str, str]] = {}  # per plan, never changes

    def choose(self, model: nn.Module | None, plan: DerivativePlan) -> tuple[str, str]:
        """`(engine name, reason)` for evaluating `plan` on `model` (None: not known)."""
        why_not = "the model (not known yet)" if model is None else supports_taylor(model)
        if why_not is not None:
            return "autograd", f"taylor cannot propagate through {why_not}"
        if self.compile:
            return "taylor", "compile=True needs Taylor mode"
        if plan not in self._rule:
            self._rule[plan] = self._by_cost(plan)
        return self._rule[plan]

    def _by_cost(self, plan: DerivativePlan) -> tuple[str, str]:
        rows = self.taylor.schedule(plan).size + 1
        passes = 1 + len({p.parent() for p in plan.closure if p.order > 0})
        verdict = "<=" if rows <= TAYLOR_ROWS_PER_PASS * passes else ">"
        name = "taylor" if verdict == "<=" else "autograd"
        return name, (
            f"Taylor mode carries {rows} partials, autograd makes {passes} passes; "
            f"{rows} {verdict} {TAYLOR_ROWS_PER_PASS} x {passes}"
        )

    def evaluate(self, model, points, plan):
        name, _ = self.choose(model, plan)
        engine = self.taylor if name == "taylor" else self.autograd
        return engine.evaluate(model, points, plan)

    def evaluate_many(self, model, jobs):
        """Each job by its own choice; the jobs Taylor mode takes, and those that need values
        only, share its passes through the network (`TaylorEngine.evaluate_many`)."""
        shared = self._shared(model, [plan for _, plan in jobs])
        out: list = [None] * len(jobs)
        if shared:
            values = self.taylor.evaluate_many(model, [jobs[i] for i in shared])
            for i, v in zip(shared, values):
                out[i] = v
        for i, (points, plan) in enumerate(jobs):
            if out[i] is None:
                out[i] = self.autograd.evaluate(model, points, plan)
        return out

    def prepare(self, model, plans):
        self.taylor.prepare(model, [plans[i] for i in self._shared(model, plans)])

    def _shared(self, model, plans) -> list[int]:
        """Indices of the plans that Taylor mode evaluates: its choices, and values only."""
        return [
            i
            for i, plan in enumerate(plans)
            if plan.max_order == 0 or self.choose(model, plan)[0] == "taylor"
        ]


def make_engine(name: str, *, compile: bool = False) -> AbstractEngine:
    """The engine called `name`: `"auto"` (see `AutoEngine`; `compile` tells it whether the
    residuals run under torch.compile), `"autograd"`, `"func"` or `"taylor"`."""
    if name == "auto":
        return AutoEngine(compile=compile)
    if name not in ENGINES:
        raise ConfigError(
            f"engine {name!r} is unknown; choose one of {['auto', *ENGINES]}."
            f"{did_you_mean(name, ['auto', *ENGINES])} Fix: `--set engine=auto`."
        )
    return ENGINES[name]()
