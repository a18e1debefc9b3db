"""Geometry of simplices for `pinnkit.domain.mesh`: measures, uniform sampling, distances and
the inside test of a closed boundary made of segments (2-D) or triangles (3-D).

Everything is vectorised NumPy; SciPy's `cKDTree` finds the nearest facets. Arrays of
simplices have shape `(m, k + 1, d)`: `m` simplices of dimension `k` with `k + 1` corners in
`d` coordinates.
"""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np
from scipy.spatial import cKDTree

__all__ = ["Facets", "sample_simplices", "simplex_measures"]

# Nearest facets (by centroid) whose exact distance is computed for each point.
_NEAREST = 8
# Facets larger than the median are split into at most _SPLIT^k parts for the nearest search.
_SPLIT = 8
# Points are processed in blocks of this many point-facet pairs, to bound memory.
_PAIRS = 1 << 16
# Ties of the inside test (a point on a projected edge) are broken as if the point were moved
# by an infinitesimal step along _TIE, then along _TIE2 (simulation of simplicity): the edge's
# two triangles then agree on which of them holds it, so the ray's count keeps its parity.
_TIE = (0.6180339887498949, 0.7861513777574233)
_TIE2 = (-0.7861513777574233, 0.6180339887498949)


def simplex_measures(corners: np.ndarray) -> np.ndarray:
    """Length, area or volume of each simplex, $\\sqrt{\\det(E E^T)} / k!$ with $E$ the edge
    vectors from the first corner; exact up to round-off."""
    edges = corners[:, 1:] - corners[:, :1]  # (m, k, d)
    k, d = edges.shape[1], edges.shape[2]
    if k == d:
        return np.abs(np.linalg.det(edges)) / math.factorial(k)
    gram = edges @ np.swapaxes(edges, 1, 2)
    return np.sqrt(np.clip(np.linalg.det(gram), 0.0, None)) / math.factorial(k)


