"""Exports of a `Discovery`: `discovered.json`, `pareto_<name>.csv`, a runnable `problem.py`
with the formulas written in, and the HTML table Jupyter shows.

The problem file is generated from the substituted `Problem` itself (not from the original
file's text), so runs started from a notebook export too: coordinates, fields, Parameters
(the formulas' constants among them) and normals are declared, then the equations and
conditions are printed by SymPy's `sstr` (exact rationals kept as `S(1)/10`), the data sets
are written as CSV files beside it, and `config.json` beside it holds the run's config.
The original problem's reference comes along where it is data: a `Grid` or `Points`
reference's arrays are written to `reference.npz` beside the file, an `Exact` one is printed
as SymPy; a reference that is code (a solver called in the original file) or an exact
solution with sums over a vector coordinate is not carried over, and the file's docstring
says so.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import sympy as sp
from sympy.printing.str import StrPrinter

from pinnkit.discover.base import display
from pinnkit.errors import DiscoveryError
from pinnkit.problem import Normal, Parameter, Problem, is_hidden
from pinnkit.reference import Exact, Grid, Points

__all__ = ["discovery_json", "save_discovery", "discovery_html", "problem_source"]

#: The file beside an exported problem that holds a `Grid` or `Points` reference's arrays.
REFERENCE_FILE = "reference.npz"

CSV_COLUMNS = (
    "term",
    "complexity",
    "loss",
    "score",
    "physics_loss",
    "criterion_difference",
    "shortlisted",
    "pruned",
    "backend_best",
    "chosen",
    "expression",
    "refit_expression",
    "sympy",
    "latex",
)


def discovery_json(found) -> dict:
    """The content of `discovered.json` (see `Discovery.to_json`)."""
    terms = {}
    for name, f in found.found.items():
        expr, selection = f.expr, f.selection
        terms[name] = {
            "inputs": [
                {"symbol": str(s), "argument": sp.sstr(a), "range": list(f.samples.bounds[s])}
                for s, a in zip(f.samples.symbols, f.samples.args)
            ],
            "expression": sp.sstr(expr),
            "expression_rounded": str(display(expr)),
            "srepr": sp.srepr(expr),
            "expression_fitted": sp.sstr(f.fitted),
            "expression_backend": sp.sstr(selection.chosen.expr),
            "latex": sp.latex(sp.Eq(f.hidden(*f.samples.symbols), display(expr))),
            "complexity": selection.chosen.complexity,
            "loss": selection.chosen.loss,
            "loss_network": selection.network,
            "refit_iterations": selection.refit,
            "passed": selection.passed,
            "criterion": _finite(selection.best.criterion),
            "misfit_growth": selection.best.excess,
            "weight": selection.weights[0],
            # null: the data did not bound the constant within 2% (`Selection.errors`).
            "standard_errors": {k: _finite(v) for k, v in selection.errors.items()},
            "expression_snapped": sp.sstr(selection.snapped()),
            "alternatives": [
                {
                    "expression": sp.sstr(a.expr),
                    "loss_ratio": a.physics / selection.network,
                    "misfit_growth": a.excess,
                    "criterion_difference": _finite(selection.delta(a)),
                    "weight": w,
                }
                for a, w in zip(selection.alternatives, selection.weights[1:])
            ],
            "samples": {"kept": f.samples.size, "drawn": f.samples.drawn},
            "backend_seconds": f.front.seconds,
            "pareto": f.rows(),
        }
    return {
        "backend": found.backend,
        "seed": found.seed,
        "run": None if found.run_directory is None else str(found.run_directory),
        "rule": terms and next(iter(found.found.values())).selection.rule,
        "physics_factor": next(iter(found.found.values())).selection.factor,
        "parameters": found.parameters,
        "terms": terms,
    }


def _finite(value: float) -> float | None:
    """`value`, or None (JSON null) when it is not finite."""
    return value if math.isfinite(value) else None


def pareto_csv(rows: list[dict]) -> str:
    """The rows of one term's front as CSV text (columns `CSV_COLUMNS`)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in CSV_COLUMNS})
    return buffer.getvalue()


