"""Figures of a run: the solution beside its reference and the error, and the training curves.

matplotlib is imported inside the functions, so `import pinnkit` stays free of it. Figures are
plain `matplotlib.figure.Figure` objects, never pyplot's: no global figure registry and no
backend switch, so the same code serves scripts, the CLI and Jupyter (where `Figures` shows
itself as inline PNGs).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pinnkit.errors import ConfigError
from pinnkit.figure_data import solution_data

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from pinnkit.runs import Run

__all__ = ["Figures", "plot_run", "plot_solution", "plot_losses", "loss_figure", "save_figures"]

#: Resolution of saved PNGs and of the inline images in Jupyter.
DPI = 120
_SIGNED_CMAP = "RdBu_r"
_UNSIGNED_CMAP = "cividis"
_ERROR_CMAP = "viridis"
# Fraction of the largest magnitude that the other sign must reach for a diverging colour map.
_SIGN_TOLERANCE = 0.05


class Figures(Mapping):
    """The figures of a run by name (`"solution"`, `"loss"`): a read-only mapping.

    Behaves as a `dict[str, matplotlib.figure.Figure]` for reading (`figures["loss"]`,
    `.items()`, `dict(figures)`). In Jupyter it displays every figure inline, as PNG, so
    `run.plot()` as the last line of a cell shows the plots without pyplot.
    """

    def __init__(self, figures: Mapping[str, Figure]):
        self._figures = dict(figures)

    def __getitem__(self, name: str) -> Figure:
        return self._figures[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._figures)

    def __len__(self) -> int:
        return len(self._figures)

    def __repr__(self) -> str:
        return f"Figures({list(self._figures)})"

    def _repr_html_(self) -> str:
        parts = []
        for name, figure in self._figures.items():
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=DPI)
            data = base64.b64encode(buffer.getvalue()).decode("ascii")
            parts.append(f'<img src="data:image/png;base64,{data}" alt="{name}"/>')
        return "<div>" + "".join(parts) + "</div>"


def plot_run(run: Run, *, save: bool) -> Figures:
    """All figures of a run: `"solution"` (see `plot_solution`) and `"loss"` (see `plot_losses`).

    **Arguments**

    - `run`: a trained `Run`.
    - `save`: also write each figure as `figures/<name>.png` (at `DPI`) in the run directory.

    **Returns**

    A `Figures` mapping from name to `matplotlib.figure.Figure`.

    **Raises**

    - `ConfigError`: `save=True` for a run kept in memory (no run directory).
    """
    if save and run.directory is None:
        raise ConfigError(
            f"plot: save=True, but run {run.problem.name!r} has no run directory (it was fitted "
            "with `out=None`). Fix: `run.plot(save=False)`, or save the figures yourself with "
            '`figures["solution"].savefig("solution.png")`.'
        )
    figures = Figures({"solution": plot_solution(run), "loss": plot_losses(run)})
    if save:
        save_figures(figures, run.directory / "figures")
    return figures


def save_figures(figures: Figures, folder: Path) -> None:
    """Write every figure as `<folder>/<name>.png` (at `DPI`)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, figure in figures.items():
        figure.savefig(folder / f"{name}.png", dpi=DPI)


# -- solution -----------------------------------------------------------------------------------


