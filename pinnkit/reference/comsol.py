"""`comsol`: load a COMSOL text export (a `.dat`/`.txt` table of node values) as `Points`.

COMSOL writes header lines starting with `%`; the last one names the columns: the coordinates,
then one column per output expression and, for a time-dependent study, per time snapshot
(`u (1) @ t=0.1`). This module parses that header and expands the snapshots into rows.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pinnkit.errors import ProblemError, did_you_mean
from pinnkit.reference.grid import _unreadable
from pinnkit.reference.points import Points

__all__ = ["comsol"]

# COMSOL's own name of the time in `@ t=...` suffixes (a time-dependent study's solutions).
_COMSOL_TIME = "t"
# One column of the header: a name, an optional unit in parentheses, optional `@ key=value`
# pairs (a time snapshot, a parameter of the study), separated by commas.
_COLUMN = re.compile(
    r"(?P<name>[^\s@()]+)(?:\s*\((?P<unit>[^)]*)\))?"
    r"(?:\s*@\s*(?P<params>[^\s=,]+=[^\s,]+(?:,\s*[^\s=,]+=[^\s,]+)*))?"
)


@dataclass(frozen=True)
class _Column:
    name: str
    params: dict[str, str]

    def __str__(self) -> str:
        suffix = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name} @ {suffix}" if suffix else self.name


def comsol(
    path: str | os.PathLike[str],
    coords: Sequence[str],
    fields: Sequence[str] | Mapping[str, str],
    *,
    time: str = "t",
    select: Mapping[str, float] | None = None,
) -> Points:
    """Load a COMSOL text export of a solution at its mesh nodes as a `Points` reference.

    The file is what COMSOL's *Export > Data* writes in its default spreadsheet format:
    `%` header lines, the last naming the columns, e.g. `% X  Y  u (1)`; with time
    snapshots `% X  Y  u (1) @ t=0  u (1) @ t=0.1 ...`; with a parameter of the study
    `% x  y  u @ Re=100  v @ Re=100  p @ Re=100`. Snapshots become rows: a file of $n$
    nodes and $m$ times gives $n m$ points with the time as the last coordinate. Units in
    parentheses are dropped (the values are used as written).

    Example: `pk.reference.comsol("heat.dat", ("x", "y"), ("u",))` for the header
    `% X  Y  u (1) @ t=0 ...` gives `Points` with coordinates `x`, `y`, `t`.

    **Arguments**

    - `path`: the file.
    - `coords`: your names of the coordinate columns, in the file's order (`("x", "y")` for
      COMSOL's `X Y`). Their number is the file's `% Dimension:` when it gives one.
    - `fields`: your names of the output fields: a sequence names every output of the file
      in order (`("u", "v", "p")`); a mapping from COMSOL's name to yours picks some of them
      (`{"p": "pressure"}`).
    - `time`: your name of the time coordinate, used when the columns carry `@ t=...`.
    - `select`: parameter name -> value, to keep one solution of a parametric sweep whose
      columns carry `@ Re=100`, `@ Re=200`, ... (`select={"Re": 100}`). A parameter with a
      single value needs no selection and is ignored.

    **Returns**

    A `Points` reference.

    **Raises**

    - `ProblemError`: the file is missing or unreadable; its header does not name one column
      per data column; `coords` or `fields` do not match the header (the message lists what
      the header has); the fields have different snapshot times; a parametric sweep is not
      selected; a value is NaN; or `Points` refuses the data.
    """
    header, columns, data = _read(path)
    where = f"comsol: {os.fspath(path)}"
    coords = tuple(coords)
    dimension = header.get("Dimension", "").strip()
    if dimension.isdigit() and int(dimension) != len(coords):
        names = ", ".join(str(c) for c in columns[: int(dimension)])
        raise ProblemError(
            f"{where}: the file is {dimension}-dimensional (% Dimension: {dimension}, "
            f"coordinates {names}), but `coords` names {len(coords)}: {coords}. Fix: name "
            f"each coordinate column once, e.g. `coords={_example(int(dimension))}` (the time "
            "of a snapshot is named by `time=`)."
        )
    if len(coords) >= len(columns) or any(c.params for c in columns[: len(coords)]):
        raise ProblemError(
            f"{where}: `coords` names {len(coords)} coordinate column(s) {coords}, but the "
            f"header's columns are {_listing(columns)}. Fix: name only the coordinate columns."
        )
    outputs = _pick(where, columns, len(coords), fields, select)
    times = _times(where, outputs)
    values = {name: data[:, [index for _, index in cols]] for name, cols in outputs.items()}
    bad = ~np.isfinite(data[:, : len(coords)]).all(axis=1)
    for array in values.values():
        bad |= ~np.isfinite(array).all(axis=1)
    if bad.any():
        raise ProblemError(
            f"{where}: {int(bad.sum())} of {len(data)} rows hold NaN or infinite values (the "
            f"first is data row {int(np.argmax(bad)) + 1}); COMSOL writes NaN at points "
            "outside the geometry. Fix: export at the mesh nodes rather than on a grid, or "
            "drop those rows and build `pk.reference.Points` yourself."
        )
    snapshots = 1 if times is None else len(times)
    point_coords = {name: np.tile(data[:, i], snapshots) for i, name in enumerate(coords)}
    if times is not None:
        if time in point_coords:
            raise ProblemError(
                f"{where}: the time coordinate `{time}` is also a name in `coords` {coords}. "
                "Fix: give the time another name with `time=`."
            )
        point_coords[time] = np.repeat(times, len(data))
    point_values = {name: array.T.reshape(-1) for name, array in values.items()}
    return Points(point_coords, point_values)


def _read(path) -> tuple[dict[str, str], list[_Column], np.ndarray]:
    """The `% Key: value` header entries, the columns of the last header line, the data."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise ProblemError(_unreadable(path, "a COMSOL text export", err)) from None
    where = f"comsol: {os.fspath(path)}"
    lines = text.splitlines()
    header = [line.lstrip()[1:] for line in lines if line.lstrip().startswith("%")]
    rows = [line for line in lines if line.strip() and not line.lstrip().startswith("%")]
    if not header or not rows:
        raise ProblemError(
            f"{where}: expected `%` header lines, the last naming the columns, then rows of "
            f"numbers; found {len(header)} header line(s) and {len(rows)} data row(s). Fix: "
            "export with COMSOL's Data export in spreadsheet format, header included."
        )
    entries = {}
    for line in header[:-1]:
        key, colon, value = line.partition(":")
        if colon:
            entries[key.strip()] = value.strip()
    columns = _parse_columns(header[-1])
    try:
        data = np.loadtxt(rows, ndmin=2, dtype=np.float64)
    except ValueError as err:
        raise ProblemError(
            f"{where}: the data rows are not a table of numbers ({err}). Fix: check that the "
            "export is COMSOL's spreadsheet format, with spaces between the columns."
        ) from None
    if data.shape[1] != len(columns):
        raise ProblemError(
            f"{where}: the last header line names {len(columns)} column(s), "
            f"{_listing(columns)}, but the rows have {data.shape[1]}. Fix: keep the column "
            "header COMSOL wrote (names without spaces), or load the table with `np.loadtxt` "
            "and build `pk.reference.Points` yourself."
        )
    return entries, columns, data


