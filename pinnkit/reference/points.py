"""`Points`: a reference solution known at scattered points, interpolated piecewise linearly.

The points are, for example, the nodes of a finite-element solution (`comsol` loads such an
export). Errors are measured at the points themselves (`Points.points`); elsewhere the values
are interpolated, and are NaN outside the points' convex hull.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.spatial
import sympy as sp
from sympy.core.function import AppliedUndef

from pinnkit.errors import ProblemError
from pinnkit.reference.base import AbstractReference

__all__ = ["Points"]

# Two rows at the same coordinates must carry the same values, up to this fraction of the
# field's largest magnitude: an export that writes a node twice repeats its value to round-off;
# anything more is two different solutions at one point.
_DUPLICATE_RTOL = 1e-12
# A point this far outside a simplex (in barycentric weight, on coordinates scaled to the
# unit box) counts as inside: points on a face of the hull must not be lost to round-off.
_HULL_SLACK = 1e-12
# A simplex whose volume is below this fraction of the product of its edge lengths is flat
# (its barycentric transform is NaN, as scipy's is below a reciprocal condition of ~1e-14).
_FLAT = 1e-13
# Steps of the point-location walk before the rest is left to scipy's search; a walk from
# the simplex with the nearest centre takes a few steps.
_WALK_STEPS = 200


def _name(key: object, what: str) -> str:
    """The name of a coordinate or field key: a string, a symbol, or an applied function."""
    if isinstance(key, str):
        return key
    if isinstance(key, AppliedUndef):
        return str(key.func)
    if isinstance(key, sp.Symbol):
        return key.name
    raise ProblemError(
        f"Points: {what} key `{key}` ({type(key).__name__}) is not a name, a symbol or an "
        f'applied function. Fix: key by name, e.g. `{{"x": xs}}` or `{{u: us}}` with '
        f'`u = sp.Function("u")(x, y)`.'
    )


def _columns(given: Mapping, what: str) -> dict[str, np.ndarray]:
    """Named, finite, real 1-D float64 columns of one length (checked by the caller)."""
    if not isinstance(given, Mapping):
        if what == "coordinate":
            example = "{'x': xs, 'y': ys}"
            fix = "; an (n, d) array `a` of coordinates is `dict(zip(('x', 'y'), a.T))`."
        else:
            example, fix = "{'u': us}", ", e.g. `{'u': values}`."
        raise ProblemError(
            f"Points: the {what}s are {type(given).__name__}, expected a mapping of {what} "
            f"name -> 1-D array, e.g. `{example}`. Fix: name each column{fix}"
        )
    if not given:
        raise ProblemError(
            f"Points: no {what}s given. Fix: `Points({{'x': xs, 'y': ys}}, {{'u': us}})`, "
            "one 1-D array per coordinate and per field."
        )
    columns: dict[str, np.ndarray] = {}
    for key, array in given.items():
        name = _name(key, what)
        if name in columns:
            raise ProblemError(f"Points: {what} `{name}` is given twice.")
        array = np.asarray(array)
        if np.iscomplexobj(array) or not np.issubdtype(array.dtype, np.number):
            raise ProblemError(
                f"Points: {what} `{name}` has dtype {array.dtype}; expected real numbers. "
                f"Fix: convert it, e.g. `np.asarray({name}, dtype=float)`; split complex data "
                f"into two fields."
            )
        if array.ndim != 1:
            raise ProblemError(
                f"Points: {what} `{name}` has shape {array.shape}; expected a 1-D array, one "
                f"entry per point. Fix: flatten it, e.g. `np.ravel({name})`."
            )
        bad = ~np.isfinite(array)
        if bad.any():
            raise ProblemError(
                f"Points: {what} `{name}` has {int(bad.sum())} NaN or infinite value(s), the "
                f"first at index {int(np.argmax(bad))}. Fix: drop those points (e.g. "
                f"`keep = np.isfinite({name})`, then index every array with `keep`)."
            )
        columns[name] = np.array(array, dtype=np.float64)
    return columns


class Points(AbstractReference):
    r"""A reference solution known at scattered points, such as the nodes of a finite-element
    solution, interpolated piecewise linearly in between.

    At its own points `evaluate` returns the given values exactly. Elsewhere it interpolates:

    - one coordinate: linearly between neighbours (`np.interp`);
    - points that are a product of a point set and a list of values of one coordinate (the
      snapshots of a time-dependent solution, or a tensor grid): linearly in that coordinate
      between the two neighbouring layers, and within each layer as below;
    - other scattered points in 2-D or 3-D: linearly on the simplices of a Delaunay
      triangulation (`scipy.spatial.Delaunay`, as `scipy.interpolate.LinearNDInterpolator`),
      built on the coordinates scaled to the unit box so that a time axis of length 100 and
      a space axis of length 1 weigh alike.

    Each of these reproduces a function linear in the coordinates to round-off. Layers are
    used where they exist because a Delaunay triangulation of stacked, flat snapshots is
    degenerate and very slow to search (minutes for $10^4$ points in a 50-snapshot stack).

    Outside the convex hull of the points the result is NaN; inside, the hull may span holes
    of the domain (Delaunay triangles cross them), where the values are an interpolation
    across the hole. Error reports and figures only use points inside the problem's domain,
    so both matter only to a direct call of `evaluate`. When the points do not span their
    space (fewer than $d + 1$ of them, or all on one line or plane), there is no volume to
    interpolate in: the values are NaN except at the points themselves (and between
    neighbouring points of an axis-aligned product as above).

    **Arguments**

    - `coords`: coordinate name -> 1-D array, one entry per point. A time-dependent solution
      has the time as one more coordinate (`{"x": xs, "y": ys, "t": ts}`). Keys may be
      names or SymPy symbols.
    - `values`: field name -> 1-D array of the same length. Keys may be names, symbols or
      applied functions (`u(x, y)`, as for `Exact`).

    **Raises**

    - `ProblemError`: no coordinates, fields or points; an array is not 1-D, not real, or has
      NaN or infinite entries; the arrays differ in length; a point is given twice with
      different values.

    Attributes: `coords`, `fields` (names, in the order given), `size` (number of points).
    """

    coords: tuple[str, ...]
    fields: tuple[str, ...]
    size: int

    def __init__(self, coords: Mapping, values: Mapping) -> None:
        columns = _columns(coords, "coordinate")
        fields = _columns(values, "field")
        lengths = {name: array.size for name, array in {**columns, **fields}.items()}
        if len(set(lengths.values())) > 1:
            listed = ", ".join(f"`{name}` {size}" for name, size in lengths.items())
            raise ProblemError(
                f"Points: the arrays differ in length ({listed}); expected one entry per point "
                f"in every coordinate and field. Fix: give arrays of one length."
            )
        if next(iter(lengths.values())) < 1:
            raise ProblemError("Points: no points given (the arrays are empty).")
        self.coords, self.fields = tuple(columns), tuple(fields)
        points = np.stack(list(columns.values()), axis=1)
        table = np.stack(list(fields.values()), axis=1)
        self._points, self._values = _unique(points, table, self.coords)
        self.size = len(self._points)
        self._tree = scipy.spatial.cKDTree(self._points)
        self._stencil = _build_stencil(self._points)

    def points(self) -> dict[str, np.ndarray]:
        """The reference's own points, where its values are exact (no interpolation).

        **Returns**

        Coordinate name -> 1-D array (copies), in `coords` order; repeated points appear once.
        """
        return {name: self._points[:, i].copy() for i, name in enumerate(self.coords)}

    def evaluate(self, coords: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Field values at points (see `AbstractReference.evaluate`).

        **Arguments**

        - `coords`: one array per coordinate name; the arrays broadcast.

        **Returns**

        A dict from field name to a `float64` array of the broadcast shape: the given values
        at the reference's own points, piecewise-linear interpolation inside their convex
        hull, NaN outside it (and where a coordinate is NaN).

        **Raises**

        - `ProblemError`: a coordinate is missing.
        """
        arrays = self._broadcast_coords(coords)
        shape = arrays[0].shape
        query = np.stack([a.reshape(-1) for a in arrays], axis=1)
        out = np.full((len(query), len(self.fields)), np.nan)
        finite = np.all(np.isfinite(query), axis=1)
        if finite.any():
            out[finite] = self._interpolate(query[finite])
        return {f: out[:, j].reshape(shape) for j, f in enumerate(self.fields)}

    def _interpolate(self, query: np.ndarray) -> np.ndarray:
        """Values at finite (m, d) points: interpolated, then exact at the own points."""
        out = np.full((len(query), len(self.fields)), np.nan)
        inside, index, weight = self._stencil(query)
        out[inside] = np.einsum("mk,mkf->mf", weight, self._values[index])
        # Barycentric weights at a vertex are 1 only up to round-off: copy the exact values.
        distance, nearest = self._tree.query(query)
        own = distance == 0
        out[own] = self._values[nearest[own]]
        return out

    def __repr__(self) -> str:
        ranges = ", ".join(
            f"{n} in [{self._points[:, i].min():g}, {self._points[:, i].max():g}]"
            for i, n in enumerate(self.coords)
        )
        return f"Points({self.size} points, {ranges}; fields {self.fields})"


