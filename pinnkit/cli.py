"""`pinnkit fit | check | discover | plot | problems`: parse the command line, load, call, report.

A thin shell: every action is one public call that a notebook can make too. One error
boundary (`main`): a `PinnkitError` (bad input, an error in the user's problem file shown
as its own lines, a damaged or changed run directory, training or discovery that could not
go on) and an `OSError` (a file that cannot be read or written) become one message on
stderr and exit code 2; anything else is a bug in pinnkit: a one-line notice, exit code 1.
`--debug` (before or after the command) shows the traceback.
"""

from __future__ import annotations

import argparse
import ast
import logging
import os
import sys
import warnings
from pathlib import Path

from pinnkit.errors import (
    ConfigError,
    DiscoveryInputError,
    PinnkitError,
    ProblemError,
    RunError,
    did_you_mean,
)

__all__ = ["main", "bundled_problems", "resolve_problem_path"]

log = logging.getLogger("pinnkit")

TRUST = (
    "execute the run's problem.py although your own `pinnkit fit` did not create the run "
    "(read it first: it is Python code)"
)


def bundled_problems() -> dict[str, Path]:
    """Name -> path of the problem files shipped with pinnkit."""
    here = Path(__file__).resolve().parent
    for folder in (here / "_problems", here.parent / "problems"):
        if folder.is_dir():
            return {p.stem: p for p in sorted(folder.glob("*.py")) if not p.name.startswith("_")}
    return {}


def resolve_problem_path(spec: str) -> Path:
    """A path as given, or the bundled problem of that name (`burgers`)."""
    path = Path(spec)
    if path.exists() or path.suffix == ".py" or "/" in spec:
        return path
    bundled = bundled_problems()
    if spec in bundled:
        return bundled[spec]
    raise ProblemError(
        f"{spec!r} is neither a file nor a bundled problem.{did_you_mean(spec, bundled)} "
        f"Bundled: {', '.join(bundled) or 'none found'}. Fix: give a path to a problem file."
    )


def _first_line(path: Path) -> str:
    """The first line of a problem file's module docstring (without importing it)."""
    try:
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    except SyntaxError:
        return "(syntax error)"
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _overrides(args) -> list[str]:
    out = list(args.set or [])
    for flag in ("steps", "seed", "device", "dtype"):
        value = getattr(args, flag, None)
        if value is not None:
            out.append(f"{flag}={value}" if flag in ("steps", "seed") else f'{flag}="{value}"')
    if getattr(args, "tensorboard", False):
        out.append("tensorboard=true")
    return out


def _cmd_fit(args) -> int:
    from pinnkit.config import Config, apply_overrides
    from pinnkit.problem.file import load_problem_file
    from pinnkit.train import World, fit, resume

    if args.resume:
        changed = args.set or args.seed is not None or args.dtype or args.device or args.config
        if args.file or changed or args.tensorboard:
            raise ConfigError(
                "--resume continues a run exactly as it was configured; only --steps may "
                f"change. Fix: `pinnkit fit --resume {args.resume}` (optionally `--steps N`)."
            )
        run = resume(args.resume, steps=args.steps, trust=args.trust, force=args.force)
    else:
        if not args.file:
            raise ConfigError("pinnkit fit: give a problem FILE, or --resume RUN_DIR.")
        if args.trust or args.force:
            raise ConfigError(
                "--trust and --force apply to `--resume RUN_DIR` (a new run executes the "
                "problem file you give it). Fix: leave them out."
            )
        path = resolve_problem_path(args.file)
        problem, config, source = load_problem_file(path, config=args.config)
        config = apply_overrides(config or Config(), _overrides(args))
        if args.quiet:
            config = config.replace(progress=False)
        run = fit(
            problem,
            config,
            out=args.out,
            source=source,
            origin=path,
            on_start=lambda d: print(f"run directory: {d}", flush=True),
        )
    if not World.from_environment().is_main:
        return 0  # under torchrun, rank 0 reports (and draws the figures)
    if args.resume:
        print(f"run directory: {run.directory}")
    summary = run.summary
    print(
        f"steps: {summary['steps']}   wall: {summary['wall_seconds']:.1f} s   "
        f"device: {summary['device']}   precision: {summary.get('dtype', 'float32')}   "
        f"network parameters: {summary.get('network_parameters', 0):,}"
    )
    for name, value in (summary.get("loss_terms") or {}).items():
        print(f"  loss {name:<20} {value:.3e}")
    for name, value in (summary.get("rel_l2") or {}).items():
        print(f"  relative L2 of {name:<10} {value:.3e}")
    for name, value in (summary.get("parameters") or {}).items():
        print(f"  learned {name:<16} {value:.6g}")
    if not args.no_plot:
        figures = run.plot()
        print(
            f"figures: {', '.join(str(run.directory / 'figures' / (k + '.png')) for k in figures)}"
        )
    return 0


