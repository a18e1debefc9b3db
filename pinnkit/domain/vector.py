"""`Vector`: a coordinate with `dim` components, written as one SymPy symbol.

High-dimensional problems are posed in a vector coordinate: `x = pk.Vector("x", 1000)`,
fields `sp.Function("u")(x, t)`, operators `pk.laplacian(u, x)` kept whole (never expanded
over the dimensions). The numeric layers see the components as ordinary columns: `x[k]` is
the component symbol `x[k]` (0-based), and `x.components` lists them in column order. With a
symbolic index `x[i]` is an `sp.Indexed`, for sums over the components
(`sp.Sum(x[i] ** 2, (i, 0, x.dim - 1))`).
"""

from __future__ import annotations

import sympy as sp

from pinnkit.errors import ProblemError

__all__ = ["Vector", "components_of", "signature_text"]


class Vector(sp.Symbol):
    """A vector coordinate of `dim` real components (one symbol in expressions).

    **Arguments**

    - `name`: an identifier (`"x"`).
    - `dim`: the number of components, an int >= 1.

    **Raises**

    `ProblemError` for a name that is not an identifier or a `dim` that is not a positive int.
    """

    _iterable = False  # SymPy must not take `__getitem__` for a sequence
    is_commutative = True

    def __new__(cls, name: str, dim: int):
        if not (isinstance(name, str) and name.isidentifier()):
            raise ProblemError(
                f"Vector({name!r}, {dim!r}): the name must be an identifier. "
                'Fix: `pk.Vector("x", 100)`.'
            )
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise ProblemError(
                f'Vector("{name}", {dim!r}): the dimension must be an int >= 1. '
                f'Fix: `pk.Vector("{name}", 100)`.'
            )
        obj = sp.Symbol.__xnew__(cls, name, real=True)
        obj.dim = dim
        obj._components = None
        return obj

    def __getnewargs_ex__(self):
        return (self.name, self.dim), {}

    def _hashable_content(self):
        return (*super()._hashable_content(), self.dim)

    @property
    def components(self) -> tuple[sp.Symbol, ...]:
        """The component symbols `x[0]`, ..., `x[dim-1]`, in column order (made once)."""
        if self._components is None:
            self._components = tuple(
                sp.Symbol(f"{self.name}[{k}]", real=True) for k in range(self.dim)
            )
        return self._components

    def indexed(self) -> sp.IndexedBase:
        """The `IndexedBase` behind `x[i]` with a symbolic index."""
        return sp.IndexedBase(self.name, shape=(self.dim,), real=True)

    def __getitem__(self, index):
        if isinstance(index, int) and not isinstance(index, bool):
            if not -self.dim <= index < self.dim:
                raise ProblemError(
                    f"{self.name}[{index}]: index out of range; `{self.name}` has "
                    f"{self.dim} components, 0 to {self.dim - 1}."
                )
            return self.components[index]
        if isinstance(index, slice):
            return self.components[index]
        index = sp.sympify(index)
        if isinstance(index, sp.Integer):
            return self[int(index)]
        return self.indexed()[index]

    def __len__(self) -> int:
        return self.dim


def components_of(symbols) -> tuple[sp.Symbol, ...]:
    """Expand every `Vector` of `symbols` into its components (others pass through)."""
    out: list[sp.Symbol] = []
    for s in symbols:
        out.extend(s.components if isinstance(s, Vector) else (s,))
    return tuple(out)


def signature_text(symbols) -> str:
    """`x (100 components), t`: a signature for messages, vectors summarised."""
    return ", ".join(
        f"{s} ({s.dim} components)" if isinstance(s, Vector) else str(s) for s in symbols
    )
