"""What a run's solution figure shows, as plain data: the axes, the predicted and reference
values on them, the observations, the domain's outline and the title, computed from a `Run`
(`solution_data`) and saved beside it (`plot.npz`, `encode` / `load`).

`pinnkit.plot` draws from this data only, so a run directory's figures can be redrawn from
its `plot.npz` without executing its `problem.py` (`pinnkit plot` of a run someone sent
you). The file holds numeric arrays and a JSON header, read without pickles.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pinnkit.domain import Disk, SpaceTime, Vector
from pinnkit.errors import RunError

if TYPE_CHECKING:
    from pinnkit.runs import Run

__all__ = ["PLOT_DATA", "solution_data", "encode", "load"]

#: The file of a run directory that holds its figures' data.
PLOT_DATA = "plot.npz"
# Points per axis where the reference has no grid of its own: a line needs more points than an
# image, and a row of time snapshots can do with fewer per image.
_LINE_POINTS = 400
_IMAGE_POINTS = 201
_SNAPSHOT_POINTS = 101
_SNAPSHOTS = 3
# A reference grid axis longer than this is thinned (every k-th point) before plotting: spectral
# references can hold thousands of points per axis, far more than a figure can show.
_MAX_AXIS_POINTS = 400
# A slice through a domain over a `Vector` holds about this many coordinate values in all
# (points x columns): 141 x 141 points at d = 1,000, 15 x 15 at d = 100,000.
_SLICE_VALUES = 20_000_000


def solution_data(run: Run) -> dict[str, Any]:
    """The solution figure's content (see `pinnkit.plot.plot_solution` for what is drawn).

    **Returns**

    A dict of plain values: `kind` (`"line"` or `"image"`), `title`, the axes and, per
    field, the predicted and reference values (`NaN` outside the domain) and the observed
    points; for images also the coordinates' roles, the snapshot times, the fixed slice
    and the outline of a disk; and `initial` (the Parameters' starting values).
    """
    problem = run.problem
    domain = problem.domain
    space = [c.name for c in domain.space_coords]
    time = domain.time.name if domain.time is not None else None
    names = [c.name for c in problem.coords]
    if any(isinstance(s, Vector) for s in problem.signature):
        data = _vector_slice(run)
    elif len(names) == 1:
        data = _line(run, names[0])
    elif time is not None and len(space) == 1:
        data = _image(run, horizontal=time, vertical=space[0], times=None)
    else:
        times = _snapshot_times(run, time) if time is not None else None
        data = _image(run, horizontal=space[0], vertical=space[1], times=times)
        if times is None:
            data["nodes"] = _nodes(run, space[0], space[1])
    rel_l2 = run.summary.get("rel_l2") or {}
    errors = ", ".join(f"{field} {value:.2e}" for field, value in rel_l2.items())
    data["title"] = f"{problem.name}: relative L2 error {errors}" if errors else problem.name
    if errors and problem.reference is not None and problem.reference.points() is not None:
        data["title"] += (
            " (at the reference's nodes; the panels interpolate it between them)"
            if data.get("nodes") is None
            else " (at the reference's nodes, drawn on their triangulation)"
        )
    data["initial"] = {p.name: float(p.init) for p in problem.parameters}
    return data


def _axis(run: Run, name: str, points: int) -> np.ndarray:
    """Plot positions along coordinate `name`: the reference's own grid if any, else even."""
    reference = run.problem.reference
    grid = reference.grid() if reference is not None else None
    if grid is not None and name in grid:
        axis = np.asarray(grid[name], dtype=np.float64)
        stride = max(1, int(np.ceil(len(axis) / _MAX_AXIS_POINTS)))
        return axis[::stride]
    return run.problem.domain.grid({c.name: 2 for c in run.problem.coords} | {name: points})[name]


def _middle(run: Run, name: str) -> float:
    """The middle value of coordinate `name`, snapped to the reference grid if it has one."""
    index = [c.name for c in run.problem.coords].index(name)
    lo, hi = run.problem.domain.bounds
    axis = _axis(run, name, 3)
    return float(axis[np.argmin(np.abs(axis - 0.5 * (lo[index] + hi[index])))])


def _snapshot_times(run: Run, time: str) -> list[float]:
    axis = _axis(run, time, _SNAPSHOTS)
    wanted = np.linspace(axis[0], axis[-1], _SNAPSHOTS)
    return [float(axis[np.argmin(np.abs(axis - value))]) for value in wanted]


def _evaluate(
    run: Run, axes: Mapping[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Prediction and reference on the tensor grid of `axes` (one array per coordinate).

    Returns arrays of shape `tuple(len(a) for a in axes.values())`, NaN outside the domain.
    """
    problem = run.problem
    names = [c.name for c in problem.coords]
    mesh = np.meshgrid(*[np.asarray(axes[n], dtype=np.float64) for n in names], indexing="ij")
    shape = mesh[0].shape
    points = np.stack([m.reshape(-1) for m in mesh], axis=1)
    inside = problem.domain.contains(points, "interior", tol=1e-9)
    coords = {n: points[inside, i] for i, n in enumerate(names)}

    def fill(values: np.ndarray) -> np.ndarray:
        out = np.full(len(points), np.nan)
        out[inside] = np.asarray(values, dtype=np.float64).reshape(-1)
        return out.reshape(shape)

    predicted = {f: fill(v) for f, v in run.predict(**coords).items()}
    reference = {}
    if problem.reference is not None and inside.any():
        values = problem.reference.evaluate(coords)
        reference = {f: fill(v) for f, v in values.items() if f in predicted}
    return predicted, reference


def _observations(run: Run, field: str, coords: list[str]) -> list[list[np.ndarray]]:
    """Observed positions (and values) of `field` from the problem's `Data`, per data set."""
    found = []
    for data in run.problem.data:
        if field in data.values and all(c in data.coords for c in coords):
            found.append([*[np.asarray(data.coords[c]) for c in coords], data.values[field]])
    return found


def _line(run: Run, coord: str) -> dict[str, Any]:
    axis = _axis(run, coord, _LINE_POINTS)
    predicted, reference = _evaluate(run, {coord: axis})
    observed = {f: _observations(run, f, [coord]) for f in predicted}
    return {
        "kind": "line",
        "coord": coord,
        "axis": axis,
        "predicted": predicted,
        "reference": reference,
        "observed": observed,
    }


def _image(run: Run, *, horizontal: str, vertical: str, times: list[float] | None) -> dict:
    """Images over (horizontal, vertical); one column per time in `times` when given."""
    problem = run.problem
    names = [c.name for c in problem.coords]
    time = problem.domain.time.name if problem.domain.time is not None else None
    points = _IMAGE_POINTS if times is None else _SNAPSHOT_POINTS
    h_axis, v_axis = _axis(run, horizontal, points), _axis(run, vertical, points)
    fixed = {n: _middle(run, n) for n in names if n not in (horizontal, vertical, time)}
    # images[field][column] = [prediction, reference?]; one column per snapshot time.
    images: dict[str, list[list[np.ndarray]]] = {}
    for moment in times if times is not None else [None]:
        axes = {n: np.array([v]) for n, v in fixed.items()}
        axes[horizontal], axes[vertical] = h_axis, v_axis
        if moment is not None:
            axes[time] = np.array([moment])
        predicted, reference = _evaluate(run, axes)
        for field, values in predicted.items():
            column = [_oriented(values, names, horizontal, vertical)]
            if field in reference:
                column.append(_oriented(reference[field], names, horizontal, vertical))
            images.setdefault(field, []).append(column)
    return {
        "kind": "image",
        "horizontal": horizontal,
        "vertical": vertical,
        "time": time,
        "times": times,
        "h_axis": h_axis,
        "v_axis": v_axis,
        "fixed": fixed,
        "images": images,
        "observed": {f: _observations(run, f, [horizontal, vertical]) for f in images},
        "outline": _outline(problem.domain),
    }


def _nodes(run: Run, horizontal: str, vertical: str) -> dict[str, Any] | None:
    """A steady 2-D reference known at scattered nodes (`Points`, a COMSOL export), drawn as
    it is rather than interpolated onto a grid: its nodes inside the domain, their Delaunay
    triangles (`x`, `y`, `triangles`), `masked` the triangles whose centroid lies outside the
    domain (a hole, the inside of a concave corner), and per field the prediction and the
    reference at the nodes (`values`). None for any other reference."""
    from scipy.spatial import Delaunay

    problem = run.problem
    points = problem.reference.points() if problem.reference is not None else None
    if points is None or set(points) != {horizontal, vertical}:
        return None
    # Steady and two-dimensional: the problem's coordinates are (horizontal, vertical).
    xy = np.column_stack([points[horizontal], points[vertical]]).astype(np.float64)
    inside = problem.domain.contains(xy, "interior", tol=1e-9)
    xy = xy[inside]
    if len(xy) < 3 or np.linalg.matrix_rank(xy - xy.mean(axis=0)) < 2:
        return None
    triangles = Delaunay(xy).simplices
    centroids = xy[triangles].mean(axis=1)
    masked = ~problem.domain.contains(centroids, "interior", tol=0.0)
    coords = {horizontal: xy[:, 0], vertical: xy[:, 1]}
    predicted = run.predict(**coords)
    reference = problem.reference.evaluate(coords)
    return {
        "x": xy[:, 0],
        "y": xy[:, 1],
        "triangles": np.asarray(triangles, dtype=np.float64),
        "masked": masked.astype(np.float64),
        "values": {
            f: [np.asarray(predicted[f], dtype=np.float64), np.asarray(v, dtype=np.float64)]
            for f, v in reference.items()
            if f in predicted
        },
    }


def _vector_slice(run: Run) -> dict:
    """Images over the first two components of a vector coordinate, the others at the
    domain's center (time snapshots on space-time); the points per axis shrink with the
    dimension so that the slice holds about `_SLICE_VALUES` coordinate values."""
    problem = run.problem
    lo, hi = problem.domain.bounds
    names = [c.name for c in problem.coords]
    n = int(np.clip(np.sqrt(_SLICE_VALUES / len(names)), 15, _IMAGE_POINTS))
    h_axis, v_axis = np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)
    time = problem.domain.time
    times = None if time is None else list(np.linspace(lo[-1], hi[-1], _SNAPSHOTS))
    grid = np.tile(0.5 * (lo + hi), (n * n, 1))
    grid[:, 0], grid[:, 1] = np.repeat(h_axis, n), np.tile(v_axis, n)
    images: dict[str, list[list[np.ndarray]]] = {}
    for moment in times or [None]:
        if moment is not None:
            grid[:, -1] = moment
        inside = problem.domain.contains(grid, "interior", tol=1e-9)
        coords = {name: grid[inside, i] for i, name in enumerate(names)}
        predicted = run.predict(**coords)
        reference = problem.reference.evaluate(coords) if problem.reference is not None else {}
        for field, values in predicted.items():
            column = []
            for source in (values, reference.get(field)):
                if source is not None:
                    image = np.full(n * n, np.nan)
                    image[inside] = np.asarray(source, dtype=np.float64).reshape(-1)
                    column.append(image.reshape(n, n).T)  # (vertical, horizontal)
            images.setdefault(field, []).append(column)
    vector = next(s for s in problem.signature if isinstance(s, Vector))
    return {
        "kind": "image",
        "horizontal": names[0],
        "vertical": names[1],
        "time": None if time is None else time.name,
        "times": times,
        "h_axis": h_axis,
        "v_axis": v_axis,
        "fixed": {f"{vector.name}[2:]": float(0.5 * (lo[2] + hi[2]))} if vector.dim > 2 else {},
        "images": images,
        "observed": {f: [] for f in images},
        "outline": None,
    }


def _oriented(values: np.ndarray, names: list[str], horizontal: str, vertical: str) -> np.ndarray:
    """An image array of shape (len(vertical axis), len(horizontal axis)) for `pcolormesh`."""
    keep = [i for i, n in enumerate(names) if n in (horizontal, vertical)]
    image = values.reshape([values.shape[i] for i in keep])
    ordered = [names[i] for i in keep]
    return image if ordered == [vertical, horizontal] else image.T


def _outline(domain) -> list[float] | None:
    """The circle of a disk as `[x, y, radius]`, so the blank outside reads as outside."""
    space = domain.space if isinstance(domain, SpaceTime) else domain
    if not isinstance(space, Disk):
        return None
    lo, hi = space.bounds
    center = 0.5 * (lo + hi)
    return [float(center[0]), float(center[1]), 0.5 * float(hi[0] - lo[0])]


# -- the file -----------------------------------------------------------------------------------


def encode(data: Mapping[str, Any]) -> bytes:
    """The bytes of `plot.npz` for `data`: every array stored as an array of the archive, the
    rest (and the array names) as a JSON header. Write them with `atomic_write`."""
    arrays: dict[str, np.ndarray] = {}

    def pack(value):
        if isinstance(value, np.ndarray):
            key = f"a{len(arrays)}"
            arrays[key] = np.asarray(value, dtype=np.float64)
            return {"__array__": key}
        if isinstance(value, Mapping):
            return {str(k): pack(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [pack(v) for v in value]
        return value

    header = json.dumps(pack(data))
    buffer = io.BytesIO()
    np.savez_compressed(buffer, header=np.array(header), **arrays)
    return buffer.getvalue()


def load(path: Path) -> dict[str, Any]:
    """The data `encode` wrote to `path`.

    **Raises**

    `RunError` when the file is missing, damaged or not pinnkit's.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
        header = json.loads(str(arrays.pop("header")))
    except (OSError, ValueError, KeyError, EOFError) as err:
        raise RunError(
            f"{path} cannot be read as a run's figure data ({type(err).__name__}): it is "
            "missing, damaged or not pinnkit's. Fix: redraw with `pinnkit plot RUN_DIR "
            "--trust` (it executes the run's problem.py: read it first)."
        ) from None

    def unpack(value):
        if isinstance(value, dict):
            if set(value) == {"__array__"}:
                key = value["__array__"]
                if key not in arrays:
                    raise RunError(f"{path} is damaged: array {key!r} is missing.")
                return arrays[key]
            return {k: unpack(v) for k, v in value.items()}
        if isinstance(value, list):
            return [unpack(v) for v in value]
        return value

    return unpack(header)
