"""`discover(run)`: sample each Hidden term of a trained run, fit a symbolic-regression
backend, choose a formula with the physics, and return a `Discovery`."""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import sys
import time
import warnings
from collections.abc import Mapping, Sequence

import sympy as sp

from pinnkit.discover.base import (
    AbstractBackend,
    Candidate,
    complexity,
    display,
    mean_squared_error,
)
from pinnkit.discover.checks import check_counts
from pinnkit.discover.criteria import DATA_THRESHOLD, PHYSICS_FACTOR
from pinnkit.discover.discovery import Discovery, Found
from pinnkit.discover.integral import with_integral
from pinnkit.discover.losses import physics_batches, unheld_notes
from pinnkit.discover.refit import (
    ODE_REFIT,
    POLISH,
    REFIT,
    constrained,
    default_refit,
    fill_constants,
    write_in,
)
from pinnkit.discover.registry import backend as make_backend
from pinnkit.discover.sample import SAMPLES, TRIM, check_terms, sample_hidden
from pinnkit.discover.select import choose
from pinnkit.discover.selection import Selection
from pinnkit.discover.substitute import Formula
from pinnkit.errors import DiscoveryError, DiscoveryInputError, PinnkitWarning
from pinnkit.problem import Parameter
from pinnkit.runs import Run

__all__ = ["discover"]