def _cmd_check(args) -> int:
    from pinnkit.build import build
    from pinnkit.config import Config, apply_overrides
    from pinnkit.problem.file import load_problem_file

    path = resolve_problem_path(args.file)
    problem, config, _ = load_problem_file(path, config=args.config)
    config = apply_overrides(config or Config(), args.set or [])
    built = build(problem, config.replace(device="cpu"))  # the model decides the engines
    print(problem.describe())
    print()
    print(built.residuals.describe(built.model))
    print()
    if hasattr(built.model, "describe"):  # exact Dirichlet conditions built into the model
        print(built.model.describe())
        print()
    print(f"config: {config.to_json()}")
    return 0


def _cmd_plot(args) -> int:
    from pinnkit.figure_data import PLOT_DATA
    from pinnkit.integrity import is_trusted
    from pinnkit.runs import Run, plot_saved, read_config

    directory = Path(args.run_dir)
    read_config(directory)  # a run directory at all?
    if args.trust or is_trusted(directory) or not (directory / PLOT_DATA).exists():
        figures = Run.load(directory, trust=args.trust).plot(save=True)
    else:  # from the saved figure data: nothing of the run is executed
        figures = plot_saved(directory)
    for name in figures:
        print(Path(args.run_dir) / "figures" / f"{name}.png")
    return 0


def _cmd_discover(args) -> int:
    from pinnkit.discover import discover
    from pinnkit.integrity import require_unchanged
    from pinnkit.runs import SUMMARY, Run, read_config

    directory = Path(args.run_dir)
    read_config(directory)  # a run directory at all?
    require_unchanged(directory, force=args.force, action="discovery")
    if not (directory / SUMMARY).exists() and not args.allow_unfinished:
        raise RunError(
            f"{directory}: the run has not finished (no {SUMMARY}; it was stopped or is "
            "still training), so its hidden networks may be far from trained and the "
            "formulas found would not mean much. Fix: `pinnkit fit --resume "
            f"{directory}` first, or add --allow-unfinished to discover from its last "
            "checkpoint anyway."
        )
    options = _library_option(args.families, args.backend)
    offered = _candidates_option(args.candidate)
    run = Run.load(directory, trust=args.trust)
    found = discover(
        run,
        backend=args.backend,
        seed=args.seed,
        samples=args.samples,
        **({} if args.refit is None else {"refit": args.refit}),
        **({} if args.constraint is None else {"constraint": args.constraint}),
        **({"candidates": offered} if offered else {}),
        progress=True,
        **options,
    )
    paths = found.save(Path(args.run_dir) / "discovered")
    print(found)
    for name in ("discovered.json", *(p for p in paths if p.startswith("pareto_")), "problem.py"):
        print(f"wrote {paths[name]}")
    print(f"refit the constants: pinnkit fit {paths['problem.py']}")
    return 0


def _library_option(families: str | None, backend: str) -> dict:
    """`--families log,power`: the offline backend's library with those families added to
    its defaults (`pinnkit.discover.Library`), as `pk.discover`'s `library` option."""
    if not families:
        return {}
    from pinnkit.discover.library import FAMILIES, Library

    if backend != "offline":
        raise DiscoveryInputError(
            f"--families {families}: the library's families are the offline backend's; "
            f"--backend {backend} has none. Fix: drop --families, or use --backend offline."
        )
    extra = tuple(name.strip() for name in families.split(",") if name.strip())
    defaults = Library().families
    for name in extra:
        if name not in FAMILIES:
            raise DiscoveryInputError(
                f"--families {families}: unknown family `{name}`."
                f"{did_you_mean(name, FAMILIES)} The offline library has {', '.join(FAMILIES)}"
                f" ({', '.join(defaults)} by default). Fix: name some of those."
            )
    return {"library": Library(families=(*defaults, *(f for f in extra if f not in defaults)))}


