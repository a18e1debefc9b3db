"""Hidden-term discovery on ODEBench: an external ground truth. Every non-chaotic system of
dimension 1-3, one right-hand side hidden at a time, two noise levels, CPU.

    OMP_NUM_THREADS=1 python benchmarks/discovery/odebench.py [--ids 1,2,24]
        [--noise 0.01,0.05] [--jobs N] [--force] [--report] [--direct]

ODEBench (d'Ascoli, Becker, Mathis, Schwaller, Kilbertus: ODEFormer, arXiv 2310.05573) is 63
ODE systems, mostly from Strogatz's *Nonlinear Dynamics and Chaos*, read at run time from
`../shared/data/odebench/strogatz_extended.json` beside the repository (MIT licence, not
copied here; `--data` points elsewhere). Systems of dimension 4 and the four chaotic ones
(ids 56, 59, 60, 61: `eq_description` says "chaotic") are left out: 97 hidden terms.

A case is (id, component i, noise). On the system's first constant set and first initial
condition, over its window t in [0, T] (T = 10 for all of them):

- the hidden term: x_i' = f(x_0, ..., x_{d-1}), `pk.Hidden("f")` of the whole state; the other
  components keep their right-hand sides with the constants written in (`substituted`);
- observations: all components at 50 equispaced times in [0, T], with Gaussian noise of the
  level times each component's RMS over those times (`numpy.random.default_rng(0)`, drawn in
  component order, so every component of a system sees the same noisy data); the initial
  condition is known (`pk.Initial`);
- the reference: the true system re-solved here with `solve_ivp` (DOP853, rtol 1e-10,
  atol 1e-12, dense output), not the shipped `solutions` (512 times from ODEFormer's own
  `solve_ivp`); each row records the largest deviation between the two, relative to each
  component's range (`reference_check`);
- the fit: one generic config for every case (`config`), nothing tuned per system: 32
  random Fourier features of t (`pk.Fourier(features=32, sigma=2)`; pinnkit normalises t to
  [-1, 1] over the window) in front of a 32 x 3 tanh MLP whose outputs are
  scaled to each component's observed mean and spread (`pk.MLP(scale="data")`), a 16 x 2 hidden
  network whose inputs pinnkit normalises from the data's range and whose output scale is
  the RMS of the finite-difference derivative of the observed x_i, Adam (2e-3, decayed 0.9
  every 500 steps) for 4000 steps on 500 interior points drawn afresh each step, then 500
  L-BFGS steps on one set of 2,000 (`pk.LBFGS(points=4)`, since 2026-12-07: on 500 the
  polish held the equations at its points only, 30-1,570x worse between them in 14 of 25
  cells surveyed at 5% noise, and discovery's refits, which polish on as many points as the
  run, inherited it); seed 0;
  tried and not kept (2026-12-05): a second fit with 64 Fourier features of sigma 4 where
  the first missed the observations by more than 3 noise units (`data_misfit`, recorded in
  every row; 13 of the 97 1% cells): it mended the fit of id 35's x_1 (72 noise units to
  0.9) but gained no term, and lost 33:x_0 and 43:x_1, exact after first fits 3.8 and 4.3
  noise units off (their second fits were further off: 4.7, 6.3); tried on id 55 (Lorenz
  at rho = 100, x_0 hidden, 1%; 2026-12-05, one thread): Fourier sigma 4-8 with 32-64
  features, a 64-wide MLP, causal weighting (`pk.Causal`, 32-64 chunks, epsilon 1-100),
  gradient balancing, 2,000 points, 10,000 Adam and 2,000 L-BFGS steps (up to 118 s of
  fit): the best reached the observations (1.1 noise units) but not the trajectory between
  them (relative L2 0.53 on x_0, against 1.19 with this config), so its three terms stay
  failed fits; tried and not kept (2026-12-07): this config plus 1,000 iterations of
  `pk.SSBroyden` in float64 (the accurate recipe's stage) mends the Rossler fits, x_2 of id 58
  0.34 -> 0.033 at 1% and 0.35 -> 0.084 at 5%, x_2 of id 57 at 1% 0.26 -> 0.043 (for 58:x_2 at
  1%, 300 or 500 iterations: 0.23, 0.11; 2,000 L-BFGS steps in float32 or float64: 0.18; 50
  Levenberg-Marquardt iterations: 0.033 but in 145 s), and 58:x_2 is then exact at both levels
  (57:x_2 is then 'not on front'), but the stage costs 50 s of fit and discovery from the
  sharper network takes 1.5-2x longer (more candidates are refit: 75 against 55 for 43:x_1 at
  1%): 204-238 s a case against the 180 s target, and as a second fit only where the first
  misses the observations by more than 3 noise units (21 of the 194 cells, 42-184 s each with
  this config) it adds about 75 s of fit (the first fit again, then the stage) and the slower
  discovery to each; at 5% noise the stage also fits the noise (27:x_0, 51:x_1, 52:x_0:
  relative L2 0.027-0.031 -> 0.036-0.041); id 55 stays failed (x_0 1.08), while 35:x_1's fit
  at 1% is mended (0.73 -> 0.052) and 43:x_1's sharpened (0.035 -> 0.013, the same formula);
- discovery: `pk.discover(run, seed=0)` with the offline backend (the default).

Scores. Exact recovery: the chosen formula (constants as refit with the solution) has the
truth's form with every constant within 2% (`pinnkit.discover.is_same_form`). Also recorded:
the relative error of each constant where the form matches (`constant_errors`), the PINN's
relative L2 error per component against the reference, the discovered ODE's (the chosen
formula written in, integrated by `solve_ivp`), and the wall time of the fit and of
discovery. And what the data themselves fix (`direct_fit`, every case with `--direct`): the
true form's constants fitted straight to the observations by maximum likelihood, the ODE
integrated; where one comes out more than 2% off, no method recovers the term exactly from
these data. Every miss gets a class (`classify`):

- "PINN fit failed" (fit): a component of the fit is more than `FIT_FAILED` (10%) off the
  reference in relative L2, whatever discovery then did;
- "constants beyond the data" (n): the direct fit of the true form misses a constant by more
  than 2%: no method recovers this term exactly from these observations;
- "evidence prefers the chosen" (p): the truth and the chosen formula, both refit straight to
  the observations by maximum likelihood (`evidence_gap`: the ODE integrated, no PINN), at
  the price of constants and structure discovery charges, and the chosen one scores as well
  or better (each at its best: its simple constants held exact or all fitted, the truth's
  as written, the chosen one's floats within 2% of p/q, q <= 5): no chooser by this
  evidence takes the truth over it, whatever the PINN did;
- "data cannot decide" (u): the truth, offered to the choice directly (`pk.discover(run,
  candidates={"f": [truth]})`), is not chosen, but its criterion is within `UNDECIDED`
  (2 ln 20) of the chosen's (`truth_delta`): the data give it at least 1/20 of the chosen
  form's weight, and the structure's price (the prior) decided;
- "truth loses on evidence" (e): the same, the truth further than that behind (or not
  admitted: its refit loss over twice the network's);
- "truth offered, not chosen" (c): rows run before `truth_delta` was recorded;
- "on front, not chosen" (b): the truth's form (`pinnkit.discover.alternatives.form`, any
  constants) is on the backend's front or near it (`Front.candidates`, `Front.near`,
  `Front.subfront`, `Front.integral`) or among the candidates the choice judged
  (`Selection.scored`), but another formula was chosen;
- "not on front" (a): none of these has the truth's form;
- "fit or discovery raised" (error): the exception is recorded in the row;
- "form chosen, constants off" (d): the chosen formula has the truth's form but a constant is
  more than 2% off, and the truth was not offered directly (where it is, such a miss is (u),
  (e) or (c) when the refit truth is not chosen, and otherwise (b)).

Rows are merged into `odebench.json` by (id, component, noise) under a file lock, so cases can
run in several processes (`--jobs`, one core each) and in pieces: a case already in the JSON
is skipped unless `--force`. `odebench.md` is rewritten from all rows; cases never run are
listed as such.
"""

