"""The `"auto"` derivative engine: Taylor mode or autograd per plan and model, by a rule
measured on a CPU; and `make_engine`, which resolves an engine's name.

Which engine is faster depends on the network, the number of inputs and the derivative
orders (`benchmarks/speed/engines.py`). torch.func is never the fastest measured, so
`"auto"` does not pick it.
"""

from __future__ import annotations

from torch import nn

from pinnkit.compile.engine import AbstractEngine, AutogradEngine, ForwardEngine
from pinnkit.compile.plan import DerivativePlan
from pinnkit.compile.taylor import TaylorEngine, supports_taylor
from pinnkit.errors import ConfigError, did_you_mean

__all__ = ["AutoEngine", "make_engine", "ENGINES", "TAYLOR_ROWS_PER_PASS"]

ENGINES = {"autograd": AutogradEngine, "func": ForwardEngine, "taylor": TaylorEngine}


#: `engine="auto"` takes Taylor mode in eager runs when the partials it carries are at most
#: this many times the passes autograd makes (see `AutoEngine`).
TAYLOR_ROWS_PER_PASS = 1.25


class AutoEngine(AbstractEngine):
    """Picks Taylor mode or autograd per plan and model, by a rule measured on a CPU.

    Cost model: Taylor mode pushes $R$ rows (the value and every partial of the plan's
    downward closure) through the network and back; autograd makes $1 + G$ passes, one
    forward and one double-backward `grad` call for each of the $G$ partials that have
    children. Measured ms per Adam step (medians of 7 round-robin blocks of 20 steps, 2
    threads, this project's 2-core CPU, torch 2.13, float32; `benchmarks/speed/engines.py`,
    `engines.json`, after the host-memory and oneDNN changes):

    | setting | R | 1 + G | autograd | taylor | taylor / autograd | taylor+compile |
    |---|---|---|---|---|---|---|
    | kdv (order 3, 4 x 128, 16k points) | 5 | 4 | 446 | 304 | 0.68 | 203 |
    | burgers (order 2, 3 x 20, 2540 points) | 4 | 3 | 4.06 | 3.79 | 0.93 | 2.07 |
    | burgers_large (4 x 128, 16k points) | 4 | 3 | 227 | 219 | 0.96 | 163 |
    | poisson_3d (3 inputs, order 2) | 7 | 5 | 31.2 | 30.3 | 0.97 | 17.8 |
    | advection_3d (4 inputs, order 1) | 5 | 2 | 8.49 | 18.4 | 2.17 | 13.2 |

    Rule: Taylor mode when it can propagate through the model and $R \\le 1.25\\,(1 + G)$
    (few inputs, high orders: KdV, Kuramoto-Sivashinsky), autograd otherwise (many inputs,
    low orders: 3-D Laplacians, first-order transport). It picks the faster engine on kdv
    and advection_3d; on burgers, burgers_large and poisson_3d (R / (1 + G) = 1.33-1.4)
    Taylor mode is now 3-7% faster and the rule keeps autograd: a near-tie inside this
    machine's run-to-run spread, not re-tuned (the threshold wants a measurement over more
    settings). torch.func is never picked (2.2-4.8x slower than autograd everywhere). Under
    `compile=True`, Taylor mode whenever the model allows: torch.compile cannot compile
    autograd's double backward, and compiled Taylor mode is the fastest variant measured
    except on first-order problems in many inputs (advection_3d), where plain autograd
    without `compile` stays faster.

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