def save_discovery(found, directory: Path) -> dict[str, Path]:
    """Write the exports into `directory` (atomically, file by file); name -> path."""
    from pinnkit.runs import atomic_write

    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}

    def write(name: str, text: str | bytes) -> None:
        atomic_write(directory / name, text)
        paths[name] = directory / name

    write("discovered.json", json.dumps(found.to_json(), indent=2, default=float) + "\n")
    for name, f in found.found.items():
        write(f"pareto_{name}.csv", pareto_csv(f.rows()))
    problem = found.problem(parameters=True)
    for data in problem.data:
        write(_data_file(data.name), _data_csv(problem, data))
    if found.config is not None:
        config = found.config.replace(
            hidden_terms={
                k: v for k, v in found.config.hidden_terms.items() if k not in found.found
            }
        )
        write("config.json", json.dumps(config.to_dict(), indent=2) + "\n")
    arrays = reference_arrays(problem.reference)
    if arrays:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        write(REFERENCE_FILE, buffer.getvalue())
    header = "\n".join(
        f"    {sp.sstr(f.hidden(*f.samples.symbols))} = {display(f.expr)}"
        for f in found.found.values()
    )
    origin = f" of run {found.run_directory}" if found.run_directory else ""
    write(
        "problem.py",
        problem_source(
            problem,
            doc=f"{problem.name} with the discovered term(s) written in (pinnkit discover, "
            f"backend {found.backend}{origin}):\n\n{header}\n\nConstants are Parameters "
            "initialised at the discovered values (the problem's own at their values refit "
            "with the formulas), so `pinnkit fit` on this file refits them."
            + _reference_note(problem.reference),
            config=found.config is not None,
            starts=found.parameters,
        ),
    )
    return paths


def _data_csv(problem: Problem, data) -> str:
    names = [c.name for c in problem.coords] + list(data.values)
    columns = [data.coords[n] for n in names[: len(problem.coords)]]
    columns += [data.values[n] for n in data.values]
    lines = [",".join(names)]
    lines += [",".join(repr(float(v)) for v in row) for row in zip(*columns)]
    return "\n".join(lines) + "\n"


_DOMAIN_CLASSES = re.compile(r"\b(Interval|TimeInterval|Box|Rectangle|Disk)\(")


class _Printer(StrPrinter):
    """`sstr`, except that a non-integer rational prints as `S(p)/q`, so that it stays exact
    when the generated file is executed (integers print plainly: `u**2`, `x/10`)."""

    def _print_Rational(self, expr):
        return f"S({expr.p})/{expr.q}"


def _code(expr) -> str:
    return _Printer().doprint(expr)


def problem_source(
    problem: Problem, *, doc: str, config: bool, starts: Mapping[str, float] | None = None
) -> str:
    """A problem file (in the style of `problems/*.py`) that rebuilds `problem`.

    Data sets are read from `data_<name>.csv` beside the file; `config` adds
    `config = pk.Config.from_json(...)` reading `config.json` beside it; `starts` gives
    Parameters (by name) another `init` (the values discovery refit them to).
    """
    exprs = [e.source for e in problem.equations] + [c.expr for c in problem.conditions]
    solution = problem.reference.solution if isinstance(problem.reference, Exact) else {}
    allowed = _sympy_names(exprs + list(solution.values()))
    coords = ", ".join(c.name for c in problem.coords)
    symbols = sorted(
        {s for e in exprs for s in e.free_symbols if isinstance(s, (Parameter, Normal))},
        key=lambda s: s.name,
    )
    hidden = sorted({a.func for e in exprs for a in e.atoms(sp.Function) if is_hidden(a)}, key=str)
    for name in [*(c.name for c in problem.coords), *(str(f.func) for f in problem.fields),
                 *(s.name for s in symbols), *map(str, hidden)]:  # fmt: skip
        if not name.isidentifier():
            raise DiscoveryError(
                f"cannot write a problem file: the name {name!r} is not a Python identifier, "
                "so it cannot be a variable of the file. Fix: rename it in the problem (e.g. "
                '`sp.Symbol("x1")`) and fit again.'
            )
    lines = [
        '"""' + _docstring(doc) + '\n"""',
        "",
        "from pathlib import Path",
        "",
        *(["import numpy as np", ""] if isinstance(problem.reference, Points) else []),
        "import sympy as sp",
        f"from sympy import {', '.join(sorted(allowed))}",
        "",
        "import pinnkit as pk",
        "",
        "HERE = Path(__file__).resolve().parent",
        (
            f'{coords} = sp.Symbol("{coords}")'
            if len(problem.coords) == 1
            else f'{coords} = sp.symbols("{coords}")'
        ),
    ]
    lines += _declarations(problem, symbols, hidden, starts or {})
    domain = _DOMAIN_CLASSES.sub(r"pk.\1(", repr(problem.domain)).replace(" × ", " * ")
    equations = [f"        {e.name!r}: {_equation(e.source)}," for e in problem.equations]
    conditions = [f"        {_condition(c)}," for c in problem.conditions]
    data = [
        f"        pk.Data.from_file(HERE / {_data_file(d.name)!r}, name={d.name!r}, "
        f"weight={d.weight!r}),"
        for d in problem.data
    ]
    if isinstance(problem.reference, Points):
        lines += _points_prelude(problem.reference)
    lines += [
        "",
        "problem = pk.Problem(",
        f"    name={problem.name + '_discovered'!r},",
        f"    domain={domain},",
        "    fields=[" + ", ".join(f"{f.func}({coords})" for f in problem.fields) + "],",
        "    equations={",
        *equations,
        "    },",
        "    conditions=[",
        *conditions,
        "    ],",
    ]
    if data:
        lines += ["    data=[", *data, "    ],"]
    reference = reference_code(problem.reference)
    if reference is not None:
        lines.append(f"    reference={reference},")
    lines.append(")")
    if config:
        lines += ["", 'config = pk.Config.from_json((HERE / "config.json").read_text())']
    return "\n".join(lines) + "\n"


