"""The notebooks in `notebooks/`: they use only the public API, and they run top to bottom.

Execution (`slow`) goes through a kernel spec written for *this* interpreter into a temporary
folder that `JUPYTER_PATH` puts first: a `python3` spec left in `~/.local/share/jupyter` by
another environment (or none at all, in a fresh CI venv) cannot change which Python runs the
notebook. Only `ipykernel` must be installed (the `dev` extra).
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import nbformat
import pytest

import pinnkit as pk

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# Adam steps per fit when a notebook runs under test (read by the notebook from this variable).
NOTEBOOK_STEPS = 100
# Per cell: a small fit takes seconds, but a shared CI machine can be slow to start a kernel.
CELL_TIMEOUT_SECONDS = 300
KERNEL_NAME = "pinnkit-tests"


def code_cells(path: Path) -> list[str]:
    """Source of each code cell, IPython magics and shell escapes (`%`, `!`) dropped."""
    notebook = nbformat.read(path, as_version=4)
    magic = ("%", "!")
    return [
        "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(magic))
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]


def private_uses(source: str) -> list[str]:
    """Ways in which `source` reaches past `import pinnkit as pk` and its public names."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "pinnkit" and (
                    alias.name != "pinnkit" or alias.asname != "pk"
                ):
                    found.append(f"import {alias.name} as {alias.asname}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "pinnkit":
            found.append(f"from {node.module} import ...")
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "pk"
            and node.attr not in pk.__all__
        ):
            found.append(f"pk.{node.attr}")
    return found


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no .ipynb file"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_valid_and_uses_public_api(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in cells), (
        f"{path.name}: outputs are stored; clear them before committing"
    )
    sources = code_cells(path)
    assert any("import pinnkit as pk" in source for source in sources)
    assert any("PINNKIT_NOTEBOOK_STEPS" in source for source in sources), (
        f"{path.name}: the training budget must come from PINNKIT_NOTEBOOK_STEPS"
    )
    for source in sources:
        assert private_uses(source) == [], source


@pytest.fixture(scope="session")
def jupyter_path(tmp_path_factory) -> Path:
    """A folder holding one kernel spec that runs `sys.executable -m ipykernel_launcher`."""
    from ipykernel.kernelspec import install

    prefix = tmp_path_factory.mktemp("jupyter")
    install(kernel_name=KERNEL_NAME, prefix=str(prefix))
    return prefix / "share" / "jupyter"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, tmp_path, jupyter_path, monkeypatch):
    from nbclient import NotebookClient

    # The kernel inherits this environment: our kernel spec first, silence jupyter_core's
    # platformdirs migration warning, a small budget, and pinnkit importable even when it is
    # used from the source tree without being installed.
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter_path))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("PINNKIT_NOTEBOOK_STEPS", str(NOTEBOOK_STEPS))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name=KERNEL_NAME,
        timeout=CELL_TIMEOUT_SECONDS,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    errors = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]
    assert errors == []
    assert list((tmp_path / "runs").rglob("figures/solution.png"))