from __future__ import annotations

import argparse
import fcntl
import inspect
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy as sp

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
DATA = ROOT.parent / "shared" / "data" / "odebench" / "strogatz_extended.json"
NOISES = (0.01, 0.05)
OBSERVATIONS = 50
#: Printed under the summary: which rows come from which version of discovery, while a
#: re-run is partial.
RUN_NOTE = (
    "Which code made which rows. Discovery as of 4cf7cd0 (2026-12-07: a tie of complexity at "
    "the near candidates' cut is judged whole, and the chosen formula's admitted rivals lose "
    "the terms the samples do not see) made every row; 113 of the 194 were then re-run at "
    "2055990 (2026-12-07: the chosen form's round form contends in the settle step by its "
    "trajectory refit): every row whose recorded selection has such a round form (or the "
    "fitted formula a round one came from) within reach, the only rows where that step can "
    "choose otherwise. 23:x_0 at 5% gained (48 -> 49 of 97 at 5%; 58 of 97 at 1% as "
    "before); 6:x_0, 23:x_0 and 35:x_0 at 1% (exact before and after) and 53:x_1 at 1% "
    "('constants beyond the data') now give their round form; 48:x_0 and 57:x_2 at 1% (a "
    "flagged best fit and a failed fit) moved among misses; every other re-run row gave the "
    "same formula and class. 16 of the re-run rows at 5% (ids 34-47) ran beside the test "
    "suite, three processes on two cores: they kept the same formula and class, and their "
    "rows here are the earlier run's, whose times are timings. Tried and not kept "
    "(2026-12-07): a v*log(v) column for each input > 0 in the default library (Gompertz "
    "growth; `Library(log_growth=True)` is the option): 89 rows re-run with it kept every "
    "class, but 42:x_1 at 5%, re-run after them, lost (`1.777*x_0 + 0.06442*x_1**2 - x_1`; "
    "exact again without the column), so the rows here are those without it. 34 rows were "
    "then re-run at 6d7a31e (2026-12-08: the shortlist judges whether a polynomial's terms "
    "cancel in powers of its inputs' offsets from their means): every cell whose shortlist "
    "that changes, found by fitting all 194 cells and comparing the shortlists under both "
    "rules. Every re-run row kept its class (58 and 49 of 97 as before) and 31 their "
    "formula; 12:x_0 and 52:x_2 at 1% and 47:x_0 at 5%, misses, gave another formula of "
    "the same class. Their median fit took 19.3 s against 18.1 s on the earlier run, "
    "discovery 94 s against 87 s; 52:x_2 at 5% took 196 s against 169 s, over the 180 s "
    "target (93 of 97 within it at 5%, 94 before). Tried and not kept (2026-12-08): the "
    "v*log(v) column by default for a term of one input only: the 44 cells of the 1-D "
    "systems whose state stays >= 0 kept every class and 42 their formula, but the "
    "new-user file `unseen/bistable.py` lost its exact cubic, so the rows here are those "
    "without it. The fit config below, two "
    "cases at a time. Times: on the 97 re-run rows kept, the fit, whose code did not change, "
    "took a median 17.5 s at 1% and 16.4 s at 5% against 21.1 s and 21.5 s on their earlier "
    "run, and discovery 71 s and 79 s against 85 s and 98 s: the same ratio, so the change "
    "costs no time the median sees (the machine's speed varies up to 1.6x between days). "
    "The history of earlier runs is in docs/discovery.md and the git log."
)
SEED = 0
# The targets: exact recovery of the hidden terms at each noise level, and the wall
# time of fit + discover per case on one core.
TARGETS = {0.01: 0.70, 0.05: 0.50}
TARGET_SECONDS = 180.0
FORM_RTOL = 0.02
#: A miss whose PINN fit has a component off by more than this relative L2 error is put down
#: to the fit ("PINN fit failed"), whatever discovery then did with it.
FIT_FAILED = 0.1
CLASSES = {
    "fit": "PINN fit failed",
    "n": "constants beyond the data",
    "p": "evidence prefers the chosen",
    "a": "not on front",
    "b": "on front, not chosen",
    "u": "data cannot decide",
    "e": "truth loses on evidence",
    "c": "truth offered, not chosen",
    "d": "form chosen, constants off",
    "error": "fit or discovery raised",
}
#: The truth offered to the choice and not chosen is "data cannot decide" (u) when its
#: criterion is within this of the best admitted candidate's (`ALTERNATIVE_DELTA`, 2 ln 20:
#: its relative weight at least 1/20), and "truth loses on evidence" (e) beyond.
UNDECIDED = 2 * float(np.log(20))
t = sp.Symbol("t")


@dataclass(frozen=True)
class Case:
    """One benchmark case, built from an ODEBench entry (no training)."""

    id: int
    component: int
    noise: float
    problem: object  # pk.Problem
    config: object  # pk.Config
    truth: sp.Expr  # the hidden right-hand side, in the input symbols x_0, ...
    rhs: tuple[sp.Expr, ...]  # every true right-hand side
    symbols: tuple[sp.Symbol, ...]
    reference_check: float


