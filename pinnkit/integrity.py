"""A run directory's integrity and trust: files written atomically, the hashes of the
problem file and configuration it was written with, a lock held while a process trains it,
and the record of the runs this user's own `pinnkit fit` created.

A run directory holds a copy of its problem file, `problem.py`, which `--resume`,
`discover` and `plot` execute to rebuild the problem. A directory someone sends you can
therefore run code on your machine. So pinnkit executes a run's `problem.py` only when

- the run was created by your own `pinnkit fit` (or `pk.fit`) on this machine, and its
  `problem.py` is unchanged since (`remember` records the directory and the file's SHA-256
  in `trusted-runs.json` in your cache directory: `$PINNKIT_CACHE`, else
  `$XDG_CACHE_HOME/pinnkit`, else `~/.cache/pinnkit`), or
- you say so (`--trust` on the command line, `trust=True` in Python), after reading it.

Independently, a run records the SHA-256 of its `problem.py` and `config.json` in
`hashes.json`; continuing or discovering on a run whose files were edited since is refused
(naming what changed) unless forced, because it would mix two different problems in one run.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from pinnkit.errors import RunError

__all__ = [
    "atomic_write",
    "HASHES",
    "LOCK",
    "TRUSTED",
    "digest",
    "hashes",
    "update_hash",
    "changed",
    "require_unchanged",
    "cache_directory",
    "remember",
    "is_trusted",
    "require_trust",
    "RunLock",
]

#: The file of a run directory that records the hashes of the files it was written with.
HASHES = "hashes.json"
#: The lock file held while a process trains the run.
LOCK = "run.lock"
#: The record of the runs this user created, in `cache_directory()`.
TRUSTED = "trusted-runs.json"
#: The files whose hashes a run records (those a run is rebuilt from).
RECORDED = ("problem.py", "config.json")


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write a file so that a reader (or a kill at any moment) sees the old or the new
    content, never a mix: temp file in the same directory, fsync, rename."""
    path = Path(path)
    payload = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def digest(data: str | bytes) -> str:
    """The SHA-256 of `data` (text as UTF-8), in hex."""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def hashes(files: Mapping[str, str]) -> str:
    """The text of `hashes.json` for a run written with `files` (name -> text)."""
    return json.dumps({n: digest(files[n]) for n in RECORDED if n in files}, indent=2) + "\n"


def update_hash(directory: Path, name: str, text: str) -> None:
    """Record the new hash of one file a run rewrote itself (`--steps` on resume)."""
    recorded = _recorded(Path(directory))
    if recorded is not None:
        recorded[name] = digest(text)
        atomic_write(Path(directory) / HASHES, json.dumps(recorded, indent=2) + "\n")


def _recorded(directory: Path) -> dict[str, str] | None:
    path = directory / HASHES
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise RunError(
            f"{path} is damaged (not the hashes pinnkit wrote), so the run's files cannot be "
            "checked. Fix: start a new run with `pinnkit fit FILE`."
        )
    return data


def changed(directory: Path) -> list[str]:
    """The recorded files of a run that differ from (or are missing since) the hashes it was
    written with; [] for a run written before hashes were recorded."""
    directory = Path(directory)
    recorded = _recorded(directory)
    if recorded is None:
        return []
    out = []
    for name, expected in recorded.items():
        path = directory / name
        if not path.is_file():
            out.append(f"{name} (missing)")
        elif digest(path.read_bytes()) != expected:
            out.append(name)
    return out


def require_unchanged(directory: Path, *, force: bool, action: str) -> None:
    """Refuse `action` on a run whose problem file or configuration was edited since it was
    written, unless `force`.

    **Raises**

    `RunError` naming the changed files.
    """
    edited = changed(directory)
    if edited and not force:
        raise RunError(
            f"{directory}: {' and '.join(edited)} changed since the run was written, so "
            f"{action} would mix two different problems in one run. Fix: start a new run "
            "with `pinnkit fit FILE` (the edited file), or add --force to go on anyway."
        )


def cache_directory() -> Path:
    """Where pinnkit keeps this user's records: `$PINNKIT_CACHE`, else
    `$XDG_CACHE_HOME/pinnkit`, else `~/.cache/pinnkit`."""
    if os.environ.get("PINNKIT_CACHE"):
        return Path(os.environ["PINNKIT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pinnkit"


def _trusted() -> dict[str, str]:
    path = cache_directory() / TRUSTED
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}  # none yet, or damaged: then nothing is trusted until recorded again
    return data if isinstance(data, dict) else {}


def remember(directory: Path, source: str) -> None:
    """Record that this user's own `fit` created the run `directory` with problem file text
    `source` (best effort: a cache that cannot be written only means `--trust` is needed
    later). Runs started at the same moment take turns (a lock beside the record)."""
    folder = cache_directory()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"{TRUSTED}.lock", "a+") as handle:
            for _ in range(200):  # up to ~10 s behind another fit's few milliseconds
                try:
                    _lock(handle)
                    break
                except OSError:
                    time.sleep(0.05)
            records = _trusted()
            records[str(Path(directory).resolve())] = digest(source)
            atomic_write(folder / TRUSTED, json.dumps(records, indent=1) + "\n")
    except OSError:
        pass


def is_trusted(directory: Path) -> bool:
    """Whether this user's `fit` created the run and its `problem.py` is unchanged since."""
    directory = Path(directory)
    expected = _trusted().get(str(directory.resolve()))
    source = directory / "problem.py"
    return expected is not None and source.is_file() and digest(source.read_bytes()) == expected


def require_trust(directory: Path, *, trust: bool, action: str) -> None:
    """Refuse to execute a run's `problem.py` for `action` unless it is trusted (see the
    module docstring).

    **Raises**

    `RunError` saying why and how to go on.
    """
    directory = Path(directory)
    if trust or not (directory / "problem.py").is_file() or is_trusted(directory):
        return
    raise RunError(
        f"{directory}: {action} executes the run's problem.py (Python code), and this run was "
        "not created by your own `pinnkit fit` on this machine, or its problem.py changed "
        f"since. Fix: read {directory / 'problem.py'}; if you trust it, add --trust "
        "(`trust=True` in Python)."
    )


class RunLock:
    """An exclusive lock on a run directory while a process trains it (`run.lock`, an OS
    lock that ends with the process, so a killed run leaves no stale lock).

    **Raises**

    `RunError` on entering when another process holds it.
    """

    def __init__(self, directory: Path):
        self.path = Path(directory) / LOCK
        self._handle = None

    def __enter__(self) -> RunLock:
        handle = open(self.path, "a+")  # noqa: SIM115 - held until __exit__
        try:
            _lock(handle)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise RunError(
                f"{self.path.parent}: another process (pid {holder}) is training this run. "
                "Two processes writing one run would interleave their checkpoints and "
                "metrics. Fix: wait for it to finish (or stop it), then `pinnkit fit "
                f"--resume {self.path.parent}`."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            _lock(self._handle, exclusive=False)
            self._handle.close()
            self._handle = None


def _lock(handle, exclusive: bool = True) -> None:
    """Take (or, with `exclusive=False`, release) the OS lock of an open file, without
    waiting: `OSError` when another process holds it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK if exclusive else msvcrt.LK_UNLCK, 1)
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB if exclusive else fcntl.LOCK_UN)
