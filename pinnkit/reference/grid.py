"""`Grid`: a reference solution stored as values on a tensor-product grid, interpolated.

Loads `.npz` and `.mat` files of the usual PINN benchmark layout, wraps periodic axes, and
refuses to extrapolate.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import scipy.interpolate
import scipy.io
from scipy.io.matlab import MatReadError

from pinnkit.errors import ProblemError
from pinnkit.reference.base import AbstractReference

__all__ = ["Grid"]

# Points this far outside an axis (relative to its length) are clipped onto it rather than
# refused: round-off in `linspace` or in a user's own grid must not raise.
_RANGE_RTOL = 1e-9
_METHODS = ("linear", "cubic")


def _cubic_spline(
    axes: Sequence[np.ndarray], value: np.ndarray
) -> Callable[[np.ndarray], np.ndarray]:
    """Tensor-product cubic interpolating spline (not-a-knot ends), one banded solve per axis.

    `RegularGridInterpolator(method="cubic")` solves for all coefficients at once with an
    iterative sparse solver whose default tolerance leaves errors near 1e-4 even at the nodes,
    so the coefficients are computed axis by axis instead, which is exact.
    """
    coefficients = value
    knots = []
    for dim, axis in enumerate(axes):
        spline = scipy.interpolate.make_interp_spline(axis, coefficients, k=3, axis=dim)
        coefficients = np.moveaxis(spline.c, 0, dim)
        knots.append(spline.t)
    return scipy.interpolate.NdBSpline(tuple(knots), coefficients, 3)


class Grid(AbstractReference):
    r"""Field values on a tensor-product grid, interpolated in between.

    Interpolation is piecewise linear by default (`scipy.interpolate.RegularGridInterpolator`,
    exact for functions linear in each coordinate) or a tensor-product cubic spline. An axis
    named in `periodic` wraps: a grid on $[-1, 0.996]$ with period 2 also covers $(0.996, 1]$
    and any $x$ outside $[-1, 1)$, by interpolating across the seam between the last and the
    first point.

    **Arguments**

    - `axes`: coordinate name -> strictly increasing 1-D array. Its order is the order of
      `coords` and of the value arrays' dimensions.
    - `values`: field name -> real array of shape `tuple(len(a) for a in axes.values())`.
    - `periodic`: coordinate name -> period, for axes that wrap. The axis must be shorter than
      one period (the right end of a periodic grid is left out).
    - `method`: `"linear"` (default) or `"cubic"`. Cubic needs at least 4 points per axis.

    **Raises**

    - `ProblemError`: an axis is not 1-D, has fewer than 2 points, or is not strictly increasing;
      a value array has the wrong shape or is not real; a periodic axis is unknown or does not
      fit in its period; `method` is unknown.

    Attributes: `axes`, `values` (copies, `float64`), `periodic`, `method`, `fields`, `coords`.
    """

    axes: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    periodic: dict[str, float]
    method: str
    fields: tuple[str, ...]
    coords: tuple[str, ...]

    def __init__(
        self,
        axes: Mapping[str, np.ndarray],
        values: Mapping[str, np.ndarray],
        *,
        periodic: Mapping[str, float] | None = None,
        method: str = "linear",
    ) -> None:
        periodic = dict(periodic or {})
        if method not in _METHODS:
            raise ProblemError(
                f"Grid: unknown interpolation method {method!r}; expected one of {_METHODS}."
            )
        for what, given in (("axes", axes), ("values", values)):
            if not isinstance(given, Mapping):
                raise ProblemError(
                    f"Grid: the {what} are {type(given).__name__}, expected a mapping by name. "
                    "Fix: `Grid({'x': xs, 't': ts}, {'u': us})`, one 1-D array per axis and "
                    "one array of the grid's shape per field."
                )
        if not axes:
            raise ProblemError("Grid: no axes given. Fix: `Grid({'x': xs}, {'u': us})`.")
        if not values:
            raise ProblemError("Grid: no values given. Fix: `Grid({'x': xs}, {'u': us})`.")
        min_points = 4 if method == "cubic" else 2
        self.axes = {}
        for name, axis in axes.items():
            array = np.asarray(axis, dtype=np.float64)
            if array.ndim != 1:
                raise ProblemError(
                    f"Grid: axis `{name}` has shape {array.shape}; expected a 1-D array. "
                    f"Fix: flatten it, e.g. `np.ravel({name})`."
                )
            if array.size < min_points:
                raise ProblemError(
                    f"Grid: axis `{name}` has {array.size} point(s); {method} interpolation "
                    f"needs at least {min_points}."
                )
            if not np.all(np.isfinite(array)) or not np.all(np.diff(array) > 0):
                raise ProblemError(
                    f"Grid: axis `{name}` is not finite and strictly increasing "
                    f"(from {array[0]:g} to {array[-1]:g}). Fix: sort it and drop repeats."
                )
            self.axes[str(name)] = array
        self.coords = tuple(self.axes)
        shape = tuple(a.size for a in self.axes.values())
        self.values = {}
        for name, value in values.items():
            array = np.asarray(value)
            if np.iscomplexobj(array) or not np.issubdtype(array.dtype, np.number):
                raise ProblemError(
                    f"Grid: values of `{name}` have dtype {array.dtype}; expected real numbers. "
                    f"Fix: split complex data into two fields, e.g. "
                    f"`{{'{name}_re': v.real, '{name}_im': v.imag}}`."
                )
            if array.shape != shape:
                raise ProblemError(
                    f"Grid: values of `{name}` have shape {array.shape}; expected {shape}, one "
                    f"dimension per axis in the order {self.coords}. Fix: transpose to that "
                    f"order (the loaders take `layout=` for this)."
                )
            self.values[str(name)] = np.array(array, dtype=np.float64)
        self.fields = tuple(self.values)
        for name, period in periodic.items():
            if name not in self.axes:
                raise ProblemError(
                    f"Grid: periodic axis `{name}` is not an axis; axes are {self.coords}."
                )
            axis = self.axes[name]
            if not (period > 0 and axis[-1] - axis[0] < period * (1 - _RANGE_RTOL)):
                raise ProblemError(
                    f"Grid: periodic axis `{name}` spans [{axis[0]:g}, {axis[-1]:g}], which does "
                    f"not fit in its period {period:g}. Fix: leave out the right end point "
                    f"(`x[:-1]`) or check the period."
                )
        self.periodic = {str(name): float(period) for name, period in periodic.items()}
        self.method = method
        self._interpolators = self._build_interpolators()

    def _build_interpolators(self) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
        # A periodic axis is padded with copies of the points across the seam, so that the
        # interpolant between the last and first points (and a cubic's stencil near the ends)
        # sees the periodic neighbours.
        pad = 3 if self.method == "cubic" else 1
        axes = []
        values = dict(self.values)
        for dim, (name, axis) in enumerate(self.axes.items()):
            if name in self.periodic:
                period = self.periodic[name]
                count = min(pad, axis.size)
                axis = np.concatenate([axis[-count:] - period, axis, axis[:count] + period])
                for field, value in values.items():
                    left = np.take(value, range(value.shape[dim] - count, value.shape[dim]), dim)
                    right = np.take(value, range(count), dim)
                    values[field] = np.concatenate([left, value, right], axis=dim)
            axes.append(axis)
        if self.method == "cubic":
            return {field: _cubic_spline(axes, value) for field, value in values.items()}
        return {
            field: scipy.interpolate.RegularGridInterpolator(
                tuple(axes), value, method="linear", bounds_error=True
            )
            for field, value in values.items()
        }

    def evaluate(self, coords: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Interpolated field values at points (see `AbstractReference.evaluate`).

        **Arguments**

        - `coords`: one array per axis name; the arrays broadcast.

        **Returns**

        A dict from field name to a `float64` array of the broadcast shape.

        **Raises**

        - `ProblemError`: a coordinate is missing, or a point of a non-periodic axis lies
          outside the axis (beyond a relative tolerance of 1e-9 of its length).
        """
        arrays = self._broadcast_coords(coords)
        shape = arrays[0].shape
        columns = []
        for name, array in zip(self.coords, arrays):
            axis = self.axes[name]
            flat = array.ravel()
            if name in self.periodic:
                period = self.periodic[name]
                flat = axis[0] + np.mod(flat - axis[0], period)
            else:
                slack = _RANGE_RTOL * (axis[-1] - axis[0])
                outside = (flat < axis[0] - slack) | (flat > axis[-1] + slack) | np.isnan(flat)
                if np.any(outside):
                    bad = flat[outside]
                    raise ProblemError(
                        f"Grid.evaluate: {bad.size} point(s) lie outside the grid on axis "
                        f"`{name}`: range is [{axis[0]:g}, {axis[-1]:g}], got values from "
                        f"{np.nanmin(bad) if np.any(~np.isnan(bad)) else np.nan:g} to "
                        f"{np.nanmax(bad) if np.any(~np.isnan(bad)) else np.nan:g}. "
                        f"Fix: evaluate inside the grid, or declare the axis periodic "
                        f"(`periodic={{'{name}': period}}`)."
                    )
                flat = np.clip(flat, axis[0], axis[-1])
            columns.append(flat)
        points = np.stack(columns, axis=-1)
        return {
            field: interpolator(points).reshape(shape).astype(np.float64)
            for field, interpolator in self._interpolators.items()
        }

    def grid(self) -> dict[str, np.ndarray]:
        """The grid's own axes, in `coords` order (copies)."""
        return {name: axis.copy() for name, axis in self.axes.items()}

    @classmethod
    def from_npz(
        cls,
        path: str | os.PathLike[str],
        axes: Mapping[str, str] | None = None,
        values: Mapping[str, str] | None = None,
        layout: Sequence[str] = ("x", "t"),
        *,
        periodic: Mapping[str, float] | None = None,
        method: str = "linear",
    ) -> Grid:
        """Load a grid from a NumPy `.npz` file.

        **Arguments**

        - `path`: the file.
        - `axes`: coordinate name -> array name in the file (default `{"x": "x", "t": "t"}`).
          Axis arrays are flattened, so `(n, 1)` and `(1, n)` columns are fine.
        - `values`: field name -> array name in the file (default `{"u": "usol"}`).
        - `layout`: the coordinate names in the order of the stored arrays' dimensions; the
          arrays are transposed into the order of `axes`.
        - `periodic`, `method`: as for `Grid`.

        **Returns**

        A `Grid`.

        **Raises**

        - `ProblemError`: the file lacks a named array, `layout` does not match `axes`, or the
          shapes disagree.
        """
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {key: np.asarray(data[key]) for key in data.files}
        except (OSError, ValueError, EOFError) as err:
            raise ProblemError(_unreadable(path, "a NumPy .npz file", err)) from None
        return cls._from_arrays(arrays, path, axes, values, layout, periodic, method)

    @classmethod
    def from_mat(
        cls,
        path: str | os.PathLike[str],
        axes: Mapping[str, str] | None = None,
        values: Mapping[str, str] | None = None,
        layout: Sequence[str] = ("x", "t"),
        *,
        periodic: Mapping[str, float] | None = None,
        method: str = "linear",
    ) -> Grid:
        """Load a grid from a MATLAB `.mat` file (via `scipy.io.loadmat`).

        Arguments, returns and errors as for `Grid.from_npz`; for example the Raissi Allen-Cahn
        file is `Grid.from_mat(path, {"x": "x", "t": "tt"}, {"u": "uu"}, ("x", "t"),
        periodic={"x": 2.0})`.
        """
        try:
            data = scipy.io.loadmat(path)
        except (OSError, ValueError, TypeError, NotImplementedError, MatReadError) as err:
            raise ProblemError(_unreadable(path, "a MATLAB .mat file", err)) from None
        arrays = {key: np.asarray(value) for key, value in data.items() if not key.startswith("__")}
        return cls._from_arrays(arrays, path, axes, values, layout, periodic, method)

    @classmethod
    def _from_arrays(
        cls,
        arrays: Mapping[str, np.ndarray],
        path: str | os.PathLike[str],
        axes: Mapping[str, str] | None,
        values: Mapping[str, str] | None,
        layout: Sequence[str],
        periodic: Mapping[str, float] | None,
        method: str,
    ) -> Grid:
        axes = {"x": "x", "t": "t"} if axes is None else dict(axes)
        values = {"u": "usol"} if values is None else dict(values)
        layout = tuple(layout)
        for key in [*axes.values(), *values.values()]:
            if key not in arrays:
                raise ProblemError(
                    f"Grid: {os.fspath(path)} has no array `{key}`; it holds "
                    f"{', '.join(f'`{k}`' for k in sorted(arrays))}."
                )
        if sorted(layout) != sorted(axes):
            raise ProblemError(
                f"Grid: layout {layout} must name each axis {tuple(axes)} exactly once."
            )
        order = [layout.index(name) for name in axes]
        axis_arrays = {name: np.ravel(arrays[key]) for name, key in axes.items()}
        stored_shape = tuple(axis_arrays[name].size for name in layout)
        value_arrays = {}
        for field, key in values.items():
            array = arrays[key]
            if array.shape != stored_shape:
                raise ProblemError(
                    f"Grid: array `{key}` in {os.fspath(path)} has shape {array.shape}; with "
                    f"layout {layout} and axis lengths "
                    f"{ {n: axis_arrays[n].size for n in layout} } it should be {stored_shape}. "
                    f"Fix: check `layout=`."
                )
            value_arrays[field] = np.transpose(array, order)
        return cls(axis_arrays, value_arrays, periodic=periodic, method=method)

    def __repr__(self) -> str:
        axes = ", ".join(f"{n}: {a.size} in [{a[0]:g}, {a[-1]:g}]" for n, a in self.axes.items())
        return f"Grid({axes}; fields {self.fields}; periodic {self.periodic})"


def _unreadable(path, kind: str, err: Exception) -> str:
    """The message for a reference file that is missing or cannot be read as `kind`."""
    if isinstance(err, FileNotFoundError):
        return (
            f"reference file {path}: no such file. Fix: check the path (a relative path is "
            "taken from the directory pinnkit runs in; build it from `__file__` to be safe)."
        )
    return (
        f"reference file {path}: cannot be read as {kind} ({type(err).__name__}: {err}). "
        "Fix: give a file of that format (object arrays are refused: they would run code)."
    )