def load(path: Path = DATA) -> list[dict]:
    """The ODEBench entries (the JSON list as shipped)."""
    if not path.exists():
        raise SystemExit(
            f"ODEBench data not found at {path}: put sdascoli/odeformer's "
            "odeformer/odebench/strogatz_extended.json there or pass --data."
        )
    return json.loads(path.read_text())


def is_chaotic(entry: dict) -> bool:
    return "chaotic" in entry["eq_description"].lower()


def selected(entries: list[dict]) -> list[dict]:
    """The systems of the benchmark: dimension 1-3, not chaotic."""
    return [e for e in entries if 1 <= e["dim"] <= 3 and not is_chaotic(e)]


def cells(entries: list[dict], noises=NOISES) -> list[tuple[int, int, float]]:
    """Every (id, component, noise) of the benchmark."""
    return [
        (e["id"], i, float(level))
        for level in noises
        for e in selected(entries)
        for i in range(e["dim"])
    ]


def right_hand_sides(entry: dict) -> tuple[tuple[sp.Symbol, ...], tuple[sp.Expr, ...]]:
    """The input symbols x_0.. and the right-hand sides of the first constant set."""
    symbols = sp.symbols(f"x_:{entry['dim']}")
    names = {str(s): s for s in symbols}
    rhs = tuple(sp.sympify(s, locals=names) for s in entry["substituted"][0])
    return tuple(symbols), rhs


def solve(entry: dict, rhs=None):
    """The true system on the first initial condition, re-solved (DOP853, rtol 1e-10), with
    dense output; and the largest deviation from the shipped solution relative to each
    component's range."""
    from scipy.integrate import solve_ivp

    symbols, true_rhs = right_hand_sides(entry)
    rhs = true_rhs if rhs is None else rhs
    f = sp.lambdify(symbols, list(rhs), "numpy")
    shipped = entry["solutions"][0][0]
    ts, ys = np.asarray(shipped["t"]), np.asarray(shipped["y"])
    start = np.asarray(entry["init"][0], dtype=float)
    sol = solve_ivp(
        lambda _t, y: np.asarray(f(*y), dtype=float) * np.ones(len(y)),
        (0.0, float(ts[-1])),
        start,
        method="DOP853",
        rtol=1e-10,
        atol=1e-12,
        dense_output=True,
    )
    if not sol.success:
        raise RuntimeError(f"ODEBench {entry['id']}: solve_ivp failed: {sol.message}")
    spread = np.maximum(np.ptp(ys, axis=1), 1e-12)
    check = float(np.max(np.abs(sol.sol(ts) - ys).max(axis=1) / spread))
    return sol, float(ts[-1]), check


def observe(values: np.ndarray, level: float, seed: int = SEED) -> np.ndarray:
    """`values` (d, n) plus Gaussian noise of `level` x each row's RMS, rows in order."""
    rng = np.random.default_rng(seed)
    rms = np.sqrt(np.mean(values**2, axis=1, keepdims=True))
    return values + level * rms * rng.standard_normal(values.shape)


def derivative_scale(times: np.ndarray, observed: np.ndarray) -> float:
    """The RMS of the finite-difference derivative of one observed component: the hidden
    network's output scale (the term's expected size), floored away from 0."""
    return max(float(np.sqrt(np.mean(np.gradient(observed, times) ** 2))), 1e-3)


def config(scale: float):
    """The one training config of every case (see the module docstring)."""
    import pinnkit as pk

    return pk.Config(
        steps=4000,
        seed=SEED,
        device="cpu",
        progress=False,
        model=pk.MLP(width=32, depth=3, scale="data"),
        fourier=pk.Fourier(features=32, sigma=2.0),
        hidden=pk.HiddenNet(width=16, depth=2, scale=float(f"{scale:.3g}")),
        optimizer=pk.Adam(learning_rate=2e-3, decay_rate=0.9, decay_steps=500),
        sampling=pk.Sampling(interior=500, initial=1),
        lbfgs=pk.LBFGS(steps=500, points=4),
        eval_every=1000,
    )


def build(entry: dict, component: int, level: float) -> Case:
    """The case (system `entry`, right-hand side `component` hidden, noise `level`)."""
    import pinnkit as pk

    symbols, rhs = right_hand_sides(entry)
    d = entry["dim"]
    if not 0 <= component < d:
        raise ValueError(f"ODEBench {entry['id']} has {d} components; got {component}")
    sol, T, check = solve(entry)
    states = [sp.Function(str(s))(t) for s in symbols]
    to_states = dict(zip(symbols, states))
    f = pk.Hidden("f")
    equations = {}
    for i, (state, right) in enumerate(zip(states, rhs)):
        known = f(*states) if i == component else right.xreplace(to_states)
        equations[f"eq_{i}"] = sp.Eq(state.diff(t), known)
    times = np.linspace(0.0, T, OBSERVATIONS)
    observed = observe(sol.sol(times), level)
    grid = np.linspace(0.0, T, 1001)
    reference = pk.reference.Grid(
        {"t": grid}, {str(s): v for s, v in zip(symbols, sol.sol(grid))}, method="cubic"
    )
    problem = pk.Problem(
        name=f"odebench_{entry['id']}_{component}",
        domain=pk.TimeInterval(t, 0, T),
        fields=states,
        equations=equations,
        conditions=[
            pk.Initial(s, sp.Float(v), name=f"initial_{i}")
            for i, (s, v) in enumerate(zip(states, entry["init"][0]))
        ],
        data=pk.Data({t: times}, dict(zip(states, observed))),
        reference=reference,
    )
    scale = derivative_scale(times, observed[component])
    return Case(
        entry["id"], component, level, problem, config(scale), rhs[component], rhs, symbols, check
    )


# --- scoring ---------------------------------------------------------------------------------


def _numbers(expr: sp.Expr) -> list[float]:
    """The numbers inside `expr` (coefficients excluded by the caller), in a fixed order."""
    return [float(a) for a in sp.preorder_traversal(expr) if a.is_Number and a not in (1, -1)]


def constant_errors(found: sp.Expr, truth: sp.Expr) -> list[float] | None:
    """The relative error of each constant of `found` against the truth's, where the two have
    the same form (`alternatives.form`); None otherwise. Terms are paired by form after
    expansion; each term contributes its coefficient and then the numbers inside it (an
    inner rate, an exponent). An inner 1 the truth leaves implicit (`sin(x)` against
    `sin(1.02*x)`) is not paired, and such a pair gives None."""
    from pinnkit.discover.alternatives import form

    if form(found) != form(truth):
        return None
    terms = {}
    for expr, side in ((truth, 0), (found, 1)):
        for term in sp.Add.make_args(sp.expand(expr)):
            coefficient, rest = term.as_coeff_Mul()
            terms.setdefault(form(rest), [None, None])[side] = (float(coefficient), rest)
    errors = []
    for pair in terms.values():
        if None in pair:
            return None
        (c_true, r_true), (c_found, r_found) = pair
        inner_true, inner_found = _numbers(r_true), _numbers(r_found)
        if len(inner_true) != len(inner_found):
            return None
        for a, b in [(c_true, c_found), *zip(inner_true, inner_found)]:
            errors.append(abs(b - a) / abs(a) if a else abs(b))
    return errors


