"""Symbolic-regression backends side by side on seven typical hidden terms.

Each term is sampled where a solution of its PDE puts its inputs (2000 samples), the target
gets noise, and each backend fits it. Counted per backend and noise level, over the seven
terms x `--seeds` seeds: how often the exact form (SymPy-equal after rounding constants to
within 2%, `pinnkit.discover.is_same_form`) is on the Pareto front and is the chosen
candidate (`Front.best`, PySR's "best" rule; also PySR's "score" rule), and the median
seconds per fit. Noise is Gaussian with a standard
deviation of 0%, 1% or 5% of the target's, plus "smooth 1%": a random smooth function of the
inputs with 1% RMS, a stand-in for a trained network's error, which is smooth, not white.

    OMP_NUM_THREADS=1 python benchmarks/discovery/backends.py [--seeds 5] [--backends offline,stlsq]

Backends: `offline` (pinnkit's default), `stlsq` (SINDy's sequentially thresholded least
squares over the same library, implemented below), `pyoperon` (genetic programming, when
`pyoperon` is importable: `pip install pyoperon`), `pysr` (when Julia is usable). Rows are
merged into `backends.json` by backend, so backends can be run separately; `backends.md`
is rewritten from all rows.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy as sp

from pinnkit.discover import (
    AbstractBackend,
    Front,
    Library,
    Offline,
    PySR,
    is_same_form,
    julia_status,
    make_front,
    mean_squared_error,
)

HERE = Path(__file__).parent
SAMPLES = 2000
NOISES = (("gaussian", 0.0), ("gaussian", 0.01), ("gaussian", 0.05), ("smooth", 0.01))
u, u_x, x, y = sp.symbols("u u_x x y")


def hidden_terms(rng: np.random.Generator) -> dict[str, tuple[sp.Expr, dict]]:
    """The seven terms of issue 4, with inputs from a typical solution of their PDE."""
    x01, t01 = rng.uniform(0, 1, SAMPLES), rng.uniform(0, 1, SAMPLES)
    x11 = rng.uniform(-1, 1, SAMPLES)
    fisher = 1 / (1 + np.exp(10 * (x01 - 0.3 - 0.4 * t01)))
    burgers = -np.sin(np.pi * x11) * np.exp(-t01)
    return {
        "u(1-u)": (u * (1 - u), {u: fisher}),
        "0.5 sin u": (sp.sin(u) / 2, {u: 2 * np.sin(np.pi * x01) * np.cos(t01)}),
        "-u u_x": (-u * u_x, {u: burgers, u_x: -np.pi * np.cos(np.pi * x11) * np.exp(-t01)}),
        "exp(-x^2)": (sp.exp(-(x**2)), {x: rng.uniform(-2, 2, SAMPLES)}),
        "u - u^3": (u - u**3, {u: np.tanh(3 * x11 - t01)}),
        "xy + 0.3x^2": (
            x * y + sp.Rational(3, 10) * x**2,
            {x: x11, y: rng.uniform(-1, 1, SAMPLES)},
        ),
        "2/(1+u^2)": (2 / (1 + u**2), {u: 2 * np.sin(np.pi * x01) * np.exp(-t01)}),
    }


def noisy(values, inputs, kind, level, rng):
    """`values` plus noise of RMS `level` times their standard deviation."""
    if level == 0:
        return values
    if kind == "gaussian":
        noise = rng.standard_normal(values.shape)
    else:  # a sum of four random plane waves in the standardised inputs
        z = np.stack([(a - a.mean()) / (a.std() + 1e-300) for a in inputs.values()], axis=1)
        waves = rng.normal(0, 1.5, (4, z.shape[1]))
        noise = np.sin(z @ waves.T + rng.uniform(0, 2 * np.pi, 4)) @ rng.standard_normal(4)
        noise /= np.sqrt(np.mean(noise**2))
    return values + level * values.std() * noise


@dataclass(frozen=True)
class STLSQ(AbstractBackend):
    """SINDy's sequentially thresholded least squares (Brunton, Proctor, Kutz, PNAS 2016) on
    the offline backend's library: for each threshold on a grid, ridge regression (`alpha`, as
    in PySINDy's STLSQ) on unit-norm columns, zero the coefficients below the threshold, refit
    the rest, repeat 10 times. Every threshold's result goes into the candidate pool."""

    library: Library = Library()
    thresholds: int = 30
    alpha: float = 1e-3
    name: str = "stlsq"

    def _ridge(self, columns, target):
        gram = columns.T @ columns + self.alpha * np.eye(columns.shape[1])
        return np.linalg.solve(gram, columns.T @ target)

    def fit(self, inputs, target, *, seed=0) -> Front:
        start = time.perf_counter()
        symbols = tuple(inputs)
        arrays = [np.asarray(inputs[s], dtype=float) for s in symbols]
        terms = self.library.terms(arrays)
        columns = np.stack([t.values(arrays) for t in terms], axis=1)
        ok = np.all(np.isfinite(columns), axis=0) & (np.abs(columns).max(axis=0) < 1e8)
        terms, columns = [t for t, k in zip(terms, ok) if k], columns[:, ok]
        scaled = columns / np.linalg.norm(columns, axis=0)
        full = self._ridge(scaled, target)
        top = np.abs(full).max()
        pool = [(sp.Float(float(np.mean(target))), float(np.var(target)))]
        for threshold in np.geomspace(1e-3 * top, top, self.thresholds):
            support = np.ones(len(terms), dtype=bool)
            for _ in range(10):
                coefficients = self._ridge(scaled[:, support], target)
                keep = np.abs(coefficients) >= threshold
                if keep.all() or not keep.any():
                    break
                support[np.flatnonzero(support)[~keep]] = False
            if not support.any():
                continue
            raw = np.linalg.lstsq(columns[:, support], target, rcond=None)[0]
            chosen = [t for t, s in zip(terms, support) if s]
            expr = sp.Add(*(sp.Float(c) * t.expr(symbols) for c, t in zip(raw, chosen)))
            pool.append((expr, float(np.mean((columns[:, support] @ raw - target) ** 2))))
        return make_front(
            pool, target, inputs=symbols, backend=self.name, seconds=time.perf_counter() - start
        )


