"""Derivative engines side by side: milliseconds per training step (residuals + backward + Adam)
of the `autograd` and `func` (torch.func forward mode) engines on the bundled problems.

Blocks of steps alternate between the engines (round robin) so that machine drift cancels;
the figure is the median over blocks. Writes a Markdown table to stdout and JSON to
`benchmarks/speed/engines.json`.

    python benchmarks/speed/engines.py [--blocks 7] [--steps 20] [--problems burgers,...]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

import pinnkit as pk
from pinnkit.cli import bundled_problems
from pinnkit.load import load_problem_file
from pinnkit.train import Trainer

ENGINES = ("autograd", "func")


def time_block(trainer: Trainer, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        trainer._adam_step()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=7)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--problems", default=",".join(bundled_problems()))
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    paths = bundled_problems()
    rows = []
    for name in args.problems.split(","):
        problem, config, _ = load_problem_file(paths[name])
        config = (config or pk.Config()).replace(progress=False, device=args.device)
        trainers = {e: Trainer(problem, config.replace(engine=e)) for e in ENGINES}
        for trainer in trainers.values():  # warm-up
            time_block(trainer, 3)
        times = {e: [] for e in ENGINES}
        for _ in range(args.blocks):
            for engine, trainer in trainers.items():
                times[engine].append(time_block(trainer, args.steps))
        row = {"problem": name, **{f"{e}_ms": 1e3 * statistics.median(times[e]) for e in ENGINES}}
        row["func_over_autograd"] = row["func_ms"] / row["autograd_ms"]
        rows.append(row)
        print(
            f"{name}: " + ", ".join(f"{k}={v:.3g}" for k, v in row.items() if k != "problem"),
            flush=True,
        )
    print()
    print("| problem | autograd ms/step | func ms/step | func / autograd |")
    print("|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['problem']} | {r['autograd_ms']:.2f} | {r['func_ms']:.2f} | "
            f"{r['func_over_autograd']:.2f} |"
        )
    out = {
        "device": args.device,
        "machine": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "blocks": args.blocks,
        "steps_per_block": args.steps,
        "rows": rows,
        "numpy": np.__version__,
    }
    (Path(__file__).parent / "engines.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
