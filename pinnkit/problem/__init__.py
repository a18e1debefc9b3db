"""`Problem` and its parts: fields, `Parameter`, `Hidden`, conditions, `Data`, and their validation.

A problem is plain data built from SymPy expressions. It is validated once, when it is
built, so that a bad problem file never reaches the compiler or the training loop.
This package never imports torch. Its parts: `symbols` (`Parameter`, `Normal`, `Hidden`, field
names), `conditions` (`Equation`, `Condition` and its helpers), `data` (`Data`) and `problem`
(`Problem`), `operators` (`laplacian`, `grad`, ... over a `Vector`), all importable from
`pinnkit.problem`; `checks` (expression checks), `exact` (exact Dirichlet parts),
`error_points` (where errors are measured), `highdim` (the STDE test solutions), `noise` (the
noise in observations, from the observations alone), `hidden_partials` (derivatives of Hidden
terms by the chain rule) and `file`, which loads a problem file.
"""

from pinnkit.problem.conditions import (
    Boundary,
    Condition,
    Dirichlet,
    Equation,
    Initial,
    Neumann,
    Periodic,
    Robin,
)
from pinnkit.problem.data import Data
from pinnkit.problem.operators import biharmonic, div, dot, grad, hessian_trace, laplacian
from pinnkit.problem.problem import Problem
from pinnkit.problem.symbols import (
    Hidden,
    Normal,
    Parameter,
    derivative_label,
    field_name,
    is_hidden,
    short_form,
)

__all__ = [
    "Parameter",
    "Hidden",
    "is_hidden",
    "Normal",
    "Condition",
    "Initial",
    "Boundary",
    "Dirichlet",
    "Neumann",
    "Robin",
    "Periodic",
    "Data",
    "Equation",
    "Problem",
    "field_name",
    "derivative_label",
    "short_form",
    "laplacian",
    "biharmonic",
    "hessian_trace",
    "grad",
    "div",
    "dot",
]
