"""Tests of `pinnkit.problem.file`: a problem file's `problem`, `config` and named `configs`,
chosen by name (`--config`), listed without executing the file."""

from __future__ import annotations

import textwrap

import pytest

import pinnkit as pk
from pinnkit.cli import main
from pinnkit.problem.file import config_names, load_problem_file

HEADER = textwrap.dedent(
    """
    import sympy as sp
    import pinnkit as pk

    x = sp.Symbol("x")
    u = sp.Function("u")(x)
    problem = pk.Problem(
        name="line",
        domain=pk.Interval(x, 0, 1),
        fields=[u],
        equations=[sp.Eq(u.diff(x, 2), -1)],
        conditions=[pk.Dirichlet(u, 0)],
    )
    """
)


def _write(tmp_path, body: str):
    path = tmp_path / "line.py"
    path.write_text(HEADER + textwrap.dedent(body))
    return path


def test_named_configs_are_chosen_by_name(tmp_path):
    path = _write(
        tmp_path,
        """
        config = pk.Config(steps=10)
        configs = {"accurate": config.replace(steps=20, dtype="float64")}
        """,
    )
    assert load_problem_file(path)[1].steps == 10
    assert load_problem_file(path, config="default")[1].steps == 10
    accurate = load_problem_file(path, config="accurate")[1]
    assert (accurate.steps, accurate.dtype) == (20, "float64")
    assert config_names(path) == ["default", "accurate"]


def test_configs_default_serves_as_the_default(tmp_path):
    path = _write(tmp_path, 'configs = {"default": pk.Config(steps=3), "fast": pk.Config()}\n')
    assert load_problem_file(path)[1].steps == 3
    assert config_names(path) == ["default", "fast"]


def test_an_unknown_config_name_lists_the_valid_ones(tmp_path):
    path = _write(tmp_path, 'config = pk.Config()\nconfigs = {"accurate": pk.Config()}\n')
    with pytest.raises(pk.ConfigError, match=r"no config named 'acurate'.*accurate, default"):
        load_problem_file(path, config="acurate")
    with pytest.raises(pk.ConfigError, match="Did you mean `accurate`"):
        load_problem_file(path, config="acurate")


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ('configs = {"accurate": 3}\n', "must map names to `pk.Config`s"),
        ("configs = [pk.Config()]\n", "must map names to `pk.Config`s"),
        ("config = {}\n", "`config` is a dict"),
        (
            'config = pk.Config()\nconfigs = {"default": pk.Config(steps=1)}\n',
            "differ; the default is one of them",
        ),
    ],
)
def test_bad_configs_are_config_errors(tmp_path, body, match):
    with pytest.raises(pk.ConfigError, match=match):
        load_problem_file(_write(tmp_path, body))


def test_a_file_without_configs_has_none(tmp_path):
    path = _write(tmp_path, "")
    assert load_problem_file(path)[1] is None
    assert config_names(path) == []
    with pytest.raises(pk.ConfigError, match="the file defines no config"):
        load_problem_file(path, config="accurate")


def test_cli_fit_and_check_take_a_named_config(tmp_path, monkeypatch, capsys):
    path = _write(
        tmp_path,
        """
        config = pk.Config(steps=4, progress=False, model=pk.MLP(width=4, depth=1))
        configs = {"longer": config.replace(steps=6)}
        """,
    )
    monkeypatch.chdir(tmp_path)
    assert main(["fit", str(path), "--config", "longer", "--no-plot", "--quiet"]) == 0
    assert "steps: 6" in capsys.readouterr().out
    assert main(["check", str(path), "--config", "longer"]) == 0
    assert '"steps": 6' in capsys.readouterr().out
    assert main(["fit", str(path), "--config", "nope", "--no-plot", "--quiet"]) == 2
    assert "no config named 'nope'" in capsys.readouterr().err


def test_pk_load_problem_file_is_the_public_name():
    assert pk.load_problem_file is load_problem_file


def test_a_symbol_the_problem_never_uses_is_warned_of(tmp_path):
    """`u.diff(y, 2)` with `y` not a coordinate is 0 in SymPy before pinnkit sees it; the
    file's unused symbol `y` is the trace it leaves."""
    path = tmp_path / "p.py"
    path.write_text(
        "import sympy as sp\nimport pinnkit as pk\n"
        'x, t, y = sp.symbols("x t y")\nu = sp.Function("u")(x, t)\n'
        "problem = pk.Problem(domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1), "
        "fields=[u], equations=[sp.Eq(u.diff(t), u.diff(y, 2))])\n"
    )
    with pytest.warns(pk.PinnkitWarning, match=r"y are defined but not used.*u.diff\(y\)"):
        load_problem_file(path)
