"""Every malformed problem file of the corpus (`problem_files.CASES`): `pinnkit check` exits
2 with one message naming the culprit, no traceback, and the well-formed file passes."""

import re

import pytest

from pinnkit.cli import main
from tests.fuzz.problem_files import CASES, GOOD, HEADER


def _check(tmp_path, monkeypatch, capsys, body: str) -> tuple[int, str]:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "p.py"
    path.write_text(HEADER + body)
    code = main(["check", "p.py"])
    return code, capsys.readouterr().err


def test_the_corpus_is_large_and_its_names_unique():
    names = [name for name, _, _ in CASES]
    assert len(names) >= 60 and len(set(names)) == len(names)


def test_the_well_formed_file_passes(tmp_path, monkeypatch, capsys):
    code, err = _check(tmp_path, monkeypatch, capsys, GOOD)
    assert code == 0, err


@pytest.mark.parametrize(("body", "pattern"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_malformed_file_gets_one_clear_error(tmp_path, monkeypatch, capsys, body, pattern):
    code, err = _check(tmp_path, monkeypatch, capsys, body)
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err, err
    assert re.search(pattern, err, re.IGNORECASE | re.DOTALL), err
    first = err.strip().splitlines()[0]
    assert re.match(r"^[A-Za-z]+Error: ", first), err  # one message, its kind first
    assert not (tmp_path / "runs").exists()