def _candidates_option(given: list[str] | None) -> dict[str, list[str]]:
    """`--candidate "f=0.5*u*(1 - u)"` (repeatable): Hidden name -> the formulas offered,
    as `pk.discover`'s `candidates` (which parses them in the term's input symbols)."""
    offered: dict[str, list[str]] = {}
    for text in given or []:
        name, sep, formula = text.partition("=")
        if not sep or not name.strip() or not formula.strip():
            raise DiscoveryInputError(
                f"--candidate {text!r}: expected NAME=FORMULA, a Hidden term's name and a "
                "formula in its inputs. Fix: e.g. `--candidate 'f=0.5*u*(1 - u)'`."
            )
        offered.setdefault(name.strip(), []).append(formula.strip())
    return offered


def _cmd_problems(args) -> int:
    from pinnkit.problem.file import config_names

    problems = bundled_problems()
    if not problems:
        print("no bundled problems found")
        return 0
    width = max(len(k) for k in problems)
    for name, path in problems.items():
        configs = config_names(path)
        listed = f"  [configs: {', '.join(configs)}]" if configs else ""
        print(f"{name:<{width}}  {_first_line(path)}{listed}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pinnkit", description="Physics-informed neural networks from SymPy problem files."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    common = argparse.ArgumentParser(add_help=False)  # `pinnkit fit ... --debug` works too
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)
    _fit_parser(
        sub.add_parser("fit", parents=[common], help="train a problem file; writes a run directory")
    )
    check = sub.add_parser(
        "check",
        parents=[common],
        help="print the equations, derivatives and residuals; no training",
    )
    check.add_argument("file")
    check.add_argument("--config", help="one of the file's named configs")
    check.add_argument("--set", action="append", metavar="KEY=VALUE")
    check.set_defaults(handler=_cmd_check)
    _discover_parser(
        sub.add_parser(
            "discover",
            parents=[common],
            help="find formulas for the Hidden terms of a run; writes RUN_DIR/discovered/",
        )
    )
    plot = sub.add_parser("plot", parents=[common], help="(re)draw the figures of a run directory")
    plot.add_argument("run_dir")
    plot.add_argument("--trust", action="store_true", help=TRUST)
    plot.set_defaults(handler=_cmd_plot)
    problems = sub.add_parser("problems", parents=[common], help="list the bundled problems")
    problems.set_defaults(handler=_cmd_problems)
    return parser


def _fit_parser(fit: argparse.ArgumentParser) -> None:
    fit.add_argument("file", nargs="?", help="problem file (or a bundled problem's name)")
    fit.add_argument(
        "--config", help="one of the file's named configs (`pinnkit problems` lists them)"
    )
    fit.add_argument("--steps", type=int, help="first-phase (Adam or SOAP) steps (config.steps)")
    fit.add_argument("--seed", type=int, help="random seed (config.seed)")
    fit.add_argument("--device", help="auto, cpu, cuda, cuda:1 ...")
    fit.add_argument("--dtype", choices=["float32", "float64"])
    fit.add_argument("--out", default="runs", help="parent folder of run directories")
    fit.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set model.width=128 (repeatable)",
    )
    fit.add_argument("--resume", metavar="RUN_DIR", help="continue a stopped run")
    fit.add_argument("--trust", action="store_true", help=TRUST)
    fit.add_argument(
        "--force",
        action="store_true",
        help="--resume although the run's problem.py or config.json changed since",
    )
    fit.add_argument("--no-plot", action="store_true", help="do not write figures")
    fit.add_argument("--quiet", action="store_true", help="no progress bar")
    fit.add_argument(
        "--tensorboard",
        action="store_true",
        help="also write TensorBoard event files to RUN_DIR/tensorboard (needs `tensorboard`)",
    )
    fit.set_defaults(handler=_cmd_fit)


