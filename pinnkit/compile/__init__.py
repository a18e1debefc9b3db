"""SymPy -> torch: derivative plan, derivative engines, residual code generation, and the
one residuals interface (`AbstractResiduals`) that `CompiledProblem` and the Lagrangian
rewrite implement."""

from pinnkit.compile.auto import AutoEngine, make_engine
from pinnkit.compile.base import AbstractResiduals, Batch
from pinnkit.compile.codegen import OP_TABLE
from pinnkit.compile.compiled import CompiledProblem
from pinnkit.compile.compiler import compile_problem
from pinnkit.compile.engine import AbstractEngine, AutogradEngine, ForwardEngine
from pinnkit.compile.hidden import HiddenInput, HiddenTerm
from pinnkit.compile.lagrangian import LagrangianResiduals
from pinnkit.compile.operators import choose_method, describe_operator, evaluate_operators
from pinnkit.compile.plan import DerivativePlan, Operator, Partial, build_plan
from pinnkit.compile.taylor import TaylorEngine

__all__ = [
    "OP_TABLE",
    "AbstractResiduals",
    "Batch",
    "CompiledProblem",
    "LagrangianResiduals",
    "compile_problem",
    "AbstractEngine",
    "AutogradEngine",
    "ForwardEngine",
    "TaylorEngine",
    "AutoEngine",
    "make_engine",
    "HiddenInput",
    "HiddenTerm",
    "DerivativePlan",
    "Partial",
    "Operator",
    "build_plan",
    "evaluate_operators",
    "choose_method",
    "describe_operator",
]
