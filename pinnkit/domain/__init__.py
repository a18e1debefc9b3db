"""Geometry of a problem: intervals, boxes, disks, time intervals and space-time products.

A domain knows its coordinate symbols (space first, then time), samples points in named regions
from a caller's `numpy.random.Generator`, gives unit outward normals on boundaries and resolves
boundary parts given as names (`"left"`) or equations (`Eq(x, 1)`). NumPy, SciPy and SymPy only.
Its parts: `sampling` (`Sample`, unit-cube draws), `base` (`AbstractDomain`), `shapes` (boxes
and the disk) and `spacetime` (`TimeInterval`, `SpaceTime`); all importable from here.
"""

# The private helpers (`_x as _x`) were importable from the former single-file module and
# still are; they are not part of the public API.
from pinnkit.domain.base import _EQ_RTOL as _EQ_RTOL
from pinnkit.domain.base import AbstractDomain
from pinnkit.domain.base import _number as _number
from pinnkit.domain.base import _symbol as _symbol
from pinnkit.domain.base import _text as _text
from pinnkit.domain.sampling import METHODS, Sample
from pinnkit.domain.sampling import _allocate as _allocate
from pinnkit.domain.sampling import _fill as _fill
from pinnkit.domain.sampling import _unit as _unit
from pinnkit.domain.shapes import _ALIASES as _ALIASES
from pinnkit.domain.shapes import (
    AbstractBox,
    Box,
    Disk,
    Interval,
    Rectangle,
)
from pinnkit.domain.shapes import _check_axes as _check_axes
from pinnkit.domain.shapes import _make_box as _make_box
from pinnkit.domain.spacetime import SpaceTime, TimeInterval

__all__ = [
    "METHODS",
    "AbstractDomain",
    "AbstractBox",
    "Box",
    "Disk",
    "Interval",
    "Rectangle",
    "Sample",
    "SpaceTime",
    "TimeInterval",
]
