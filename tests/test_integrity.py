"""Run-directory integrity and trust (`pinnkit.integrity`): hashes, the trust record, the
lock."""

import json

import pytest

import pinnkit as pk
from pinnkit.integrity import (
    HASHES,
    TRUSTED,
    RunLock,
    cache_directory,
    changed,
    hashes,
    is_trusted,
    remember,
    require_trust,
    require_unchanged,
    update_hash,
)


def _run(tmp_path, source="problem = 1\n", config='{"steps": 1}\n'):
    run = tmp_path / "run"
    run.mkdir()
    files = {"problem.py": source, "config.json": config}
    for name, text in {**files, HASHES: hashes(files)}.items():
        (run / name).write_text(text)
    return run


def test_hashes_name_what_changed_and_force_goes_on(tmp_path):
    run = _run(tmp_path)
    assert changed(run) == []
    (run / "config.json").write_text('{"steps": 2}\n')
    assert changed(run) == ["config.json"]
    with pytest.raises(pk.RunError, match="config.json changed since.*--force"):
        require_unchanged(run, force=False, action="--resume")
    require_unchanged(run, force=True, action="--resume")
    update_hash(run, "config.json", '{"steps": 2}\n')  # the run's own rewrite
    assert changed(run) == []
    (run / "problem.py").unlink()
    assert changed(run) == ["problem.py (missing)"]
    (run / HASHES).unlink()
    assert changed(run) == []  # a run written before hashes: nothing to compare


def test_only_own_unchanged_runs_are_trusted(tmp_path, monkeypatch):
    monkeypatch.setenv("PINNKIT_CACHE", str(tmp_path / "cache"))
    run = _run(tmp_path)
    assert cache_directory() == tmp_path / "cache"
    assert not is_trusted(run)
    with pytest.raises(pk.RunError, match="not created by your own.*--trust"):
        require_trust(run, trust=False, action="--resume")
    require_trust(run, trust=True, action="--resume")
    remember(run, "problem = 1\n")
    assert is_trusted(run)
    assert json.loads((tmp_path / "cache" / TRUSTED).read_text()) != {}
    (run / "problem.py").write_text("problem = 2\n")  # edited since: trusted no more
    assert not is_trusted(run)
    (tmp_path / "cache" / TRUSTED).write_text("not json")  # damaged: nothing trusted
    assert not is_trusted(run)
    remember(run, "problem = 2\n")  # and recorded again
    assert is_trusted(run)


def test_a_run_is_locked_by_one_process_at_a_time(tmp_path):
    run = _run(tmp_path)
    with RunLock(run):
        with pytest.raises(pk.RunError, match=r"another process \(pid \d+\)"):
            with RunLock(run):
                pass
    with RunLock(run):  # released
        pass