def _declarations(problem: Problem, symbols, hidden, starts: Mapping[str, float]) -> list[str]:
    """The file's lines that declare the fields, Parameters (from `starts` where it names
    them), normals and Hidden terms."""
    lines = [f'{f.func} = sp.Function("{f.func}")' for f in problem.fields]
    for s in symbols:
        if isinstance(s, Parameter):
            log = ", log=True" if s.log else ""
            init = float(starts.get(s.name, s.init))
            lines.append(f'{s.name} = pk.Parameter("{s.name}", init={init!r}{log})')
        else:
            lines.append(f"{s.name} = pk.Normal({s.coord})")
    for h in hidden:
        lines.append(f'{h} = pk.Hidden("{h}")  # bounds of the original are not carried over')
    return lines


def _equation(source) -> str:
    """An equation as the file writes it: `sp.Eq(lhs, rhs)` or its residual expression."""
    if isinstance(source, sp.Equality):
        return f"sp.Eq({_code(source.lhs)}, {_code(source.rhs)})"
    return _code(source)


def reference_arrays(reference) -> dict[str, np.ndarray]:
    """The arrays of a `Grid` (`axis_<coord>`, `field_<field>`) or `Points` reference
    (`coord_<coord>`, `field_<field>`, at its own points) for `REFERENCE_FILE`; empty for
    any other reference (or none)."""
    if isinstance(reference, Grid):
        return {
            **{f"axis_{c}": a for c, a in reference.axes.items()},
            **{f"field_{f}": v for f, v in reference.values.items()},
        }
    if isinstance(reference, Points):
        points = reference.points()
        values = reference.evaluate(points)
        return {
            **{f"coord_{c}": a for c, a in points.items()},
            **{f"field_{f}": values[f] for f in reference.fields},
        }
    return {}


def reference_code(reference) -> str | None:
    """The expression that rebuilds `reference` in the exported file (reading
    `REFERENCE_FILE` beside it for a `Grid` or `Points`), or None for a reference that is code
    or none."""
    path = f"HERE / {REFERENCE_FILE!r}"
    if isinstance(reference, Grid):
        axes = {c: f"axis_{c}" for c in reference.coords}
        values = {f: f"field_{f}" for f in reference.fields}
        return (
            f"pk.reference.Grid.from_npz({path}, axes={axes!r}, values={values!r}, "
            f"layout={reference.coords!r}, periodic={reference.periodic!r}, "
            f"method={reference.method!r})"
        )
    if isinstance(reference, Points):
        return "reference"  # read before the problem (`_points_prelude`)
    if isinstance(reference, Exact) and not any(
        e.has(sp.Sum, sp.Indexed, sp.IndexedBase) for e in reference.solution.values()
    ):  # sums over a vector coordinate hold arrays (`pk.Coefficients`) the file lacks
        items = ", ".join(
            f"{k!r}: {_code(v)}" if isinstance(k, str) else f"{_code(k)}: {_code(v)}"
            for k, v in reference.solution.items()
        )
        return f"pk.reference.Exact({{{items}}})"
    return None