def plot_solution(run: Run | Mapping[str, Any]) -> Figure:
    """The predicted fields, the reference and the absolute error where there is a reference.

    One row per field (one block of rows per field for snapshots): prediction, reference,
    $|u - u_{ref}|$. How the domain is drawn:

    - one coordinate (an ODE in $t$, or steady 1-D in $x$): lines, the reference dashed and
      observations (`pk.Data`) as dots;
    - 1-D space and time: an image over $(t, x)$;
    - 2-D space: an image over $(x, y)$, points outside the domain left blank (outside a
      `Disk`, in a hole, beyond a concave corner); a steady reference known at scattered
      nodes (`pk.reference.Points`, a COMSOL export) and its error are drawn at those nodes,
      on their Delaunay triangulation with the triangles outside the domain masked, not
      interpolated onto the grid; with time, a row of snapshots at the first, middle and
      last time;
    - 3-D space: the mid-plane of the last space coordinate (its middle value), likewise.

    Points come from the reference's own grid (`reference.grid()`, thinned to at most
    400 per axis) when it has one, else an even grid over the domain's bounding box.
    The title gives the relative L2 error per field from `run.summary["rel_l2"]`.

    **Arguments**

    - `run`: a trained `Run`, or its figure data (`pinnkit.figure_data.solution_data`, as
      saved in the run directory's `plot.npz`).

    **Returns**

    A `matplotlib.figure.Figure`.
    """
    data = run if isinstance(run, Mapping) else solution_data(run)
    figure = _line_figure(data) if data["kind"] == "line" else _image_figure(data)
    figure.suptitle(data["title"])
    return figure


def _new_figure(columns: int, rows: int, width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width * columns, height * rows), layout="constrained")


def _line_figure(data: Mapping[str, Any]) -> Figure:
    coord, axis = data["coord"], data["axis"]
    predicted, reference = data["predicted"], data["reference"]
    fields = list(predicted)
    columns = 2 if reference else 1
    figure = _new_figure(columns, len(fields), 5.0, 3.0)
    grid = figure.subplots(len(fields), columns, squeeze=False)
    for row, field in enumerate(fields):
        ax = grid[row, 0]
        ax.plot(axis, predicted[field], color="C0", lw=2, label="PINN")
        if field in reference:
            ax.plot(axis, reference[field], color="k", lw=1.2, ls="--", label="reference")
        for k, (positions, values) in enumerate(data["observed"].get(field, [])):
            ax.plot(positions, values, "o", color="C3", ms=3, label="data" if k == 0 else None)
        _label(ax, coord, field)
        ax.set_title(field)
        ax.legend(fontsize="small")
        if columns == 2:
            ax = grid[row, 1]
            if field in reference:
                ax.plot(axis, np.abs(predicted[field] - reference[field]), color="C2")
            _label(ax, coord, f"|{field} - {field}_ref|")
            ax.set_title("absolute error")
    return figure


def _image_figure(data: Mapping[str, Any]) -> Figure:
    """Images over (horizontal, vertical); one column per time in `times` when given. A
    steady reference known at scattered nodes (`data["nodes"]`) is drawn on their
    triangulation, and so is its error: the values where the error is measured."""
    horizontal, vertical, time = data["horizontal"], data["vertical"], data["time"]
    times, images, fixed = data["times"], data["images"], data["fixed"]
    kinds = 3 if any(len(column) == 2 for columns in images.values() for column in columns) else 1
    spatial = horizontal != time
    width, height = (4.2, 3.6) if spatial else (4.8, 3.2)
    if times is None:
        figure = _new_figure(kinds, len(images), width, height)
        grid = figure.subplots(len(images), kinds, squeeze=False)
    else:
        figure = _new_figure(len(times), len(images) * kinds, 0.85 * width, 0.85 * height)
        grid = figure.subplots(len(images) * kinds, len(times), squeeze=False)
    nodes = data.get("nodes")
    triangulation = _triangulation(nodes) if nodes is not None else None
    for f_index, (field, columns) in enumerate(images.items()):
        at_nodes = nodes["values"].get(field) if triangulation is not None else None
        panels = [_field_panels(column, at_nodes) for column in columns]
        shown = [p[k][0] for p in panels for k in range(min(2, len(p)))]  # PINN, reference
        cmap, vmin, vmax = _limits(shown)
        # A scattered reference is NaN outside its points' hull, which may miss a whole
        # snapshot: `np.nanmax` would warn on that all-NaN image.
        error_max = max(
            (float(np.max(e[np.isfinite(e)], initial=0.0)) for p in panels for e, _ in p[2:3]),
            default=0.0,
        )
        for t_index, panel in enumerate(panels):
            for kind in range(kinds):
                if times is None:
                    ax = grid[f_index, kind]
                else:
                    ax = grid[f_index * kinds + kind, t_index]
                if kind >= len(panel):
                    ax.set_axis_off()  # this field has no reference
                    continue
                values, on_nodes = panel[kind]
                style = (_ERROR_CMAP, 0.0, error_max or None) if kind == 2 else (cmap, vmin, vmax)
                common = {"cmap": style[0], "vmin": style[1], "vmax": style[2], "rasterized": True}
                if on_nodes:
                    mesh = ax.tripcolor(triangulation, values, shading="gouraud", **common)
                    ax.margins(0)
                else:
                    image = np.ma.masked_invalid(values)
                    mesh = ax.pcolormesh(
                        data["h_axis"], data["v_axis"], image, shading="nearest", **common
                    )
                if times is None:
                    figure.colorbar(mesh, ax=ax)
                elif t_index == len(times) - 1:
                    figure.colorbar(mesh, ax=list(grid[f_index * kinds + kind, :]))
                _label(ax, horizontal, vertical)
                if spatial:
                    ax.set_aspect("equal")
                    _outline(ax, data["outline"])
                title = (f"{field}: PINN", f"{field}: reference", f"|{field} - {field}_ref|")[kind]
                if times is not None:
                    title += f", {time} = {times[t_index]:.3g}"
                ax.set_title(title, fontsize="medium")
                if kind == 0 and times is None:
                    for positions in data["observed"].get(field, []):
                        ax.plot(positions[0], positions[1], ".", color="k", ms=2)
    if fixed:
        where = ", ".join(f"{n} = {v:.3g}" for n, v in fixed.items())
        figure.supxlabel(f"slice at {where}", fontsize="small")
    return figure


