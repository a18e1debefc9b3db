"""How a `Problem` shows itself: a readable description (`print(problem)`, `pinnkit check`)
and LaTeX (Jupyter)."""

from __future__ import annotations

import sympy as sp

from pinnkit.problem.symbols import short_form

__all__ = ["describe", "latex"]


def describe(problem) -> str:
    """Readable multi-line description of a `Problem`: domain, fields, equations,
    conditions, data."""
    lines = [
        f"Problem {problem.name!r}",
        f"  domain:     {problem.domain!r}",
        f"  regions:    {regions_text(problem.domain)}",
        f"  fields:     {', '.join(map(str, problem.fields))}",
    ]
    if problem.parameters:
        lines.append(
            "  parameters: "
            + ", ".join(
                f"{p.name} (init {p.init}{', log' if p.log else ''})" for p in problem.parameters
            )
        )
    if problem.hidden:
        apps = [a for h in problem.hidden for a in problem.hidden_applications(h)]
        lines.append("  hidden:     " + ", ".join(short_form(a, problem.coords) for a in apps))
    lines.append("  equations:")
    lines += [f"    {e.name}: {sp.sstr(e.source)}" for e in problem.equations]
    if problem.conditions:
        lines.append("  conditions:")
        lines += [f"    {c}" for c in problem.conditions]
    for d in problem.data:
        lines.append(f"  data:       {d!r}")
    if problem.reference is not None:
        lines.append(
            f"  reference:  {type(problem.reference).__name__} for {list(problem.reference.fields)}"
        )
    return "\n".join(lines)


def regions_text(domain) -> str:
    """Every region of a domain with its measure (length, area or volume; times the duration
    on space-time), `~` before estimated measures, and the aliases of each part."""
    aliases: dict[str, list[str]] = {}
    for alias, name in domain._aliases().items():
        aliases.setdefault(name, []).append(alias)
    items = []
    for region in domain.regions:
        measure = domain.measure(region)
        also = f" ({', '.join(aliases[region])})" if region in aliases else ""
        value = f"{measure.value:.4g}"
        if measure.value in (0.0, float("inf")):  # a ball in hundreds of dimensions
            value += " (beyond the float range)"
        items.append(f"{region}{also} {'' if measure.exact else '~'}{value}")
    return "; ".join(items)


def latex(problem) -> str:
    """The equations and conditions of a `Problem` as one aligned LaTeX block (Jupyter)."""
    rows = [sp.latex(e.source) for e in problem.equations]
    for c in problem.conditions:
        if c.periodic is not None:
            rows.append(rf"\text{{periodic in }} {sp.latex(c.periodic)}")
        else:
            rows.append(rf"{sp.latex(c.expr)} = 0 \quad \text{{on {c.on}}}")
    if problem.hidden:
        names = r",\ ".join(sp.latex(sp.Symbol(h.name)) for h in problem.hidden)
        rows.append(rf"{names} \quad \text{{hidden (learned by networks)}}")
    return r"$\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}$"
