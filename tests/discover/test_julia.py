"""`pinnkit.discover.julia`: the Julia probe answers quickly, never hangs, and says what to
install.
"""

from __future__ import annotations

import json
import stat
import time

import numpy as np
import pytest

from pinnkit.discover import PySR, julia, julia_status
from pinnkit.errors import DiscoveryError
from tests.discover.terms import u

# The probe runs no subprocess when PySR is missing; measured ~1 ms.
PROBE_SECONDS = 1.0


def test_julia_probe_is_fast_and_says_what_to_install():
    start = time.perf_counter()
    status = julia_status()
    assert time.perf_counter() - start < PROBE_SECONDS
    if status.usable:
        pytest.skip("Julia and PySR are usable here; the missing-Julia message is not shown")
    assert "\n" not in status.reason
    assert 'pip install "pinnkit[pysr]"' in status.reason or "import pysr" in status.reason
    with pytest.raises(DiscoveryError, match="PySR backend: "):
        PySR().fit({u: np.ones(20)}, np.ones(20))


def _fake_julia(tmp_path, body: str) -> str:
    script = tmp_path / "julia"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


@pytest.fixture
def pretend_pysr(monkeypatch, tmp_path):
    """Make the probe believe `pysr` is installed, with an empty PATH and juliapkg project."""
    monkeypatch.setattr(julia.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(julia.importlib.metadata, "version", lambda name: "9.9")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("PYTHON_JULIAPKG_PROJECT", str(tmp_path / "project"))
    monkeypatch.delenv("PYTHON_JULIAPKG_EXE", raising=False)
    return tmp_path


def test_julia_probe_never_hangs(pretend_pysr, monkeypatch):
    hanging = _fake_julia(pretend_pysr, "sleep 30")
    monkeypatch.setenv("PYTHON_JULIAPKG_EXE", hanging)
    start = time.perf_counter()
    status = julia_status(timeout=0.5)
    assert time.perf_counter() - start < 5
    assert not status.usable and "no working Julia" in status.reason
    assert 'pip install "pinnkit[pysr]"' in status.reason


def test_julia_probe_needs_resolved_packages(pretend_pysr, monkeypatch):
    exe = _fake_julia(pretend_pysr, 'echo "julia version 1.11.0"')
    monkeypatch.setenv("PYTHON_JULIAPKG_EXE", exe)
    status = julia_status(timeout=5)
    assert not status.usable and "import pysr" in status.reason and status.executable == exe
    meta = pretend_pysr / "project" / "pyjuliapkg" / "meta.json"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"executable": exe}))
    assert julia_status(timeout=5).usable