def _field_panels(column: list[np.ndarray], at_nodes) -> list[tuple[np.ndarray, bool]]:
    """The panels of one image column, each (values, drawn on the nodes' triangulation):
    the prediction on the grid, then where there is a reference the reference and the
    absolute error, at the reference's nodes when `at_nodes` (prediction, reference there)
    is given."""
    panels = [(column[0], False)]
    if at_nodes is not None:
        predicted, reference = at_nodes
        panels += [(reference, True), (np.abs(predicted - reference), True)]
    elif len(column) == 2:
        panels += [(column[1], False), (np.abs(column[0] - column[1]), False)]
    return panels


def _triangulation(nodes: Mapping[str, Any]):
    """The reference nodes' triangulation (`figure_data._nodes`), its triangles whose centroid
    lies outside the domain masked."""
    from matplotlib.tri import Triangulation

    return Triangulation(
        nodes["x"],
        nodes["y"],
        np.asarray(nodes["triangles"], dtype=int),
        mask=np.asarray(nodes["masked"], dtype=bool),
    )


def _limits(images: list[np.ndarray]) -> tuple[str, float | None, float | None]:
    """Shared colour map and limits for prediction and reference: symmetric when signed."""
    finite = [im[np.isfinite(im)] for im in images]
    values = np.concatenate(finite) if finite else np.zeros(0)
    if values.size == 0:
        return _UNSIGNED_CMAP, None, None
    lo, hi = float(values.min()), float(values.max())
    # Signed only when both signs matter: a positive field whose prediction dips to -1e-3 near a
    # zero boundary keeps the one-signed map (its slight undershoot is shown at the low end).
    scale = max(abs(lo), abs(hi))
    if lo < -_SIGN_TOLERANCE * scale and hi > _SIGN_TOLERANCE * scale:
        bound = max(-lo, hi)
        return _SIGNED_CMAP, -bound, bound
    return _UNSIGNED_CMAP, lo, hi


def _outline(ax: Axes, circle: list[float] | None) -> None:
    """Draw the circle of a disk (`[x, y, radius]`), so the blank outside reads as outside."""
    if circle is not None:
        from matplotlib.patches import Circle

        ax.add_patch(Circle((circle[0], circle[1]), circle[2], fill=False, color="0.3", lw=0.8))


