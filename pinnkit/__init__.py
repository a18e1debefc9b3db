"""pinnkit: physics-informed neural networks from SymPy problem files.

The public API is re-exported here; see README.md for a first fit.
"""

from importlib.metadata import PackageNotFoundError, version

from pinnkit import reference
from pinnkit.config import LBFGS, Adam, Config, Sampling, apply_overrides
from pinnkit.domain import (
    AbstractDomain,
    Box,
    Disk,
    Interval,
    Rectangle,
    SpaceTime,
    TimeInterval,
)
from pinnkit.errors import (
    CompileError,
    ConfigError,
    DiscoveryError,
    PinnkitError,
    PinnkitWarning,
    ProblemError,
    TrainingError,
)
from pinnkit.models import MLP, Fourier, Gaussians, HiddenNet
from pinnkit.models.lagrangian import Lagrangian
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
)

try:
    __version__ = version("pinnkit")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "reference",
    "Config",
    "Adam",
    "LBFGS",
    "Sampling",
    "AbstractDomain",
    "Box",
    "Disk",
    "Interval",
    "Rectangle",
    "SpaceTime",
    "TimeInterval",
    "PinnkitError",
    "PinnkitWarning",
    "ProblemError",
    "CompileError",
    "ConfigError",
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
    "__version__",
]

from pinnkit.compile import compile_problem  # noqa: E402
from pinnkit.discover import Discovery, discover  # noqa: E402
from pinnkit.load import load_problem_file  # noqa: E402
from pinnkit.runs import Run  # noqa: E402
from pinnkit.train import fit, resume  # noqa: E402
from pinnkit.train.adaptive import RAR  # noqa: E402
from pinnkit.train.weighting import Balance, Causal  # noqa: E402

__all__ += ["Run", "fit", "resume", "compile_problem", "load_problem_file", "apply_overrides"]
__all__ += ["Causal", "Balance", "RAR"]
__all__ += ["discover", "Discovery"]