def _discover_parser(disc: argparse.ArgumentParser) -> None:
    disc.add_argument("run_dir")
    disc.add_argument("--backend", default="offline", help="offline (default) or pysr")
    disc.add_argument("--seed", type=int, default=0, help="seed of the points and backend")
    disc.add_argument("--samples", type=int, default=4000, help="collocation points")
    disc.add_argument(
        "--refit",
        type=int,
        default=None,
        help="L-BFGS iterations per candidate (0: none; default: pk.discover's, 200 in an "
        "ODE problem, else 500)",
    )
    disc.add_argument(
        "--constraint",
        type=float,
        default=None,
        help="weight of the equations and conditions in the refits, relative to the run's "
        "(default 1; 100 holds the physics as a constraint, see docs/discovery.md)",
    )
    disc.add_argument(
        "--families",
        default=None,
        help="families the offline library adds to its defaults, comma-separated: power "
        "(v**a), log (log(a*v) and Gompertz's v*log(a*v)); see docs/discovery.md",
    )
    disc.add_argument(
        "--candidate",
        action="append",
        default=None,
        metavar="NAME=FORMULA",
        help="a formula of your own for Hidden NAME, in its inputs (`f=0.5*u*(1 - u)`), "
        "refit and judged beside the backend's and always listed (repeatable)",
    )
    disc.add_argument("--trust", action="store_true", help=TRUST)
    disc.add_argument(
        "--force",
        action="store_true",
        help="discover although the run's problem.py or config.json changed since",
    )
    disc.add_argument(
        "--allow-unfinished",
        action="store_true",
        help="discover from the last checkpoint of a run that has not finished",
    )
    disc.set_defaults(handler=_cmd_discover)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING, format="pinnkit: %(message)s"
    )
    left = False
    shown, warnings.showwarning = warnings.showwarning, _show_warning
    try:
        _check_launch(args.command)
        code = args.handler(args)
    except PinnkitError as err:
        if args.debug:
            raise
        print(f"{type(err).__name__}: {err}", file=sys.stderr)
        code = 2
    except OSError as err:
        if args.debug:
            raise
        where = f" ({err.filename})" if err.filename else ""
        print(f"{type(err).__name__}: {err.strerror or err}{where}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        print("stopped; continue with `pinnkit fit --resume RUN_DIR`", file=sys.stderr)
        code = 130
    except Exception as err:  # noqa: BLE001 - the boundary: a bug, reported in one line
        if args.debug:
            raise
        print(
            f"pinnkit: internal error (this is a bug in pinnkit): {type(err).__name__}: {err}. "
            "Run the same command with --debug for the traceback and report it with the "
            "problem file.",
            file=sys.stderr,
        )
        code = 1
    finally:
        warnings.showwarning = shown
        if "pinnkit.train.distributed" in sys.modules:  # only a fit can have joined a group
            left = sys.modules["pinnkit.train.distributed"].leave()
    if left:
        _exit_rank(code)
    return code


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line, `Kind: message`, without the frame that raised it."""
    print(f"{category.__name__}: {message}", file=sys.stderr if file is None else file)


def _exit_rank(code: int) -> None:
    """End a torchrun rank now, its output flushed, without the interpreter's teardown.

    With the process group destroyed and every file written, torch's gloo teardown at
    interpreter exit can still abort the process ("terminate called without an active
    exception", no Python frame left: 3 and 1 of 20 two-process launches under CPU load);
    torchrun then reports the run failed and kills the other ranks, rank 0 included,
    possibly while it writes. `os._exit` skips that teardown.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


def _check_launch(command: str) -> None:
    """Under torchrun only `fit` runs (data-parallel); ranks > 0 log errors only."""
    if not any(k in os.environ for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK")):
        return  # not launched by torchrun (and torch stays unimported for `problems`)
    from pinnkit.train.distributed import World

    world = World.from_environment()
    if world.is_distributed and command != "fit":
        raise ConfigError(
            f"pinnkit {command} runs in one process, but it was launched as rank "
            f"{world.rank} of {world.size} (torchrun). Only `pinnkit fit` trains "
            f"data-parallel. Fix: run `pinnkit {command} ...` without torchrun."
        )
    if not world.is_main:
        logging.getLogger("pinnkit").setLevel(logging.ERROR)


if __name__ == "__main__":
    sys.exit(main())