def same_form(a: sp.Expr, b: sp.Expr) -> bool:
    from pinnkit.discover.alternatives import form

    return form(a) == form(b)


def classify(
    hit: bool,
    on_front: bool,
    judged: bool,
    truth_wins: bool | None,
    form_chosen: bool = False,
    fit_error: float | None = None,
    direct: float | None = None,
    truth_delta: float | None = None,
    gap: float | None = None,
) -> str | None:
    """The class of a miss (a key of `CLASSES`), None for a hit. `truth_wins`: whether the
    truth, offered to the choice directly, was chosen (None: not checked); `form_chosen`:
    whether the chosen formula has the truth's form (its constants more than 2% off);
    `fit_error`: the PINN's largest relative L2 error over the components (above
    `FIT_FAILED` the miss is the fit's); `direct`: the direct fit's constant error (above
    `FORM_RTOL` no method recovers the term exactly: "n"); `truth_delta`: the offered
    truth's criterion less the best admitted candidate's (`truth_delta`; within `UNDECIDED`
    the data cannot decide, "u"; beyond, or not admitted, "e"; None: not recorded, "c");
    `gap`: the truth's criterion less the chosen formula's, both refit by maximum likelihood
    (`evidence_gap`; >= 0: the evidence itself prefers the chosen form, "p")."""
    if hit:
        return None
    if fit_error is not None and not fit_error <= FIT_FAILED:
        return "fit"
    if direct is not None and direct > FORM_RTOL:
        return "n"
    if gap is not None and gap >= 0:
        return "p"
    if truth_wins is False:
        if truth_delta is None:
            return "c"
        return "u" if truth_delta <= UNDECIDED else "e"
    if form_chosen:
        return "d"
    return "b" if on_front or judged else "a"


def truth_delta(selection, truth: sp.Expr) -> float | None:
    """The criterion of the truth's form among `selection`'s judged candidates less that of
    the best admitted one (the chosen), inf when the truth's form was not admitted (its
    refit loss over `PHYSICS_FACTOR` x the network's) or was offered but skipped (its
    structure's price alone put it behind the chosen: `_Judge.bound`); None when nothing
    was admitted."""
    import math

    admitted = [
        s.criterion
        for s in selection.scored
        if math.isfinite(s.criterion) and s.physics <= selection.factor * selection.network
    ]
    mine = [s for s in selection.scored if same_form(s.candidate.expr, truth)]
    if not admitted:
        return None
    if not mine:
        return math.inf
    ok = [s.criterion for s in mine if s.physics <= selection.factor * selection.network]
    return min(ok) - min(admitted) if ok else math.inf


def direct_fit(entry: dict, component: int, level: float) -> float | None:
    """How well the data fix the truth's constants, whatever the method: the largest relative
    error of the constants of the true right-hand side fitted to the case's observations by
    maximum likelihood (`trajectory_fit`, started from the true values). None when the truth
    has no constant or the fit fails. Above `FORM_RTOL` no method can recover the term exactly
    from these data."""
    truth = right_hand_sides(entry)[1][component]
    numbers = _free_numbers(truth, exact=True)
    if not numbers:
        return None
    fitted = trajectory_fit(entry, component, level, truth, numbers)
    if fitted is None:
        return None
    true_values = np.array([float(n) for n in numbers])
    return float(np.max(np.abs(fitted[0] - true_values) / np.abs(true_values)))


def _free_numbers(expr: sp.Expr, exact: bool) -> list[sp.Expr]:
    """The numbers of `expr` a fit frees: its floats, those of equal magnitude one constant
    as discovery counts them (`pinnkit.discover.ties`: the truth's 0.21 x_0 x_2 - 0.21 x_1
    has one), and with `exact` its non-integer rationals too (the truth's 1/3 is a constant
    of the system, not of its form)."""
    from pinnkit.discover import ties

    rationals = (
        a for a in sp.preorder_traversal(expr) if exact and a.is_Rational and not a.is_Integer
    )
    return [*ties.constants(expr), *dict.fromkeys(rationals)]


def _with_numbers(expr: sp.Expr, numbers: list[sp.Expr], values) -> sp.Expr:
    """`expr` with each of its free `numbers` (`_free_numbers`) set to the value (a symbol or
    a number) at its place in `values`: a float wherever its magnitude is written, its sign
    kept (`pinnkit.discover.ties.templated`), a rational where it is."""
    from pinnkit.discover import ties

    pairs = list(zip(numbers, values))
    floats = {n: v for n, v in pairs if n.is_Float}
    return ties.templated(expr, floats).xreplace({n: v for n, v in pairs if not n.is_Float})


