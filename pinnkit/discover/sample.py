"""Samples of each Hidden term of a trained run: its inputs where the solution puts them, and
its network's values there (what a symbolic-regression backend fits).

Points are where the term acts: collocation points drawn uniformly in the domain's interior
plus the observation points of every data set when an equation applies it; for a term that
only conditions apply (an unknown flux law, `pk.Boundary(u.diff(x) + g(u), on="x = 1")`),
points drawn on those conditions' regions, since elsewhere its network was never trained and
its values there are extrapolation. At each, the term's inputs $a_i(p)$ come from the
trained solution network and the target is the hidden network $f_\\theta(a(p))$
(`CompiledProblem.hidden_values`). The samples are then restricted to the region the inputs
cover: for each input, the interval between its `trim` and `1 - trim` quantiles over those
points. The network was trained only where the solution's inputs went, and the thin edges of
that range (an initial peak that lasts a moment) are where it is least constrained."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import sympy as sp
import torch

from pinnkit.compile import CompiledProblem
from pinnkit.errors import DiscoveryError, DiscoveryInputError, did_you_mean
from pinnkit.problem import Problem
from pinnkit.problem.symbols import is_hidden

__all__ = [
    "HiddenSamples",
    "sample_hidden",
    "acting_regions",
    "term_points",
    "input_symbols",
    "run_dtype",
]

#: Default number of interior collocation points drawn for sampling.
SAMPLES = 4000
#: Default fraction of the samples cut off at each end of every input's range.
TRIM = 0.01


@dataclass(frozen=True)
class HiddenSamples:
    """Samples of one Hidden term.

    **Arguments**

    - `name`: the Hidden term's name.
    - `symbols`: one SymPy symbol per input position, named by its label (`u`, `u_x`, `x`).
    - `args`: the SymPy argument behind each symbol (`u(x, t)`, `Derivative(u(x, t), x)`).
    - `inputs`: symbol -> (n,) array of input values, inside `bounds`.
    - `target`: (n,) array of the network's values there.
    - `bounds`: symbol -> `(low, high)`, the trimmed range the samples were kept in.
    - `drawn`: how many samples there were before trimming.
    """

    name: str
    symbols: tuple[sp.Symbol, ...]
    args: tuple[sp.Expr, ...]
    inputs: dict[sp.Symbol, np.ndarray]
    target: np.ndarray
    bounds: dict[sp.Symbol, tuple[float, float]]
    drawn: int

    @property
    def size(self) -> int:
        return int(self.target.size)


def input_symbols(compiled: CompiledProblem, name: str) -> tuple[sp.Symbol, ...]:
    """One symbol per input of Hidden term `name`, named by the input's label."""
    return tuple(sp.Symbol(label) for label in compiled.hidden_terms[name].labels)


def acting_regions(problem: Problem, name: str) -> tuple[str, ...]:
    """Where Hidden `name` acts (module docstring): `()` when an equation applies it (or
    nothing does), else the regions of the conditions that apply it, in order of appearance."""

    def applies(expr: sp.Expr) -> bool:
        return any(is_hidden(a) and a.func.name == name for a in expr.atoms(sp.Function))

    if any(applies(eq.residual) for eq in problem.equations):
        return ()
    return tuple(
        dict.fromkeys(c.on for c in problem.conditions if c.periodic is None and applies(c.expr))
    )


def term_points(problem: Problem, regions: tuple[str, ...], samples: int, seed: int) -> np.ndarray:
    """The points a Hidden term acting on `regions` (`acting_regions`) is sampled at:
    `collocation_points` for `()`, else `samples` points drawn on each region."""
    if not regions:
        return collocation_points(problem, samples, seed)
    rng = np.random.default_rng(seed)
    return np.concatenate(
        [problem.domain.sample(region, int(samples), rng).points for region in regions], axis=0
    )


def run_dtype(model: torch.nn.Module, compiled: CompiledProblem) -> tuple[torch.dtype, object]:
    """The dtype and device of a run's tensors (model first, then the compiled problem)."""
    for tensor in itertools.chain(model.parameters(), compiled.parameters(), compiled.buffers()):
        return tensor.dtype, tensor.device
    return torch.get_default_dtype(), torch.device("cpu")


