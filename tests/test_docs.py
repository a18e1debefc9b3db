"""The documentation: the MkDocs site builds without a warning, and README.md stays a front page.

The build runs `mkdocs build --strict` in a subprocess from the repository root, as a reader
would, so a benchmark table that moved, or a broken link or anchor (in a page or a docstring),
fails here rather than on the published site. It took 5-15 s on the 2-core CPU, depending on load.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

#: The front page's length limit: the detail lives in docs/.
README_MAX_LINES = 150

#: Generous: the build took 5-15 s on the 2-core CPU, more when other jobs share it.
BUILD_TIMEOUT_SECONDS = 300

#: The install and test lines that `.ci/run` runs; the README must show them as they are.
README_COMMANDS = (
    "python3 -m venv .venv && . .venv/bin/activate",
    'pip install torch==2.13.0 -e ".[dev]"',
    "pytest",
    "pytest -m slow",
)


@pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None,
    reason='MkDocs is not installed; `pip install -e ".[docs]"` (part of `.[dev]`) installs it',
)
def test_docs_build_strict(tmp_path):
    # MkDocs plugins print a banner about MkDocs 2 on every build; it is not a warning of the
    # build, and without it a failure's output is the build's own.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)]
    result = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"`{' '.join(command[1:])}` failed:\n{output}"
    assert (tmp_path / "index.html").is_file(), output
    assert (tmp_path / "reference" / "pinnkit" / "index.html").is_file(), output


def test_readme_is_a_front_page():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines, more than {README_MAX_LINES}: move the detail "
        "into a page under docs/ and link to it."
    )


def test_readme_shows_the_ci_commands():
    commands = {line.strip().split("  #")[0].strip() for line in README.read_text().splitlines()}
    missing = [c for c in README_COMMANDS if c not in commands]
    assert not missing, f"README.md no longer shows {missing} on a line of its own (.ci/run)"


def test_readme_links_exist():
    # Relative links and images, as GitHub resolves them from the repository root.
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [t.split("#")[0] for t in targets if "://" not in t and not t.startswith("#")]
    missing = [t for t in local if t and not (ROOT / t).exists()]
    assert local, "README.md links to no page under docs/"
    assert not missing, f"README.md links to files that do not exist: {missing}"
