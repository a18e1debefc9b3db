"""What keeping freed host memory in the process (`pinnkit.train.host_memory`, on by default
in `Trainer.run` on the CPU) does to each tool's Adam iteration, DeepXDE's included.

For each setting of `versus_deepxde.py` (same problem, points and initial weights) and each
tool, fresh processes alternate between glibc's defaults and `host_memory.retained`
(`--pairs` of them), so each starts from the allocator state a user's process has. Each
process runs `--warmup` untimed iterations (which compile, where asked), hands the free heap
back, resets its resident-set peak and times `--blocks` blocks of iterations. Reported per
tool: the median ms per iteration under each, the median over pairs of the ratio retained /
default, minor page faults per iteration, and the peak resident set during the timed
iterations (Linux: the peak reset through /proc/self/clear_refs).

    OMP_NUM_THREADS=2 python benchmarks/speed/host_memory.py --threads 2

writes `benchmarks/speed/host_memory.json` and `.md` and prints the table. Linux with glibc
only; needs the `bench` extra (DeepXDE).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import torch  # noqa: E402
import versus_deepxde as vd  # noqa: E402  (sets DeepXDE's backend before importing it)

from pinnkit.train import host_memory  # noqa: E402

TOOLS = {
    "deepxde": None,
    "pinnkit[auto]": {"engine": "auto"},
    "pinnkit[auto+compile]": {"engine": "auto", "compile": True},
}


def make_step(setting: vd.Setting, tool: str, seed: int):
    """One Adam iteration of `tool` on `setting`, on DeepXDE's points and weights."""
    model = vd.deepxde_model(setting, seed, "cpu")
    if TOOLS[tool] is None:
        return lambda: vd.deepxde_step(model)
    points, weights = vd.deepxde_points(setting, model), vd.deepxde_weights(model)
    return vd.pinnkit_trainer(setting, TOOLS[tool], "cpu", points, weights)._adam_step


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def process_child(setting_name: str, tool: str, retain: bool, threads: int, args: dict) -> dict:
    """Fresh process: ms and minor page faults per iteration (median over blocks) and the
    peak resident set (MiB) during them, under one setting of the allocator."""
    torch.set_num_threads(threads)
    setting = vd.SETTINGS[setting_name]
    step = make_step(setting, tool, args["seed"])
    steps = args["steps"] or setting.steps
    with host_memory.retained("cpu", enabled=retain) as changed:
        if changed != retain:
            raise RuntimeError(f"host_memory.retained did not apply: {host_memory.why_not('cpu')}")
        for _ in range(args["warmup"]):
            step()
        before = vd.reset_peak()
        seconds, faults = [], []
        for _ in range(args["blocks"]):
            start = _faults()
            seconds.append(vd.time_block(step, steps, "cpu"))
            faults.append((_faults() - start) / steps)
        return {
            "ms": 1e3 * statistics.median(seconds),
            "faults": statistics.median(faults),
            "peak_mib": vd._memory_mib()["VmHWM"],
            "before_mib": before,
        }


def run_child(setting: vd.Setting, tool: str, retain: bool, args) -> dict:
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(
            process_child, setting.name, tool, retain, args.threads, vars(args)
        ).result()


def compare_tool(setting: vd.Setting, tool: str, args) -> dict:
    """`args.pairs` pairs of fresh processes, glibc's defaults then retained."""
    runs = {False: [], True: []}
    for _ in range(args.pairs):
        for retain in (False, True):
            runs[retain].append(run_child(setting, tool, retain, args))
    ratios = [r["ms"] / d["ms"] for d, r in zip(runs[False], runs[True])]
    row = {"ratio": statistics.median(ratios), "ratios": ratios}
    for retain, key in ((False, "default"), (True, "retained")):
        for field in ("ms", "faults", "peak_mib"):
            row[f"{field}_{key}"] = statistics.median(r[field] for r in runs[retain])
        row[f"runs_{key}"] = runs[retain]
    return row


def markdown(out: dict) -> str:
    env = out["environment"]
    lines = [
        f"Host memory kept in the process (`pinnkit.train.host_memory`) against glibc's "
        f"defaults, per Adam iteration: cpu, {env['threads']} threads, torch {env['torch']}, "
        f"glibc {env['glibc']}, {env['date']}; load average at start "
        f"{env['load_average'][0]:.2f}. Fresh processes alternate, {out['pairs']} pairs per "
        "tool; the ratio is the median over pairs of retained / default; figures are medians "
        "over processes.",
        "",
        "| setting | tool | ms default | ms retained | ratio | page faults / it. default "
        "| retained | peak MiB default | retained |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, rows in out["settings"].items():
        for tool, r in rows.items():
            lines.append(
                f"| {name} | {tool} | {r['ms_default']:.2f} | {r['ms_retained']:.2f} | "
                f"{r['ratio']:.2f} | {r['faults_default']:.0f} | {r['faults_retained']:.0f} | "
                f"{r['peak_mib_default']:.0f} | {r['peak_mib_retained']:.0f} |"
            )
    lines += [
        "",
        "Peak: the largest resident set during the timed iterations, after the warm-up and "
        "with the free heap handed back before them (what the process holds live plus the "
        "step's peak).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--settings", default="kdv,burgers_large,burgers")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--pairs", type=int, default=3, help="process pairs per tool")
    parser.add_argument("--blocks", type=int, default=5, help="timed blocks per process")
    parser.add_argument("--steps", type=int, default=0, help="per block; default the setting's")
    parser.add_argument("--warmup", type=int, default=4, help="untimed iterations per process")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(HERE / "host_memory"))
    args = parser.parse_args()
    reason = host_memory.why_not("cpu")
    if reason is not None:
        raise SystemExit(f"host_memory.py: nothing to measure here ({reason}).")
    torch.set_num_threads(args.threads)
    out = {
        "environment": {
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "threads": args.threads,
            "torch": torch.__version__,
            "glibc": platform.libc_ver()[1],
            "load_average": os.getloadavg(),
            "python": platform.python_version(),
        },
        "pairs": args.pairs,
        "blocks": args.blocks,
        "warmup": args.warmup,
        "settings": {},
    }
    for name in args.settings.split(","):
        setting = vd.SETTINGS[name]
        rows = out["settings"][name] = {}
        for tool in args.tools.split(","):
            rows[tool] = compare_tool(setting, tool, args)
            shown = {k: v for k, v in rows[tool].items() if not k.startswith("runs")}
            print(name, tool, shown, flush=True)
    Path(args.out + ".json").write_text(json.dumps(out, indent=2) + "\n")
    text = markdown(out)
    Path(args.out + ".md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