def trajectory_fit(
    entry: dict, component: int, level: float, formula: sp.Expr, numbers: list[sp.Expr]
) -> tuple[np.ndarray, np.ndarray] | None:
    """`formula` in place of right-hand side `component`, its `numbers` fitted to the case's
    observations by maximum likelihood: the ODE integrated from the known start
    (`solve_ivp`, LSODA, rtol 1e-8) inside `scipy.optimize.least_squares` (started from the
    numbers' values; each component's misfit divided by its RMS, as the noise is; the
    Jacobian's step 1e-5, which the integration resolves; an integration that takes more
    than `STEP_LIMIT` evaluations or leaves `BLOW_UP` times the observations' range fails,
    all as in `pinnkit.discover.trajectory`). The fitted values, each component's mean
    square misfit and each value's Fisher information (the diagonal of J^T J over the
    residuals' variance: `pinnkit.discover.trajectory.fit_precision`); None when the fit
    fails."""
    from scipy.integrate import solve_ivp
    from scipy.optimize import least_squares

    from pinnkit.discover.trajectory import BLOW_UP, STEP_LIMIT, fit_precision

    symbols, rhs = right_hand_sides(entry)
    constants = sp.symbols(f"c:{len(numbers)}")
    template = _with_numbers(formula, numbers, constants)
    f = sp.lambdify([*symbols, *constants], [*rhs[:component], template, *rhs[component + 1 :]])
    sol, T, _ = solve(entry)
    times = np.linspace(0.0, T, OBSERVATIONS)
    observed = observe(sol.sol(times), level)
    rms = np.sqrt(np.mean(observed**2, axis=1, keepdims=True))
    start = np.asarray(entry["init"][0], dtype=float)

    limit = BLOW_UP * max(float(np.max(np.abs(observed))), 1.0)

    def paths(values):
        calls = [0]

        def rate(_t, y):
            calls[0] += 1
            if calls[0] > STEP_LIMIT or not np.all(np.abs(y) < limit):
                raise FloatingPointError  # blown up or stiff: this formula's ODE fails
            return np.asarray(f(*y, *values), dtype=float) * np.ones(len(y))

        try:
            with np.errstate(all="ignore"):
                path = solve_ivp(
                    rate, (0.0, T), start, t_eval=times, method="LSODA", rtol=1e-8, atol=1e-10
                )
        except (FloatingPointError, ZeroDivisionError, OverflowError, ValueError, TypeError):
            return None
        if not path.success or path.y.shape != observed.shape or not np.isfinite(path.y).all():
            return None
        return path.y

    def misfit(values):
        path = paths(values)
        return np.full(observed.size, 1e3) if path is None else ((path - observed) / rms).ravel()

    values = np.array([float(n) for n in numbers])
    information = np.zeros(len(numbers))
    try:
        if len(numbers):
            fit = least_squares(misfit, values, x_scale="jac", diff_step=1e-5, max_nfev=400)
            values, (_, information) = fit.x, fit_precision(fit.jac, fit.fun)
        path = paths(values)
    except (ValueError, FloatingPointError, ZeroDivisionError, TypeError):
        return None
    if path is None:
        return None
    return values, np.mean((path - observed) ** 2, axis=1), information


def _traced_evidence(entry: dict, component: int, level: float, formula: sp.Expr, exact: bool):
    """The evidence criterion (`pinnkit.discover.criteria.evidence`: the deviance, the price
    of the constants, by their precision where that is more, and of the structure) of
    `formula` with its free numbers (`_free_numbers`) fitted by `trajectory_fit`; inf when
    the fit fails."""
    from pinnkit.discover.criteria import evidence

    numbers = _free_numbers(formula, exact)
    fitted = trajectory_fit(entry, component, level, formula, numbers)
    if fitted is None:
        return float("inf")
    values, misfits, information = fitted
    floats = [sp.Float(v) for v in values]
    filled = _with_numbers(formula, numbers, floats)
    deviance = float(OBSERVATIONS * np.sum(np.log(np.maximum(misfits, 1e-300))))
    return evidence(deviance, filled, OBSERVATIONS * entry["dim"], dict(zip(floats, information)))


def evidence_gap(entry: dict, component: int, level: float, chosen: str) -> float | None:
    """The truth's evidence criterion less the chosen formula's, both refit by maximum
    likelihood with the ODE integrated (`trajectory_fit`; no PINN), at the same price of
    constants and structure that discovery charges, each at its best (`_at_best`): every
    number fitted, or its simple numbers (p/q, q <= 5, as discovery's rounding would make
    them) held exact and the rest fitted, whichever scores better. The truth's simple
    numbers are those it is written with; the chosen formula's, its fitted floats within 2%
    of one (39:x_1 at 5%: the chosen -2.397 x_0 is judged as -12 x_0/5 too, as the truth is).
    >= 0: the evidence itself prefers the chosen form (or ties), so no chooser by that
    evidence takes the truth over it. None when the chosen formula cannot be read or the fit
    fails."""
    truth = right_hand_sides(entry)[1][component]
    try:
        formula = sp.sympify(chosen)
    except (sp.SympifyError, SyntaxError, TypeError):
        return None
    mine = _at_best(entry, component, level, formula, exact=False, rtol=FORM_RTOL)
    if not np.isfinite(mine):
        return None
    return float(_at_best(entry, component, level, truth, exact=True, rtol=1e-9) - mine)


def _at_best(
    entry: dict, component: int, level: float, formula: sp.Expr, exact: bool, rtol: float
) -> float:
    """The better evidence criterion (`_traced_evidence`) of `formula` with its free numbers
    (`_free_numbers`, with `exact` its rationals too) fitted, or with those within `rtol` of a
    simple number (`nice_number`, the nearest p/q with q <= 5) held at it and the rest
    fitted."""
    from pinnkit.discover.exact import nice_number

    simple = {}
    for n in _free_numbers(formula, exact):
        value = nice_number(float(n), rtol, closest=True)
        if value is not None:
            simple[n] = value
    options = [_traced_evidence(entry, component, level, formula, exact)]
    if simple:
        rounded = _with_numbers(formula, [*simple], [*simple.values()])
        options.append(_traced_evidence(entry, component, level, rounded, exact=False))
    return min(options)


def data_misfit(run, entry: dict, level: float, sol, end: float) -> float:
    """How well the PINN fit follows the observations, from the observations alone: the
    largest over the components of its RMS misfit in units of the noise (about 1 for a fit
    that follows the data to the noise; far above for a failed fit)."""
    symbols, _ = right_hand_sides(entry)
    times = np.linspace(0.0, end, OBSERVATIONS)
    clean = sol.sol(times)
    observed = observe(clean, level)
    predicted = run.predict(t=times)
    noise = level * np.sqrt(np.mean(clean**2, axis=1))
    return float(
        max(
            np.sqrt(np.mean((np.asarray(predicted[str(s)]) - observed[k]) ** 2)) / noise[k]
            for k, s in enumerate(symbols)
        )
    )


def has_candidates_option() -> bool:
    import pinnkit as pk

    return "candidates" in inspect.signature(pk.discover).parameters


def ode_error(entry: dict, component: int, formula: sp.Expr, reference) -> float | None:
    """Relative L2 error (largest over components) of the ODE with `formula` written in for
    right-hand side `component`, integrated by `solve_ivp` (RK45, rtol 1e-8) on the reference
    grid; None when the integration fails or blows up."""
    from scipy.integrate import solve_ivp

    symbols, rhs = right_hand_sides(entry)
    rhs = list(rhs)
    rhs[component] = formula
    f = sp.lambdify(symbols, rhs, "numpy")
    grid = np.linspace(0.0, reference.t[-1], 201)
    truth = reference.sol(grid)
    start = np.asarray(entry["init"][0], dtype=float)
    calls = [0]

    def rhs_values(_t, y):
        calls[0] += 1
        if calls[0] > 200_000 or not np.all(np.abs(y) < 1e6):
            raise FloatingPointError("diverged")
        return np.asarray(f(*y), dtype=float) * np.ones(len(y))

    try:
        with np.errstate(all="ignore"):
            sol = solve_ivp(rhs_values, (0.0, grid[-1]), start, t_eval=grid, rtol=1e-8, atol=1e-10)
    except (FloatingPointError, ValueError, ZeroDivisionError):
        return None
    if not sol.success or sol.y.shape != truth.shape or not np.all(np.isfinite(sol.y)):
        return None
    errors = np.linalg.norm(sol.y - truth, axis=1) / np.maximum(
        np.linalg.norm(truth, axis=1), 1e-12
    )
    return float(errors.max())