def discover(
    run,
    *,
    backend: str | AbstractBackend = "offline",
    terms=None,
    samples: int = SAMPLES,
    seed: int = 0,
    trim: float = TRIM,
    factor: float = PHYSICS_FACTOR,
    threshold: float = DATA_THRESHOLD,
    refit: int | None = None,
    polish: int = POLISH,
    constraint: float = 1.0,
    trajectory: bool = False,
    integral: bool = True,
    candidates: Mapping[str, Sequence] | None = None,
    progress: bool = False,
    **options,
) -> Discovery:
    """Find a closed form for every Hidden term of a trained run.

    For each term: sample its inputs and its network over the trained solution
    (`pinnkit.discover.sample`), fit `backend` to the samples (a Pareto front of formulas),
    then choose with the physics and the data (`pinnkit.discover.select`: among the formulas
    that, once substituted and refit with the solution, explain the equations and the data
    within `factor` of the trained network's loss, the one of least evidence criterion, a
    Bayesian information criterion of the observations that prices each fitted constant and
    the formula's structure; it is *confirmed* when its misfit to the observations grew by
    at most `threshold` noise units). Terms are found one after another, each written in before
    the next is judged; every term's constants are reported as refit in the end, with every
    term a formula.

    **Arguments**

    - `run`: a `pk.Run` (from `pk.fit` or `pk.Run.load(directory)`).
    - `backend`: `"offline"` (default; NumPy/SciPy only), `"pysr"` (needs Julia), or a
      backend object (`pinnkit.discover.Offline(max_terms=3)`).
    - `terms`: Hidden names (or objects) to discover (default: all).
    - `samples`: interior collocation points for sampling and for the physics loss.
    - `seed`: seeds the points and the backend.
    - `trim`: fraction of each input's range cut off at both ends before fitting.
    - `factor`: the loss factor that admits a formula to the choice.
    - `threshold`: the confirmation's threshold, in noise units.
    - `refit`: L-BFGS iterations of each candidate's refit (0: hold the solution fixed; fast
      but lenient; default 200 in an ODE problem, one coordinate, else 500:
      `pinnkit.discover.refit.default_refit`).
    - `polish`: L-BFGS iterations of the chosen formula's last refit, whose constants are
      reported (used when `refit > 0` and `polish > refit`).
    - `constraint`: weight of the equations and conditions in every refit, relative to the
      run's (default 1). Above 1 (100 suggested) the refits run in float64 and the refit
      solution all but solves the equations, so each formula is judged near its
      maximum-likelihood fit to the observations; measured, not yet better overall
      (`pinnkit.discover.refit` says where it helps and where it fails).
    - `trajectory`: in an ODE problem (`pinnkit.discover.trajectory.ode_of`), judge every
      candidate by its trajectory refit (the ODE integrated, its constants fitted to the
      observations by maximum likelihood) instead of the PINN refit's misfits (default
      False: measured on 53 ODEBench terms it found 21 exactly against 23; the chosen
      formula's reported constants get the trajectory refit either way).
    - `integral`: in an ODE problem whose Hidden term enters the fields' rates additively,
      also judge the formulas fitted to the observations' increments along the trained
      solution (`pinnkit.discover.integral`; the offline library, whatever `backend`).
    - `candidates`: Hidden name -> formulas (SymPy, in the term's input symbols: `u`,
      `u_x`, `x_0`, ...) judged beside the backend's: a hypothesis of your own is refit and
      weighed like the rest (`{"f": [a * u * (1 - u)]}` with `a` a float), always refit
      and listed, even where its form's price alone puts it out of reach.
    - `progress`: print a line to stderr at each step and after each refit (`pinnkit
      discover` does: in a PDE problem discovery takes minutes).
    - `**options`: options of the backend named by `backend` (`niterations=100`).

    **Returns**

    A `Discovery`: `sympy()`, `latex()`, `table`, `problem()`, `save(directory)`.

    **Raises**

    - `DiscoveryError`: the run has no Hidden term, an unknown term, too few samples, or
    the backend cannot run; `DiscoveryInputError` (one) where `refit`, `polish`, `samples`
    or `seed` is not a whole number >= 0 (`samples` >= 1), or `factor` (> 0) or
    `threshold` (>= 0) is not a finite number. ConfigError: an unknown backend or option.
    """
    _check_run(run)
    _check_numbers(
        refit=refit, polish=polish, samples=samples, seed=seed, factor=factor, threshold=threshold
    )
    refit = default_refit(run.problem) if refit is None else int(refit)
    method = _method(backend, options)
    names = check_terms(run.problem, terms)
    offered = _offered(candidates, names)
    current = constrained(run, constraint)
    batches = physics_batches(current, samples=samples, seed=seed)
    for note in unheld_notes(current, batches, run.summary):
        warnings.warn(note, PinnkitWarning, stacklevel=2)
    hidden = {h.name: h for h in run.problem.hidden}
    found = {}
    written: dict[str, sp.Expr] = {}  # the terms written in, constants as Parameters
    judge = functools.partial(
        choose,
        batches=batches,
        factor=factor,
        threshold=threshold,
        refit=refit,
        held=current is not run,
        trajectory=trajectory,
        report=_say if progress else None,
    )
    for k, name in enumerate(names):
        start = time.perf_counter()
        (s,) = sample_hidden(current, terms=[name], samples=samples, seed=seed, trim=trim).values()
        front = method.fit(s.inputs, s.target, seed=seed)
        if integral:
            front = with_integral(front, current, name, s, method)
        if progress:
            _say(
                f"{name}: {s.size:,} samples, {len(front.candidates)} formulas on the front "
                f"({time.perf_counter() - start:.0f} s); refitting candidates with the solution"
            )
        last = k + 1 == len(names) or not refit
        own = [_candidate(expr, s, name) for expr in offered.get(name, ())]
        selection = judge(current, name, front, s, polish=polish if last else 0, offered=own)
        if not last:
            # The next term is discovered with this one written in and the rest refit; that
            # refit is this term's polish.
            current, fitted, written[name] = write_in(
                current, name, Formula(s.symbols, selection.chosen.expr), iterations=polish
            )
            selection = dataclasses.replace(selection, polished=fitted.expr, template=written[name])
        found[name] = Found(hidden[name], s, front, selection)
        if progress:
            _say(
                f"{name}: chose {display(selection.formula)} ({time.perf_counter() - start:.0f} s)"
            )
        _warn(name, selection)
    _report_joint_constants(found, written, last=names[-1])
    return Discovery(
        run.problem,
        found,
        backend=method.name,
        seed=seed,
        config=run.config,
        run_directory=run.directory,
    )


