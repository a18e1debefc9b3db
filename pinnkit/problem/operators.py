"""Differential operators over a `Vector` coordinate, kept whole as SymPy nodes.

`pk.laplacian(u, x)`, `pk.biharmonic(u, x)`, `pk.dot(pk.grad(u, x), pk.grad(u, x))`
($|\\nabla u|^2$) and `pk.dot(x, pk.grad(u, x))` ($x \\cdot \\nabla u$) are single nodes whose
arguments are the field and the vector: a 100,000-dimensional Laplacian is one node, never
100,000 second partials. The compiler lists them in the derivative plan
(`pinnkit.compile.plan.Operator`) and evaluates each exactly or by a stochastic estimator
(`pinnkit.compile.operators`). Never imports torch.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import sympy as sp

from pinnkit.domain.vector import Vector
from pinnkit.errors import ProblemError

__all__ = [
    "VectorOperator",
    "Laplacian",
    "GradNorm2",
    "Biharmonic",
    "XDotGrad",
    "HessianTrace",
    "ConstantMatrix",
    "Gradient",
    "laplacian",
    "biharmonic",
    "hessian_trace",
    "grad",
    "div",
    "dot",
]


class VectorOperator(sp.Function):
    """An operator applied to a field over a vector coordinate: args `(field, vector)`."""

    kind = ""
    nargs = 2
    symbol = ""  # LaTeX of the operator, `{x}` the vector and `{u}` the field

    @classmethod
    def eval(cls, field, vector):
        return None  # never evaluated symbolically: the compiler evaluates it numerically

    def fdiff(self, argindex=1):
        raise ProblemError(
            f"`{self}` is differentiated (e.g. in time): pinnkit evaluates vector operators "
            "as they are and does not differentiate them. Fix: introduce a field for the "
            "quantity and an equation that defines it."
        )

    @property
    def field(self) -> sp.Expr:
        return self.args[0]

    @property
    def vector(self) -> Vector:
        return self.args[1]

    def _latex(self, printer) -> str:
        return self.symbol.format(u=printer._print(self.args[0]), x=printer._print(self.args[1]))

    def _sympystr(self, printer) -> str:
        return f"{type(self).__name__}({printer._print(self.args[0])}, {self.args[1]})"


class Laplacian(VectorOperator):
    """$\\Delta_x u = \\sum_i \\partial^2 u / \\partial x_i^2$."""

    kind = "laplacian"
    symbol = "\\Delta_{{{x}}} {u}"


class GradNorm2(VectorOperator):
    """$|\\nabla_x u|^2 = \\sum_i (\\partial u / \\partial x_i)^2$."""

    kind = "grad_norm2"
    symbol = "\\left|\\nabla_{{{x}}} {u}\\right|^{{2}}"


class Biharmonic(VectorOperator):
    """$\\Delta_x^2 u = \\sum_{i,j} \\partial^4 u / \\partial x_i^2 \\partial x_j^2$."""

    kind = "biharmonic"
    symbol = "\\Delta_{{{x}}}^{{2}} {u}"


class XDotGrad(VectorOperator):
    """$x \\cdot \\nabla_x u = \\sum_i x_i\\, \\partial u / \\partial x_i$."""

    kind = "x_dot_grad"
    symbol = "{x} \\cdot \\nabla_{{{x}}} {u}"


class ConstantMatrix(sp.Atom):
    """A constant symmetric d x d matrix inside an operator node, compared by content.

    `eigen()` gives its eigenvalues and eigenvectors (computed once; a diagonal matrix
    directly), which the evaluators of `HessianTrace` work with."""

    def __new__(cls, array):
        obj = super().__new__(cls)
        obj.array = np.array(array, dtype=np.float64)
        obj.array.setflags(write=False)
        obj.digest = hashlib.sha256(obj.array.tobytes()).hexdigest()
        obj._eigen = None
        return obj

    def __getnewargs__(self):
        return (self.array,)

    def _hashable_content(self):
        return (self.array.shape, self.digest)

    def _sympystr(self, printer) -> str:
        return f"A[{self.array.shape[0]}x{self.array.shape[1]}]"

    def _latex(self, printer) -> str:
        return "A"

    def eigen(self) -> tuple[np.ndarray, np.ndarray]:
        """`(values, vectors)` with `vectors[:, k]` the k-th unit eigenvector."""
        if self._eigen is None:
            off = self.array - np.diag(np.diag(self.array))
            if not off.any():
                self._eigen = (np.diag(self.array).copy(), np.eye(len(self.array)))
            else:
                self._eigen = np.linalg.eigh(self.array)
        return self._eigen


class HessianTrace(VectorOperator):
    """$\\sum_{i,j} A_{ij} \\partial^2 u / \\partial x_i \\partial x_j = \\operatorname{tr}(A
    \\nabla^2 u)$ for a constant symmetric matrix $A$: args `(field, vector, matrix)`."""

    kind = "hessian_trace"
    nargs = 3
    symbol = "\\operatorname{{tr}}(A \\nabla_{{{x}}}^{{2}} {u})"

    @classmethod
    def eval(cls, field, vector, matrix):
        return None

    def _sympystr(self, printer) -> str:
        return f"HessianTrace({printer._print(self.args[0])}, {self.args[1]}, {self.args[2]})"


@dataclass(frozen=True)
class Gradient:
    """`pk.grad(u, x)`: the gradient of a field over a vector coordinate, not a SymPy node.

    It is an intermediate: `pk.div(g)` is the Laplacian, `pk.dot(g, g)` (or `g.norm2()`)
    is $|\\nabla u|^2$ and `pk.dot(x, g)` is $x \\cdot \\nabla u$.
    """

    field: sp.Expr
    vector: Vector

    def norm2(self) -> GradNorm2:
        """$|\\nabla_x u|^2$."""
        return GradNorm2(self.field, self.vector)

    def __repr__(self) -> str:
        return f"grad({self.field}, {self.vector})"


def _check(where: str, field, vector) -> None:
    if not isinstance(vector, Vector):
        raise ProblemError(
            f"{where}: the second argument is `{vector!r}`, expected a vector coordinate. "
            f'Fix: `x = pk.Vector("x", d)`, fields `sp.Function("u")(x, t)`, then '
            f"`{where.split('(')[0]}(u, x)`. For one coordinate write the derivatives "
            "(`u.diff(x, 2)`)."
        )
    args = getattr(field, "args", ())
    if not isinstance(getattr(field, "func", None), sp.core.function.UndefinedFunction):
        raise ProblemError(
            f"{where}: `{field}` is not a field; vector operators apply to a field "
            f'(`u = sp.Function("u")({vector}, t)`). Fix: apply the operator to the field '
            "and write products and sums outside it."
        )
    if vector not in args:
        raise ProblemError(
            f"{where}: the field `{field}` does not take `{vector}`. Fix: apply the field to "
            f'the vector, `sp.Function("{field.func}")({vector}, ...)`.'
        )


def laplacian(field: sp.Expr, vector: Vector) -> Laplacian:
    """$\\Delta_x u$, the sum of the second derivatives of `field` in every component of
    `vector`, as one node.

    **Raises**

    `ProblemError` when `vector` is not a `pk.Vector` or `field` is not a field of it.
    """
    _check(f"laplacian({field}, {vector})", field, vector)
    return Laplacian(field, vector)


def biharmonic(field: sp.Expr, vector: Vector) -> Biharmonic:
    """$\\Delta_x^2 u$ as one node (same checks as `laplacian`)."""
    _check(f"biharmonic({field}, {vector})", field, vector)
    return Biharmonic(field, vector)


def hessian_trace(field: sp.Expr, vector: Vector, matrix) -> HessianTrace:
    """$\\sum_{i,j} A_{ij} u_{x_i x_j}$ with `matrix` a constant (d, d) array (the diffusion
    of a Kolmogorov or Fokker-Planck operator, $A = \\sigma \\sigma^T$), as one node.
    Only the symmetric part of $A$ acts on the (symmetric) Hessian, so $(A + A^T)/2$ is
    kept. `pk.laplacian` is the case $A = I$.

    **Raises**

    `ProblemError` when `matrix` is not a finite (d, d) array, d the vector's dimension,
    and as `laplacian` does.
    """
    where = f"hessian_trace({field}, {vector}, A)"
    _check(where, field, vector)
    try:
        array = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is None or array.shape != (vector.dim, vector.dim) or not np.isfinite(array).all():
        shape = getattr(array, "shape", type(matrix).__name__)
        raise ProblemError(
            f"{where}: A must be a finite ({vector.dim}, {vector.dim}) array of numbers, "
            f"one row and column per component of `{vector}`; found {shape}. Fix: e.g. "
            f"`np.eye({vector.dim})`, or `sigma @ sigma.T` for a diffusion `sigma`."
        )
    return HessianTrace(field, vector, ConstantMatrix((array + array.T) / 2))


def grad(field: sp.Expr, vector: Vector) -> Gradient:
    """The gradient of `field` over `vector`: use it through `div`, `dot` or `.norm2()`."""
    _check(f"grad({field}, {vector})", field, vector)
    return Gradient(field, vector)


def div(value: Gradient) -> Laplacian:
    """The divergence of `pk.grad(u, x)`: the Laplacian.

    **Raises**

    `ProblemError` for anything but `pk.grad(u, x)`: pinnkit has no vector-valued fields.
    """
    if not isinstance(value, Gradient):
        raise ProblemError(
            f"div({value!r}): pinnkit takes the divergence of `pk.grad(u, x)` only (fields "
            "are scalar). Fix: `pk.div(pk.grad(u, x))`, i.e. `pk.laplacian(u, x)`."
        )
    return Laplacian(value.field, value.vector)


def dot(a, b) -> sp.Expr:
    """`dot(grad u, grad u)` = $|\\nabla u|^2$; `dot(x, grad u)` = $x \\cdot \\nabla u$.

    **Raises**

    `ProblemError` for other pairs (two different gradients, another vector).
    """
    if isinstance(a, Gradient) and isinstance(b, Gradient) and a == b:
        return GradNorm2(a.field, a.vector)
    for v, g in ((a, b), (b, a)):
        if isinstance(v, Vector) and isinstance(g, Gradient) and g.vector == v:
            return XDotGrad(g.field, g.vector)
    raise ProblemError(
        f"dot({a!r}, {b!r}): pinnkit supports `dot(grad(u, x), grad(u, x))` "
        "(|grad u|^2) and `dot(x, grad(u, x))` (x . grad u). Fix: write one of these, or "
        "expand the sum over components with `sp.Sum`."
    )
