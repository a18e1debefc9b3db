"""What the compiler knows about each `Hidden` term: its applications, readable input names,
their SymPy expressions, and the range each input is normalised from.

Ranges (`[low, high]`, mapped to `[-1, 1]` in front of the network) come from, in order:

1. the user: `pk.Hidden("f", bounds=...)`;
2. a coordinate: the domain's bounding box;
3. a field: the smallest interval holding both its observed values (every `Data` set that
   observes it) and the values its Dirichlet-type conditions (`u = g` on a region: initial,
   boundary) prescribe, sampled at 256 points per condition; `[-1, 1]` when there are none;
4. a derivative $\\partial^{k} u / \\partial c_1 \\cdots \\partial c_k$ of a field: the rough
   scale $\\pm\\, \\Delta u / (L_{c_1} \\cdots L_{c_k})$, with $\\Delta u$ the width of the
   field's range (3.) and $L_c$ the domain's length along $c$ (a smooth profile spanning its
   range once across the domain has slopes of this order);
5. any other expression of these (`u**2`, `D * u_x`): interval arithmetic (SymPy's
   `AccumBounds`) over the ranges of its parts, Parameters at their `init`; where that fails,
   `[-1, 1]`.

A range of zero width (a field fixed at one value by its conditions) is widened to
`value ± 1`. Inputs outside their range during training are not clipped: the map is affine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from pinnkit.problem import (
    Condition,
    Hidden,
    Parameter,
    Problem,
    derivative_label,
    is_hidden,
    short_form,
)

__all__ = ["HiddenInput", "HiddenTerm", "describe_hidden_terms", "hidden_term"]

#: Points per condition at which a prescribed field value is sampled for its range.
CONDITION_SAMPLES = 256


@dataclass(frozen=True)
class HiddenInput:
    """One input (argument position) of a Hidden term.

    - `label`: a readable name: `u`, `u_x`, `x`, or the printed expression (`u**2`).
    - `expr`: the SymPy argument of the term's first application (`u(x, t)`,
      `Derivative(u(x, t), x)`, `x`).
    - `bounds`: `(low, high)` normalised to `[-1, 1]`.
    - `source`: where `bounds` came from: `user`, `domain`, `data`, `conditions`,
      `data+conditions`, `estimate` (derivatives), `interval` (expressions), `default`, or
      `union` (a term applied to different arguments in different places).
    """

    label: str
    expr: sp.Expr
    bounds: tuple[float, float]
    source: str


@dataclass(frozen=True)
class HiddenTerm:
    """A Hidden term as compiled: `name`, its distinct `applications` in order of appearance
    (`f(u(x, t))`, ...) and one `HiddenInput` per argument position (labels and expressions
    taken from the first application)."""

    name: str
    applications: tuple[sp.Expr, ...]
    inputs: tuple[HiddenInput, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(i.label for i in self.inputs)

    @property
    def args(self) -> tuple[sp.Expr, ...]:
        """The SymPy argument expressions of the first application, one per input."""
        return tuple(i.expr for i in self.inputs)


def hidden_term(problem: Problem, hidden: Hidden) -> HiddenTerm:
    """Applications, input labels and input ranges of one Hidden term of `problem`."""
    apps = problem.hidden_applications(hidden)
    ranges = _Ranges(problem)
    first = apps[0]
    inputs = []
    for i, arg in enumerate(first.args):
        user = [hidden.bounds_for(a.args)[i] for a in apps]
        if any(b is not None for b in user):
            bounds, source = next(b for b in user if b is not None), "user"
        else:
            found = [ranges.of(a.args[i]) for a in apps]
            bounds = (min(b[0] for b, _ in found), max(b[1] for b, _ in found))
            source = found[0][1] if len({s for _, s in found}) == 1 else "union"
        label = _label(arg, problem)
        if label in [i.label for i in inputs]:  # f(u, u): keep the keys of hidden_values apart
            label = f"{label}#{i}"
        inputs.append(HiddenInput(label, arg, bounds, source))
    return HiddenTerm(hidden.name, apps, tuple(inputs))


def describe_hidden_terms(terms, specs, coords) -> list[str]:
    """Lines for `CompiledProblem.describe()`: each term, its network and its input ranges."""
    lines = ["  hidden terms (each a network evaluated on its inputs):"] if terms else []
    for term in terms:
        spec = specs[term.name]
        lines.append(
            f"    {term.name}: {len(term.inputs)} input(s) -> {spec.depth} x {spec.width} "
            f"{spec.activation} -> 1; applied as "
            + ", ".join(f"`{short_form(a, coords)}`" for a in term.applications)
        )
        for inp in term.inputs:
            lo, hi = inp.bounds
            lines.append(f"      {inp.label:<10} in [{lo:.4g}, {hi:.4g}]  ({inp.source})")
    return lines


def _label(arg: sp.Expr, problem: Problem) -> str:
    if isinstance(arg, sp.Derivative) or arg in problem.fields:
        return derivative_label(arg, problem.coords)
    return short_form(arg, problem.coords)


class _Ranges:
    """Range of a Hidden argument from the problem's domain, data and conditions."""

    def __init__(self, problem: Problem):
        self.problem = problem
        lo, hi = problem.domain.bounds
        self.coord = {c: (float(a), float(b)) for c, a, b in zip(problem.coords, lo, hi)}
        self.fields = {f: self._field(f) for f in problem.fields}

    def of(self, arg: sp.Expr) -> tuple[tuple[float, float], str]:
        if arg in self.coord:
            return self.coord[arg], "domain"
        if arg in self.fields:
            return self.fields[arg]
        if isinstance(arg, sp.Derivative) and arg.expr in self.fields:
            return self._derivative(arg), "estimate"
        return self._interval(arg)

    def _derivative(self, node: sp.Derivative) -> tuple[float, float]:
        (lo, hi), _ = self.fields[node.expr]
        scale = hi - lo
        for var, count in node.variable_count:
            a, b = self.coord[var]
            scale /= (b - a) ** int(count)
        return -scale, scale

    def _interval(self, arg: sp.Expr) -> tuple[tuple[float, float], str]:
        parts = {}
        for node in arg.atoms(sp.Derivative):
            parts[node] = sp.AccumBounds(*self._derivative(node))
        for node in self.fields:
            parts[node] = sp.AccumBounds(*self.fields[node][0])
        parts.update({c: sp.AccumBounds(*b) for c, b in self.coord.items()})
        params = {p: sp.Float(p.init) for p in arg.free_symbols if isinstance(p, Parameter)}
        try:
            value = arg.xreplace(params).xreplace(parts)
            lo, hi = float(value.min), float(value.max)
        except (TypeError, ValueError, AttributeError):
            return (-1.0, 1.0), "default"
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            return (-1.0, 1.0), "default"
        return (lo, hi), "interval"

    def _field(self, field: sp.Expr) -> tuple[tuple[float, float], str]:
        name = str(field.func)
        observed = [d.values[name] for d in self.problem.data if name in d.values]
        prescribed = [self._prescribed(field, c) for c in self.problem.conditions]
        prescribed = [v for v in prescribed if v is not None]
        sources = [s for s, v in (("data", observed), ("conditions", prescribed)) if v]
        if not sources:
            return (-1.0, 1.0), "default"
        values, source = np.concatenate(observed + prescribed), "+".join(sources)
        lo, hi = float(values.min()), float(values.max())
        if hi - lo <= 1e-9 * (1.0 + abs(lo) + abs(hi)):
            lo, hi = lo - 1.0, hi + 1.0
        return (lo, hi), source

    def _prescribed(self, field: sp.Expr, cond: Condition) -> np.ndarray | None:
        """Values of `g` where `cond` says `field = g` (g free of fields), else None."""
        if cond.periodic is not None:
            return None
        value = field - cond.expr  # `u - (u - g)` is `g` once SymPy collects it
        if any(value.has(f.func) for f in self.problem.fields) or value.has(sp.Derivative):
            return None
        if any(is_hidden(a) for a in value.atoms(sp.Function)) or any(
            not (s in self.coord or isinstance(s, Parameter)) for s in value.free_symbols
        ):
            return None
        value = value.xreplace(
            {p: sp.Float(p.init) for p in value.free_symbols if isinstance(p, Parameter)}
        )
        rng = np.random.default_rng(0)
        points = self.problem.domain.sample(cond.on, CONDITION_SAMPLES, rng).points
        fn = sp.lambdify(self.problem.coords, value, modules="numpy")
        out = np.broadcast_to(np.asarray(fn(*points.T), dtype=np.float64), (len(points),))
        return out if np.all(np.isfinite(out)) else None
