"""`Problem` and its parts: fields, `Parameter`, `Hidden`, conditions, `Data`, and their validation.

A problem is plain data built from SymPy expressions. It is validated once, when it is
built, so that a bad problem file never reaches the compiler or the training loop.
This package never imports torch. Its parts: `symbols` (`Parameter`, `Normal`, `Hidden`, field
names), `conditions` (`Equation`, `Condition` and its helpers), `data` (`Data`) and `problem`
(`Problem`); everything is importable from `pinnkit.problem`.
"""

# The private helpers (`_x as _x`) were importable from the former single-file module and
# still are; they are not part of the public API.
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
from pinnkit.problem.conditions import _as_expr as _as_expr
from pinnkit.problem.conditions import _default_name as _default_name
from pinnkit.problem.conditions import _normal_derivative as _normal_derivative
from pinnkit.problem.conditions import _slug as _slug
from pinnkit.problem.data import Data
from pinnkit.problem.data import _read_csv as _read_csv
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
from pinnkit.problem.symbols import _has_hidden as _has_hidden
from pinnkit.problem.symbols import _hidden_bounds as _hidden_bounds
from pinnkit.problem.symbols import _is_field_like as _is_field_like

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
]
