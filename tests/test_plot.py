"""Figures of a run (`pinnkit.plot`): tiny runs of each kind of domain, drawn and saved."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import pinnkit as pk
from pinnkit.plot import DPI, Figures, plot_losses, plot_solution
from tests.helpers import UNFOLLOWED

x, y, t = sp.symbols("x y t")


def tiny_config(*, lbfgs: int = 0) -> pk.Config:
    """A few seconds of training on CPU: enough for metrics, a checkpoint and a summary."""
    return pk.Config(
        steps=40,
        log_every=20,
        eval_every=20,
        model=pk.MLP(width=8, depth=2),
        sampling=pk.Sampling(interior=64, boundary=16, initial=16),
        lbfgs=pk.LBFGS(steps=lbfgs),
        device="cpu",
        progress=False,
    )


def heat_problem() -> pk.Problem:
    u = sp.Function("u")(x, t)
    return pk.Problem(
        name="heat",
        domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations=[sp.Eq(u.diff(t), u.diff(x, 2) / sp.pi**2)],
        conditions=[pk.Initial(u, sp.sin(sp.pi * x)), pk.Dirichlet(u, 0)],
        reference=pk.reference.Exact({u: sp.sin(sp.pi * x) * sp.exp(-t)}),
    )


def decay_problem() -> pk.Problem:
    """An inverse ODE: learn `k` in u' = -k u from observations of exp(-t)."""
    u = sp.Function("u")(t)
    k = pk.Parameter("k", init=0.5)
    times = np.linspace(0, 2, 12)
    return pk.Problem(
        name="decay",
        domain=pk.TimeInterval(t, 0, 2),
        fields=[u],
        equations=[sp.Eq(u.diff(t), -k * u)],
        conditions=[pk.Initial(u, 1)],
        data=pk.Data({t: times}, {u: np.exp(-times)}),
        reference=pk.reference.Exact({u: sp.exp(-t)}),
    )


def poisson_problem() -> pk.Problem:
    u = sp.Function("u")(x, y)
    source = 2 * sp.pi**2 * sp.sin(sp.pi * x) * sp.sin(sp.pi * y)
    return pk.Problem(
        name="poisson2d",
        domain=pk.Rectangle((x, 0, 1), (y, 0, 1)),
        fields=[u],
        equations=[sp.Eq(-u.diff(x, 2) - u.diff(y, 2), source)],
        conditions=[pk.Dirichlet(u, 0)],
        reference=pk.reference.Exact({u: sp.sin(sp.pi * x) * sp.sin(sp.pi * y)}),
    )


def disk_problem() -> pk.Problem:
    """Poisson on the unit disk, no reference: the figure has the prediction only."""
    u = sp.Function("u")(x, y)
    return pk.Problem(
        name="disk",
        domain=pk.Disk(x, y),
        fields=[u],
        equations=[sp.Eq(u.diff(x, 2) + u.diff(y, 2), -4)],
        conditions=[pk.Dirichlet(u, 0)],
    )


@pytest.fixture(scope="module")
def heat_run(tmp_path_factory):
    return pk.fit(heat_problem(), tiny_config(lbfgs=10), out=tmp_path_factory.mktemp("runs"))


@pytest.fixture(scope="module")
def disk_run(tmp_path_factory):
    return pk.fit(disk_problem(), tiny_config(), out=tmp_path_factory.mktemp("runs"))


def panels(figure):
    """The plotting axes of a figure (every one has a title; colour bars have none)."""
    return [ax for ax in figure.axes if ax.get_title()]


def check_saved(run, figures):
    assert isinstance(figures, Figures)
    assert set(figures) == {"solution", "loss"}
    for name in figures:
        path = run.directory / "figures" / f"{name}.png"
        assert path.stat().st_size > 1000
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for figure in figures.values():
        assert panels(figure)
        for ax in panels(figure):
            assert ax.get_xlabel() and ax.get_ylabel(), ax.get_title()


def test_space_time_with_reference(heat_run):
    figures = heat_run.plot()
    check_saved(heat_run, figures)
    solution = figures["solution"]
    titles = [ax.get_title() for ax in panels(solution)]
    assert titles == ["u: PINN", "u: reference", "|u - u_ref|"]
    assert (panels(solution)[0].get_xlabel(), panels(solution)[0].get_ylabel()) == ("$t$", "$x$")
    assert f"{heat_run.rel_l2['u']:.2e}" in solution.get_suptitle()
    loss = panels(figures["loss"])
    assert [ax.get_title() for ax in loss] == ["training loss", "error against the reference"]
    assert loss[0].get_yscale() == "log"
    labels = loss[0].get_legend_handles_labels()[1]
    assert labels == ["total (weighted)", "eq0", "initial_u", "bc_u", "L-BFGS"]