def _points_prelude(reference: Points) -> list[str]:
    """The lines that read a `Points` reference from `REFERENCE_FILE` into `reference`."""
    coords = ", ".join(f"{c!r}: saved['coord_{c}']" for c in reference.coords)
    values = ", ".join(f"{f!r}: saved['field_{f}']" for f in reference.fields)
    return [
        "",
        f"with np.load(HERE / {REFERENCE_FILE!r}) as saved:",
        f"    reference = pk.reference.Points({{{coords}}}, {{{values}}})",
    ]


def _reference_note(reference) -> str:
    """A sentence for the file's docstring where the original reference is not carried over."""
    if reference is None or reference_code(reference) is not None:
        return ""
    return (
        f"\n\nThe original reference ({type(reference).__name__}) is not carried over: it is "
        "code, not data (or an exact solution with sums over a vector coordinate). Add "
        "`reference=` to compare the refit with it."
    )


def _docstring(text: str) -> str:
    """`text` made safe inside a triple-quoted docstring: backslashes and quotes escaped
    (a run directory's path or a problem's name may hold either)."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _data_file(name: str) -> str:
    """The file name of data set `name` beside the problem file: `data_<name>.csv`, with
    anything but letters, digits, `_` and `-` replaced (no path can leave the folder)."""
    return "data_" + re.sub(r"[^A-Za-z0-9_-]", "_", name) + ".csv"


def _sympy_names(exprs) -> set[str]:
    """The SymPy names the written expressions use, for the file's `from sympy import`."""
    functions = {type(n).__name__ for e in exprs for n in sp.preorder_traversal(e)}
    allowed = {name for name in functions if hasattr(sp, name) and name[0].isalpha()}
    allowed |= {"Derivative", "S"}
    allowed |= {str(c) for e in exprs for c in e.atoms(sp.NumberSymbol)}
    allowed -= {"Symbol", "Integer", "Rational", "Float", "Mul", "Add", "Pow", "Tuple"}
    allowed -= {"Equality", "Zero", "One", "NegativeOne", "Half", "Pi", "Exp1"}
    return allowed


def _condition(c) -> str:
    parts = [_code(c.expr), f"on={c.on!r}" if isinstance(c.on, str) else f"on={_code(c.on)}"]
    parts += [f"name={c.name!r}", f"weight={c.weight!r}"]
    if c.periodic is not None:
        fields = ", ".join(_code(f) for f in c.fields)
        parts += [
            f"periodic={c.periodic}",
            f"exact={c.exact!r}",
            f"fields=({fields},)",
            f"order={c.order!r}",
            f"bounds={c.bounds!r}",
        ]
    return "pk.Condition(" + ", ".join(parts) + ")"


def discovery_html(found) -> str:
    """Jupyter's view: per term the chosen formula (LaTeX) and its Pareto front as a table,
    the chosen row highlighted and the tried rows' losses after the refit shown."""
    parts = []
    for f in found.found.values():
        head = sp.latex(sp.Eq(f.hidden(*f.samples.symbols), display(f.expr)))
        parts.append(f"<p><b>{html.escape(f.hidden.name)}</b>: $${head}$$</p>")
        rows = []
        for row in f.rows():
            style = ' style="background:#fff3b0;font-weight:bold"' if row["chosen"] else ""
            physics = "" if row["physics_loss"] is None else f"{row['physics_loss']:.3e}"
            rows.append(
                f"<tr{style}><td>{row['complexity']}</td><td>{row['loss']:.3e}</td>"
                f"<td>{row['score']:.3f}</td><td>{physics}</td>"
                f"<td>{html.escape(row['expression'])}</td>"
                f"<td>{'chosen' if row['chosen'] else ''}"
                f"{' (backend: best)' if row['backend_best'] else ''}</td></tr>"
            )
        parts.append(
            f"<table><caption>Pareto front of {html.escape(f.hidden.name)} "
            f"({html.escape(found.backend)})</caption><tr><th>complexity</th><th>loss</th>"
            "<th>score</th><th>refit loss</th><th>expression</th><th></th></tr>"
            + "".join(rows)
            + "</table>"
        )
    rule = next(iter(found.found.values())).selection.rule if found.found else ""
    parts.append(f"<p><small>Choice rule: {html.escape(rule)}</small></p>")
    return "\n".join(parts)
