"""`pinnkit.discover.export`: JSON, CSV, HTML and a problem file that loads and compiles."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import sympy as sp
import torch

import pinnkit as pk
from pinnkit.compile import compile_problem
from pinnkit.discover import Formula, is_same_form, substitute
from pinnkit.discover.export import reference_arrays, reference_code
from pinnkit.discover.losses import physics_batches
from pinnkit.problem.file import load_problem_file
from tests.discover.planted import SOLUTION, U, t
from tests.helpers import SympyModel


def test_save_writes_json_csv_and_a_problem_file_that_loads_and_compiles(found, tmp_path):
    paths = found.save(tmp_path / "discovered")
    assert {"discovered.json", "pareto_f.csv", "problem.py", "data_data.csv"} <= set(paths)
    record = json.loads(paths["discovered.json"].read_text())
    term = record["terms"]["f"]
    assert sp.sympify(term["expression"]) == found.sympy()[pk.Hidden("f")] or is_same_form(
        sp.sympify(term["expression"]), U * (1 - U), rtol=1e-6
    )
    assert sp.simplify(eval(term["srepr"], vars(sp)) - found.found["f"].expr) == 0
    assert "trained run's loss" in record["rule"] and term["pareto"]
    assert sum(row["chosen"] for row in term["pareto"]) == 1
    lines = paths["pareto_f.csv"].read_text().splitlines()
    assert lines[0].startswith("term,complexity,loss")
    assert len(lines) == 1 + len(term["pareto"])
    problem, config, _ = load_problem_file(paths["problem.py"])
    assert problem.hidden == () and config is not None
    assert sorted(p.name for p in problem.parameters) == sorted(
        p.name for p in found.problem().parameters
    )
    assert problem.data[0].n == 40
    compiled = compile_problem(problem, dtype=torch.float64)
    model = SympyModel.of(problem, {"u": SOLUTION})
    batches = physics_batches(
        pk.Run(
            problem=problem,
            config=config,
            model=model,
            compiled=compiled,
            summary={},
            directory=None,
        ),
        samples=200,
        seed=0,
    )
    residual = compiled.residuals(model, batches)["reaction"]
    assert float(residual.detach().abs().max()) < 1e-6  # the written-in formula solves the PDE


def test_html_highlights_the_chosen_formula(found):
    text = found._repr_html_()
    assert "<table>" in text and "background" in text and "chosen" in text
    assert "Choice rule" in text
    assert "f(u) = " in str(found)


def test_problem_file_of_an_ode_with_a_hidden_term_left(tmp_path):
    """One coordinate (`t = sp.Symbol("t")`), two fields, one term substituted and one
    Hidden term kept as a Hidden term."""
    from pinnkit.discover.export import problem_source

    p, q = pk.Hidden("p"), pk.Hidden("q")
    u1, v1 = sp.Function("u")(t), sp.Function("v")(t)
    problem = pk.Problem(
        name="lv",
        domain=pk.TimeInterval(t, 0, 3),
        fields=[u1, v1],
        equations={
            "prey": sp.Eq(u1.diff(t), sp.Rational(13, 10) * u1 + p(u1, v1)),
            "predator": sp.Eq(v1.diff(t), -sp.Rational(9, 5) * v1 + q(u1, v1)),
        },
        conditions=[pk.Initial(u1, sp.Rational(11, 25)), pk.Initial(v1, 4.6)],
    )
    a, b = sp.symbols("u v")
    new = substitute(problem, {"p": Formula((a, b), sp.Float(-0.9) * a * b)})
    (tmp_path / "problem.py").write_text(problem_source(new, doc="lv", config=False))
    loaded, config, _ = load_problem_file(tmp_path / "problem.py")
    assert config is None and [h.name for h in loaded.hidden] == ["q"]
    assert loaded.equations[0].residual == new.equations[0].residual
    assert loaded.conditions[0].expr == u1 - sp.Rational(11, 25)  # exact, not 0.44
    compile_problem(loaded)


def test_generated_problem_files_escape_what_they_quote(tmp_path):
    """A run directory's path, a problem's name or a data set's name written into the
    generated file stays text: quotes and backslashes escaped, data file names kept in
    the folder, names that are not identifiers refused."""
    import ast

    from pinnkit.discover.export import problem_source

    u1 = sp.Function("u")(t)
    evil = 'runs/"""; import os; os.system("echo owned") #\\'
    data = pk.Data({t: [0.5, 1.0]}, {u1: [1.0, 2.0]}, name="../../x")
    problem = pk.Problem(
        name=evil,
        domain=pk.TimeInterval(t, 0, 1),
        fields=[u1],
        equations=[sp.Eq(u1.diff(t), -u1)],
        conditions=[pk.Initial(u1, 1)],
        data=data,
    )
    source = problem_source(problem, doc=f"of run {evil}", config=False)
    tree = ast.parse(source)
    assert ast.get_docstring(tree) == f"of run {evil}"
    assert "HERE / 'data_______x.csv'" in source  # the file stays in the folder
    calls = [n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Attribute)]  # fmt: skip
    assert "system" not in calls
    weird = pk.Problem(
        domain=pk.TimeInterval(sp.Symbol("t;x"), 0, 1),
        fields=[sp.Function("u")(sp.Symbol("t;x"))],
        equations=[sp.Eq(sp.Function("u")(sp.Symbol("t;x")).diff(sp.Symbol("t;x")), 0)],
    )
    with pytest.raises(pk.DiscoveryError, match="'t;x' is not a Python identifier"):
        problem_source(weird, doc="", config=False)


