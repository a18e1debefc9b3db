"""SymPy -> torch: derivative plan, derivative engines, residual code generation."""

from pinnkit.compile.codegen import OP_TABLE
from pinnkit.compile.compiled import Batch, CompiledProblem, compile_problem
from pinnkit.compile.engine import (
    AbstractEngine,
    AutoEngine,
    AutogradEngine,
    ForwardEngine,
    TaylorEngine,
    make_engine,
)
from pinnkit.compile.hidden import HiddenInput, HiddenTerm
from pinnkit.compile.plan import DerivativePlan, Partial, build_plan

__all__ = [
    "OP_TABLE",
    "Batch",
    "CompiledProblem",
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
    "build_plan",
]
