"""Exact-solution cases that the slow tests train, each with the relative-L2 threshold it
must reach and where that threshold came from (about 3x the worst of 5 seeds, measured
with `python -m tests.training_cases` on a 2-core CPU)."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

import pinnkit as pk

x, t = sp.symbols("x t")
u = sp.Function("u")


@dataclass(frozen=True)
class TrainingCase:
    name: str
    problem: pk.Problem
    config: pk.Config
    threshold: float  # relative L2; see `measured` for where it came from
    measured: str


def poisson_1d() -> pk.Problem:
    v = u(x)
    return pk.Problem(
        name="poisson_1d",
        domain=pk.Interval(x, 0, 1),
        fields=[v],
        equations=[sp.Eq(-v.diff(x, 2), sp.pi**2 * sp.sin(sp.pi * x))],
        conditions=[pk.Dirichlet(v, 0)],
        reference=pk.reference.Exact({v: sp.sin(sp.pi * x)}),
    )


def decay_ode() -> pk.Problem:
    v = u(t)
    return pk.Problem(
        name="decay",
        domain=pk.TimeInterval(t, 0, 2),
        fields=[v],
        equations=[sp.Eq(v.diff(t), -2 * v)],
        conditions=[pk.Initial(v, 1)],
        reference=pk.reference.Exact({v: sp.exp(-2 * t)}),
    )


def heat_1d() -> pk.Problem:
    v = u(x, t)
    return pk.Problem(
        name="heat_1d",
        domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1),
        fields=[v],
        equations=[sp.Eq(v.diff(t), v.diff(x, 2) / 10)],
        conditions=[pk.Initial(v, sp.sin(sp.pi * x)), pk.Dirichlet(v, 0)],
        reference=pk.reference.Exact({v: sp.exp(-(sp.pi**2) * t / 10) * sp.sin(sp.pi * x)}),
    )


SMALL = pk.Config(
    steps=1000,
    model=pk.MLP(width=16, depth=2),
    lbfgs=pk.LBFGS(steps=200),
    sampling=pk.Sampling(interior=256, boundary=32, initial=64),
    log_every=100,
    eval_every=1000,
    progress=False,
)

CASES = {
    "poisson_1d": TrainingCase(
        "poisson_1d",
        poisson_1d(),
        SMALL,
        5e-5,
        "seeds 0-4: 3.8e-6 8.7e-6 1.5e-5 1.3e-5 2.5e-6 (2.4 s each, 2026-11-24)",
    ),
    "decay": TrainingCase(
        "decay",
        decay_ode(),
        SMALL,
        3e-3,
        "seeds 0-4: 3.6e-4 8.1e-5 8.8e-4 4.3e-5 7.2e-5 (1.5 s each, 2026-11-24)",
    ),
    "heat_1d": TrainingCase(
        "heat_1d",
        heat_1d(),
        SMALL.replace(steps=2000),
        4e-3,
        "seeds 0-4: 5.9e-4 1.3e-3 2.8e-4 4.0e-4 7.6e-4 (5.0 s each, 2026-11-24)",
    ),
}


if __name__ == "__main__":
    import time

    for case in CASES.values():
        errors = []
        start = time.perf_counter()
        for seed in range(5):
            run = pk.fit(case.problem, case.config.replace(seed=seed), out=None)
            errors.append(max(run.rel_l2.values()))
        print(
            f"{case.name}: worst {max(errors):.2e}, all {[f'{e:.1e}' for e in errors]}, "
            f"{(time.perf_counter() - start) / 5:.1f} s per seed"
        )
