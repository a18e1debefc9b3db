"""What keeping freed host memory in the process (`pinnkit.train.host_memory`, on by default
in `Trainer.run` on the CPU) does to each tool's Adam iteration, DeepXDE's included.

For each setting of `versus_deepxde.py` (same problem, points and initial weights) and each
tool, blocks of iterations alternate in one process between glibc's defaults and
`host_memory.retained`; each block starts with one untimed iteration (which regrows a
retained heap). Reported: the median ms per iteration under each, the median over rounds of
the per-round ratio retained / default, minor page faults per iteration, and the peak
resident set under each (one fresh process per tool and allocator: the peak during
iterations after two untimed ones, with the free heap handed back before them).

    OMP_NUM_THREADS=2 python benchmarks/speed/host_memory.py --threads 2

writes `benchmarks/speed/host_memory.json` and `.md` and prints the table. Linux with glibc
only; needs the `bench` extra (DeepXDE).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import ctypes
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


def time_tool(setting: vd.Setting, tool: str, args) -> dict:
    """Alternating blocks, glibc's defaults then retained, in this process."""
    step = make_step(setting, tool, args.seed)
    steps = args.steps or setting.steps
    for _ in range(args.warmup):
        step()  # compiles, where asked
    seconds = {False: [], True: []}
    faults = {False: [], True: []}
    for _ in range(args.blocks):
        for retain in (False, True):
            with host_memory.retained("cpu", enabled=retain) as changed:
                if changed != retain:
                    raise SystemExit(
                        f"host_memory.retained did not apply: {host_memory.why_not('cpu')}"
                    )
                step()
                before = _faults()
                seconds[retain].append(vd.time_block(step, steps, "cpu"))
                faults[retain].append((_faults() - before) / steps)
    ratios = [r / d for d, r in zip(seconds[False], seconds[True])]
    return {
        "ms_default": 1e3 * statistics.median(seconds[False]),
        "ms_retained": 1e3 * statistics.median(seconds[True]),
        "ratio": statistics.median(ratios),
        "ratios": ratios,
        "faults_default": statistics.median(faults[False]),
        "faults_retained": statistics.median(faults[True]),
    }


def peak_child(setting_name: str, tool: str, retain: bool, threads: int, seed: int, steps: int):
    """Fresh process: the peak resident set (MiB) during `steps` iterations under one setting
    of the allocator, after two untimed ones (which compile, where asked) and with the free
    heap handed back before them (Linux: the peak reset through /proc/self/clear_refs)."""
    torch.set_num_threads(threads)
    step = make_step(vd.SETTINGS[setting_name], tool, seed)
    with host_memory.retained("cpu", enabled=retain):
        step()
        step()
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # resets VmHWM to the current resident set
        base = vd._memory_mib()["VmRSS"]
        for _ in range(steps):
            step()
        return {"peak_mib": vd._memory_mib()["VmHWM"], "before_mib": base}


def peak(setting: vd.Setting, tool: str, retain: bool, args) -> dict:
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(
            peak_child, setting.name, tool, retain, args.threads, args.seed, args.memory_steps
        ).result()


def markdown(out: dict) -> str:
    env = out["environment"]
    lines = [
        f"Host memory kept in the process (`pinnkit.train.host_memory`) against glibc's "
        f"defaults, per Adam iteration: cpu, {env['threads']} threads, torch {env['torch']}, "
        f"glibc {env['glibc']}, {env['date']}; load average at start "
        f"{env['load_average'][0]:.2f}. Blocks alternate in one process per tool; the ratio is "
        "the median over rounds of retained / default.",
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
                f"{r.get('peak_default', {}).get('peak_mib', float('nan')):.0f} | "
                f"{r.get('peak_retained', {}).get('peak_mib', float('nan')):.0f} |"
            )
    lines += [
        "",
        "Peak: the largest resident set of a fresh process per tool and allocator setting "
        f"during {out['memory_steps']} iterations, after two untimed ones and with the free "
        "heap handed back before them (what the process holds live plus the step's peak).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--settings", default="kdv,burgers_large,burgers")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--blocks", type=int, default=7)
    parser.add_argument("--steps", type=int, default=0, help="per block; default the setting's")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--memory-steps", type=int, default=10)
    parser.add_argument("--no-memory", action="store_true")
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
        "blocks": args.blocks,
        "memory_steps": args.memory_steps,
        "settings": {},
    }
    for name in args.settings.split(","):
        setting = vd.SETTINGS[name]
        rows = out["settings"][name] = {}
        for tool in args.tools.split(","):
            rows[tool] = time_tool(setting, tool, args)
            if not args.no_memory:
                rows[tool]["peak_default"] = peak(setting, tool, False, args)
                rows[tool]["peak_retained"] = peak(setting, tool, True, args)
            print(name, tool, {k: v for k, v in rows[tool].items() if k != "ratios"}, flush=True)
    Path(args.out + ".json").write_text(json.dumps(out, indent=2) + "\n")
    text = markdown(out)
    Path(args.out + ".md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
