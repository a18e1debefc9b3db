"""Training variants side by side: one table of problem x method, each row a full `pk.fit`.

    python benchmarks/accuracy/variants.py [--rows allen_cahn:plain,allen_cahn:causal]
                                           [--seeds 0] [--device cpu] [--threads 2]

Each row trains from scratch and records the relative L2 error per field against the
problem's reference, the wall seconds of training (as `summary.json` reports them), the
steps (Adam + L-BFGS), device, seed and torch threads. Results are merged into
`variants.json` (keyed by `problem:method:seed`, so rows can be run separately and later)
and the whole table is rewritten as `variants.md`. Training points are drawn by the
sampler; the reference grid is used only to evaluate (configs were chosen among the few
listed in `variants.md`, never tuned further on it).

Rows:

- `allen_cahn:plain`: `problems/allen_cahn.py` with its own config (the known failure).
- `allen_cahn:causal`: causal weighting in time (`pk.Causal`, Wang, Sankaran & Perdikaris,
  arXiv 2203.07404) with a fixed epsilon of 10 over 32 chunks, exact periodic embedding, a
  128 x 4 tanh MLP, then a short L-BFGS polish.
- `allen_cahn:causal_exact`: the `causal` row with the initial condition built into the
  model (`exact_initial=True`: u = u0(x) + t N(x, t)) and a 500-step L-BFGS polish.
- `allen_cahn:plain_exact`: the `causal_exact` row without causal weighting, 5000 Adam
  steps and no polish (compare with `causal_exact` at step 5000 in the notes).
- `allen_cahn:causal_fourier`: the same with random Fourier features (sigma 1) after the
  periodic embedding. The configs tried before these two are listed in `variants.md`.
- `burgers:default`: `problems/burgers.py` with its own config.
- `burgers:best`: the same with the initial condition built into the model
  (`exact_initial=True`).
- `helmholtz:mlp`: `problems/helmholtz.py` with its own config.
- `helmholtz:pig`: Physics-Informed Gaussians (`pk.Gaussians`, Kang et al., arXiv
  2412.05994): 256 Gaussians with 4-vectors feeding a 16 x 1 tanh MLP, Adam at lr 1e-2,
  then L-BFGS on twice the points (fewer points let the ~2000 Gaussian parameters overfit
  between them).
- `convection:plain`: u_t + 50 u_x = 0, periodic on [0, 2 pi], u(x, 0) = sin x (the
  "failure mode" benchmark of Krishnapriyan et al. 2021), a plain PINN.
- `convection:causal`: the same with causal weighting.
- `convection:lagrangian`: the Lagrangian PINN (`pk.Lagrangian`, Mojgani, Balajewicz &
  Hassanzadeh, arXiv 2205.02902): characteristics and state along them, started on the
  free-streaming characteristics (the default).
- `convection:lagrangian_at_rest`: the same with `baseline=False`: the position branch
  must learn the displacement 50 t itself.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

import pinnkit as pk
from pinnkit.config import apply_overrides

HERE = Path(__file__).resolve().parent
PROBLEMS = HERE.parent.parent / "problems"
JSON = HERE / "variants.json"
MARKDOWN = HERE / "variants.md"


def _bundled(name: str) -> tuple[pk.Problem, pk.Config]:
    problem, config, _ = pk.load_problem_file(PROBLEMS / f"{name}.py")
    return problem, config or pk.Config()


# -- rows ---------------------------------------------------------------------------------
# Each row builds (problem, config). A row whose method pinnkit lacks returns None.


def allen_cahn_plain():
    return _bundled("allen_cahn")


def allen_cahn_causal():
    problem, _ = _bundled("allen_cahn")
    config = pk.Config(
        steps=20_000,
        model=pk.MLP(width=128, depth=4, activation="tanh"),
        harmonics=2,
        optimizer=pk.Adam(learning_rate=1e-3, decay_rate=0.9, decay_steps=2000),
        sampling=pk.Sampling(interior=2048, initial=256),
        causal=pk.Causal(chunks=32, epsilon=10.0),
        lbfgs=pk.LBFGS(steps=300),
        weights={"initial": 100.0},
        eval_every=1000,
    )
    return problem, config


def allen_cahn_causal_exact():
    problem, config = allen_cahn_causal()
    return problem, config.replace(exact_initial=True, lbfgs=pk.LBFGS(steps=500))


def allen_cahn_plain_exact():
    """The `causal_exact` row without causal weighting, for 5000 Adam steps (to compare with
    that row's error at the same step)."""
    problem, config = allen_cahn_causal_exact()
    return problem, config.replace(causal=None, steps=5000, lbfgs=pk.LBFGS(steps=0))


def allen_cahn_causal_fourier():
    problem, config = allen_cahn_causal()
    return problem, config.replace(fourier=pk.Fourier(features=64, sigma=1.0))


def burgers_default():
    return _bundled("burgers")


def burgers_best():
    problem, config = _bundled("burgers")
    return problem, config.replace(exact_initial=True)


def helmholtz_mlp():
    return _bundled("helmholtz")


def helmholtz_pig():
    problem, config = _bundled("helmholtz")
    return problem, config.replace(
        steps=3000,
        gaussians=pk.Gaussians(count=256, features=4),
        model=pk.MLP(width=16, depth=1, activation="tanh"),
        optimizer=pk.Adam(learning_rate=1e-2, decay_rate=0.9, decay_steps=500),
        sampling=pk.Sampling(interior=2000, boundary=200),
        lbfgs=pk.LBFGS(steps=5000, points=2.0),
    )


def convection_plain():
    return _bundled("convection")[0], pk.Config(
        steps=10_000,
        model=pk.MLP(width=64, depth=4),
        sampling=pk.Sampling(interior=2000, initial=256),
        lbfgs=pk.LBFGS(steps=1000),
        weights={"initial": 100.0},
    )


def convection_causal():
    problem, config = convection_plain()
    return problem, config.replace(
        causal=pk.Causal(chunks=32, schedule=(1e-2, 1e-1, 1.0, 10.0, 100.0))
    )


def convection_lagrangian():
    return _bundled("convection")[0], pk.Config(
        steps=3000,
        model=pk.MLP(width=64, depth=4),
        sampling=pk.Sampling(interior=2000),
        lbfgs=pk.LBFGS(steps=500),
        lagrangian=pk.Lagrangian(),
    )


def convection_lagrangian_at_rest():
    problem, config = convection_lagrangian()
    return problem, config.replace(
        steps=5000,
        optimizer=pk.Adam(learning_rate=1e-2, decay_rate=0.9, decay_steps=500),
        lagrangian=pk.Lagrangian(baseline=False),
    )


ROWS: dict[str, Callable] = {
    "allen_cahn:plain": allen_cahn_plain,
    "allen_cahn:causal": allen_cahn_causal,
    "allen_cahn:causal_exact": allen_cahn_causal_exact,
    "allen_cahn:plain_exact": allen_cahn_plain_exact,
    "allen_cahn:causal_fourier": allen_cahn_causal_fourier,
    "burgers:default": burgers_default,
    "burgers:best": burgers_best,
    "helmholtz:mlp": helmholtz_mlp,
    "helmholtz:pig": helmholtz_pig,
    "convection:plain": convection_plain,
    "convection:causal": convection_causal,
    "convection:lagrangian": convection_lagrangian,
    "convection:lagrangian_at_rest": convection_lagrangian_at_rest,
}


# -- running and tabulating ---------------------------------------------------------------


def summarize(config: pk.Config) -> str:
    """A one-line description of the parts of `config` that distinguish the variants."""
    model = config.model
    parts = [f"MLP {model.width}x{model.depth} {model.activation}"]
    if config.fourier is not None:
        parts.append(f"Fourier {config.fourier.features} sigma {config.fourier.sigma}")
    if config.gaussians is not None:
        parts.append(f"Gaussians {config.gaussians.count}x{config.gaussians.features}")
    if config.causal is not None:
        c = config.causal
        eps = (
            "schedule " + "/".join(f"{e:g}" for e in c.schedule)
            if c.schedule
            else (f"epsilon {c.epsilon:g}")
        )
        parts.append(f"causal {c.chunks} chunks, {eps}")
    if config.balance is not None:
        parts.append("balance")
    if config.rar is not None:
        parts.append("RAR")
    if config.exact_initial:
        parts.append("exact initial condition")
    if config.lagrangian is not None:
        start = "free-streaming start" if config.lagrangian.baseline else "start at rest"
        parts.append(f"Lagrangian, {start}")
    opt = config.optimizer
    parts.append(f"Adam {config.steps} lr {opt.learning_rate:g}")
    if config.lbfgs.steps:
        parts.append(f"L-BFGS {config.lbfgs.steps} x{config.lbfgs.points:g} points")
    s = config.sampling
    parts.append(f"{s.interior} interior pts")
    if config.weights:
        parts.append("weights " + ", ".join(f"{k} {v:g}" for k, v in config.weights.items()))
    if config.dtype != "float32":
        parts.append(config.dtype)
    return "; ".join(parts)


def run_row(key: str, *, seed: int, device: str, overrides: dict | None = None) -> dict:
    problem_name, method = key.split(":")
    built = ROWS[key]()
    row = {"problem": problem_name, "method": method, "seed": seed}
    if built is None:
        return {**row, "status": "not implemented"}
    problem, config = built
    config = config.replace(seed=seed, device=device, progress=False)
    if overrides:
        config = apply_overrides(config, overrides)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        run = pk.fit(problem, config, out=tmp)
        total = time.perf_counter() - start
    summary = run.summary
    return {
        **row,
        "status": "measured",
        "config": summarize(config),
        "rel_l2": summary["rel_l2"],
        "wall_seconds": summary["wall_seconds"],
        "command_seconds": round(total, 1),
        "steps": f"{summary['adam_steps']} + {summary['lbfgs_steps']}",
        "device": summary["device"],
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "machine": platform.machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def load() -> dict:
    return json.loads(JSON.read_text()) if JSON.exists() else {}


def save(results: dict) -> None:
    JSON.write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "| problem | method | relative L2 | wall s | steps (Adam + L-BFGS) | config |",
        "|---|---|---|---|---|---|",
    ]
    order = list(ROWS)
    for _, row in sorted(
        results.items(),
        key=lambda kv: (order.index(f"{kv[1]['problem']}:{kv[1]['method']}"), kv[1]["seed"]),
    ):
        if row["status"] != "measured":
            lines.append(f"| {row['problem']} | {row['method']} | {row['status']} | | | |")
            continue
        l2 = ", ".join(f"{k} {v:.2e}" for k, v in (row["rel_l2"] or {}).items())
        lines.append(
            f"| {row['problem']} | {row['method']} | {l2} | {row['wall_seconds']:.0f} | "
            f"{row['steps']} | {row['config']} (seed {row['seed']}, {row['device']}, "
            f"{row['threads']} threads) |"
        )
    table = "\n".join(lines) + "\n"
    notes = MARKDOWN.read_text().split("<!-- table -->")[-1] if MARKDOWN.exists() else "\n"
    MARKDOWN.write_text(
        "# Training variants\n\nWritten by `python benchmarks/accuracy/variants.py`; "
        "notes below the table are kept when it is rewritten.\n\n"
        + table
        + "<!-- table -->"
        + notes
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default=",".join(ROWS), help="problem:method,...")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        dest="overrides",
        help="dotted.key=value override (exploration only; results are not saved)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    keys = args.rows.split(",")
    unknown = [k for k in keys if k not in ROWS]
    if unknown:
        parser.error(f"unknown rows {unknown}; known: {', '.join(ROWS)}")
    for seed in (int(s) for s in args.seeds.split(",")):
        for key in keys:
            row = run_row(key, seed=seed, device=args.device, overrides=args.overrides)
            print(json.dumps(row), flush=True)
            if not args.overrides:
                results = load()  # re-read: another invocation may have added rows
                results[f"{key}:{seed}"] = row
                save(results)


if __name__ == "__main__":
    main()
