"""Geometry of a problem: intervals, boxes, disks, time intervals and space-time products.

A domain knows its coordinate symbols (space first, then time), samples points in named regions
from a caller's `numpy.random.Generator`, gives unit outward normals on boundaries and resolves
boundary parts given as names (`"left"`) or equations (`Eq(x, 1)`). NumPy, SciPy and SymPy only.
Its parts: `sampling` (`Sample`, unit-cube draws), `base` (`AbstractDomain`), `shapes` (boxes
and the disk) and `spacetime` (`TimeInterval`, `SpaceTime`); all importable from here.
"""

from pinnkit.domain.base import AbstractDomain
from pinnkit.domain.sampling import METHODS, Sample
from pinnkit.domain.shapes import (
    AbstractBox,
    Box,
    Disk,
    Interval,
    Rectangle,
)
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