def run_case(entry: dict, component: int, level: float) -> dict:
    """One case; a case whose fit or discovery raises is a row with the error, a miss."""
    start = time.perf_counter()
    try:
        return _run_case(entry, component, level)
    except Exception as error:  # noqa: BLE001 - recorded in the row, the run goes on
        return {
            "id": entry["id"], "component": component, "noise": level, "dim": entry["dim"],
            "name": entry["eq_description"], "truth": str(right_hand_sides(entry)[1][component]),
            "formula": "", "hit": False, "miss_class": "error", "truth_wins": None,
            "error": f"{type(error).__name__}: {error}", "constant_errors": None,
            "rel_l2": {}, "ode_rel_l2": None, "fit_seconds": 0.0, "discover_seconds": 0.0,
            "seconds": time.perf_counter() - start,
        }  # fmt: skip


def _run_case(entry: dict, component: int, level: float) -> dict:
    import torch

    import pinnkit as pk
    from pinnkit.discover import is_same_form
    from pinnkit.discover.base import display
    from pinnkit.discover.refit import CONSTRAINT

    torch.set_num_threads(1)
    case = build(entry, component, level)
    start = time.perf_counter()
    run = pk.fit(case.problem, case.config, out=None)
    fitted = time.perf_counter()
    found = pk.discover(run, seed=SEED)
    done = time.perf_counter()
    term = found.found["f"]
    chosen = term.expr
    truth = case.truth
    hit = bool(is_same_form(chosen, truth, rtol=FORM_RTOL))
    front = [*term.front.candidates, *term.front.near, *term.front.subfront, *term.front.integral]
    on_front = any(same_form(c.expr, truth) for c in front)
    judged = any(same_form(s.candidate.expr, truth) for s in term.selection.scored)
    truth_wins, offered_formula, offered_seconds, delta = None, None, 0.0, None
    if not hit and has_candidates_option():
        begin = time.perf_counter()
        offered = pk.discover(run, seed=SEED, candidates={"f": [truth]})
        offered_seconds = time.perf_counter() - begin
        offered_formula = offered.found["f"].expr
        truth_wins = bool(is_same_form(offered_formula, truth, rtol=FORM_RTOL))
        delta = truth_delta(offered.found["f"].selection, truth)
    fit_error = max(run.rel_l2.values(), default=None)
    direct = direct_fit(entry, component, level)
    gap = None if hit else evidence_gap(entry, component, level, str(chosen))
    miss = classify(
        hit, on_front, judged, truth_wins, same_form(chosen, truth), fit_error, direct, delta, gap
    )
    sol, end, _ = solve(entry)
    return {
        "id": case.id,
        "component": component,
        "noise": level,
        "dim": entry["dim"],
        "name": entry["eq_description"],
        "truth": str(truth),
        "formula": str(display(chosen)),
        "hit": hit,
        "miss_class": miss,
        "on_front": on_front,
        "judged": judged,
        "truth_wins": truth_wins,
        "truth_offered_formula": None if offered_formula is None else str(offered_formula),
        "truth_delta": delta,
        "constant_errors": constant_errors(chosen, truth),
        "direct_constant_error": direct,
        "evidence_gap": gap,
        "backend_best": str(display(term.front.best.expr)),
        "selection": term.selection.describe(),
        "rel_l2": run.rel_l2,
        "data_misfit": data_misfit(run, entry, level, sol, end),
        "ode_rel_l2": ode_error(entry, component, chosen, sol),
        "hidden_scale": case.config.hidden.scale,
        "fourier": [case.config.fourier.features, case.config.fourier.sigma],
        "constraint": CONSTRAINT,
        "reference_check": case.reference_check,
        "fit_seconds": fitted - start,
        "discover_seconds": done - fitted,
        "seconds": done - start,
        "truth_offered_seconds": offered_seconds,
    }


# --- rows and report -------------------------------------------------------------------------


def _key(row) -> tuple:
    return (int(row["id"]), int(row["component"]), float(row["noise"]))


def merge(rows: list[dict], path: Path) -> list[dict]:
    """Merge `rows` into the JSON at `path` under an exclusive lock (cases may run in several
    processes at once) and return all rows."""
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stored = json.loads(path.read_text()) if path.exists() else {}
        old = stored.get("rows", [])
        table = {_key(r): r for r in old}
        table.update({_key(r): r for r in rows})
        merged = sorted(table.values(), key=lambda r: (r["noise"], r["id"], r["component"]))
        meta = {
            "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "torch_threads": 1,
            "python": platform.python_version(),
            "data": "sdascoli/odeformer odeformer/odebench/strogatz_extended.json (MIT)",
        }
        record = {"meta": meta, "rows": merged}
        if "direct" in stored:
            record["direct"] = stored["direct"]
        path.write_text(json.dumps(record, indent=1) + "\n")
        return merged


def store_direct(entries: list[dict], path: Path) -> dict[str, float | None]:
    """`direct_fit` of every case of the benchmark (no PINN: it depends on the data only),
    stored in the JSON at `path` under "direct", keyed "id:component:noise"."""
    direct = {
        f"{i}:{k}:{level}": direct_fit(next(e for e in entries if e["id"] == i), k, level)
        for i, k, level in cells(entries)
    }
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stored = json.loads(path.read_text()) if path.exists() else {"meta": {}, "rows": []}
        stored["direct"] = direct
        path.write_text(json.dumps(stored, indent=1) + "\n")
    return direct


def _rate(n: int, k: int) -> str:
    return f"{k / n:.0%}" if n else "-"