@pytest.mark.parametrize("kind", ["Exact", "Grid", "Points"])
def test_the_exported_problem_carries_a_reference_that_is_data(found, tmp_path, kind):
    x = sp.Symbol("x")
    u = sp.Function("u")(x, t)
    exact = sp.lambdify((x, t), SOLUTION, "numpy")
    xs, ts = np.linspace(0, 1, 11), np.linspace(0, 1, 6)
    rng = np.random.default_rng(0)
    px, pt = rng.uniform(0, 1, 60), rng.uniform(0, 1, 60)
    reference = {
        "Exact": lambda: pk.reference.Exact({u: SOLUTION}),
        "Grid": lambda: pk.reference.Grid(
            {"x": xs, "t": ts}, {"u": exact(*np.meshgrid(xs, ts, indexing="ij"))}
        ),
        "Points": lambda: pk.reference.Points({"x": px, "t": pt}, {"u": exact(px, pt)}),
    }[kind]()
    paths = _with_reference(found, reference).save(tmp_path / "discovered")
    assert ("reference.npz" in paths) == (kind != "Exact")
    problem, _, _ = load_problem_file(paths["problem.py"])
    assert type(problem.reference).__name__ == kind
    probe = {"x": np.array([0.25, 0.5, 0.7]), "t": np.array([0.3, 0.5, 0.6])}
    np.testing.assert_allclose(
        problem.reference.evaluate(probe)["u"], reference.evaluate(probe)["u"], rtol=1e-12
    )


def test_a_reference_that_is_code_is_named_as_not_carried_over(found, tmp_path):
    class Solver(pk.reference.AbstractReference):
        fields, coords = ("u",), ("x", "t")

        def evaluate(self, coords):
            return {"u": np.zeros(np.broadcast(*coords.values()).shape)}

    paths = _with_reference(found, Solver()).save(tmp_path / "discovered")
    text = paths["problem.py"].read_text()
    assert "The original reference (Solver) is not carried over: it is code" in text
    assert (
        "reference.npz" not in paths and load_problem_file(paths["problem.py"])[0].reference is None
    )


def _with_reference(found, reference):
    """`found` (a Discovery) as if discovered on its problem with `reference`."""
    original = found.original
    out = copy.copy(found)
    out.original = pk.Problem(
        name=original.name,
        domain=original.domain,
        fields=original.fields,
        equations={e.name: e.source for e in original.equations},
        conditions=original.conditions,
        data=original.data,
        reference=reference,
    )
    return out


def test_an_exact_solution_with_sums_over_a_vector_coordinate_is_not_written_out():
    # Its `pk.Coefficients` hold arrays the generated file would not have.
    from problems.semilinear_heat_ball import make

    reference = make(dim=5).reference
    assert reference_code(reference) is None
    assert reference_arrays(reference) == {}
