"""What the reaction-diffusion observations alone tell, without a PINN: the ceiling of the
discovery suite's PDE cases.

The suite's `fisher`, `fisher_scaled`, `fisher_three` and `allen_cahn` cases hide the
reaction f(u) of u_t = D u_xx + f(u) (Neumann ends). Here nothing is learned: each form, the
truth's with its constants free (a u - b u^2, c + a u - b u^2, a u - b u^3) and the form
discovery chose (its fitted floats free, its exact numbers kept), is written into the
equation, integrated by the suite's own method of lines (`suite._reaction_diffusion`: 201
points, RK45 at rtol 1e-9, the solver that made the observations) and its constants fitted
to the suite's noisy observations by least squares (`scipy.optimize.least_squares`): the
maximum-likelihood fit under the suite's Gaussian noise, the best any method can do from
these data once it is given the form.

Per cell (case, noise, seed as in `suite.json`):

- *constants within 2%*: the truth's form, fit, has every constant within 2% of the truth:
  the suite's exact-form test is passable at all. Where it fails, no method that fits these
  data hits, whatever form it picks ('constants beyond the data').
- *dchi2*: the chosen form's sum of squares minus the truth form's, in units of the noise
  variance (the suite's: level x the observations' RMS, squared); negative where the chosen
  form fits better. *dBIC* adds ln N per constant more: positive where the evidence
  prefers the truth's form ('evidence prefers the chosen' where a miss has it negative).

    OMP_NUM_THREADS=1 python benchmarks/discovery/reaction_ceiling.py

Writes `reaction_ceiling.json` and `reaction_ceiling.md` beside this file.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np
import suite
import sympy as sp
from scipy.optimize import least_squares

HERE = Path(__file__).parent
RTOL = 0.02
U = sp.Symbol("u")
A, B, C = sp.symbols("a b c")
X = sp.Symbol("x")
FISHER_START = sp.Rational(1, 10) + sp.Rational(4, 5) * sp.exp(-50 * (X - sp.Rational(1, 2)) ** 2)
#: case: (the truth's form with free constants, their true values, x interval, end time,
#: initial state), as the suite builds each case.
CASES = {
    "fisher": (A * U - B * U**2, {A: 1, B: 1}, (0.0, 1.0), 2.0, FISHER_START),
    "fisher_scaled": (A * U - B * U**2, {A: 2, B: 2}, (0.0, 1.0), 1.0, FISHER_START),
    "fisher_three": (
        C + A * U - B * U**2,
        {A: 1.2, B: 1.1, C: 0.05},
        (0.0, 1.0),
        2.0,
        FISHER_START,
    ),
    "allen_cahn": (
        A * U - B * U**3,
        {A: 1, B: 1},
        (-1.0, 1.0),
        3.0,
        sp.Rational(4, 5) * sp.cos(sp.pi * X) + sp.sin(sp.pi * X / 2) / 10,
    ),
}


def free_form(formula: sp.Expr) -> tuple[sp.Expr, dict]:
    """The formula with each fitted float a free constant (its value the start)."""
    floats = sorted(formula.atoms(sp.Float), key=str)
    names = sp.symbols(f"k0:{len(floats)}")
    return formula.xreplace(dict(zip(floats, names))), dict(zip(names, floats))


def fit(form: sp.Expr, start: dict, case: str, coords: dict, observed, sigma) -> dict:
    """Least-squares fit of `form`'s constants through the suite's method of lines."""
    _truth, _values, (a, b), end, u0 = CASES[case]
    names = list(start)
    rate = sp.lambdify([U, *names], form, "numpy")

    def residuals(values):
        with np.errstate(all="ignore"):
            grid = suite._reaction_diffusion(
                lambda w: rate(w, *values) + 0 * w, u0, a, b, end, 0.01
            )
            predicted = grid.evaluate(coords)["u"]
        if not np.all(np.isfinite(predicted)):
            return np.full(observed.shape, 1e3)
        return (predicted - observed) / sigma

    result = least_squares(residuals, [float(start[n]) for n in names], diff_step=1e-5)
    return {
        "constants": {str(n): float(v) for n, v in zip(names, result.x)},
        "chi2": float(2 * result.cost),
        "formula": str(form.subs(dict(zip(names, [round(v, 4) for v in result.x])))),
    }


def cell(row: dict) -> dict:
    case, level, seed = row["case"], row["noise"], row["seed"]
    data = getattr(suite, case)(level, seed).problem.data[0]
    coords = {str(k): np.asarray(v, dtype=float) for k, v in data.coords.items()}
    observed = np.asarray(data.values["u"], dtype=float)
    sigma = level * float(np.sqrt(np.mean(observed**2)))
    truth_form, truth_values, *_ = CASES[case]
    truth = fit(truth_form, truth_values, case, coords, observed, sigma)
    within = all(
        abs(truth["constants"][str(n)] / float(v) - 1) <= RTOL for n, v in truth_values.items()
    )
    out = {
        "case": case,
        "noise": level,
        "seed": seed,
        "hit": row["hit"],
        "observations": int(observed.size),
        "truth_fit": truth,
        "constants_within": within,
    }
    if not row["hit"]:
        chosen_form, start = free_form(sp.sympify(row["formulas"]["f"], locals={"u": U}))
        chosen = fit(chosen_form, start, case, coords, observed, sigma)
        extra = len(start) - len(truth_values)
        out["chosen"] = row["formulas"]["f"]
        out["chosen_fit"] = chosen
        out["dchi2"] = chosen["chi2"] - truth["chi2"]
        out["dbic"] = out["dchi2"] + extra * float(np.log(observed.size))
    return out


def write(rows: list[dict]) -> None:
    meta = {"machine": platform.processor() or platform.machine(), "date": time.strftime("%F")}
    path = HERE / "reaction_ceiling.json"
    path.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    lines = [
        "# Reaction-diffusion: what the observations alone tell (no PINN)",
        "",
        "Written by `benchmarks/discovery/reaction_ceiling.py`; see its docstring. The truth's",
        "form and, for a miss, the chosen form are fit to the suite's observations through the",
        "method of lines that made them: the maximum-likelihood fit of each form.",
        "",
        "| case | noise | seed | suite | truth's form, fit | within 2% | chosen form, fit "
        "| dchi2 | dBIC | class |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["hit"]:
            verdict = ""
        elif not r["constants_within"]:
            verdict = "constants beyond the data"
        elif r["dbic"] < 0:
            verdict = "evidence prefers the chosen"
        else:
            verdict = "discovery's miss"
        chosen = f"`{r['chosen_fit']['formula']}`" if "chosen_fit" in r else ""
        dchi2 = f"{r['dchi2']:+.1f}" if "dchi2" in r else ""
        dbic = f"{r['dbic']:+.1f}" if "dbic" in r else ""
        lines.append(
            f"| {r['case']} | {r['noise']:.0%} | {r['seed']} | {'hit' if r['hit'] else 'miss'} "
            f"| `{r['truth_fit']['formula']}` | {'yes' if r['constants_within'] else 'no'} "
            f"| {chosen} | {dchi2} | {dbic} | {verdict} |"
        )
    (HERE / "reaction_ceiling.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    recorded = json.loads((HERE / "suite.json").read_text())["rows"]
    rows = []
    for row in recorded:
        if row["case"] in CASES:
            rows.append(cell(row))
            r = rows[-1]
            print(
                r["case"],
                r["noise"],
                r["seed"],
                r["truth_fit"]["formula"],
                r["constants_within"],
                r.get("dchi2"),
                flush=True,
            )
    write(rows)


if __name__ == "__main__":
    main()