def markdown(rows: list[dict], entries: list[dict], direct: dict | None = None) -> str:
    """The report: summary per noise level, per dimension, every case, the misses with
    their class, and the cases not yet run; with `direct` (`store_direct`), what the data
    fix over the whole benchmark."""
    all_cells = cells(entries)
    done = {_key(r): r for r in rows}
    dims = {e["id"]: e["dim"] for e in entries}
    lines = [
        "# ODEBench: hidden-term discovery against an external ground truth",
        "",
        "Written by `benchmarks/discovery/odebench.py`; see its docstring for the cases, the",
        "config and the scores. ODEBench: d'Ascoli et al., ODEFormer (arXiv 2310.05573), MIT",
        f"licence. {len(selected(entries))} systems of dimension 1-3 that are not chaotic, one",
        f"right-hand side hidden at a time: {len(all_cells) // len(NOISES)} hidden terms per noise",
        "level. Exact: the chosen formula (constants as refit) has the truth's form, every",
        f"constant within {FORM_RTOL:.0%}. Targets: exact recovery >= 70% at 1% noise and",
        f">= 50% at 5%; fit + discover <= {TARGET_SECONDS:.0f} s per case on one core.",
        "",
        "| noise | hidden terms run | exact | rate | target | direct fit within 2% "
        "| exact of those the evidence allows | median s | max s | within time |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for level in NOISES:
        cell = [r for r in rows if float(r["noise"]) == level]
        total = sum(1 for c in all_cells if c[2] == level)
        hits = sum(r["hit"] for r in cell)
        seconds = [r["seconds"] for r in cell]
        median = f"{statistics.median(seconds):.0f}" if seconds else "-"
        worst = f"{max(seconds):.0f}" if seconds else "-"
        within = sum(s <= TARGET_SECONDS for s in seconds)
        allowed = sum(r.get("miss_class") not in ("n", "p") for r in cell)
        lines.append(
            f"| {level:.0%} | {len(cell)} of {total} | {hits} | {_rate(len(cell), hits)} "
            f"| >= {TARGETS[level]:.0%} | {_direct_count(cell)} "
            f"| {hits} of {allowed} ({_rate(allowed, hits)}) | {median} | {worst} "
            f"| {within}/{len(cell)} |"
        )
    lines += [
        "",
        "The rate is over the hidden terms run so far, which are not a random sample of the",
        "benchmark until all have run. Direct fit within 2%: the terms whose true form, fitted",
        "to the same observations by maximum likelihood with the ODE integrated (`direct_fit`),",
        "has every constant within 2% of the truth (a term without constants counts): how many",
        "the data let any method recover exactly. Of those the evidence allows: the terms less",
        "those beyond the data (n) and those where the truth and the chosen formula, both refit",
        "by maximum likelihood with discovery's price of constants and structure, put the",
        "chosen one ahead (p, `evidence_gap`): what a chooser by this evidence could recover.",
        *_direct_summary(direct, entries),
        *(["", RUN_NOTE] if RUN_NOTE else []),
        "",
        "## By dimension",
        "",
        "| dimension | noise | run | exact | rate | " + " | ".join(CLASSES.values()) + " |",
        "|---|---|---|---|---|" + "---|" * len(CLASSES),
    ]
    for dim in (1, 2, 3):
        for level in NOISES:
            cell = [r for r in rows if dims.get(r["id"]) == dim and float(r["noise"]) == level]
            total = sum(1 for c in all_cells if c[2] == level and dims[c[0]] == dim)
            hits = sum(r["hit"] for r in cell)
            counts = [sum(r.get("miss_class") == k for r in cell) for k in CLASSES]
            lines.append(
                f"| {dim} | {level:.0%} | {len(cell)} of {total} | {hits} "
                f"| {_rate(len(cell), hits)} | " + " | ".join(map(str, counts)) + " |"
            )
    lines += [
        "",
        "## Cases",
        "",
        "x_i: the hidden right-hand side. PINN L2: the fit's largest relative L2 error over the",
        "components; ODE L2: that of the discovered ODE integrated (- where it diverged).",
        "Constants: the largest relative error of a constant where the form matches.",
        "",
        "Direct: the same for the true form fitted directly (`direct_fit`; - : no constant).",
        "",
        "| id | x_i | noise | exact | class | chosen formula | truth | constants | direct "
        "| PINN L2 | ODE L2 | fit s | discover s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        errors = r.get("constant_errors")
        constants = f"{max(errors):.1%}" if errors else "-"
        l2 = max((r.get("rel_l2") or {}).values(), default=float("nan"))
        ode = r.get("ode_rel_l2")
        lines.append(
            f"| {r['id']} | x_{r['component']} | {r['noise']:.0%} "
            f"| {'yes' if r['hit'] else 'no'} | {CLASSES.get(r.get('miss_class'), '')} "
            f"| `{r['formula'] or r.get('error', '')}` | `{r['truth']}` | {constants} "
            f"| {_direct_text(r)} | {l2:.1e} "
            f"| {'-' if ode is None else f'{ode:.1e}'} | {r['fit_seconds']:.0f} "
            f"| {r['discover_seconds']:.0f} |"
        )
    misses = [r for r in rows if not r["hit"]]
    lines += ["", "## Misses", ""]
    if not misses:
        lines.append("None so far.")
    for key, label in CLASSES.items():
        these = [r for r in misses if r.get("miss_class") == key]
        if these:
            lines.append(
                f"- {label} ({len(these)}): "
                + ", ".join(f"{r['id']}:x_{r['component']} at {r['noise']:.0%}" for r in these)
            )
    beyond = [
        r for r in misses
        if (r.get("direct_constant_error") or 0) > FORM_RTOL and "direct_constant_error" in r
    ]  # fmt: skip
    if beyond:
        lines.append(
            f"- of the misses, {len(beyond)} are beyond the data: the direct fit of the true "
            f"form also misses a constant by more than {FORM_RTOL:.0%} ("
            + ", ".join(f"{r['id']}:x_{r['component']} at {r['noise']:.0%}" for r in beyond)
            + ")"
        )
    unchecked = [r for r in misses if r.get("truth_wins") is None]
    if unchecked:
        lines.append(
            f"- of these, {len(unchecked)} were not offered the truth directly (pinnkit had no "
            "`discover(..., candidates=)` when they ran), so class (c) was not checked for them."
        )
    lines += ["", "## Not yet run", ""]
    for level in NOISES:
        missing = [c for c in all_cells if c[2] == level and c not in done]
        text = ", ".join(f"{i}:x_{k}" for i, k, _ in missing) if missing else "none"
        lines.append(f"- {level:.0%} ({len(missing)}): {text}")
    return "\n".join(lines) + "\n"


def _direct_summary(direct: dict | None, entries: list[dict]) -> list[str]:
    """One line on what the data fix over every case of the benchmark (`store_direct`)."""
    if not direct:
        return []
    parts = []
    for level in NOISES:
        values = [direct.get(f"{i}:{k}:{v}") for i, k, v in cells(entries, [level])]
        within = sum(e is None or e <= FORM_RTOL for e in values)
        parts.append(f"{within} of {len(values)} ({within / len(values):.0%}) at {level:.0%}")
    return [
        "Over the whole benchmark (every hidden term, `--direct`), the direct fit recovers "
        + " and ".join(parts)
        + " noise: the ceiling of exact recovery from these observations.",
    ]


def _direct_count(rows: list[dict]) -> str:
    """How many of `rows` the direct fit recovers within `FORM_RTOL` (of those checked)."""
    checked = [r for r in rows if "direct_constant_error" in r]
    if not checked:
        return "-"
    within = sum((r["direct_constant_error"] or 0) <= FORM_RTOL for r in checked)
    return f"{within} of {len(checked)}"


def _direct_text(row: dict) -> str:
    if "direct_constant_error" not in row:
        return "?"
    error = row["direct_constant_error"]
    return "-" if error is None else f"{error:.1%}"


def backfill_direct(rows: list[dict], entries: list[dict]) -> bool:
    """Add `direct_constant_error` to rows run before it was recorded (it depends on the
    data only, not on the fit); whether any row changed."""
    by_id = {e["id"]: e for e in entries}
    changed = False
    for row in rows:
        if "direct_constant_error" not in row:
            row["direct_constant_error"] = direct_fit(
                by_id[row["id"]], int(row["component"]), float(row["noise"])
            )
            changed = True
    return changed


def backfill_gap(rows: list[dict], entries: list[dict]) -> bool:
    """Add `evidence_gap` to the misses run before it was recorded (it needs the recorded
    formula and the data only) and classify every miss again (`classify`, from what its row
    records); whether any row changed."""
    by_id = {e["id"]: e for e in entries}
    changed = False
    for row in rows:
        if row["hit"] or not row["formula"]:
            continue
        if "evidence_gap" not in row:
            entry = by_id[row["id"]]
            row["evidence_gap"] = evidence_gap(
                entry, int(row["component"]), float(row["noise"]), row["formula"]
            )
            changed = True
        formula, truth = sp.sympify(row["formula"]), sp.sympify(row["truth"])
        miss = classify(
            False, bool(row.get("on_front")), bool(row.get("judged")), row.get("truth_wins"),
            same_form(formula, truth), max((row.get("rel_l2") or {}).values(), default=None),
            row.get("direct_constant_error"), row.get("truth_delta"), row["evidence_gap"],
        )  # fmt: skip
        if miss != row["miss_class"] and row["miss_class"] != "error":
            row["miss_class"] = miss
            changed = True
    return changed


def rescore(rows: list[dict]) -> bool:
    """Score the misses again with today's `is_same_form` (the formula as recorded, its
    constants to 4 digits), so a fix of the scoring reaches rows run before it: a miss whose
    formula now has the truth's form with every constant within 2% becomes a hit, marked
    `rescored`. Hits are never taken back. Whether any row changed."""
    from pinnkit.discover import is_same_form

    changed = False
    for row in rows:
        if row["hit"] or not row["formula"]:
            continue
        formula, truth = sp.sympify(row["formula"]), sp.sympify(row["truth"])
        if is_same_form(formula, truth, rtol=FORM_RTOL):
            row.update(hit=True, miss_class=None, rescored=True)
            changed = True
    return changed


def write_report(rows: list[dict], entries: list[dict], path: Path | None = None) -> None:
    """The Markdown beside the JSON at `path` (default `odebench.json` here)."""
    path = HERE / "odebench.json" if path is None else path
    direct = json.loads(path.read_text()).get("direct") if path.exists() else None
    path.with_suffix(".md").write_text(markdown(rows, entries, direct))


def _one(entries: list[dict], cell: tuple[int, int, float], path: Path) -> None:
    entry = next(e for e in entries if e["id"] == cell[0])
    row = run_case(entry, cell[1], cell[2])
    rows = merge([row], path)
    write_report(rows, entries, path)
    print(
        f"{row['id']}:x_{row['component']} noise={row['noise']:.0%}: "
        f"{'exact' if row['hit'] else 'miss ' + CLASSES[row['miss_class']]} "
        f"{row.get('error', '')}"
        f"{row['formula']} ({row['seconds']:.0f} s)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", default=None, help="comma-separated ODEBench ids (default all)")
    parser.add_argument("--noise", default=",".join(map(str, NOISES)))
    parser.add_argument("--jobs", type=int, default=1, help="cases run at once, one core each")
    parser.add_argument("--force", action="store_true", help="rerun cases already in the JSON")
    parser.add_argument("--report", action="store_true", help="only rewrite the Markdown")
    parser.add_argument(
        "--direct",
        action="store_true",
        help="only fit every case's true form directly (no PINN; ~5 min) and rewrite the Markdown",
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--case", default=None, help=argparse.SUPPRESS)  # id,component,noise
    parser.add_argument("--out", type=Path, default=HERE / "odebench.json")
    args = parser.parse_args()
    entries = load(args.data)
    path = args.out
    rows = json.loads(path.read_text())["rows"] if path.exists() else []
    if args.direct:
        store_direct(entries, path)
        write_report(rows, entries, path)
        return
    if args.report:
        if backfill_direct(rows, entries) | rescore(rows) | backfill_gap(rows, entries):
            merge(rows, path)
        write_report(rows, entries, path)
        return
    if args.case:
        i, k, level = args.case.split(",")
        _one(entries, (int(i), int(k), float(level)), path)
        return
    noises = [float(v) for v in args.noise.split(",")]
    todo = cells(entries, noises)
    if args.ids:
        ids = {int(i) for i in args.ids.split(",")}
        unknown = ids - {e["id"] for e in selected(entries)}
        if unknown:
            raise SystemExit(
                f"ids {sorted(unknown)} are not in the benchmark (dim 1-3, not chaotic)"
            )
        todo = [c for c in todo if c[0] in ids]
    done = {_key(r) for r in rows}
    todo = [c for c in todo if args.force or c not in done]
    print(f"{len(todo)} case(s) to run, {args.jobs} at a time", flush=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    running: list[subprocess.Popen] = []
    for cell in todo:
        while len(running) >= args.jobs:
            running = [p for p in running if p.poll() is None]
            time.sleep(0.5)
        command = [sys.executable, __file__, "--case", ",".join(map(str, cell))]
        command += ["--data", str(args.data), "--out", str(path)]
        running.append(subprocess.Popen(command, env=env))
    for p in running:
        p.wait()
    rows = json.loads(path.read_text())["rows"] if path.exists() else []
    write_report(rows, entries, path)


if __name__ == "__main__":
    main()
