"""Whether PySR can run here, decided without importing `pysr` or `juliacall`.

Importing PySR the first time makes juliacall download Julia and PySR's Julia packages, which
fails or hangs on a machine without internet. `julia_status` instead looks at what is on disk:
the `pysr` distribution, a Julia executable (juliapkg's override, its own install, JuliaUp, or
`julia` on PATH) that answers `--version` within a timeout, and juliapkg's record that PySR's
Julia packages were resolved.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["JuliaStatus", "julia_status", "INSTALL_HINT"]

INSTALL_HINT = (
    'install it with `pip install "pinnkit[pysr]"`, then run `python -c "import pysr"` once on a '
    "machine with internet (it downloads Julia and PySR's Julia packages)"
)
# Seconds allowed for `julia --version`: a working Julia answers in well under a second; a
# broken one (a stale juliaup shim, a network mount) must not hang discovery.
PROBE_TIMEOUT = 10.0


@dataclass(frozen=True)
class JuliaStatus:
    """Result of `julia_status`.

    **Arguments**

    - `usable`: True when PySR can be imported and run without downloading anything.
    - `reason`: one line: what was found, or what is missing and how to install it.
    - `executable`: the Julia executable found, if any.
    """

    usable: bool
    reason: str
    executable: str | None = None


def _juliapkg_project() -> Path:
    """The directory juliapkg uses for this Python environment (its own rule, re-derived)."""
    configured = os.environ.get("PYTHON_JULIAPKG_PROJECT")
    if configured:
        return Path(configured)
    depot = os.environ.get("JULIA_DEPOT_PATH", "").split(os.pathsep)[0]
    depot_path = Path(depot) if depot else Path.home() / ".julia"
    prefix = sys.prefix if sys.prefix != sys.base_prefix else os.environ.get("CONDA_PREFIX")
    if prefix:
        return Path(prefix) / "julia_env"
    return depot_path / "environments" / "pyjuliapkg"


def _resolved_meta(project: Path) -> dict | None:
    """juliapkg's record of a completed resolve (executable and packages), if present."""
    meta = project / "pyjuliapkg" / "meta.json"
    try:
        return json.loads(meta.read_text())
    except (OSError, ValueError):
        return None


def _candidates(project: Path, meta: dict | None) -> list[str]:
    """Julia executables to try, in juliapkg's order of preference."""
    found = []
    if os.environ.get("PYTHON_JULIAPKG_EXE"):
        found.append(os.environ["PYTHON_JULIAPKG_EXE"])
    if meta and meta.get("executable"):
        found.append(str(meta["executable"]))
    installed = project / "pyjuliapkg" / "install" / "bin" / "julia"
    if installed.exists():
        found.append(str(installed))
    on_path = shutil.which("julia")
    if on_path:
        found.append(on_path)
    return list(dict.fromkeys(found))


def _answers(executable: str, timeout: float) -> bool:
    try:
        done = subprocess.run(
            [executable, "--startup-file=no", "--version"],
            capture_output=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and b"julia" in done.stdout.lower()


def julia_status(*, timeout: float = PROBE_TIMEOUT) -> JuliaStatus:
    """Decide whether the PySR backend can run here, without importing `pysr`.

    Usable means: the `pysr` distribution is installed, juliapkg has resolved PySR's Julia
    environment for this Python environment (so importing PySR will not download), and its
    Julia executable answers `julia --version` within `timeout` seconds. Takes milliseconds
    when Julia is absent, at most about `timeout` seconds per executable tried otherwise.

    **Returns**

    a `JuliaStatus`; its `reason` is one line, suitable for `pytest.skip` and errors.
    """
    if importlib.util.find_spec("pysr") is None:
        return JuliaStatus(False, f"PySR is not installed: {INSTALL_HINT}.")
    version = importlib.metadata.version("pysr")
    project = _juliapkg_project()
    meta = _resolved_meta(project)
    executables = _candidates(project, meta)
    working = next((exe for exe in executables if _answers(exe, timeout)), None)
    if working is None:
        tried = ", ".join(executables) if executables else "none found"
        return JuliaStatus(
            False,
            f"PySR {version} is installed but no working Julia was found (tried: {tried}); "
            f"{INSTALL_HINT}.",
        )
    if meta is None:
        return JuliaStatus(
            False,
            f"Julia at {working} works but PySR's Julia packages are not installed in "
            f'{project}; run `python -c "import pysr"` once on a machine with internet.',
            working,
        )
    return JuliaStatus(True, f"PySR {version} with Julia at {working}.", working)
