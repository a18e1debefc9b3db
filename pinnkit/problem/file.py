"""Load a problem file: a Python file that defines `problem`, and optionally `config` (its
default configuration) and `configs` (named configurations, e.g. `{"accurate": ...}`).

Importing a problem file must not train or write anything; it only builds objects.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import traceback
import warnings
from pathlib import Path

import sympy as sp

from pinnkit.config import Config
from pinnkit.errors import ConfigError, PinnkitError, PinnkitWarning, ProblemError, did_you_mean
from pinnkit.problem.problem import Problem

__all__ = ["load_problem_file", "config_names"]


def load_problem_file(
    path: str | Path,
    *,
    config: str | None = None,
    module_file: str | Path | None = None,
) -> tuple[Problem, Config | None, str]:
    """Execute a problem file and return `(problem, config or None, source text)`.

    **Arguments**

    - `path`: the file to execute.
    - `config`: the name of one of the file's `configs` (default: its `config`, or
      `configs["default"]`, or None when it defines neither).
    - `module_file`: the `__file__` the code sees (a resumed run executes its saved copy
      as if it were the original, so that paths built from `__file__` still work).

    **Raises**

    `ProblemError` when the file is missing, has no `problem`, or its problem is invalid
    (the message starts with the file's path); `ConfigError` when its `config` or
    `configs` are not `pk.Config`s, or `config` names none of them (the message lists
    them).
    """
    path = Path(path)
    if not path.is_file():
        raise ProblemError(
            f"{path}: no such problem file. Fix: give the path of a `.py` file that defines "
            "`problem`; `pinnkit problems` lists the bundled ones."
        )
    source = path.read_text()
    name = f"pinnkit_problem_{abs(hash(str(path.resolve()))):x}"
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__file__ = str(module_file or path)
    sys.modules[name] = module
    filename = str(module_file or path)
    try:
        code = compile(source, filename, "exec")
    except (SyntaxError, ValueError) as err:  # ValueError: a null byte in the source
        raise ProblemError(_syntax_message(path, err)) from None
    try:
        exec(code, module.__dict__)  # noqa: S102 - the user's own problem file
    except PinnkitError as err:
        raise type(err)(f"{path}: {err}") from err
    except SystemExit as err:
        raise ProblemError(
            f"{path}: the file called sys.exit({err.code!r}) while it was loaded. A problem "
            "file only builds objects. Fix: remove the exit (guard scripts with "
            '`if __name__ == "__main__":`).'
        ) from None
    except Exception as err:  # noqa: BLE001 - shown as the user's own frames
        raise ProblemError(_user_error(path, filename, err)) from None
    finally:
        sys.modules.pop(name, None)
    problem = module.__dict__.get("problem")
    if problem is None:
        raise ProblemError(
            f"{path}: the file defines no `problem`. Fix: end it with "
            "`problem = pk.Problem(domain=..., fields=[...], equations=[...], conditions=[...])`."
        )
    if not isinstance(problem, Problem):
        raise ProblemError(f"{path}: `problem` is a {type(problem).__name__}, not a `pk.Problem`.")
    _warn_unused_symbols(path, module.__dict__, problem)
    return problem, _chosen_config(path, module.__dict__, config), source


def _warn_unused_symbols(path: Path, names: dict, problem: Problem) -> None:
    """Warn of SymPy symbols the file defines and the problem never uses: SymPy makes the
    derivative of a field by a symbol that is not a coordinate 0 before pinnkit sees it
    (`u.diff(y, 2)` with `y` not a coordinate), which is the usual way one gets there."""
    used = set(problem.coords)
    for expr in [e.residual for e in problem.equations] + [c.expr for c in problem.conditions]:
        used |= expr.free_symbols
    unused = sorted(
        name
        for name, value in names.items()
        if type(value) is sp.Symbol and value not in used and not name.startswith("_")
    )
    if unused:
        warnings.warn(
            f"{path}: the symbol(s) {', '.join(unused)} are defined but not used by the "
            "problem. A derivative by a symbol that is not a coordinate of the domain is 0 "
            f"in SymPy (`u.diff({unused[0]})`): coordinates are "
            f"{', '.join(c.name for c in problem.coords)}.",
            PinnkitWarning,
            stacklevel=3,
        )


def _syntax_message(path: Path, err: SyntaxError | ValueError) -> str:
    """A syntax error of a problem file as file:line, the line and a caret."""
    if not isinstance(err, SyntaxError):
        return f"{path}: the file cannot be compiled: {err}. Fix: save it as plain UTF-8 text."
    line = (err.text or "").rstrip("\n")
    caret = f"\n    {' ' * (err.offset - 1)}^" if line and err.offset else ""
    return (
        f"{path}:{err.lineno}: syntax error: {err.msg}\n    {line}{caret}\n"
        "Fix: correct that line of the problem file."
    )


def _user_error(path: Path, filename: str, err: Exception) -> str:
    """An exception raised while a problem file ran, as the file's own frames (file:line and
    the line), innermost last, then the exception; pinnkit's and libraries' frames left out."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == filename]
    shown = "".join(f"\n  {path}:{f.lineno}\n    {(f.line or '').strip()}" for f in frames[-3:])
    what = f"{type(err).__name__}: {err}".strip()
    return (
        f"{path}: the problem file raised an error while it was loaded:{shown}\n{what}\n"
        "Fix: correct the line above (the error is in the file, not in pinnkit)."
    )


def _chosen_config(path: Path, names: dict, chosen: str | None) -> Config | None:
    """The file's `config`, or the one of its `configs` named `chosen`."""
    default = names.get("config")
    if default is not None and not isinstance(default, Config):
        raise ConfigError(f"{path}: `config` is a {type(default).__name__}, not a `pk.Config`.")
    configs = names.get("configs", {})
    if not isinstance(configs, dict) or not all(
        isinstance(k, str) and isinstance(v, Config) for k, v in configs.items()
    ):
        raise ConfigError(
            f"{path}: `configs` must map names to `pk.Config`s, e.g. "
            '`configs = {"default": config, "accurate": config.replace(...)}`.'
        )
    if "default" in configs and default is not None and configs["default"] != default:
        raise ConfigError(
            f'{path}: `config` and `configs["default"]` differ; the default is one of them. '
            'Fix: `configs = {"default": config, ...}` or drop one of the two.'
        )
    available = {"default": default, **configs} if default is not None else dict(configs)
    if chosen is None:
        return available.get("default")
    if chosen not in available:
        listed = ", ".join(sorted(available)) or "none (the file defines no config)"
        raise ConfigError(
            f"{path}: no config named {chosen!r}; the file has: {listed}."
            f"{did_you_mean(chosen, available)} Fix: `--config NAME` with one of them."
        )
    return available[chosen]


def config_names(path: str | Path) -> list[str]:
    """The names `--config` takes for a problem file, read without executing it: `default`
    when it assigns `config`, and the keys of a `configs = {...}` literal."""
    try:
        tree = ast.parse(Path(path).read_text())
    except (OSError, SyntaxError):
        return []
    names: list[str] = []
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        targets = {t.id for t in node.targets if isinstance(t, ast.Name)}
        if "config" in targets and "default" not in names:
            names.insert(0, "default")
        if "configs" in targets and isinstance(node.value, ast.Dict):
            for key in node.value.keys:
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    if key.value not in names:
                        names.append(key.value)
    return names