def _say(line: str) -> None:
    """A progress line of `discover(progress=True)`, to stderr."""
    print(line, file=sys.stderr, flush=True)


def _check_numbers(**given) -> None:
    """Refuse a count or a threshold of `discover` that is not one, before any work: the
    iterations (`refit`, `polish`; `refit=None`, the default by problem, passes), the
    points (`samples`), the `seed`, and the admission `factor` and confirmation
    `threshold`."""
    counts = {"refit": 0, "polish": 0, "samples": 1, "seed": 0}
    defaults = {
        "refit": f"None ({ODE_REFIT} in an ODE problem, else {REFIT})",
        "polish": POLISH,
        "samples": SAMPLES,
        "seed": 0,
    }
    if given["refit"] is None:  # the default by problem
        del counts["refit"]
    check_counts("discover", {k: (given[k], least) for k, least in counts.items()}, defaults)
    for name, default, positive in (
        ("factor", PHYSICS_FACTOR, True),
        ("threshold", DATA_THRESHOLD, False),
    ):
        value = given[name]
        real = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if not (real and math.isfinite(value) and (value > 0 if positive else value >= 0)):
            raise DiscoveryInputError(
                f"discover({name}={value!r}): expected a finite number {'>' if positive else '>='}"
                f" 0. The default is {default:g}: leave {name} out to use it."
            )


def _check_run(run) -> None:
    """Refuse what is not a run, and a Lagrangian run: its compiled problem is not the
    Problem's equations."""
    if not isinstance(run, Run):
        raise DiscoveryError(
            f"discover: expected a pk.Run, found {type(run).__name__}. Fix: pass what "
            "`pk.fit(problem, config)` returns, or a saved run, `pk.Run.load(directory)`."
        )
    if getattr(run.config, "lagrangian", None) is not None:
        raise DiscoveryError(
            "discover: this run uses the Lagrangian PINN, whose compiled problem is "
            "rewritten along characteristics; discovery needs the Eulerian one. Fix: fit "
            "without `lagrangian=` to discover hidden terms."
        )


def _offered(candidates, names: list[str]) -> dict[str, tuple]:
    """`candidates` checked: a mapping from Hidden names being discovered to sequences of
    formulas."""
    if candidates is None:
        return {}
    if not isinstance(candidates, Mapping):
        raise DiscoveryInputError(
            f"discover: candidates={candidates!r} must map Hidden names to lists of formulas. "
            'Fix: candidates={"f": [u - u**2]}.'
        )
    unknown = sorted(set(candidates) - set(names))
    if unknown:
        raise DiscoveryInputError(
            f"discover: candidates for {unknown}, which are not Hidden terms being discovered "
            f"({names}). Fix: key the formulas by one of those names."
        )
    offered = {}
    for name, exprs in candidates.items():
        if isinstance(exprs, (str, sp.Basic)) or not isinstance(exprs, Sequence):
            exprs = [exprs]
        offered[name] = tuple(exprs)
    return offered