def _unique(
    points: np.ndarray, values: np.ndarray, names: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct points and their values; a repeated point must repeat its values."""
    unique, first, inverse = np.unique(points, axis=0, return_index=True, return_inverse=True)
    if len(unique) == len(points):
        return points, values
    inverse = inverse.reshape(-1)
    scale = np.maximum(np.max(np.abs(values), axis=0), np.finfo(float).tiny)
    differs = np.any(np.abs(values - values[first[inverse]]) > _DUPLICATE_RTOL * scale, axis=1)
    if differs.any():
        row = int(np.argmax(differs))
        where = ", ".join(f"{n} = {v:g}" for n, v in zip(names, points[row]))
        raise ProblemError(
            f"Points: {int(differs.sum())} point(s) are given twice with different values, "
            f"e.g. at ({where}): {values[first[inverse[row]]].tolist()} (row "
            f"{int(first[inverse[row]])}) and {values[row].tolist()} (row {row}). Fix: keep "
            "one row per point (`np.unique(points, axis=0, return_index=True)` finds them), "
            "or average the values."
        )
    order = np.sort(first)
    return points[order], values[order]


def _build_stencil(points: np.ndarray):
    """A function mapping finite (m, d) points to `(inside, index, weight)`: which points lie
    in the hull, and for those the rows of `points` and the weights interpolating there."""
    n, dims = points.shape
    if dims == 1:
        return _line(points[:, 0])
    for k in reversed(range(dims)):  # prefer the last coordinate (time, as exported)
        layers, layer_of = np.unique(points[:, k], return_inverse=True)
        rest = np.delete(points, k, axis=1)
        section, section_of = np.unique(rest, axis=0, return_inverse=True)
        if len(layers) * len(section) == n:
            table = np.empty((len(layers), len(section)), dtype=np.intp)
            table[layer_of.reshape(-1), section_of.reshape(-1)] = np.arange(n)
            return _layers(k, layers, table, _build_stencil(section))
    return _simplices(points)


def _line(axis: np.ndarray):
    order = np.argsort(axis)
    nodes = axis[order]

    def stencil(query: np.ndarray):
        q = query[:, 0]
        inside = (q >= nodes[0]) & (q <= nodes[-1])
        q = q[inside]
        if len(nodes) == 1:
            return inside, order[np.zeros((len(q), 1), dtype=np.intp)], np.ones((len(q), 1))
        left = np.clip(np.searchsorted(nodes, q, side="right") - 1, 0, len(nodes) - 2)
        share = (q - nodes[left]) / (nodes[left + 1] - nodes[left])
        index = order[np.stack([left, left + 1], axis=1)]
        return inside, index, np.stack([1 - share, share], axis=1)

    return stencil


def _layers(k: int, layers: np.ndarray, table: np.ndarray, section_stencil):
    """Linear in coordinate `k` between layers; `table[layer, section point]` is the row."""
    line = _line(layers)

    def stencil(query: np.ndarray):
        inside, layer, share = line(query[:, k : k + 1])
        in_section, section, weight = section_stencil(np.delete(query[inside], k, axis=1))
        inside[inside] = in_section
        layer, share = layer[in_section], share[in_section]
        index = table[layer[:, :, None], section[:, None, :]]  # (m, 2 or 1, k_section)
        weights = share[:, :, None] * weight[:, None, :]
        flat = (len(index), index.shape[1] * index.shape[2])  # -1 fails on zero points
        return inside, index.reshape(flat), weights.reshape(flat)

    return stencil


def _simplices(points: np.ndarray):
    """Barycentric weights on a Delaunay triangulation of the points scaled to the unit box."""
    low = points.min(axis=0)
    span = np.where(np.ptp(points, axis=0) > 0, np.ptp(points, axis=0), 1.0)
    try:
        triangulation = scipy.spatial.Delaunay((points - low) / span)
    except scipy.spatial.QhullError:
        triangulation = None  # a flat point set: only the points themselves are known
    if triangulation is None:

        def nowhere(query: np.ndarray):
            empty = np.zeros(len(query), dtype=bool)
            return empty, np.zeros((0, 1), dtype=np.intp), np.zeros((0, 1))

        return nowhere
    corners = triangulation.points[triangulation.simplices]  # (simplices, d + 1, d)
    transform = _barycentric_transforms(corners)
    centres = scipy.spatial.cKDTree(corners.mean(axis=1))

    def stencil(query: np.ndarray):
        scaled = (query - low) / span
        simplex = _locate(triangulation, transform, centres.query(scaled)[1], scaled)
        inside = simplex >= 0
        simplex, scaled = simplex[inside], scaled[inside]
        weight = _barycentric(transform[simplex], scaled)
        flat = np.isnan(weight).any(axis=1)
        if flat.any():  # scipy's search may end on a simplex that `_FLAT` calls flat
            vertices = triangulation.points[triangulation.simplices[simplex[flat]]]
            weight[flat] = _least_squares_weights(vertices, scaled[flat])
        return inside, triangulation.simplices[simplex], weight

    return stencil


def _least_squares_weights(corners: np.ndarray, scaled: np.ndarray) -> np.ndarray:
    """Barycentric weights of points in (nearly) flat simplices, by least squares."""
    ones = np.ones((len(corners), 1, corners.shape[1]))
    system = np.concatenate([np.swapaxes(corners, 1, 2), ones], axis=1)  # (m, d + 1, d + 1)
    target = np.concatenate([scaled, np.ones((len(scaled), 1))], axis=1)
    return np.einsum("mij,mj->mi", np.linalg.pinv(system), target)


def _barycentric_transforms(corners: np.ndarray) -> np.ndarray:
    """Per simplex, the inverse of its edge matrix and its last vertex (scipy's layout of
    `Delaunay.transform`), NaN for a flat simplex. Computed here in one batched call because
    scipy's own computes them one LAPACK call at a time, which on a busy machine with a
    multi-threaded BLAS took 10 s for 20,000 triangles (measured; 0.004 s this way)."""
    last = corners[:, -1]
    edges = np.swapaxes(corners[:, :-1] - last[:, None], 1, 2)  # columns: vertex - last
    lengths = np.prod(np.linalg.norm(edges, axis=1), axis=1)
    flat = ~(np.abs(np.linalg.det(edges)) > _FLAT * lengths)
    inverse = np.full(edges.shape, np.nan)
    inverse[~flat] = np.linalg.inv(edges[~flat])
    return np.concatenate([inverse, last[:, None]], axis=1)


def _barycentric(transform: np.ndarray, scaled: np.ndarray) -> np.ndarray:
    dims = scaled.shape[1]
    share = np.einsum("mij,mj->mi", transform[:, :dims], scaled - transform[:, dims])
    return np.concatenate([share, 1 - share.sum(axis=1, keepdims=True)], axis=1)


def _locate(triangulation, transform: np.ndarray, start: np.ndarray, scaled: np.ndarray):
    """The simplex holding each point, or -1 outside the hull: a visibility walk (step
    across the face opposite the most negative barycentric coordinate), which ends on a
    Delaunay triangulation; points it leaves unresolved (a flat simplex on the way) fall
    back to scipy's `find_simplex`."""
    found = np.full(len(scaled), -1)
    active, simplex = np.arange(len(scaled)), start
    for _ in range(_WALK_STEPS):
        weight = _barycentric(transform[simplex], scaled[active])
        worst = np.argmin(np.where(np.isnan(weight), -np.inf, weight), axis=1)
        lowest = weight[np.arange(len(active)), worst]
        here = lowest >= -_HULL_SLACK
        found[active[here]] = simplex[here]
        step = triangulation.neighbors[simplex, worst]
        walk = ~here & (step >= 0)
        unresolved = ~here & (step < 0) & np.isnan(lowest)  # a flat simplex on the hull
        found[active[unresolved]] = -2
        active, simplex = active[walk], step[walk]
        if not len(active):
            break
    rest = np.concatenate([active, np.flatnonzero(found == -2)])
    if len(rest):
        found[rest] = triangulation.find_simplex(scaled[rest])
    return found
