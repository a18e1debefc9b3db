"""The planted problem the discover tests share: u_t = D u_xx + f(u) + s(x, t), whose "trained"
run has a manufactured solution as its solution network and a known function as its hidden
network, so discovery must return exactly that formula; and a front built from made-up entries.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.compile import compile_problem
from pinnkit.discover import Candidate, Front
from tests.helpers import KnownFunction, SympyModel

x, t = sp.symbols("x t")
u = sp.Function("u")(x, t)
D = sp.Rational(1, 10)
SOLUTION = sp.Rational(1, 2) + sp.exp(-t) * sp.sin(sp.pi * x) / 3
TRUE_F = sp.Lambda(sp.Symbol("a"), sp.Symbol("a") * (1 - sp.Symbol("a")))
PROBLEMS_DIR = Path(__file__).resolve().parents[2] / "problems"
U = sp.Symbol("u")


def _problem(f) -> pk.Problem:
    """u_t = D u_xx + f(u) + s(x, t), with s such that SOLUTION solves it for f = TRUE_F."""
    exact = SOLUTION
    forcing = sp.simplify(exact.diff(t) - D * exact.diff(x, 2) - TRUE_F(exact))
    rng = np.random.default_rng(5)
    xs, ts = rng.uniform(0, 1, 40), rng.uniform(0, 1, 40)
    values = sp.lambdify((x, t), exact, "numpy")(xs, ts)
    return pk.Problem(
        name="planted",
        domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations={"reaction": sp.Eq(u.diff(t), D * u.diff(x, 2) + f(u) + forcing)},
        conditions=[pk.Initial(u, exact.subs(t, 0), name="initial"), pk.Dirichlet(u, 0.5)],
        data=pk.Data({x: xs, t: ts}, {u: values}),
    )


def _planted_run(fn=lambda p: p * (1 - p)) -> pk.Run:
    problem = _problem(pk.Hidden("f"))
    compiled = compile_problem(problem, dtype=torch.float64, generator=torch.Generator())
    compiled.hidden["f"] = KnownFunction(fn)
    return pk.Run(
        problem=problem,
        config=pk.Config(dtype="float64"),
        model=SympyModel.of(problem, {"u": SOLUTION}),
        compiled=compiled,
        summary={},
        directory=None,
    )


def _front(entries) -> Front:
    """A front of (expr, complexity, loss, score) with made-up losses."""
    return Front(
        candidates=tuple(Candidate(e, c, loss, score) for e, c, loss, score in entries),
        inputs=(U,),
        backend="constructed",
    )