def sample_simplices(
    corners: np.ndarray, cumulative: np.ndarray, unit: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in measure on a union of simplices, from unit-cube draws.

    The first unit coordinate picks a simplex by its share of the measure (inverse of the
    cumulative measure) and is then rescaled to a fresh uniform within that simplex's share,
    so the map is measure-preserving and Sobol draws stay balanced. Sorting the `k` uniforms
    maps the cube onto the simplex `k!`-to-one, each piece an isometry.

    **Arguments**

    - `corners`: `(m, k + 1, d)` simplices.
    - `cumulative`: `(m,)` running sum of their measures.
    - `unit`: `(n, k)` draws in the unit cube.

    **Returns**

    `(points, index)`: `(n, d)` points and the `(n,)` simplex each lies in.
    """
    total = cumulative[-1]
    target = unit[:, 0] * total
    index = np.minimum(np.searchsorted(cumulative, target, side="right"), len(cumulative) - 1)
    start = np.concatenate([[0.0], cumulative])[index]
    width = cumulative[index] - start
    fresh = np.clip((target - start) / np.where(width > 0, width, 1.0), 0.0, 1.0)
    draws = np.sort(np.column_stack([fresh, unit[:, 1:]]), axis=1)
    # The gaps between sorted uniforms (and 0 and 1) are uniform barycentric coordinates.
    bary = np.diff(np.column_stack([np.zeros(len(unit)), draws, np.ones(len(unit))]), axis=1)
    return np.einsum("nj,njd->nd", bary, corners[index]), index


def _segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    edge = b - a
    length2 = (edge * edge).sum(-1)
    t = ((points - a) * edge).sum(-1) / np.where(length2 > 0, length2, 1.0)
    t = np.clip(t, 0.0, 1.0)[..., None]
    return np.linalg.norm(points - a - t * edge, axis=-1)


def _triangle_distance(points: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Exact distance from each point to its triangle (pairs): to the plane where the
    projection falls inside, else to the nearest edge."""
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    v0, v1, v2 = b - a, c - a, points - a
    d00, d01, d11 = (v0 * v0).sum(-1), (v0 * v1).sum(-1), (v1 * v1).sum(-1)
    d20, d21 = (v2 * v0).sum(-1), (v2 * v1).sum(-1)
    denom = d00 * d11 - d01 * d01
    safe = np.where(denom > 0, denom, 1.0)
    v = (d11 * d20 - d01 * d21) / safe
    w = (d00 * d21 - d01 * d20) / safe
    normal = np.cross(v0, v1)
    norm = np.linalg.norm(normal, axis=-1)
    plane = np.abs((v2 * normal).sum(-1)) / np.where(norm > 0, norm, 1.0)
    edges = np.minimum(
        np.minimum(_segment_distance(points, a, b), _segment_distance(points, b, c)),
        _segment_distance(points, c, a),
    )
    inside = (denom > 0) & (v >= 0) & (w >= 0) & (v + w <= 1)
    return np.where(inside, plane, edges)


def _pair_distance(points: np.ndarray, facets: np.ndarray) -> np.ndarray:
    if facets.shape[1] == 2:
        return _segment_distance(points, facets[:, 0], facets[:, 1])
    return _triangle_distance(points, facets)


class Facets:
    """A set of boundary facets (segments in 2-D, triangles in 3-D) with their distance and
    the even-odd inside test of the region they bound.

    **Arguments**

    - `vertices`: `(N, d)` float64 vertices.
    - `cells`: `(m, d)` vertex indices of each facet, oriented (normals out of the region).
    - `size`: the domain's size (bounding-box diagonal), for tolerances.
    """

    def __init__(self, vertices: np.ndarray, cells: np.ndarray, size: float) -> None:
        self.vertices, self.cells, self.size = vertices, cells, size
        self.corners = vertices[cells]  # (m, d, d)
        self.measures = simplex_measures(self.corners)
        self.cumulative = np.cumsum(self.measures)
        edges = self.corners[:, 1:] - self.corners[:, :1]
        if edges.shape[1] == 1:  # 2-D: the right of the direction of travel is outward
            normal = np.column_stack([edges[:, 0, 1], -edges[:, 0, 0]])
        else:
            normal = np.cross(edges[:, 0], edges[:, 1])
        length = np.linalg.norm(normal, axis=1, keepdims=True)
        self.normals = normal / np.where(length > 0, length, 1.0)

    def planes(self, tol: float, limit: int) -> list[tuple[np.ndarray, np.ndarray]] | None:
        """The distinct planes the facets (of positive measure) lie in, as (unit normal,
        anchor) pairs, best-fit over each plane's facets (area-weighted normal and centroid):
        facets whose normals differ by at most `tol` and whose offsets along the normal by at
        most `tol * size` share a plane. None when there are more than `limit`."""
        normals, found = self.normals, []
        offsets = np.einsum("md,md->m", normals, self.corners[:, 0])
        members: list[list[int]] = []
        for i in np.flatnonzero(self.measures > 0):
            for j, (n, o) in enumerate(found):
                if np.linalg.norm(normals[i] - n) <= tol and abs(offsets[i] - o) <= tol * self.size:
                    members[j].append(int(i))
                    break
            else:
                if len(found) == limit:
                    return None
                found.append((normals[i], offsets[i]))
                members.append([int(i)])
        out = []
        for index in members:
            weights = self.measures[index][:, None]
            normal = (weights * normals[index]).sum(0)
            anchor = (weights * self.corners[index].mean(1)).sum(0) / weights.sum()
            out.append((normal / np.linalg.norm(normal), anchor))
        return out

    def sample(self, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points uniform in measure on the facets from `(n, d - 1)` unit draws, and normals."""
        points, index = sample_simplices(self.corners, self.cumulative, unit)
        return points, self.normals[index]

    # -- distance -------------------------------------------------------------------------

    @cached_property
    def _tree(self) -> tuple[cKDTree, np.ndarray, float]:
        """A tree of sub-facet centroids (each facet split into L^k similar parts so that no
        part is much larger than the median facet), the facet of each, and the largest
        part's radius: every point of a facet lies within that radius of one of its parts'
        centroids."""
        keep = np.flatnonzero(self.measures > 0)
        corners = self.corners[keep]
        centroids = corners.mean(axis=1)
        radius = np.linalg.norm(corners - centroids[:, None], axis=2).max(axis=1)
        target = max(float(np.median(radius)), float(radius.max()) / _SPLIT)
        levels = np.ceil(radius / target).astype(int).clip(1, _SPLIT)
        points, owner = [], []
        for level in np.unique(levels):
            mine = np.flatnonzero(levels == level)
            weights = _part_centroids(corners.shape[1] - 1, int(level))  # (q, k + 1)
            points.append(
                np.einsum("qj,mjd->mqd", weights, corners[mine]).reshape(-1, corners.shape[2])
            )
            owner.append(np.repeat(keep[mine], len(weights)))
        return (
            cKDTree(np.concatenate(points)),
            np.concatenate(owner),
            float((radius / levels).max()),
        )

    def distance(self, points: np.ndarray, exact_within: float | None = None) -> np.ndarray:
        """Distance from each point to the nearest facet.

        The facets of the `_NEAREST` nearest part centroids are tried; the result is exact
        (to round-off) where the next centroid is farther than the best distance plus the
        largest part's radius $R$ (no other facet can be nearer), and else, within
        `exact_within` (default `1e-3 * size`) of the facets, from every facet with a
        centroid within that reach.
        Farther out it is an upper bound that exceeds the distance by less than $R$.
        """
        tree, owner, radius = self._tree
        k = min(_NEAREST, len(owner))
        out = np.empty(len(points))
        block = max(1, _PAIRS // k)
        for i in range(0, len(points), block):
            chunk = points[i : i + block]
            reach, nearest = tree.query(chunk, k=k)
            reach, nearest = reach.reshape(len(chunk), k), nearest.reshape(len(chunk), k)
            facets = self.corners[owner[nearest.ravel()]]
            pairs = _pair_distance(np.repeat(chunk, k, axis=0), facets)
            best = pairs.reshape(len(chunk), k).min(axis=1)
            if k < len(owner):
                lower = reach[:, -1] - radius
                margin = 1e-3 * self.size if exact_within is None else exact_within
                unsure = np.flatnonzero((lower < best) & (lower <= margin))
                if len(unsure):
                    best[unsure] = self._ball_distance(chunk[unsure], best[unsure] + radius)
            out[i : i + block] = best
        return out

    def near(self, points: np.ndarray, tol: float) -> np.ndarray:
        """Whether each point lies within `tol` of a facet (exact: only points with a part
        centroid within `tol` plus the parts' radius are measured)."""
        tree, _, radius = self._tree
        reach, _ = tree.query(points, k=1, distance_upper_bound=tol + radius)
        close = np.flatnonzero(np.isfinite(reach))
        out = np.zeros(len(points), dtype=bool)
        if len(close):
            out[close] = self.distance(points[close], exact_within=tol) <= tol
        return out

    def _ball_distance(self, points: np.ndarray, reach: np.ndarray) -> np.ndarray:
        """Exact distance, from every facet with a part centroid within `reach` (an upper
        bound of the distance plus the parts' radius) of each point."""
        tree, owner, _ = self._tree
        found = tree.query_ball_point(points, reach)
        count = np.array([len(f) for f in found])
        point = np.repeat(np.arange(len(points)), count)
        facet = owner[np.concatenate(found).astype(np.int64)]
        out = np.full(len(points), np.inf)
        for i in range(0, len(point), _PAIRS):
            p, f = point[i : i + _PAIRS], facet[i : i + _PAIRS]
            np.minimum.at(out, p, _pair_distance(points[p], self.corners[f]))
        return out

    # -- inside test ----------------------------------------------------------------------

    @cached_property
    def _grid(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, np.ndarray, np.ndarray]:
        """Facets binned on a uniform grid over their projection along the first axis."""
        shadow = self.corners[:, :, 1:]  # (m, d, d - 1)
        lo, hi = shadow.min(axis=(0, 1)), shadow.max(axis=(0, 1))
        dims = shadow.shape[2]
        cells = max(1, min(512, round(len(self.cells) ** (1 / dims))))
        scale = cells / np.where(hi > lo, hi - lo, 1.0)
        first = np.clip(((shadow.min(axis=1) - lo) * scale).astype(int), 0, cells - 1)
        last = np.clip(((shadow.max(axis=1) - lo) * scale).astype(int), 0, cells - 1)
        span = last - first + 1  # (m, dims)
        count = span.prod(axis=1)
        facet = np.repeat(np.arange(len(count)), count)
        offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        cell = np.zeros(len(facet), dtype=np.int64)
        for j in range(dims):  # the offset counts cells in a facet's box, last axis fastest
            stride = np.prod(span[facet, j + 1 :], axis=1) if j + 1 < dims else 1
            cell = cell * cells + first[facet, j] + (offset // stride) % span[facet, j]
        order = np.argsort(cell, kind="stable")
        starts = np.searchsorted(cell[order], np.arange(cells**dims + 1))
        return lo, hi, scale, cells, facet[order], starts

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Even-odd rule: a ray from each point along the first axis crosses the facets an odd
        number of times. Exact for points off the facets (ties broken consistently)."""
        lo, hi, scale, cells, facet, starts = self._grid
        q = points[:, 1:]
        # A point outside the facets' shadow has no crossing; on its far edge, the last cell.
        within = np.all((q >= lo) & (q <= hi), axis=1)
        index = np.clip(np.floor((q - lo) * scale), 0, cells - 1).astype(int)
        cell = np.zeros(len(points), dtype=np.int64)
        for j in range(q.shape[1]):
            cell = cell * cells + index[:, j]
        count = np.where(within, starts[cell + 1] - starts[cell], 0)
        pairs_point = np.repeat(np.arange(len(points)), count)
        first = np.repeat(starts[cell] - (np.cumsum(count) - count), count)
        pairs_facet = facet[first + np.arange(count.sum())]
        crossings = np.zeros(len(points), dtype=np.int64)
        for i in range(0, len(pairs_point), _PAIRS):
            p, f = pairs_point[i : i + _PAIRS], pairs_facet[i : i + _PAIRS]
            hit = self._crosses(points[p], f)
            crossings += np.bincount(p[hit], minlength=len(points))
        return crossings % 2 == 1

    def _crosses(self, points: np.ndarray, facet: np.ndarray) -> np.ndarray:
        """Whether the ray from each point along +first axis crosses its facet (pairs)."""
        cells, corners = self.cells[facet], self.corners[facet]
        if corners.shape[1] == 2:
            a, b = corners[:, 0], corners[:, 1]
            py = points[:, 1]
            straddle = (a[:, 1] <= py) != (b[:, 1] <= py)
            dy = np.where(straddle, b[:, 1] - a[:, 1], 1.0)
            cross_x = a[:, 0] + (py - a[:, 1]) * (b[:, 0] - a[:, 0]) / dy
            return straddle & (points[:, 0] < cross_x)
        shadow, p = corners[:, :, 1:], points[:, 1:]
        area = _cross2(shadow[:, 1] - shadow[:, 0], shadow[:, 2] - shadow[:, 0])
        orientation = np.sign(area)
        held = area != 0
        for j in range(3):
            u, v = cells[:, j], cells[:, (j + 1) % 3]
            swap = u > v  # evaluate every edge from its lower vertex, so neighbours agree
            lo = np.where(swap[:, None], shadow[:, (j + 1) % 3], shadow[:, j])
            hi = np.where(swap[:, None], shadow[:, j], shadow[:, (j + 1) % 3])
            direction = hi - lo
            value = _cross2(direction, p - lo)
            tie = _cross2(direction, np.array(_TIE))
            tie = np.where(tie != 0, tie, _cross2(direction, np.array(_TIE2)))
            value = np.where(value != 0, value, tie)
            held &= orientation * np.where(swap, -value, value) > 0
        a = corners[:, 0]
        normal = np.cross(corners[:, 1] - a, corners[:, 2] - a)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_hit = a[:, 0] - ((p - a[:, 1:]) * normal[:, 1:]).sum(-1) / normal[:, 0]
        return held & (points[:, 0] < x_hit)


def _part_centroids(k: int, level: int) -> np.ndarray:
    """Barycentric coordinates of the centroids of the `level^k` similar parts of a segment
    (k = 1) or triangle (k = 2) split `level` times along each edge."""
    if k == 1:
        t = (np.arange(level) + 0.5) / level
        return np.column_stack([1 - t, t])
    up = [(i + 1 / 3, j + 1 / 3) for i in range(level) for j in range(level - i)]
    down = [(i + 2 / 3, j + 2 / 3) for i in range(level) for j in range(level - i - 1)]
    st = np.array(up + down) / level
    return np.column_stack([1 - st.sum(axis=1), st])


def _cross2(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]
