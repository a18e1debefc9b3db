"""Tests of `reference.Points` (scattered points, piecewise-linear interpolation) and
`reference.comsol` (COMSOL text exports), and of errors and figures of runs that use them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import pinnkit as pk
from pinnkit.errors import ProblemError
from pinnkit.figure_data import solution_data
from pinnkit.reference import Points, comsol
from pinnkit.runs import ErrorGrid, plot_saved

# Piecewise-linear interpolation reproduces a linear function up to round-off in the
# barycentric weights (measured ~1e-15 on these sets); 1e-12 still fails on any wrong weight.
INTERPOLATION_ATOL = 1e-12
# The error the trainer reports and the same formula computed here from `run.predict` at the
# same points with the same model: identical arithmetic, so only summation order may differ.
ERROR_RTOL = 1e-9

PINNACLE = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "pinnacle"
needs_pinnacle = pytest.mark.skipif(
    not PINNACLE.is_dir(), reason=f"PINNacle reference files not found at {PINNACLE}"
)

x, y, t = sp.symbols("x y t")


def _plane(*columns: np.ndarray) -> np.ndarray:
    return 1.0 + sum((k + 1.5) * (-1) ** k * c for k, c in enumerate(columns))


def _scattered(n: int, dims: int, seed: int = 0) -> np.ndarray:
    """`n` random points in the unit cube plus its corners, so that the hull is the cube."""
    corners = np.array(np.meshgrid(*[[0.0, 1.0]] * dims, indexing="ij")).reshape(dims, -1).T
    return np.concatenate([corners, np.random.default_rng(seed).uniform(0, 1, (n, dims))])


# --- Points ------------------------------------------------------------------------------------


def test_values_at_own_points_are_exact_and_points_returns_them():
    p = _scattered(80, 2)
    values = np.sin(7 * p[:, 0]) * np.exp(p[:, 1])
    reference = Points({x: p[:, 0], "y": p[:, 1]}, {sp.Function("u")(x, y): values})
    assert reference.coords == ("x", "y") and reference.fields == ("u",)
    assert reference.size == len(p) and reference.grid() is None
    own = reference.points()
    assert list(own) == ["x", "y"]
    np.testing.assert_array_equal(own["x"], p[:, 0])
    own["x"][0] = 99.0  # a copy: the reference is unchanged
    np.testing.assert_array_equal(reference.points()["x"], p[:, 0])
    got = reference.evaluate({"x": p[::-1, 0], "y": p[::-1, 1], "z": 5.0})["u"]
    np.testing.assert_array_equal(got, values[::-1])  # exact, not to round-off


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_linear_function_is_interpolated_exactly(dims):
    p = _scattered(60, dims)
    names = ("x", "y", "z")[:dims]
    reference = Points(dict(zip(names, p.T)), {"u": _plane(*p.T), "v": 2 * _plane(*p.T)})
    query = np.random.default_rng(1).uniform(0, 1, (dims, 7, 5))
    got = reference.evaluate(dict(zip(names, query)))
    assert got["u"].shape == (7, 5) and got["u"].dtype == np.float64
    np.testing.assert_allclose(got["u"], _plane(*query), rtol=0, atol=INTERPOLATION_ATOL)
    np.testing.assert_allclose(got["v"], 2 * _plane(*query), rtol=0, atol=INTERPOLATION_ATOL)


def test_interpolation_is_piecewise_linear_between_scattered_points():
    # A triangle: inside it the interpolant is the plane through the three values, which is
    # not the plane of `_plane`, so a wrong weight shows.
    reference = Points({"x": [0.0, 1.0, 0.0], "y": [0.0, 0.0, 1.0]}, {"u": [1.0, 3.0, -2.0]})
    got = reference.evaluate({"x": np.array([0.25, 0.5]), "y": np.array([0.25, 0.5])})["u"]
    np.testing.assert_allclose(got, [1 + 2 * 0.25 - 3 * 0.25, 1 + 1 - 1.5], atol=1e-15)


def test_flat_simplices_fall_back_to_scipy_search_and_least_squares(monkeypatch):
    """Every simplex called flat: the walk resolves nothing, and scipy's `find_simplex` with
    least-squares weights must give the same interpolant."""
    from pinnkit.reference import points as module

    monkeypatch.setattr(module, "_FLAT", 10.0)
    p = _scattered(40, 2)
    reference = Points({"x": p[:, 0], "y": p[:, 1]}, {"u": _plane(*p.T)})
    query = np.random.default_rng(5).uniform(-0.1, 1.1, (2, 200))
    got = reference.evaluate({"x": query[0], "y": query[1]})["u"]
    inside = ((query >= 0) & (query <= 1)).all(axis=0)
    assert np.isfinite(got[inside]).all() and np.isnan(got[~inside]).all()
    np.testing.assert_allclose(got[inside], _plane(*query[:, inside]), atol=1e-10)


def test_nan_outside_the_hull_and_at_nan_coordinates():
    p = np.random.default_rng(2).uniform(0.2, 0.8, (50, 2))
    reference = Points({"x": p[:, 0], "y": p[:, 1]}, {"u": _plane(*p.T)})
    got = reference.evaluate({"x": np.array([0.0, 1.0, 0.5, np.nan]), "y": 0.5})["u"]
    assert np.isnan(got[[0, 1, 3]]).all() and np.isfinite(got[2])
    line = Points({"x": [0.0, 2.0, 1.0]}, {"u": [0.0, 2.0, 5.0]})
    got = line.evaluate({"x": np.array([-0.1, 0.5, 1.5, 2.1])})["u"]
    np.testing.assert_array_equal(np.isnan(got), [True, False, False, True])
    np.testing.assert_allclose(got[1:3], [2.5, 3.5])


def test_snapshots_interpolate_linearly_in_time_between_layers():
    space = _scattered(40, 2)
    times = np.array([0.0, 0.5, 2.0])
    xs, ys = np.tile(space[:, 0], 3), np.tile(space[:, 1], 3)
    ts = np.repeat(times, len(space))
    reference = Points({"x": xs, "y": ys, "t": ts}, {"u": _plane(xs, ys, ts)})
    query = np.random.default_rng(3).uniform(0, 1, (3, 30)) * np.array([[1], [1], [2]])
    got = reference.evaluate(dict(zip("xyt", query)))["u"]
    np.testing.assert_allclose(got, _plane(*query), rtol=0, atol=INTERPOLATION_ATOL)
    assert np.isnan(reference.evaluate({"x": 0.5, "y": 0.5, "t": 2.5})["u"])


def test_flat_point_sets_give_values_only_where_known():
    one = Points({"x": [0.5], "y": [0.2]}, {"u": [3.0]})
    got = one.evaluate({"x": np.array([0.5, 0.5]), "y": np.array([0.2, 0.3])})["u"]
    np.testing.assert_array_equal(got, [3.0, np.nan])
    diagonal = Points({"x": [0.0, 1.0, 2.0], "y": [0.0, 1.0, 2.0]}, {"u": [3.0, 4.0, 5.0]})
    got = diagonal.evaluate({"x": np.array([1.0, 0.5]), "y": np.array([1.0, 0.5])})["u"]
    np.testing.assert_array_equal(got, [4.0, np.nan])


def test_repeated_points_with_equal_values_are_kept_once():
    reference = Points({"x": [0.0, 1.0, 0.0], "y": [0.0, 0.0, 0.0]}, {"u": [1.0, 2.0, 1.0]})
    assert reference.size == 2
    np.testing.assert_array_equal(reference.points()["x"], [0.0, 1.0])


@pytest.mark.parametrize(
    ("coords", "values", "match"),
    [
        ({"x": [0.0, 1.0]}, {"u": [1.0, 2.0, 3.0]}, r"differ in length \(`x` 2, `u` 3\)"),
        ({"x": [0.0, np.nan]}, {"u": [1.0, 2.0]}, "coordinate `x` has 1 NaN or infinite"),
        ({"x": [0.0, 1.0]}, {"u": [1.0, np.inf]}, "field `u` has 1 NaN or infinite"),
        ({"x": []}, {"u": []}, "no points given"),
        ({"x": [[0.0, 1.0]]}, {"u": [1.0, 2.0]}, r"shape \(1, 2\); expected a 1-D array"),
        ({"x": [0.0, 1.0]}, {"u": np.ones((2, 1))}, "field `u` has shape"),
        ({"x": [0.0, 0.0]}, {"u": [1.0, 2.0]}, "given twice with different values"),
        ({}, {"u": [1.0]}, "no coordinates given"),
        ({"x": [0.0]}, {}, "no fields given"),
        ({"x": [0.0]}, {"u": [1j]}, "expected real numbers"),
        ({"x": [0.0]}, {"u": ["a"]}, "expected real numbers"),
        ({"x": [0.0]}, {sp.sin(x): [1.0]}, "is not a name, a symbol or an applied function"),
        ({"x": [0.0], x: [1.0]}, {"u": [1.0]}, "coordinate `x` is given twice"),
        (np.ones((5, 2)), {"u": np.ones(5)}, r"coordinates are ndarray, expected a mapping"),
        ({"x": [0.0, 1.0]}, [1.0, 2.0], r"fields are list, expected a mapping.*`\{'u': "),
    ],
)
def test_invalid_points_are_refused(coords, values, match):
    with pytest.raises(ProblemError, match=match):
        Points(coords, values)


def test_missing_coordinate_is_refused():
    reference = Points({"x": [0.0, 1.0], "t": [0.0, 0.0]}, {"u": [1.0, 2.0]})
    with pytest.raises(ProblemError, match="missing coordinate.*`t`"):
        reference.evaluate({"x": 0.5})


# --- comsol: the real PINNacle exports ---------------------------------------------------------


@needs_pinnacle
def test_comsol_steady_export():
    path = PINNACLE / "poisson1_cg_data.dat"
    reference = comsol(path, ("x", "y"), ("u",))
    table = np.loadtxt(path, comments="%")
    assert reference.size == 1246 and reference.coords == ("x", "y")
    own = reference.points()
    np.testing.assert_array_equal(np.stack([own["x"], own["y"]], axis=1), table[:, :2])
    np.testing.assert_array_equal(reference.evaluate(own)["u"], table[:, 2])


@needs_pinnacle
def test_comsol_time_snapshots_become_rows():
    path = PINNACLE / "burgers1d.dat"
    reference = comsol(path, ("x",), ("u",))
    table = np.loadtxt(path, comments="%")
    assert reference.size == 101 * 11 and reference.coords == ("x", "t")
    own = reference.points()
    np.testing.assert_allclose(np.unique(own["t"]), np.linspace(0, 1, 11), atol=1e-15)
    # u at t = 0.3 is the fifth column; -sin(pi x) at t = 0.
    got = reference.evaluate({"x": table[:, 0], "t": 0.3})["u"]
    np.testing.assert_array_equal(got, table[:, 4])
    np.testing.assert_allclose(reference.evaluate({"x": table[:, 0], "t": 0.0})["u"], table[:, 1])


@needs_pinnacle
def test_comsol_several_outputs_and_a_parameter_suffix():
    path = PINNACLE / "lid_driven_a4.dat"
    reference = comsol(path, ("x", "y"), ("u", "v", "p"))
    assert reference.fields == ("u", "v", "p") and reference.size == 10201
    picked = comsol(path, ("x", "y"), {"p": "pressure"})
    assert picked.fields == ("pressure",)
    table = np.loadtxt(path, comments="%")
    np.testing.assert_array_equal(picked.evaluate(picked.points())["pressure"], table[:, 4])
    with pytest.raises(ProblemError, match=r"header has 3: `u` \(1 column\(s\)\), `v`"):
        comsol(path, ("x", "y"), ("u",))
    with pytest.raises(ProblemError, match="no output `P`.*Did you mean `p`"):
        comsol(path, ("x", "y"), {"P": "p"})
    with pytest.raises(ProblemError, match=r"2-dimensional \(% Dimension: 2"):
        comsol(path, ("x",), ("u", "v", "p"))


@needs_pinnacle
def test_comsol_many_snapshots():
    reference = comsol(PINNACLE / "heat_darcy.dat", ("x", "y"), ("u",), time="tau")
    assert reference.coords == ("x", "y", "tau") and reference.size == 983 * 51
    value = reference.evaluate({"x": 0.5, "y": 0.5, "tau": 2.05})["u"]
    assert np.isfinite(value)


# --- comsol: synthetic files -------------------------------------------------------------------


def write_comsol(path: Path, columns: list[str], rows: np.ndarray, dimension: int | None = 2):
    lines = ["% Model:              test.mph", "% Version:            COMSOL 6.0.0.354"]
    if dimension is not None:
        lines.append(f"% Dimension:          {dimension}")
    lines.append("% Description:        Dependent variable u")
    lines.append("% " + "".join(f"{c:<25}" for c in columns))
    lines += ["".join(f"{float(v)!r:<25}" for v in row) for row in np.asarray(rows, dtype=float)]
    path.write_text("\n".join(lines) + "\n")
    return path


XY = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.3, 0.6]])


def test_comsol_synthetic_snapshots_in_any_order_with_units(tmp_path):
    times = [0.5, 0.0, 1.0]  # COMSOL writes them in order; sorting must not depend on it
    columns = ["X", "Y"] + [f"u (m/s) @ t={s}" for s in times] + [f"w @ t={s}" for s in times]
    u = np.stack([_plane(*XY.T, np.full(5, s)) for s in times], axis=1)
    path = write_comsol(tmp_path / "a.txt", columns, np.concatenate([XY, u, -u], axis=1))
    reference = comsol(path, ("x", "y"), ("u", "w"))
    assert reference.coords == ("x", "y", "t") and reference.size == 15
    got = reference.evaluate({"x": 0.25, "y": 0.5, "t": np.array([0.0, 0.7])})
    np.testing.assert_allclose(got["u"], _plane(0.25, 0.5, np.array([0.0, 0.7])), atol=1e-12)
    np.testing.assert_allclose(got["w"], -got["u"])


def test_comsol_sweep_needs_select(tmp_path):
    columns = ["x", "y", "u @ Re=100", "u @ Re=200"]
    rows = np.concatenate([XY, np.ones((5, 1)), 2 * np.ones((5, 1))], axis=1)
    path = write_comsol(tmp_path / "sweep.txt", columns, rows)
    with pytest.raises(ProblemError, match=r"sweep of `Re` \(100, 200\).*select=\{'Re': 100\}"):
        comsol(path, ("x", "y"), ("u",))
    reference = comsol(path, ("x", "y"), ("u",), select={"Re": 200})
    np.testing.assert_array_equal(reference.evaluate(reference.points())["u"], 2.0)
    with pytest.raises(ProblemError, match="no column carries"):
        comsol(path, ("x", "y"), ("u",), select={"Ma": 1})
    with pytest.raises(ProblemError, match="no column of `u` has Re=300"):
        comsol(path, ("x", "y"), ("u",), select={"Re": 300})


@pytest.mark.parametrize(
    ("columns", "rows", "kwargs", "match"),
    [
        (["X", "Y", "u", "v"], np.ones((5, 3)), {}, "names 4 column.*rows have 3"),
        (["X", "Y", "u @ t=0", "v"], np.ones((5, 4)), {"fields": ("u", "v")}, "different snap"),
        (["X", "Y", "u @ t=0", "u @ t=0"], np.ones((5, 4)), {}, "not one per time"),
        (["X", "Y", "u @ t=a"], np.ones((5, 3)), {}, "not all numbers"),
        (["X", "Y", "u @ t=0"], np.ones((5, 3)), {"time": "x"}, "also a name in `coords`"),
        (["X", "Y", "u"], [[0, 0, np.nan]], {}, "1 of 1 rows hold NaN"),
        (["X", "Y", "u"], [[0, 0, 1], [0, 0, 2]], {}, "given twice with different values"),
    ],
)
def test_comsol_bad_files_are_refused(tmp_path, columns, rows, kwargs, match):
    path = write_comsol(tmp_path / "bad.txt", columns, rows)
    kwargs = {"coords": ("x", "y"), "fields": ("u",)} | kwargs
    with pytest.raises(ProblemError, match=match):
        comsol(path, **kwargs)


def test_comsol_unreadable_files_are_refused(tmp_path):
    with pytest.raises(ProblemError, match="no such file"):
        comsol(tmp_path / "missing.txt", ("x",), ("u",))
    (tmp_path / "plain.txt").write_text("0 1\n1 2\n")
    with pytest.raises(ProblemError, match="found 0 header line"):
        comsol(tmp_path / "plain.txt", ("x",), ("u",))
    (tmp_path / "words.txt").write_text("% x u\n0 one\n")
    with pytest.raises(ProblemError, match="not a table of numbers"):
        comsol(tmp_path / "words.txt", ("x",), ("u",))
    path = write_comsol(tmp_path / "no_dimension.txt", ["x", "y", "u"], np.ones((2, 3)), None)
    with pytest.raises(ProblemError, match="name only the coordinate columns"):
        comsol(path, ("x", "y", "u"), ("u",))


# --- errors and figures of runs ----------------------------------------------------------------


def laplace(reference: pk.reference.AbstractReference) -> pk.Problem:
    u = sp.Function("u")(x, y)
    return pk.Problem(
        name="laplace_points",
        domain=pk.Rectangle((x, 0, 1), (y, 0, 1)),
        fields=[u],
        equations=[sp.Eq(u.diff(x, 2) + u.diff(y, 2), 0)],
        conditions=[pk.Dirichlet(u, x**2 - y**2)],
        reference=reference,
    )


TINY = pk.Config(
    steps=20,
    log_every=10,
    eval_every=10,
    model=pk.MLP(width=8, depth=2),
    sampling=pk.Sampling(interior=64, boundary=32, initial=16),
    lbfgs=pk.LBFGS(steps=0),
    device="cpu",
    progress=False,
)


@pytest.fixture(scope="module")
def laplace_run(tmp_path_factory):
    """A run whose reference is known at 300 scattered points and the corners of
    [0.1, 1.15] x [0, 1]: 40-odd of them beyond x = 1 (outside the domain), none at x < 0.1
    (so the hull misses a strip of the domain)."""
    rng = np.random.default_rng(4)
    corners = [[0.1, 0.0], [0.1, 1.0], [1.15, 0.0], [1.15, 1.0]]
    p = np.concatenate(
        [corners, np.column_stack([rng.uniform(0.1, 1.15, 300), rng.uniform(0, 1, 300)])]
    )
    reference = Points({"x": p[:, 0], "y": p[:, 1]}, {"u": p[:, 0] ** 2 - p[:, 1] ** 2})
    return pk.fit(laplace(reference), TINY, out=tmp_path_factory.mktemp("runs")), p


def test_errors_are_measured_at_the_reference_points_inside_the_domain(laplace_run):
    run, p = laplace_run
    inside = p[:, 0] <= 1.0
    grid = ErrorGrid.build(run.problem)
    assert grid.dropped == int((~inside).sum()) > 0
    np.testing.assert_array_equal(grid.points, p[inside])
    predicted = run.predict(x=p[inside, 0], y=p[inside, 1])["u"]
    exact = p[inside, 0] ** 2 - p[inside, 1] ** 2
    by_hand = np.linalg.norm(predicted - exact) / np.linalg.norm(exact)
    assert run.rel_l2["u"] == pytest.approx(by_hand, rel=ERROR_RTOL)
    # A grid over the domain (what an `Exact` reference gets) measures something else.
    on_grid = ErrorGrid.build(laplace(pk.reference.Exact({sp.Function("u")(x, y): x**2 - y**2})))
    assert len(on_grid.points) == 101 * 101 and on_grid.dropped == 0
    assert on_grid.rel_l2(lambda q: {"u": run.predict(x=q[:, 0], y=q[:, 1])["u"]})["u"] != (
        pytest.approx(by_hand, rel=1e-3)
    )


def test_points_all_outside_the_domain_are_refused():
    reference = Points({"x": [2.0, 3.0, 2.0], "y": [0.0, 0.0, 1.0]}, {"u": [1.0, 2.0, 3.0]})
    with pytest.raises(ProblemError, match="none of the reference's 3 points lies in the domain"):
        ErrorGrid.build(laplace(reference))


def test_figure_shows_the_reference_at_its_nodes_inside_the_domain(laplace_run):
    run, p = laplace_run
    figures = run.plot(save=False)
    solution = [ax for ax in figures["solution"].axes if ax.get_title()]
    assert [ax.get_title() for ax in solution] == ["u: PINN", "u: reference", "|u - u_ref|"]
    predicted = solution[0].collections[0].get_array()
    assert not np.ma.is_masked(predicted)  # the prediction fills the rectangle, on a grid
    # the reference and the error as they are at the nodes, not interpolated: the nodes
    # inside the domain (x <= 1), their triangulation spanning only the reference's hull
    inside = p[:, 0] <= 1.0
    reference, error = (ax.collections[0] for ax in solution[1:])
    np.testing.assert_allclose(
        np.sort(reference.get_array()), np.sort(p[inside, 0] ** 2 - p[inside, 1] ** 2)
    )
    nodes = solution_data(run)["nodes"]
    assert len(nodes["x"]) == inside.sum() and nodes["x"].min() == pytest.approx(0.1)
    at = run.predict(x=nodes["x"], y=nodes["y"])["u"]
    np.testing.assert_allclose(error.get_array(), np.abs(at - (nodes["x"] ** 2 - nodes["y"] ** 2)))
    assert "drawn on their triangulation" in figures["solution"].get_suptitle()
    assert set(plot_saved(run.directory, save=False)) == {"solution", "loss"}


HOLES = [(-0.3, -0.3), (-0.3, 0.3), (0.3, -0.3), (0.3, 0.3)]


def _poisson2d_holes() -> pk.Problem:
    """Laplace on PINNacle's square with four circular holes (radius 0.1 at `HOLES`), its
    COMSOL solution as the reference."""
    reference = comsol(PINNACLE / "poisson1_cg_data.dat", ("x", "y"), ("u",))
    u = sp.Function("u")(x, y)
    domain = pk.Rectangle((x, -0.5, 0.5), (y, -0.5, 0.5))
    for center in HOLES:
        domain = domain - pk.Disk(x, y, center, 0.1)
    return pk.Problem(
        domain=domain,
        fields=[u],
        equations=[sp.Eq(u.diff(x, 2) + u.diff(y, 2), 0)],
        conditions=[pk.Dirichlet(u, 0)],
        reference=reference,
    )


@needs_pinnacle
def test_errors_on_a_domain_with_holes_keep_every_mesh_node():
    grid = ErrorGrid.build(_poisson2d_holes())
    assert len(grid.points) == 1246 and grid.dropped == 0


@needs_pinnacle
def test_the_figure_masks_the_triangles_that_span_a_hole(tmp_path):
    run = pk.fit(_poisson2d_holes(), TINY.replace(steps=2), out=tmp_path / "runs")
    nodes = solution_data(run)["nodes"]
    xy = np.column_stack([nodes["x"], nodes["y"]])
    triangles = xy[nodes["triangles"].astype(int)]
    centroids = triangles.mean(axis=1)
    masked = nodes["masked"].astype(bool)
    in_hole = np.zeros(len(centroids), dtype=bool)
    for center in HOLES:
        in_hole |= np.linalg.norm(centroids - center, axis=1) < 0.1
    # Delaunay fills each hole with triangles; every one of them is masked, no other
    assert in_hole.sum() > 4 and np.array_equal(masked, in_hole)
    figure = run.plot(save=False)["solution"]
    assert figure.axes[1].collections[0].get_array().size == len(xy) == 1246


def test_time_dependent_points_reference_trains_and_plots(tmp_path):
    """A heat problem in (x, y, t) whose reference is a synthetic COMSOL export with three
    snapshots up to t = 0.5: the run measures its error at the 3 x 25 rows and draws its
    snapshots, the last (t = 1) with no reference values at all."""
    grid = np.linspace(0, 1, 5)
    xy = np.array([(a, b) for a in grid for b in grid])
    times = [0.0, 0.25, 0.5]
    u_of = lambda s: np.exp(-s) * np.sin(np.pi * xy[:, 0]) * np.sin(np.pi * xy[:, 1])  # noqa: E731
    rows = np.column_stack([xy, *[u_of(s) for s in times]])
    path = write_comsol(tmp_path / "heat.txt", ["X", "Y", *[f"u (1) @ t={s}" for s in times]], rows)
    reference = comsol(path, ("x", "y"), ("u",))
    u = sp.Function("u")(x, y, t)
    problem = pk.Problem(
        domain=pk.Rectangle((x, 0, 1), (y, 0, 1)) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations=[sp.Eq(u.diff(t), (u.diff(x, 2) + u.diff(y, 2)) / (2 * sp.pi**2))],
        conditions=[pk.Initial(u, sp.sin(sp.pi * x) * sp.sin(sp.pi * y)), pk.Dirichlet(u, 0)],
        reference=reference,
    )
    run = pk.fit(problem, TINY.replace(steps=2), out=tmp_path / "runs")
    assert np.isfinite(run.rel_l2["u"])
    assert len(ErrorGrid.build(problem).points) == 75
    figures = run.plot(save=True)
    titles = [ax.get_title() for ax in figures["solution"].axes if ax.get_title()]
    assert "u: reference, t = 0.5" in titles
    assert set(plot_saved(run.directory, save=False)) == {"solution", "loss"}