def collocation_points(problem: Problem, samples: int, seed: int) -> np.ndarray:
    """`samples` uniform interior points (seeded) followed by every data set's points."""
    rng = np.random.default_rng(seed)
    blocks = [problem.domain.sample("interior", int(samples), rng).points]
    for data in problem.data:
        blocks.append(data.points([c.name for c in problem.coords]))
    return np.concatenate(blocks, axis=0)


def sample_hidden(
    run, *, terms=None, samples: int = SAMPLES, seed: int = 0, trim: float = TRIM
) -> dict[str, HiddenSamples]:
    """Sample every Hidden term of `run` (or those named in `terms`) over the trained solution.

    **Arguments**

    - `run`: a `pk.Run` (uses `problem`, `model` and `compiled`).
    - `terms`: Hidden names to sample (default: all of them).
    - `samples`: interior collocation points to draw (data points are added); for a term
      only conditions apply, points drawn on each of their regions (`acting_regions`).
    - `seed`: seeds the point draw.
    - `trim`: fraction cut off at each end of each input's range (0 keeps everything).

    **Returns**

    `{name: HiddenSamples}` in the order of `problem.hidden`.

    **Raises**

    - `DiscoveryError`: when the run has no Hidden term, a name is unknown, or too few samples
    are left after trimming.
    """
    problem, compiled = run.problem, run.compiled
    names = check_terms(problem, terms)
    if not 0 <= trim < 0.5:
        raise DiscoveryError(f"discover: trim={trim} must be in [0, 0.5); the default is {TRIM}.")
    dtype, device = run_dtype(run.model, compiled)
    out = {}
    evaluated: dict[tuple[str, ...], dict] = {}  # every term's values, by point set
    for name in names:
        regions = acting_regions(problem, name)
        if regions not in evaluated:
            points = term_points(problem, regions, samples, seed)
            with torch.no_grad():
                evaluated[regions] = compiled.hidden_values(
                    run.model, torch.as_tensor(points, dtype=dtype, device=device)
                )
        labelled, output = evaluated[regions][name]
        symbols = input_symbols(compiled, name)
        arrays = [labelled[label].detach().double().cpu().numpy() for label in labelled]
        target = output.detach().double().cpu().numpy()
        keep = np.isfinite(target) & np.all([np.isfinite(a) for a in arrays], axis=0)
        bounds = {}
        for symbol, array in zip(symbols, arrays):
            lo, hi = np.quantile(array[keep], [trim, 1 - trim])
            bounds[symbol] = (float(lo), float(hi))
            keep &= (array >= lo) & (array <= hi)
        if keep.sum() < 10:
            raise DiscoveryError(
                f'discover: Hidden "{name}" has only {int(keep.sum())} usable samples after '
                f"trimming {trim:.0%} of each input's range. Fix: `samples=` larger, or "
                "`trim=0`; check that the run trained (non-finite values?)."
            )
        out[name] = HiddenSamples(
            name=name,
            symbols=symbols,
            args=compiled.hidden_terms[name].args,
            inputs={s: a[keep] for s, a in zip(symbols, arrays)},
            target=target[keep],
            bounds=bounds,
            drawn=int(target.size),
        )
    return out


def check_terms(problem: Problem, terms) -> list[str]:
    """The Hidden names to discover: all of `problem.hidden`, or the given ones, checked."""
    names = [h.name for h in problem.hidden]
    if not names:
        raise DiscoveryInputError(
            f'discover: problem "{problem.name}" has no Hidden term, so there is nothing to '
            'discover. Fix: write the unknown part as `f = pk.Hidden("f")` applied in an '
            "equation (`... + f(u)`), fit, then `pk.discover(run)`."
        )
    if terms is None:
        return names
    chosen = [terms] if isinstance(terms, str) else [getattr(t, "name", t) for t in terms]
    for name in chosen:
        if name not in names:
            raise DiscoveryInputError(
                f'discover: `{name}` is not a Hidden term of problem "{problem.name}"; its '
                f"Hidden terms are {names}.{did_you_mean(str(name), names)}"
            )
    return chosen
