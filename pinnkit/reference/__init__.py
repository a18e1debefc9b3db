"""Classical reference solutions (closed forms, gridded data, scattered points and COMSOL
exports, Cole-Hopf, Fourier ETDRK4), and the sums over vector components they and the
compiler evaluate without expanding (`Coefficients`, `lower_sums`).

NumPy/SciPy/SymPy only: importing this package never imports torch.
"""

from pinnkit.reference.base import AbstractReference
from pinnkit.reference.burgers import burgers, burgers_cole_hopf
from pinnkit.reference.comsol import comsol
from pinnkit.reference.exact import Exact
from pinnkit.reference.grid import Grid
from pinnkit.reference.points import Points
from pinnkit.reference.spectral import allen_cahn, kdv, kuramoto_sivashinsky, solve_periodic
from pinnkit.reference.sums import Coefficients, SumKernel, lower_sums

__all__ = [
    "AbstractReference",
    "Coefficients",
    "Exact",
    "Grid",
    "Points",
    "comsol",
    "burgers",
    "burgers_cole_hopf",
    "solve_periodic",
    "allen_cahn",
    "kdv",
    "kuramoto_sivashinsky",
    "SumKernel",
    "lower_sums",
]
