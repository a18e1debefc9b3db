"""Geometry of a problem: shapes, their unions, differences and intersections, time, and
space-time products.

A domain knows its coordinate symbols (space first, then time), samples points in named regions
from a caller's `numpy.random.Generator`, gives unit outward normals on boundaries and resolves
boundary parts given as names (`"left"`) or equations (`Eq(x, 1)`). NumPy, SciPy and SymPy only.
Its parts: `sampling` (`Sample`, unit-cube draws), `base` (`AbstractDomain`, `Measure`),
`solid` (`Solid`: signed distance and boundary pieces), `shapes` (boxes and the disk),
`polygons` (`Polygon`, `Triangle`), `curved` (`Ellipse`, `Ball`, `Cylinder`), `csg` (`|`, `-`,
`&`), `mesh` (`Mesh`, from mesh files), `vector` (`Vector`, a coordinate of d components),
`highdim` (`Ball` and `Cube` in d dimensions over a `Vector`) and `spacetime`
(`TimeInterval`, `SpaceTime`); all importable from here.
"""

from pinnkit.domain.base import AbstractDomain, Measure
from pinnkit.domain.csg import CSG
from pinnkit.domain.curved import Ball, Cylinder, Ellipse
from pinnkit.domain.highdim import Cube
from pinnkit.domain.mesh import Mesh
from pinnkit.domain.polygons import Polygon, Triangle
from pinnkit.domain.sampling import METHODS, Sample
from pinnkit.domain.shapes import (
    AbstractBox,
    Box,
    Disk,
    Interval,
    Rectangle,
)
from pinnkit.domain.solid import Solid
from pinnkit.domain.spacetime import SpaceTime, TimeInterval
from pinnkit.domain.vector import Vector

__all__ = [
    "CSG",
    "METHODS",
    "AbstractDomain",
    "AbstractBox",
    "Ball",
    "Box",
    "Cube",
    "Cylinder",
    "Disk",
    "Ellipse",
    "Interval",
    "Measure",
    "Mesh",
    "Polygon",
    "Rectangle",
    "Sample",
    "Solid",
    "SpaceTime",
    "TimeInterval",
    "Triangle",
    "Vector",
]