@dataclass(frozen=True)
class Operon(AbstractBackend):
    """pyoperon's multi-objective genetic programming (Burlacu et al., GECCO 2020): NSGA-II on
    (R^2, length) with the operators of the seven terms, its Pareto front read back."""

    generations: int = 200
    max_time: int = 5
    name: str = "pyoperon"

    def fit(self, inputs, target, *, seed=0) -> Front:
        from pyoperon.sklearn import SymbolicRegressor

        start = time.perf_counter()
        symbols = tuple(inputs)
        features = np.stack([np.asarray(inputs[s], dtype=float) for s in symbols], axis=1)
        model = SymbolicRegressor(
            allowed_symbols="add,sub,mul,div,constant,variable,sin,cos,exp,square",
            objectives=["r2", "length"],
            max_length=25,
            generations=self.generations,
            max_time=self.max_time,
            population_size=500,
            random_state=seed,
            n_threads=1,
        )
        model.fit(features, target)
        names = {sp.Symbol(f"X{i + 1}"): s for i, s in enumerate(symbols)}
        pool = []
        for row in model.pareto_front_:
            expr = sp.sympify(row["model"].replace("^", "**")).xreplace(names)
            pool.append((expr, mean_squared_error(expr, inputs, target)))
        return make_front(
            pool, target, inputs=symbols, backend=self.name, seconds=time.perf_counter() - start
        )


def available(name: str) -> AbstractBackend | None:
    if name == "offline":
        return Offline()
    if name == "stlsq":
        return STLSQ()
    if name == "pyoperon":
        try:
            import pyoperon  # noqa: F401
        except ImportError:
            print("pyoperon: not installed (pip install pyoperon); skipped")
            return None
        return Operon()
    if name == "pysr":
        status = julia_status()
        if not status.usable:
            print(f"pysr: {status.reason}; skipped")
            return None
        return PySR(niterations=40)
    raise SystemExit(f"unknown backend {name!r}; expected offline, stlsq, pyoperon or pysr")