def _label(ax: Axes, xlabel: str, ylabel: str) -> None:
    ax.set_xlabel(f"${xlabel}$" if xlabel.isidentifier() else xlabel)
    ax.set_ylabel(f"${ylabel}$" if ylabel.isidentifier() else ylabel)


# -- training curves ----------------------------------------------------------------------------


def plot_losses(run: Run) -> Figure:
    """Training curves from `run.metrics`, one panel each.

    - **loss**: the weighted total and every loss term against the step, log scale, with a
      the L-BFGS polish (after Adam) shaded;
    - **relative L2 error** per field against the reference, when it was evaluated;
    - **learned parameters** (`pk.Parameter`) against the step, when the problem has any.

    **Arguments**

    - `run`: a `Run` (finished or stopped).

    **Returns**

    A `matplotlib.figure.Figure`.
    """
    initial = {p.name: float(p.init) for p in run.problem.parameters}
    return loss_figure(run.metrics, int(run.summary.get("adam_steps", run.config.steps)), initial)


def loss_figure(rows: list[dict], adam_steps: int, initial: Mapping[str, float]) -> Figure:
    """`plot_losses` from plain data: the metrics rows, the first phase's steps (where the
    L-BFGS polish starts) and the Parameters' starting values."""
    panels = ["loss"]
    if any(row.get("rel_l2") for row in rows):
        panels.append("rel_l2")
    if any(row.get("parameters") for row in rows):
        panels.append("parameters")
    figure = _new_figure(len(panels), 1, 5.0, 3.6)
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    if not rows:
        axes[0].text(0.5, 0.5, "no metrics logged", ha="center", va="center")
        axes[0].set_axis_off()
        return figure
    marker = "." if len(rows) <= 40 else None
    polish = [row["step"] for row in rows if row.get("phase") == "lbfgs"]
    switch = adam_steps if polish else None
    for name, ax in zip(panels, axes):
        if name == "loss":
            _curve(ax, rows, lambda r: r.get("loss"), "total (weighted)", marker, color="k", lw=2)
            for term in _keys(rows, "terms"):
                _curve(ax, rows, lambda r, term=term: r["terms"].get(term), term, marker, lw=1)
            ax.set_yscale("log")
            ax.set_ylabel("loss")
            ax.set_title("training loss")
        elif name == "rel_l2":
            for field in _keys(rows, "rel_l2"):
                _curve(ax, rows, lambda r, f=field: (r.get("rel_l2") or {}).get(f), field, marker)
            ax.set_yscale("log")
            ax.set_ylabel("relative L2 error")
            ax.set_title("error against the reference")
        else:
            for parameter in _keys(rows, "parameters"):
                start = [{"step": 0, "parameters": {parameter: initial[parameter]}}]
                _curve(
                    ax,
                    start + rows if parameter in initial else rows,
                    lambda r, p=parameter: (r.get("parameters") or {}).get(p),
                    parameter,
                    marker,
                )
            ax.set_ylabel("value")
            ax.set_title("learned parameters")
        ax.set_xlabel("step")
        ax.grid(True, which="major", alpha=0.3)
        if switch is not None:
            ax.axvspan(switch, max(polish), color="0.5", alpha=0.12, lw=0, label="L-BFGS")
        ax.legend(fontsize="small")
    return figure


def _keys(rows: list[dict], group: str) -> list[str]:
    """Every name under `row[group]` across rows, in order of first appearance."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row.get(group) or {}))
    return list(seen)


def _curve(ax: Axes, rows: list[dict], get, label: str, marker: str | None, **style) -> None:
    """Plot `get(row)` against the step, skipping rows without a finite value."""
    steps, values = [], []
    for row in rows:
        value = get(row)
        if value is not None and np.isfinite(value):
            steps.append(row["step"])
            values.append(float(value))
    if steps:
        ax.plot(steps, values, marker=marker, ms=4, label=label, **style)
