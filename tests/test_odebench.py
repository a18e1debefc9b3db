"""The ODEBench discovery benchmark's pure parts (benchmarks/discovery/odebench.py): which
systems it takes, the problem it builds from an entry, the scoring and the classes of misses,
and the report. No training.

Skipped when the ODEBench data (`../shared/data/odebench/strogatz_extended.json` beside the
repository) is not there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from tests.helpers import load_script

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "discovery" / "odebench.py"


@pytest.fixture(scope="module")
def bench():
    module = load_script(PATH, "odebench")
    if not module.DATA.exists():
        pytest.skip(f"ODEBench data not found at {module.DATA}")
    return module


@pytest.fixture(scope="module")
def entries(bench):
    return bench.load()


def _entry(entries, id_):
    return next(e for e in entries if e["id"] == id_)


def test_selection_leaves_out_the_chaotic_and_four_dimensional_systems(bench, entries):
    assert {e["id"] for e in entries if bench.is_chaotic(e)} == {56, 59, 60, 61}
    chosen = {e["id"] for e in bench.selected(entries)}
    assert len(chosen) == 57 and not chosen & {56, 59, 60, 61, 62, 63}
    assert len(bench.cells(entries)) == 2 * 97


def test_build_hides_one_right_hand_side_and_observes_every_component(bench, entries):
    entry = _entry(entries, 26)  # Lotka-Volterra competition, two components
    case = bench.build(entry, 1, 0.05)
    x0, x1 = case.symbols
    assert case.truth == sp.sympify(entry["substituted"][0][1], locals={"x_0": x0, "x_1": x1})
    problem = case.problem
    assert [h.name for h in problem.hidden] == ["f"]
    equations = {e.name: e for e in problem.equations}
    assert "f" not in str(equations["eq_0"].residual) and "f(" in str(equations["eq_1"].residual)
    (data,) = problem.data
    assert len(data.coords["t"]) == bench.OBSERVATIONS
    assert case.reference_check < 1e-3  # the re-solved reference matches the shipped one
    assert case.config.hidden.scale > 0 and case.config.seed == 0
    # Every component of a system sees the same noisy observations.
    other = bench.build(entry, 0, 0.05).problem.data[0]
    for name in ("x_0", "x_1"):
        np.testing.assert_array_equal(data.values[name], other.values[name])


def test_noise_is_seeded_and_scaled_to_each_components_rms(bench):
    clean = np.vstack([np.ones(2000), 100 * np.ones(2000)])
    first, second = bench.observe(clean, 0.05), bench.observe(clean, 0.05)
    np.testing.assert_array_equal(first, second)
    spread = (first - clean).std(axis=1)
    np.testing.assert_allclose(spread, [0.05, 5.0], rtol=0.1)
    times = np.linspace(0, 10, 50)
    assert bench.derivative_scale(times, 3 * times) == pytest.approx(3.0)


def test_constant_errors_pair_terms_by_form(bench):
    x = sp.Symbol("x_0")
    truth = sp.Float(0.303030303030303) - sp.Float(0.360750360750361) * x
    errors = bench.constant_errors(sp.Float(0.3242) - sp.Float(0.3653) * x, truth)
    assert errors == pytest.approx([0.0699, 0.0126], abs=1e-3)
    assert bench.constant_errors(-sp.Float(0.35) * x, truth) is None
    inner = bench.constant_errors(2.1 * sp.sin(3.06 * x), 2 * sp.sin(3 * x))
    assert inner == pytest.approx([0.05, 0.02])


def test_classify(bench):
    assert bench.classify(True, True, True, None) is None
    assert bench.classify(False, False, False, None) == "a"
    assert bench.classify(False, True, False, None) == "b"
    assert bench.classify(False, False, True, True) == "b"
    assert bench.classify(False, True, True, False) == "c"
    assert bench.classify(False, True, True, None, form_chosen=True) == "d"
    assert bench.classify(False, True, True, False, form_chosen=True) == "c"
    assert bench.classify(False, True, True, False, fit_error=0.5) == "fit"
    assert bench.classify(False, True, True, False, fit_error=0.05) == "c"
    assert bench.classify(True, True, True, None, fit_error=0.5) is None
    # the direct fit of the true form misses a constant: beyond the data
    assert bench.classify(False, True, True, False, direct=0.03) == "n"
    assert bench.classify(False, True, True, False, direct=0.01, truth_delta=2.0) == "u"
    assert bench.classify(False, True, True, False, truth_delta=bench.UNDECIDED + 0.1) == "e"
    assert bench.classify(False, True, True, False, truth_delta=float("inf")) == "e"
    # the maximum-likelihood refits prefer the chosen form (gap >= 0): the evidence's pick
    assert bench.classify(False, True, True, False, truth_delta=9.0, gap=0.0) == "p"
    assert bench.classify(False, True, True, False, truth_delta=9.0, gap=-0.5) == "e"
    assert bench.classify(False, True, True, False, direct=0.03, gap=4.0) == "n"
    assert bench.classify(False, True, True, False, fit_error=0.5, gap=4.0) == "fit"


def test_evidence_gap_refits_truth_and_chosen_by_maximum_likelihood(bench, entries):
    # ODEBench 46 (coupled pendula), x_0 hidden, 1% noise: the recorded pick
    # -0.6398 x_0 - x_1^2/2 - x_1/3 beats the truth -sin(x_0) + 0.33 sin(x_0 - x_1) by 8.6 on
    # the maximum-likelihood refits of both (these 50 observations favour the other form
    # whatever the method). The pick before constants were priced by their precision,
    # -x_1/2 - 0.8772 + 0.8788 exp(-x_0), had beaten it by 12.3 at ln N a constant; its two
    # cancelling constants, each fixed far more finely than its size, now put it 4.5 behind.
    # On id 24 the truth itself offered as the chosen formula ties with itself; a constant
    # term alone is far behind.
    entry = _entry(entries, 46)
    gap = bench.evidence_gap(entry, 0, 0.01, "-0.6398*x_0 - x_1**2/2 - x_1/3")
    assert gap == pytest.approx(8.6, abs=0.5)
    gap = bench.evidence_gap(entry, 0, 0.01, "-x_1/2 - 0.8772 + 0.8788*exp(-x_0)")
    assert gap == pytest.approx(-4.5, abs=0.5)
    linear = _entry(entries, 24)
    assert bench.evidence_gap(linear, 1, 0.01, "-2.1*x_0") == pytest.approx(0.0, abs=1e-6)
    assert bench.evidence_gap(linear, 1, 0.01, "-0.5") < -100
    assert bench.evidence_gap(linear, 1, 0.01, "not a formula (") is None
    # Floats of equal magnitude are one constant, in the truth (52's x_1' = 0.21 (x_0 x_2 -
    # x_1)) and in the chosen formula: tied, the truth's form ties with it; untied it pays
    # for a second constant and falls behind (measured 11.1).
    lorenz = _entry(entries, 52)
    assert bench.evidence_gap(lorenz, 1, 0.05, "0.2121*x_0*x_2 - 0.2121*x_1") == pytest.approx(
        0.0, abs=0.05
    )
    assert bench.evidence_gap(lorenz, 1, 0.05, "0.2121*x_0*x_2 - 0.2122*x_1") < -4
    # Both at their best: the truth's 12/5 is held exact, and so is the chosen formula's
    # 2.397, within 2% of it. On the glycolytic oscillator (id 39), x_1 hidden, 5% noise, the
    # recorded pick is then 3.7 ahead of the truth (with its 2.397 fitted only, 2.3 behind).
    glycolysis = _entry(entries, 39)
    gap = bench.evidence_gap(glycolysis, 1, 0.05, "-x_0*x_1/2 - 2.397*x_0 + 0.07203")
    assert gap == pytest.approx(3.7, abs=0.5)


def test_report_counts_rows_and_lists_cases_not_run(bench, entries):
    row = {
        "id": 1, "component": 0, "noise": 0.01, "hit": False, "miss_class": "d",
        "truth_wins": None, "formula": "0.3242 - 0.3653*x_0", "truth": "0.303 - 0.361*x_0",
        "constant_errors": [0.07, 0.013], "rel_l2": {"x_0": 5e-3}, "ode_rel_l2": None,
        "fit_seconds": 21.0, "discover_seconds": 6.0, "seconds": 27.0,
    }  # fmt: skip
    text = bench.markdown([row, {**row, "id": 2, "hit": True, "miss_class": None}], entries)
    assert "| 1% | 2 of 97 | 1 | 50% | >= 70% | - | 1 of 2 (50%) | 27 | 27 | 2/2 |" in text
    assert "| 5% | 0 of 97 | 0 | - |" in text
    assert "form chosen, constants off (1): 1:x_0 at 1%" in text
    assert "- 1% (95): 3:x_0" in text and "- 5% (97): 1:x_0" in text


def test_report_counts_what_the_direct_fit_recovers(bench, entries):
    row = {
        "id": 1, "component": 0, "noise": 0.01, "hit": False, "miss_class": "c",
        "truth_wins": False, "formula": "1/3 - 0.3674*x_0", "truth": "0.303 - 0.361*x_0",
        "constant_errors": [0.1, 0.02], "rel_l2": {"x_0": 5e-3}, "ode_rel_l2": None,
        "fit_seconds": 21.0, "discover_seconds": 6.0, "seconds": 27.0,
        "direct_constant_error": 0.064,
    }  # fmt: skip
    other = {**row, "id": 2, "hit": True, "miss_class": None, "direct_constant_error": None}
    text = bench.markdown([row, other], entries)
    assert "| 1% | 2 of 97 | 1 | 50% | >= 70% | 1 of 2 | 1 of 2 (50%) | 27 |" in text
    # a miss the evidence prefers (p) leaves the terms it allows
    evidence = {**row, "miss_class": "p"}
    assert "| 1 of 1 (100%) |" in bench.markdown([evidence, other], entries)
    assert "| 6.4% |" in text
    assert "1 are beyond the data" in text and "(1:x_0 at 1%)" in text


def test_direct_fit_measures_what_the_data_fix(bench, entries):
    # ODEBench 6, x' = 2.1 x - 0.5 x^2 from 0.13: at 1% noise the maximum-likelihood fit of
    # the true form has its constants within 1% (measured 0.98%); id 1, a linear relaxation
    # seen near its equilibrium, leaves its intercept 6.4% off: no method can recover it
    # exactly from these data.
    assert bench.direct_fit(_entry(entries, 6), 0, 0.01) == pytest.approx(0.0098, abs=5e-4)
    assert bench.direct_fit(_entry(entries, 1), 0, 0.01) == pytest.approx(0.064, abs=2e-3)
    assert bench.direct_fit(_entry(entries, 24), 0, 0.01) is None  # x_1: no constant
    # ODEBench 52's x_0' = 0.1 (x_1 - x_0), written -0.1 x_0 + 0.1 x_1: one constant, as
    # discovery counts floats of equal magnitude; fitted as two, they were 18% off at 5%.
    assert bench.direct_fit(_entry(entries, 52), 0, 0.05) == pytest.approx(0.013, abs=1e-3)


def test_report_states_the_ceiling_over_the_whole_benchmark(bench, entries):
    direct = {f"{i}:{k}:{v}": None for i, k, v in bench.cells(entries)}
    direct["1:0:0.01"] = 0.064  # beyond the data
    text = bench.markdown([], entries, direct)
    assert "the direct fit recovers 96 of 97 (99%) at 1% and 97 of 97 (100%) at 5%" in text


def test_truth_delta_is_the_truths_criterion_behind_the_best_admitted(bench):
    from types import SimpleNamespace as NS

    x = sp.Symbol("x_0")

    def scored(expr, criterion, physics=1.0):
        return NS(candidate=NS(expr=expr), criterion=criterion, physics=physics)

    truth = 0.79 * x - 0.0106 * x**2
    selection = NS(
        factor=2.0,
        network=1.0,
        scored=[
            scored(15.2 * sp.sin(0.0418 * x), -300.0),
            scored(0.8 * x - 0.01 * x**2, -296.5),
            scored(x, -400.0, physics=5.0),  # not admitted: does not count as the best
        ],
    )
    assert bench.truth_delta(selection, truth) == pytest.approx(3.5)
    selection.scored[1].physics = 3.0  # the truth not admitted
    assert bench.truth_delta(selection, truth) == float("inf")
    # offered but skipped by the bound: its structure alone puts it behind
    assert bench.truth_delta(selection, x**3) == float("inf")
    selection.scored = [scored(x, -400.0, physics=5.0)]
    assert bench.truth_delta(selection, truth) is None  # nothing admitted


def test_data_misfit_is_the_fits_misfit_in_noise_units(bench, entries):
    from types import SimpleNamespace as NS

    entry = _entry(entries, 26)
    sol, end, _ = bench.solve(entry)

    def run_of(shift):  # a fit that is the true solution, plus `shift` in x_1
        def predict(t):
            values = sol.sol(t)
            return {"x_0": values[0], "x_1": values[1] + shift}

        return NS(predict=predict)

    exact = bench.data_misfit(run_of(0.0), entry, 0.01, sol, end)
    assert 0.7 < exact < 1.3  # the noise itself: 50 draws
    # off by 10 noise units of x_1 throughout: the misfit says so
    noise = 0.01 * np.sqrt(np.mean(sol.sol(np.linspace(0, end, 50))[1] ** 2))
    assert bench.data_misfit(run_of(10 * noise), entry, 0.01, sol, end) == pytest.approx(
        10, rel=0.1
    )
