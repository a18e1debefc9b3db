"""Tests of the reference interface: abstract, and no reference module imports torch."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pinnkit.reference import AbstractReference

# --- interface -----------------------------------------------------------------------------


def test_abstract_reference_is_abstract():
    with pytest.raises(TypeError):
        AbstractReference()


def test_reference_modules_do_not_import_torch():
    # `import pinnkit` itself imports torch (the models), so check the sources, not sys.modules.
    package = Path(__file__).resolve().parents[2] / "pinnkit" / "reference"
    for source in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(name.split(".")[0] == "torch" for name in names), source.name