def _candidate(expr, samples, name: str) -> Candidate:
    """A formula offered for Hidden `name` as a `Candidate`, its symbols those of the term's
    inputs (`samples.symbols`, matched by name)."""
    by_name = {str(s): s for s in samples.symbols}
    try:
        parsed = sp.sympify(expr, locals=dict(by_name))
    except (sp.SympifyError, TypeError, SyntaxError) as err:
        raise DiscoveryInputError(
            f"discover: candidates[{name!r}] has {expr!r}, which is not a formula ({err}). "
            f"Fix: a SymPy expression in {sorted(by_name)}."
        ) from None
    parsed = parsed.xreplace({s: by_name[str(s)] for s in parsed.free_symbols if str(s) in by_name})
    stray = sorted(str(s) for s in parsed.free_symbols if str(s) not in by_name)
    if stray or not isinstance(parsed, sp.Expr):
        raise DiscoveryInputError(
            f"discover: candidates[{name!r}] has {expr!r}, whose symbols {stray} are not "
            f"inputs of Hidden {name!r}. Fix: write it in {sorted(by_name)}."
        )
    parsed = parsed.xreplace({n: sp.Float(n) for n in parsed.atoms(sp.Float)})
    try:
        loss = mean_squared_error(parsed, samples.inputs, samples.target)
    except (NameError, NotImplementedError) as err:  # no such function, or no printer
        missing = getattr(err, "name", None) or ", ".join(
            sorted({type(f).__name__ for f in parsed.atoms(sp.Function)})
        )
        raise DiscoveryInputError(
            f"discover: candidates[{name!r}] has {expr!r}, which uses {missing}: NumPy and "
            "SciPy cannot evaluate it, so the formula cannot be compared with the term. Fix: "
            "write it with functions they have (sin, exp, log, sqrt, tanh, erf, Abs, ...)."
        ) from None
    return Candidate(parsed, complexity(parsed), loss, 0.0)


def _method(backend: str | AbstractBackend, options: dict) -> AbstractBackend:
    """The backend object: `backend` itself, or the one it names built with `options`."""
    if isinstance(backend, AbstractBackend):
        if options:
            raise DiscoveryError(
                f"discover: options {sorted(options)} go with a backend *name*; a backend "
                "object carries its own. Fix: set them on the object."
            )
        return backend
    return make_backend(backend, **options)


def _warn(name: str, selection: Selection) -> None:
    """Warn when the chosen formula is not confirmed, when other forms carry a share of the
    evidence, and when some of its constants have no finite standard error."""
    loose = sorted(k for k, v in selection.errors.items() if not math.isfinite(v))
    if loose:
        warnings.warn(
            f'Hidden "{name}": in {display(selection.formula)} the observations do not fix '
            f"{', '.join(loose)} (no finite standard error: moving each leaves the fit as "
            "good). The form has more constants than the data determine: read it as a fit "
            "over the data's range, not as a law. Usual causes: a form the library cannot "
            "write (a Gaussian off centre) or too few observations.",
            PinnkitWarning,
            stacklevel=3,
        )
    if not selection.passed:
        best = selection.best
        warnings.warn(
            f'Hidden "{name}": {display(selection.formula)} is not a confirmed form but a '
            f"best fit: its loss is {best.physics / selection.network:.2f}x the trained "
            f"run's (admitted at <= {selection.factor:g}x) and its misfit grew by "
            f"{best.excess:+.1f} noise units (confirmed at <= {selection.threshold:g}). More "
            "observations (or a longer window), longer training, or a larger search (more "
            "terms, PySR's `maxsize`) can help.",
            PinnkitWarning,
            stacklevel=3,
        )
    if selection.alternatives:
        weights = selection.weights
        others = "; ".join(
            f"{display(a.expr)} (weight {w:.2f})"
            for a, w in zip(selection.alternatives, weights[1:])
        )
        warnings.warn(
            f'Hidden "{name}": {display(selection.formula)} was chosen with weight '
            f"{weights[0]:.2f} of the evidence; {others}: the data and equations do not "
            "single out one form. More observations (or a longer window) can decide.",
            PinnkitWarning,
            stacklevel=3,
        )


def _report_joint_constants(found: dict, written: dict[str, sp.Expr], *, last: str) -> None:
    """Report every written-in term's constants as the last term's polish refit them, with
    every term a formula (in place in `found`; nothing when that polish did not run)."""
    final = found[last].selection.constants  # empty when that polish did not run
    for name, template in written.items() if final else ():
        polished = fill_constants(template, template.atoms(Parameter), final)
        selection = dataclasses.replace(found[name].selection, polished=polished)
        found[name] = dataclasses.replace(found[name], selection=selection)
