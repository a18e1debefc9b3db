"""pinnkit: physics-informed neural networks from SymPy problem files.

The public API is re-exported here; see README.md for a first fit and docs/ for the rest.
"""

from importlib.metadata import PackageNotFoundError, version

from pinnkit import reference
from pinnkit.build import build
from pinnkit.compile import compile_problem
from pinnkit.config import (
    LBFGS,
    MLP,
    RAR,
    SOAP,
    Adam,
    Balance,
    Causal,
    Config,
    Fourier,
    Gaussians,
    HiddenNet,
    Lagrangian,
    LevenbergMarquardt,
    Operators,
    Sampling,
    SSBroyden,
    apply_overrides,
)
from pinnkit.discover import Discovery, discover
from pinnkit.domain import (
    AbstractDomain,
    Ball,
    Box,
    Cube,
    Cylinder,
    Disk,
    Ellipse,
    Interval,
    Mesh,
    Polygon,
    Rectangle,
    SpaceTime,
    TimeInterval,
    Triangle,
    Vector,
)
from pinnkit.errors import (
    CompileError,
    ConfigError,
    DiscoveryError,
    PinnkitError,
    PinnkitWarning,
    ProblemError,
    RunError,
    TrainingError,
)
from pinnkit.problem import (
    Boundary,
    Condition,
    Data,
    Dirichlet,
    Hidden,
    Initial,
    Neumann,
    Normal,
    Parameter,
    Periodic,
    Problem,
    Robin,
    biharmonic,
    div,
    dot,
    grad,
    hessian_trace,
    laplacian,
)
from pinnkit.problem.file import load_problem_file
from pinnkit.reference import Coefficients
from pinnkit.runs import Run
from pinnkit.train import fit, resume

try:
    __version__ = version("pinnkit")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "reference",
    "Coefficients",
    "Config",
    "Adam",
    "SOAP",
    "LBFGS",
    "SSBroyden",
    "LevenbergMarquardt",
    "Sampling",
    "Operators",
    "AbstractDomain",
    "Ball",
    "Box",
    "Cube",
    "Cylinder",
    "Disk",
    "Ellipse",
    "Interval",
    "Mesh",
    "Polygon",
    "Rectangle",
    "SpaceTime",
    "TimeInterval",
    "Triangle",
    "Vector",
    "PinnkitError",
    "PinnkitWarning",
    "ProblemError",
    "CompileError",
    "ConfigError",
    "RunError",
    "TrainingError",
    "DiscoveryError",
    "MLP",
    "Fourier",
    "Gaussians",
    "Lagrangian",
    "HiddenNet",
    "Boundary",
    "Condition",
    "Data",
    "Dirichlet",
    "Hidden",
    "Initial",
    "Neumann",
    "Normal",
    "Parameter",
    "Periodic",
    "Problem",
    "Robin",
    "laplacian",
    "biharmonic",
    "hessian_trace",
    "grad",
    "div",
    "dot",
    "__version__",
    "Run",
    "fit",
    "resume",
    "build",
    "compile_problem",
    "load_problem_file",
    "apply_overrides",
    "Causal",
    "Balance",
    "RAR",
    "discover",
    "Discovery",
]
