"""`Data`: observations of fields at points, given as arrays or read from a CSV or NPZ file.

Columns of a file are assigned to coordinates and fields once the `Problem` is known. Never
imports torch.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp

from pinnkit.errors import ProblemError, did_you_mean
from pinnkit.problem.symbols import _is_field_like, field_name

__all__ = ["Data", "observed_values"]


class Data:
    """Observations of fields at points (sparse, possibly noisy), used as a data-fit loss term.

    **Arguments**

    - `coords`: mapping from coordinate (symbol or name) to a 1-D array of positions.
    - `values`: mapping from field (e.g. `u` or `"u"`) to a 1-D array of observed values;
      not every field need be observed.
    - `name`: loss term name (default `"data"`).
    - `weight`: fixed loss weight (default 1).

    Build from files with `Data.from_file(path)`: a CSV with a header row naming
    coordinates and fields (`x,t,u`), or an NPZ with one array per name.
    """

    def __init__(
        self,
        coords: Mapping[Any, Any],
        values: Mapping[Any, Any],
        *,
        name: str = "data",
        weight: float = 1.0,
    ):
        self.name = name
        self.weight = float(weight)
        self.coords = {self._key(k): self._array(v, f"coordinate {k}") for k, v in coords.items()}
        self.values = {self._key(k): self._array(v, f"field {k}") for k, v in values.items()}
        lengths = {k: len(v) for k, v in {**self.coords, **self.values}.items()}
        if len(set(lengths.values())) > 1:
            raise ProblemError(
                f'Data "{name}": arrays have different lengths {lengths}. '
                "Fix: give one value per observation point in every array."
            )
        if not self.values:
            raise ProblemError(f'Data "{name}": no observed field values were given.')
        self.n = next(iter(lengths.values()))

    @staticmethod
    def _key(key: Any) -> str:
        if isinstance(key, str):
            return key
        if isinstance(key, sp.Symbol):
            return key.name
        if _is_field_like(key):
            return field_name(key)
        raise ProblemError(
            f"Data: key {key!r} is not a coordinate, field or name. "
            'Fix: key arrays by the symbol (`x`), the field (`u`) or its name (`"u"`).'
        )

    @staticmethod
    def _array(value: Any, what: str) -> np.ndarray:
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(arr)):
            bad = int(np.flatnonzero(~np.isfinite(arr))[0])
            raise ProblemError(
                f"Data: {what} has a non-finite value at row {bad} ({arr[bad]}). "
                "Fix: drop or repair that observation."
            )
        return arr

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        name: str = "data",
        weight: float = 1.0,
        fields: Iterable[str] | None = None,
    ) -> Data:
        """Read observations from a CSV (header row of names) or an NPZ file.

        Columns whose names are not in `fields` are taken as coordinates; when `fields` is
        omitted, the problem decides later which names are fields (see `Problem`).
        """
        path = Path(path)
        if not path.exists():
            raise ProblemError(
                f"Data.from_file: no file at {path}. Fix: check the path; relative paths are "
                "taken from the current directory, so build them from the problem file, e.g. "
                '`Path(__file__).parent / "obs.csv"`.'
            )
        if path.suffix == ".npz":
            with np.load(path) as npz:
                table = {k: np.asarray(npz[k], dtype=np.float64).reshape(-1) for k in npz.files}
        elif path.suffix in (".csv", ".txt"):
            table = _read_csv(path)
        else:
            raise ProblemError(
                f"Data.from_file: {path} has suffix {path.suffix!r}; expected .csv or .npz."
            )
        return cls._from_table(table, name=name, weight=weight, fields=fields, where=str(path))

    @classmethod
    def _from_table(cls, table, *, name, weight, fields, where) -> Data:
        data = cls.__new__(cls)
        data.name, data.weight = name, float(weight)
        data.coords, data.values = {}, {}
        data._pending = {k: cls._array(v, f"column {k} of {where}") for k, v in table.items()}
        data._fields_hint = set(fields) if fields is not None else None
        data.n = len(next(iter(data._pending.values()))) if data._pending else 0
        data.where = where
        return data

    def points(self, coord_names: Sequence[str]) -> np.ndarray:
        """The observation points, shape (n, len(coord_names)), columns in that order."""
        return np.stack([self.coords[c] for c in coord_names], axis=1)

    def _split(self, coord_names: Sequence[str], field_names: Sequence[str]) -> None:
        """Assign file columns to coordinates and fields once the problem is known."""
        pending = getattr(self, "_pending", None)
        if pending is None:
            return
        for key, arr in pending.items():
            if key in coord_names:
                self.coords[key] = arr
            elif key in field_names and (self._fields_hint is None or key in self._fields_hint):
                self.values[key] = arr
            else:
                raise ProblemError(
                    f'Data "{self.name}" ({self.where}): column "{key}" is neither a coordinate '
                    f"{list(coord_names)} nor a field {list(field_names)}."
                    f"{did_you_mean(key, [*coord_names, *field_names])} "
                    "Fix: rename the column in the file's header row."
                )
        del self._pending
        if not self.values:
            raise ProblemError(
                f'Data "{self.name}" ({self.where}): no column names a field '
                f"{list(field_names)}. Fix: add a column of observed values named after a field."
            )

    def __repr__(self) -> str:
        names = list(self.coords) + list(self.values) or list(getattr(self, "_pending", {}))
        return f"Data({self.name!r}, {self.n} points, columns {names})"


def _read_csv(path: Path) -> dict[str, np.ndarray]:
    with open(path, newline="") as handle:
        rows = list(csv.reader(row for row in handle if not row.lstrip().startswith("#")))
    if len(rows) < 2:
        raise ProblemError(f"Data.from_file: {path} needs a header row and at least one row.")
    header = [h.strip() for h in rows[0]]
    columns: dict[str, list[float]] = {h: [] for h in header}
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ProblemError(
                f"Data.from_file: {path}, line {number}: {len(row)} values for "
                f"{len(header)} columns {header}."
            )
        for h, cell in zip(header, row):
            try:
                columns[h].append(float(cell))
            except ValueError:
                raise ProblemError(
                    f"Data.from_file: {path}, line {number}, column {h!r}: {cell!r} is not a "
                    "number. Fix: the file must hold numbers only below its header row."
                ) from None
    return {h: np.asarray(v) for h, v in columns.items()}


def check_data(data, domain, coords, field_names) -> tuple[Data, ...]:
    """`data` (None, one `Data` or several) as a tuple, checked against the problem: one
    array per coordinate, known fields, points inside `domain`, unique names.

    **Raises**

    `ProblemError` naming the data set and what is wrong with it.
    """
    if data is None:
        return ()
    items = [data] if isinstance(data, Data) else list(data)
    coord_names = [c.name for c in coords]
    for d in items:
        if not isinstance(d, Data):
            raise ProblemError(f"Problem: data must be `pk.Data`, found {type(d).__name__}.")
        d._split(coord_names, field_names)
        missing = [c for c in coord_names if c not in d.coords]
        extra = [c for c in d.coords if c not in coord_names]
        if missing or extra:
            raise ProblemError(
                f'Data "{d.name}": coordinates {sorted(d.coords)} do not match the domain\'s '
                f"{coord_names} (missing {missing}, unknown {extra})."
                f"{did_you_mean(extra[0], coord_names) if extra else ''} "
                "Fix: give one array per coordinate of the domain."
            )
        for f in d.values:
            if f not in field_names:
                raise ProblemError(
                    f'Data "{d.name}": `{f}` is not a field {list(field_names)}.'
                    f"{did_you_mean(f, field_names)}"
                )
        points = d.points(coord_names)
        inside = domain.contains(points, "interior", tol=1e-6)
        if not np.all(inside):
            bad = int(np.flatnonzero(~inside)[0])
            raise ProblemError(
                f'Data "{d.name}": {int((~inside).sum())} of {d.n} points lie outside the '
                f"domain {domain!r}; the first is row {bad}: "
                f"{dict(zip(coord_names, points[bad].tolist()))}. "
                "Fix: drop those rows or enlarge the domain."
            )
    names = [d.name for d in items]
    if len(set(names)) != len(names):
        raise ProblemError(f"Problem: data sets share a name: {names}. Fix: pass `name=`.")
    return tuple(items)


def observed_values(data_sets: Sequence[Data]) -> dict[str, np.ndarray]:
    """Every observation of each field over `data_sets` (a problem's `data`), field name ->
    1-D float array, data sets in order."""
    observed: dict[str, list[np.ndarray]] = {}
    for data in data_sets:
        for field, values in data.values.items():
            observed.setdefault(str(field), []).append(np.asarray(values, dtype=float).ravel())
    return {field: np.concatenate(parts) for field, parts in observed.items()}
