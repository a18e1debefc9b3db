"""The PySR backend: genetic-programming symbolic regression (Cranmer 2023, arXiv 2305.01582)
through `pysr.PySRRegressor`, its equation table read back into a pinnkit `Front`.

PySR runs on Julia. `pysr` is imported inside `PySR.fit` only, after `julia_status` has
checked that the import will not try to download Julia (see `pinnkit.discover.julia`).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sympy as sp

from pinnkit.discover.base import AbstractBackend, Front, make_front, mean_squared_error
from pinnkit.discover.julia import julia_status
from pinnkit.errors import DiscoveryError

__all__ = ["PySR", "front_from_equations", "pysr_guess"]


@dataclass(frozen=True)
class PySR(AbstractBackend):
    """Symbolic regression with PySR's `PySRRegressor`.

    The options map one to one onto `PySRRegressor`'s; `options` passes any other keyword
    through (say `{"extra_sympy_mappings": ...}` for a custom operator). The search is made
    reproducible by default (`deterministic=True` with `parallelism="serial"`, `seed` as
    `random_state`); pass `deterministic=False, parallelism="multithreading"` for speed.

    Every row of PySR's equation table (`model.equations_`) becomes a candidate: its
    `sympy_format` with PySR's variable names mapped back to the input symbols, its loss
    recomputed on the samples and its complexity counted by `base.complexity`, so the front
    is comparable with other backends'. PySR's own complexity, loss and score stay in its
    exports: the run directory (`hall_of_fame.csv`, `checkpoint.pkl`) under
    `output_directory` (a fresh temporary directory when None), listed in `Front.exports`.
    `model_selection` is PySR's choice, recorded nowhere else: `Front.best` applies the same
    "best" rule to the re-measured front.

    With `seed_offline` (default) the offline backend runs first on the same samples and
    every formula of its front (and near it) that PySR's operators can write is passed to
    PySR as a guess (`PySRRegressor(guesses=...)`, PySR 2.0 and later): the search starts
    from those formulas, their constants optimised, rather than from random ones only.
    """

    binary_operators: tuple[str, ...] = ("+", "-", "*", "/")
    unary_operators: tuple[str, ...] = ("sin", "cos", "exp", "square", "cube")
    maxsize: int = 25
    niterations: int = 40
    populations: int = 15
    model_selection: str = "best"
    deterministic: bool = True
    parallelism: str = "serial"
    procs: int | None = None
    timeout_in_seconds: float | None = None
    output_directory: str | None = None
    options: Mapping[str, object] = field(default_factory=dict)
    seed_offline: bool = True
    name: str = "pysr"

    def fit(
        self, inputs: Mapping[sp.Symbol, np.ndarray], target: np.ndarray, *, seed: int = 0
    ) -> Front:
        status = julia_status()
        if not status.usable:
            raise DiscoveryError(f"PySR backend: {status.reason}")
        from pysr import PySRRegressor  # imported here: the import starts Julia

        start = time.perf_counter()
        symbols = tuple(inputs)
        # PySR needs names that are valid identifiers and not SymPy functions (`u_x` is fine
        # but `S` or `E` are not), so it sees x0, x1, ... and they are mapped back below.
        names = [f"x{i}" for i in range(len(symbols))]
        features = np.stack([np.asarray(inputs[s], dtype=float).ravel() for s in symbols], axis=1)
        y = np.asarray(target, dtype=float).ravel()
        directory = self.output_directory or tempfile.mkdtemp(prefix="pinnkit-pysr-")
        settings = dict(
            binary_operators=list(self.binary_operators),
            unary_operators=list(self.unary_operators),
            maxsize=self.maxsize,
            niterations=self.niterations,
            populations=self.populations,
            model_selection=self.model_selection,
            random_state=seed,
            deterministic=self.deterministic,
            parallelism=self.parallelism,
            timeout_in_seconds=self.timeout_in_seconds,
            output_directory=directory,
            progress=False,
            verbosity=0,
        )
        if self.procs is not None:
            settings["procs"] = self.procs
        if self.seed_offline:
            settings["guesses"] = _offline_guesses(self, inputs, target, names, seed=seed)
        settings.update(self.options)
        model = PySRRegressor(**settings)
        model.fit(features, y, variable_names=names)
        run_directory = Path(model.output_directory_) / model.run_id_
        exports = {
            path.stem: str(path)
            for path in (run_directory / "hall_of_fame.csv", run_directory / "checkpoint.pkl")
            if path.exists()
        }
        return front_from_equations(
            model.equations_.to_dict("records"),
            dict(zip(symbols, (features[:, i] for i in range(len(symbols))))),
            y,
            names=names,
            backend=self.name,
            seconds=time.perf_counter() - start,
            exports=exports,
        )


def _offline_guesses(backend: PySR, inputs, target, names, *, seed: int) -> list[str]:
    """The offline front's formulas (members, near ones and the polynomials' front) that
    `backend`'s operators can write, in PySR's syntax over `names` (`pysr_guess`)."""
    from pinnkit.discover.offline import Offline

    front = Offline().fit(inputs, target, seed=seed)
    symbols = tuple(inputs)
    guesses = []
    for candidate in (*front.candidates, *front.near, *front.subfront):
        text = pysr_guess(
            candidate.expr,
            dict(zip(symbols, names)),
            backend.binary_operators,
            backend.unary_operators,
        )
        if text is not None and text not in guesses:
            guesses.append(text)
    return guesses


#: SymPy function names that PySR's operators spell otherwise.
_PYSR_NAMES = {"Abs": "abs"}


def pysr_guess(
    expr: sp.Expr,
    names: Mapping[sp.Symbol, str],
    binary: Iterable[str] = ("+", "-", "*", "/"),
    unary: Iterable[str] = ("sin", "cos", "exp", "square", "cube"),
) -> str | None:
    """`expr` written for PySR's `guesses` (Julia syntax, the inputs renamed by `names`,
    only the operators `binary` and `unary`), or None when those operators cannot write it.
    `-0.9*u*v` -> `((-0.9) * x0 * x1)`; `u**2` -> `square(x0)` (or `(x0 * x0)` without
    `square`); `u/(a + u)` needs `/`; a float exponent needs `^`."""
    binary, unary = set(binary), set(unary)

    def write(e: sp.Expr) -> str | None:
        if e in names:
            return names[e]
        if e.is_Symbol:
            return None
        if e.is_number:
            value = complex(e)
            if value.imag or not np.isfinite(value.real):
                return None
            return f"({value.real!r})" if value.real < 0 else repr(value.real)
        parts = [write(a) for a in e.args]
        if any(p is None for p in parts):
            return None
        if isinstance(e, sp.Add) and "+" in binary:
            return "(" + " + ".join(parts) + ")"
        if isinstance(e, sp.Mul) and "*" in binary:
            return "(" + " * ".join(parts) + ")"
        if isinstance(e, sp.Pow):
            return _power(parts[0], e.exp, binary, unary)
        function = _PYSR_NAMES.get(type(e).__name__, type(e).__name__)
        if isinstance(e, sp.Function) and function in unary and len(parts) == 1:
            return f"{function}({parts[0]})"
        return None

    return write(expr)


def _power(base: str, exponent: sp.Expr, binary: set, unary: set) -> str | None:
    """`base ** exponent` with the operators at hand, or None."""
    if exponent.is_Integer and exponent != 0:
        k = abs(int(exponent))
        if k == 2 and "square" in unary:
            written = f"square({base})"
        elif k == 3 and "cube" in unary:
            written = f"cube({base})"
        elif "*" in binary and k <= 5:
            written = "(" + " * ".join([base] * k) + ")"
        elif "^" in binary:
            written = f"({base} ^ {k})"
        else:
            return None
        if exponent > 0:
            return written
        return f"(1.0 / {written})" if "/" in binary else None
    if "^" in binary and exponent.is_number:
        return f"({base} ^ {float(exponent)!r})"
    return None


def front_from_equations(
    records: Iterable[Mapping[str, object]],
    inputs: Mapping[sp.Symbol, np.ndarray],
    target: np.ndarray,
    *,
    names: list[str],
    backend: str = "pysr",
    seconds: float = 0.0,
    exports: Mapping[str, str] | None = None,
) -> Front:
    """Read PySR's equation table (rows with a `sympy_format` column) back into a `Front`.

    `names[i]` is the variable name PySR used for the i-th input symbol.

    **Raises**

    - `DiscoveryError`: when a row mentions a variable PySR was not given.
    """
    mapping = {sp.Symbol(n): s for n, s in zip(names, inputs)}
    pool = []
    for row in records:
        expr = sp.sympify(row["sympy_format"])
        stray = {str(s) for s in expr.free_symbols} - set(names)
        if stray:
            raise DiscoveryError(
                f"PySR backend: equation `{expr}` uses {sorted(stray)}, which are not among "
                f"the variables {names}; this is a bug in pinnkit's PySR read-back."
            )
        expr = expr.xreplace(mapping)
        pool.append((expr, mean_squared_error(expr, inputs, target)))
    return make_front(
        pool, target, inputs=tuple(inputs), backend=backend, seconds=seconds, exports=exports
    )