@pytest.mark.filterwarnings(UNFOLLOWED)  # a few steps: the fit follows no data
def test_ode_with_parameter_and_data(tmp_path):
    run = pk.fit(decay_problem(), tiny_config(), out=tmp_path)
    figures = run.plot()
    check_saved(run, figures)
    line, error = panels(figures["solution"])
    assert line.get_xlabel() == "$t$"
    assert line.get_legend_handles_labels()[1] == ["PINN", "reference", "data"]
    assert error.get_title() == "absolute error"
    loss = panels(figures["loss"])
    assert loss[-1].get_title() == "learned parameters"
    (k_line,) = loss[-1].get_lines()
    steps, values = k_line.get_data()
    assert steps[0] == 0 and values[0] == 0.5  # starts at the Parameter's init
    assert values[-1] == pytest.approx(run.parameters["k"])


def test_rectangle_steady(tmp_path):
    run = pk.fit(poisson_problem(), tiny_config(), out=tmp_path)
    figures = plot_run_saved(run)
    solution = panels(figures["solution"])
    assert len(solution) == 3
    assert (solution[0].get_xlabel(), solution[0].get_ylabel()) == ("$x$", "$y$")


def plot_run_saved(run):
    figures = run.plot(save=True)
    check_saved(run, figures)
    return figures


def test_disk_masked_outside(disk_run):
    figures = plot_run_saved(disk_run)
    (ax,) = panels(figures["solution"])
    image = ax.collections[0].get_array()
    assert np.ma.is_masked(image)
    assert image.mask[0, 0] and not image.mask[image.shape[0] // 2, image.shape[1] // 2]
    assert figures["solution"].get_suptitle() == "disk"  # no reference, no error in the title


def test_in_memory_run_is_not_saved(tmp_path):
    run = pk.fit(disk_problem(), tiny_config(), out=None)
    figures = run.plot()
    assert run.directory is None and set(figures) == {"solution", "loss"}
    assert panels(plot_losses(run))[0].get_lines()
    with pytest.raises(pk.ConfigError, match="has no run directory"):
        run.plot(save=True)


def test_figures_show_inline_in_jupyter(disk_run):
    figures = Figures({"solution": plot_solution(disk_run)})
    html = figures._repr_html_()
    assert html.count('<img src="data:image/png;base64,') == 1
    assert repr(figures) == "Figures(['solution'])"
    assert DPI >= 100


def test_import_pinnkit_does_not_import_matplotlib():
    code = "import sys, pinnkit, pinnkit.plot; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.filterwarnings(UNFOLLOWED)
@pytest.mark.parametrize("which", ["heat_run", "disk_run", "ode"])
def test_saved_figure_data_draws_the_same_figures(which, request, tmp_path):
    """`plot.npz`, written at the end of a run, holds exactly what the figures show: the
    figures drawn from it (`plot_saved`, no code of the run executed) match those drawn
    from the run, panel by panel and value by value."""
    from pinnkit.figure_data import PLOT_DATA, load, solution_data
    from pinnkit.runs import plot_saved

    if which == "ode":
        run = pk.fit(decay_problem(), tiny_config(), out=tmp_path)
    else:
        run = request.getfixturevalue(which)
    saved, fresh = load(run.directory / PLOT_DATA), solution_data(run)

    def flat(value):
        if isinstance(value, dict):
            return [x for k in sorted(value) for x in flat(value[k])]
        if isinstance(value, list):
            return [x for v in value for x in flat(v)]
        return [value]

    for a, b in zip(flat(saved), flat(fresh), strict=True):
        if isinstance(b, np.ndarray):
            np.testing.assert_allclose(a, b, rtol=0, atol=0, equal_nan=True)
        else:
            assert a == b
    figures = plot_saved(run.directory, save=False)
    drawn = run.plot(save=False)
    for name in ("solution", "loss"):
        assert [ax.get_title() for ax in panels(figures[name])] == [
            ax.get_title() for ax in panels(drawn[name])
        ]
