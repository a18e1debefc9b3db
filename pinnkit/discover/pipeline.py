"""`discover(run)`: sample each Hidden term of a trained run, fit a symbolic-regression
backend, choose a formula with the physics, and return a `Discovery`."""

from __future__ import annotations

from pinnkit.discover.base import AbstractBackend
from pinnkit.discover.sample import SAMPLES, TRIM, check_terms, sample_hidden
from pinnkit.discover.select import PHYSICS_FACTOR, REFIT, choose, physics_batches
from pinnkit.discover.substitute import Discovery, Found
from pinnkit.errors import DiscoveryError

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
    refit: int = REFIT,
    **options,
) -> Discovery:
    """Find a closed form for every Hidden term of a trained run.

    For each term: sample its inputs and its network over the trained solution
    (`pinnkit.discover.sample`), fit `backend` to the samples (a Pareto front of formulas),
    then choose with the physics (`pinnkit.discover.select`: the simplest formula that, once
    substituted and refit with the solution, explains the data and the equations within
    `factor` of the trained network's loss).

    Arguments:
        run: a `pk.Run` (from `pk.fit` or `pk.Run.load(directory)`).
        backend: `"offline"` (default; NumPy/SciPy only), `"pysr"` (needs Julia), or a
            backend object (`pinnkit.discover.Offline(max_terms=3)`).
        terms: Hidden names (or objects) to discover (default: all).
        samples: interior collocation points for sampling and for the physics loss.
        seed: seeds the points and the backend.
        trim: fraction of each input's range cut off at both ends before fitting.
        factor: the loss factor of the choice rule.
        refit: L-BFGS iterations of each candidate's refit (0: hold the solution fixed; fast
            but lenient).
        **options: options of the backend named by `backend` (`niterations=100`).

    Returns:
        A `Discovery`: `sympy()`, `latex()`, `table`, `problem()`, `save(directory)`.

    Raises:
        DiscoveryError: the run has no Hidden term, an unknown term, too few samples, or
            the backend cannot run. ConfigError: an unknown backend or option.
    """
    from pinnkit.discover import backend as make_backend

    check_terms(run.problem, terms)
    if getattr(run.config, "lagrangian", None) is not None:
        raise DiscoveryError(
            "discover: this run uses the Lagrangian PINN, whose compiled problem is "
            "rewritten along characteristics; discovery needs the Eulerian one. Fix: fit "
            "without `lagrangian=` to discover hidden terms."
        )
    if isinstance(backend, AbstractBackend):
        if options:
            raise DiscoveryError(
                f"discover: options {sorted(options)} go with a backend *name*; a backend "
                "object carries its own. Fix: set them on the object."
            )
        method = backend
    else:
        method = make_backend(backend, **options)
    sampled = sample_hidden(run, terms=terms, samples=samples, seed=seed, trim=trim)
    batches = physics_batches(run, samples=samples, seed=seed)
    hidden = {h.name: h for h in run.problem.hidden}
    found = {}
    for name, s in sampled.items():
        front = method.fit(s.inputs, s.target, seed=seed)
        selection = choose(run, name, front, s, batches=batches, factor=factor, refit=refit)
        found[name] = Found(hidden[name], s, front, selection)
    return Discovery(
        run.problem,
        found,
        backend=method.name,
        seed=seed,
        config=run.config,
        run_directory=run.directory,
    )
