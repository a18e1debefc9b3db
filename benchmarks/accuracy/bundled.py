"""Train every bundled problem with its own default config and tabulate the result:
relative L2 per field against the reference, learned constants, steps, wall time, device.

Writes `benchmarks/accuracy/bundled.json`, prints a Markdown table, and copies each run's
solution figure to `benchmarks/gallery/<problem>.png` (the README's gallery).

    python benchmarks/accuracy/bundled.py [--problems burgers,helmholtz] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
from pathlib import Path

import torch

import pinnkit as pk
from pinnkit.cli import bundled_problems

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default=",".join(bundled_problems()))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    paths = bundled_problems()
    path = HERE / "bundled.json"
    out = json.loads(path.read_text()) if path.exists() else {}
    gallery = HERE.parent / "gallery"
    gallery.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.problems.split(","):
            problem, config, source = pk.load_problem_file(paths[name])
            config = (config or pk.Config()).replace(
                seed=args.seed, device=args.device, progress=False
            )
            run = pk.fit(problem, config, out=tmp, source=source)
            figures = run.plot()
            shutil.copy(run.directory / "figures" / "solution.png", gallery / f"{name}.png")
            out[name] = {
                k: run.summary[k]
                for k in ("rel_l2", "parameters", "steps", "wall_seconds", "device", "seed")
            }
            out[name]["threads"] = torch.get_num_threads()
            out[name]["machine"] = platform.machine()
            print(f"{name}: {out[name]}", flush=True)
            del figures
    path.write_text(json.dumps(out, indent=2) + "\n")
    print("\n| problem | relative L2 | learned | steps | wall s | device |")
    print("|---|---|---|---|---|---|")
    for name, row in out.items():
        l2 = ", ".join(f"{k} {v:.2e}" for k, v in (row["rel_l2"] or {}).items())
        learned = ", ".join(f"{k} = {v:.5g}" for k, v in (row["parameters"] or {}).items())
        print(
            f"| {name} | {l2} | {learned} | {row['steps']} | {row['wall_seconds']:.0f} | "
            f"{row['device']} |"
        )


if __name__ == "__main__":
    main()
