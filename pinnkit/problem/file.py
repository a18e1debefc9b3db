"""Load a problem file: a Python file that defines `problem` (and optionally `config`).

Importing a problem file must not train or write anything; it only builds objects.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from pinnkit.config import Config
from pinnkit.errors import ConfigError, PinnkitError, ProblemError
from pinnkit.problem.problem import Problem

__all__ = ["load_problem_file"]


def load_problem_file(
    path: str | Path, *, module_file: str | Path | None = None
) -> tuple[Problem, Config | None, str]:
    """Execute a problem file and return `(problem, config or None, source text)`.

    **Arguments**

    - `path`: the file to execute.
    - `module_file`: the `__file__` the code sees (a resumed run executes its saved copy
      as if it were the original, so that paths built from `__file__` still work).

    **Raises**

    `ProblemError` when the file is missing, has no `problem`, or its problem is invalid
    (the message starts with the file's path).
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
    try:
        exec(compile(source, str(module_file or path), "exec"), module.__dict__)  # noqa: S102 - the user's own problem file
    except PinnkitError as err:
        raise type(err)(f"{path}: {err}") from err
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
    config = module.__dict__.get("config")
    if config is not None and not isinstance(config, Config):
        raise ConfigError(f"{path}: `config` is a {type(config).__name__}, not a `pk.Config`.")
    return problem, config, source