def _parse_columns(line: str) -> list[_Column]:
    columns = []
    for match in _COLUMN.finditer(line):
        params = {}
        for pair in (match["params"] or "").split(","):
            if pair.strip():
                key, _, value = pair.strip().partition("=")
                params[key] = value
        columns.append(_Column(match["name"], params))
    return columns


def _pick(
    where: str,
    columns: list[_Column],
    start: int,
    fields: Sequence[str] | Mapping[str, str],
    select: Mapping[str, float] | None,
) -> dict[str, list[tuple[_Column, int]]]:
    """Your field name -> its (column, data index) pairs, after `select`."""
    found: dict[str, list[tuple[_Column, int]]] = {}
    for index in range(start, len(columns)):
        found.setdefault(columns[index].name, []).append((columns[index], index))
    listed = ", ".join(f"`{n}` ({len(c)} column(s))" for n, c in found.items())
    if isinstance(fields, Mapping):
        for name in fields:
            if name not in found:
                raise ProblemError(
                    f"{where}: the header has no output `{name}`; it has {listed}."
                    f"{did_you_mean(name, found)} Fix: key `fields` by the header's names."
                )
        renamed = {str(mine): found[name] for name, mine in fields.items()}
    else:
        fields = tuple(fields)
        if len(fields) != len(found):
            raise ProblemError(
                f"{where}: `fields` names {len(fields)} output(s) {fields}, but the header has "
                f"{len(found)}: {listed}. Fix: name each in order, e.g. "
                f"`fields={tuple(found)}`, or pick some by the header's names, e.g. "
                f"`fields={{{next(iter(found))!r}: 'u'}}`."
            )
        renamed = {str(mine): found[name] for name, mine in zip(fields, found)}
    for key, value in (select or {}).items():
        seen = {c.params[key] for cols in renamed.values() for c, _ in cols if key in c.params}
        if not seen:
            raise ProblemError(
                f"{where}: `select` names the parameter `{key}`, which no column carries; the "
                f"columns are {_listing(columns)}."
            )
        for name, cols in renamed.items():
            renamed[name] = [(c, i) for c, i in cols if _equal(c.params.get(key), value)]
            if not renamed[name]:
                raise ProblemError(
                    f"{where}: no column of `{name}` has {key}={value}; the file has "
                    f"{key} = {', '.join(sorted(seen))}."
                )
    return renamed