def run(backend: AbstractBackend, seeds: int) -> list[dict]:
    rows = []
    for kind, level in NOISES:
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            for name, (truth, inputs) in hidden_terms(rng).items():
                clean = sp.lambdify(list(inputs), truth)(*inputs.values()) * np.ones(SAMPLES)
                target = noisy(clean, inputs, kind, level, rng)
                front = backend.fit(inputs, target, seed=seed)
                rows.append(
                    {
                        "backend": backend.name,
                        "noise": f"{kind} {level:.0%}" if level else "none",
                        "term": name,
                        "seed": seed,
                        "on_front": front.contains(truth),
                        "chosen": is_same_form(front.best.expr, truth),
                        "chosen_by_score": is_same_form(front.choose("score").expr, truth),
                        "best": front.best.display(),
                        "seconds": front.seconds,
                    }
                )
                mark = "front" if rows[-1]["on_front"] else "-"
                print(
                    f"{backend.name:9} {rows[-1]['noise']:13} {name:12} {seed} {mark:5} "
                    f"{'chosen' if rows[-1]['chosen'] else '-':6} {front.seconds:6.2f}s  "
                    f"{rows[-1]['best']}",
                    flush=True,
                )
    return rows


def markdown(rows: list[dict]) -> str:
    lines = [
        "| backend | noise | exact form on front | chosen (best rule) | chosen (score rule) "
        "| median s per fit |",
        "|---|---|---|---|---|---|",
    ]
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["backend"], row["noise"]), []).append(row)
    for (backend, noise), group in groups.items():
        front = sum(r["on_front"] for r in group)
        chosen = sum(r["chosen"] for r in group)
        by_score = sum(r["chosen_by_score"] for r in group)
        seconds = statistics.median(r["seconds"] for r in group)
        n = len(group)
        lines.append(
            f"| {backend} | {noise} | {front}/{n} | {chosen}/{n} | {by_score}/{n} | {seconds:.2f} |"
        )
    misses = [r for r in rows if not r["chosen"] and r["noise"] in ("none", "gaussian 1%")]
    if misses:
        lines += ["", "Misses at 0% and 1% noise (chosen expression):", ""]
        lines += [
            f"- {r['backend']}, {r['noise']}, {r['term']}, seed {r['seed']}: `{r['best']}`"
            for r in misses
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--backends", default="offline,stlsq,pyoperon,pysr")
    args = parser.parse_args()
    path = HERE / "backends.json"
    previous = json.loads(path.read_text())["rows"] if path.exists() else []
    names = args.backends.split(",")
    rows = [r for r in previous if r["backend"] not in names]
    for name in names:
        backend = available(name)
        if backend is not None:
            rows += run(backend, args.seeds)
    order = {"offline": 0, "stlsq": 1, "pyoperon": 2, "pysr": 3}
    rows.sort(key=lambda r: order.get(r["backend"], 9))
    seeds = {
        r["backend"]: 1 + max(q["seed"] for q in rows if q["backend"] == r["backend"]) for r in rows
    }
    meta = {
        "machine": platform.processor() or platform.machine(),
        "samples": SAMPLES,
        "seeds": seeds,
        "date": time.strftime("%Y-%m-%d"),
    }
    path.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    table = markdown(rows)
    (HERE / "backends.md").write_text(
        f"# Discovery backends\n\nWritten by `benchmarks/discovery/backends.py` "
        f"({meta['date']}, {SAMPLES} samples per fit, seeds per backend {seeds}, "
        f"seven terms per seed, OMP_NUM_THREADS=1, 2-core CPU shared with other jobs).\n\n"
        f"{table}\n"
    )
    print(table)


if __name__ == "__main__":
    main()
