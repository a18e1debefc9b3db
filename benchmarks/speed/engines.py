"""Derivative engines side by side: milliseconds per Adam step (residuals, backward, NaN guard,
Adam) of `autograd`, `func` (torch.func forward mode), `taylor` (Taylor mode) and `taylor`
under `torch.compile` (`Config(compile=True)`), on settings chosen to find the rule that
`engine="auto"` uses.

Settings (fixed training points, as DeepXDE's examples use):

- `burgers`: DeepXDE's Burgers example: 3 x 20 tanh, 2540 interior / 80 boundary / 160
  initial points; needs u, u_t, u_x, u_xx.
- `burgers_large`: the same equation, 4 x 128 tanh, 16000 interior points.
- `kdv`: u_t + u u_x + 0.0025 u_xxx = 0, u(x, 0) = cos(pi x), soft periodicity in x
  (u and u_x), 4 x 128 tanh, 16000 interior points: third order.
- `poisson_3d`: u_xx + u_yy + u_zz = f on the unit cube, 3 x 64 tanh, 4000 points: three
  inputs, second order (Taylor carries 7 partials, autograd does 4 backward passes).
- `advection_3d`: u_t + u_x + u_y + u_z = 0 in 3-D space and time, 3 x 64 tanh, 4000
  points: four inputs, first order only (autograd's best case: one backward pass gives all
  four derivatives).

Blocks of steps go round robin over the engines, so machine drift cancels; the figure is the
median over blocks. The steps run with the host allocator as `Trainer.run` has it (freed
memory kept in the process: `pinnkit.train.host_memory`). The machine this runs on may be
shared: the load average before and after is recorded, and figures taken while it was shared
are upper bounds. Writes a Markdown table to stdout and JSON to
`benchmarks/speed/engines.json`.

    OMP_NUM_THREADS=2 python benchmarks/speed/engines.py --threads 2 [--blocks 7] \\
        [--steps 20] [--settings burgers,kdv] [--no-compile]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import sympy as sp
import torch

import pinnkit as pk
from pinnkit.cli import bundled_problems
from pinnkit.problem.file import load_problem_file
from pinnkit.train import Trainer, host_memory

VARIANTS = {
    "autograd": {"engine": "autograd"},
    "func": {"engine": "func"},
    "taylor": {"engine": "taylor"},
    "taylor+compile": {"engine": "taylor", "compile": True},
}


def _burgers(width: int, depth: int, interior: int) -> tuple[pk.Problem, pk.Config]:
    problem, _, _ = load_problem_file(bundled_problems()["burgers"])
    sampling = pk.Sampling(interior=interior, boundary=80, initial=160, resample_every=0)
    return problem, pk.Config(model=pk.MLP(width=width, depth=depth), sampling=sampling)


def _kdv() -> tuple[pk.Problem, pk.Config]:
    x, t = sp.symbols("x t")
    u = sp.Function("u")(x, t)
    problem = pk.Problem(
        name="kdv",
        domain=pk.Interval(x, -1, 1) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations=[sp.Eq(u.diff(t) + u * u.diff(x) + sp.Rational(1, 400) * u.diff(x, 3), 0)],
        conditions=[pk.Initial(u, sp.cos(sp.pi * x)), pk.Periodic(x, order=1)],
    )
    sampling = pk.Sampling(interior=16000, boundary=200, initial=400, resample_every=0)
    return problem, pk.Config(model=pk.MLP(width=128, depth=4), sampling=sampling)


def _poisson_3d() -> tuple[pk.Problem, pk.Config]:
    x, y, z = sp.symbols("x y z")
    u = sp.Function("u")(x, y, z)
    source = -3 * sp.pi**2 * sp.sin(sp.pi * x) * sp.sin(sp.pi * y) * sp.sin(sp.pi * z)
    problem = pk.Problem(
        name="poisson_3d",
        domain=pk.Box((x, 0, 1), (y, 0, 1), (z, 0, 1)),
        fields=[u],
        equations=[sp.Eq(u.diff(x, 2) + u.diff(y, 2) + u.diff(z, 2), source)],
        conditions=[pk.Dirichlet(u, 0)],
    )
    sampling = pk.Sampling(interior=4000, boundary=400, resample_every=0)
    return problem, pk.Config(model=pk.MLP(width=64, depth=3), sampling=sampling)


def _advection_3d() -> tuple[pk.Problem, pk.Config]:
    x, y, z, t = sp.symbols("x y z t")
    u = sp.Function("u")(x, y, z, t)
    problem = pk.Problem(
        name="advection_3d",
        domain=pk.Box((x, 0, 1), (y, 0, 1), (z, 0, 1)) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations=[sp.Eq(u.diff(t) + u.diff(x) + u.diff(y) + u.diff(z), 0)],
        conditions=[pk.Initial(u, sp.sin(sp.pi * (x + y + z)))],
    )
    sampling = pk.Sampling(interior=4000, initial=400, resample_every=0)
    return problem, pk.Config(model=pk.MLP(width=64, depth=3), sampling=sampling)


SETTINGS = {
    "burgers": lambda: _burgers(20, 3, 2540),
    "burgers_large": lambda: _burgers(128, 4, 16000),
    "kdv": _kdv,
    "poisson_3d": _poisson_3d,
    "advection_3d": _advection_3d,
}


def time_block(trainer: Trainer, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        trainer._adam_step()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=7)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps (after compiling)")
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--no-compile", action="store_true", help="skip taylor+compile")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "engines.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    variants = [v for v in args.variants.split(",") if not (args.no_compile and "compile" in v)]
    load_before = os.getloadavg()
    with host_memory.retained(args.device):  # the host allocator as `Trainer.run` has it
        rows = _measure(args, variants)
    load_after = os.getloadavg()
    print()
    print("| setting | " + " | ".join(f"{v} ms/step" for v in variants) + " | auto picks |")
    print("|---|" + "---|" * (len(variants) + 1))
    for r in rows:
        cells = " | ".join(f"{r[f'{v}_ms']:.2f}" for v in variants)
        print(f"| {r['setting']} | {cells} | {r['auto_picks']} |")
    out = {
        "device": args.device,
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "blocks": args.blocks,
        "steps_per_block": args.steps,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "note": "medians over round-robin blocks; with a load average above the thread count "
        "the machine was shared and the figures are upper bounds",
        "rows": rows,
    }
    args.out.write_text(json.dumps(out, indent=2) + "\n")


def _measure(args, variants: list[str]) -> list[dict]:
    """One row per setting: the first step's seconds and the median ms per step."""
    rows = []
    for name in args.settings.split(","):
        problem, config = SETTINGS[name]()
        config = config.replace(progress=False, device=args.device)
        trainers, compile_s = {}, {}
        for label in variants:
            trainers[label] = Trainer(problem, config.replace(**VARIANTS[label]))
            start = time.perf_counter()
            time_block(trainers[label], 1)  # compiles, for the compiled variant
            compile_s[label] = time.perf_counter() - start
            time_block(trainers[label], args.warmup)
        times: dict[str, list[float]] = {label: [] for label in variants}
        for _ in range(args.blocks):
            for label, trainer in trainers.items():
                times[label].append(time_block(trainer, args.steps))
        row = {"setting": name, "first_step_s": compile_s}
        row.update({f"{label}_ms": 1e3 * statistics.median(times[label]) for label in variants})
        row["auto_picks"] = _auto_choice(problem, config)
        rows.append(row)
        print(name, {k: round(v, 2) for k, v in row.items() if k.endswith("_ms")}, flush=True)
    return rows


def _auto_choice(problem: pk.Problem, config: pk.Config) -> str:
    """The engine `engine="auto"` picks for the interior equations of this setting."""
    built = pk.build(problem, config.replace(engine="auto", device="cpu"))
    interior = next(g for g in built.residuals.groups if g.region == "interior")
    return built.residuals.engine.choose(built.model, interior.plan)[0]


if __name__ == "__main__":
    main()