def _times(where: str, outputs: Mapping[str, list[tuple[_Column, int]]]) -> np.ndarray | None:
    """The snapshot times shared by every field, sorted (None for a steady export). Sorts
    each field's columns by time; refuses a sweep of another parameter."""
    per_field: dict[str, np.ndarray | None] = {}
    for name, cols in outputs.items():
        for key in {k for c, _ in cols for k in c.params if k != _COMSOL_TIME}:
            values = sorted({c.params.get(key, "") for c, _ in cols})
            if len(values) > 1:
                raise ProblemError(
                    f"{where}: the columns of `{name}` hold a sweep of `{key}` "
                    f"({', '.join(values)}), one solution per value. Fix: keep one, e.g. "
                    f"`select={{{key!r}: {values[0]}}}`."
                )
        stamps = [c.params.get(_COMSOL_TIME) for c, _ in cols]
        if stamps == [None]:
            per_field[name] = None
            continue
        if None in stamps or len(set(stamps)) != len(stamps):
            raise ProblemError(
                f"{where}: `{name}` has {len(cols)} columns ({_listing([c for c, _ in cols])}), "
                "not one per time `@ t=...`. Fix: export one column per time."
            )
        times = _floats(where, stamps)
        cols[:] = [cols[i] for i in np.argsort(times, kind="stable")]
        per_field[name] = np.sort(times)
    first, times = next(iter(per_field.items()))
    for name, mine in per_field.items():
        if (mine is None) != (times is None) or (
            mine is not None and not np.array_equal(mine, times)
        ):
            raise ProblemError(
                f"{where}: the fields have different snapshot times: `{first}` at "
                f"{_stamps(times)}, `{name}` at {_stamps(mine)}. Fix: export every field at "
                "the same times, or load them separately."
            )
    return times


def _stamps(times: np.ndarray | None) -> str:
    return "no times" if times is None else f"t = {', '.join(f'{t:g}' for t in times)}"


def _floats(where: str, stamps: list[str]) -> np.ndarray:
    try:
        return np.array([float(s) for s in stamps])
    except ValueError:
        raise ProblemError(
            f"{where}: the times {stamps} are not all numbers. Fix: export times without units."
        ) from None


def _equal(written: str | None, value: float) -> bool:
    try:
        return written is not None and float(written) == float(value)
    except ValueError:
        return written == str(value)


def _listing(columns: Sequence[_Column]) -> str:
    return ", ".join(f"`{c}`" for c in columns)


def _example(dimension: int) -> tuple[str, ...]:
    return (
        ("x", "y", "z")[:dimension] if dimension <= 3 else tuple(f"x{i}" for i in range(dimension))
    )
