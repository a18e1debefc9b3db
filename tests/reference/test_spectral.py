"""Tests of the Fourier ETDRK4 solver: exact on linear problems, fourth order on nonlinear
ones, its errors, and the Allen-Cahn, KdV and Kuramoto-Sivashinsky references against
Raissi's files and their own invariants.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from pinnkit.errors import ProblemError
from pinnkit.reference import Grid, allen_cahn, kdv, kuramoto_sivashinsky, solve_periodic
from tests.helpers import max_and_relative_l2, reference_data_file

# ETDRK4 is exact for the linear part, so the heat equation is solved to round-off.
HEAT_ATOL = 1e-10
# Logistic growth u' = u(1 - u) from 0.1 to t = 2: ETDRK4 (RK4 on the k = 0 mode) errs by
# 1.14e-7 with h = 0.1 and 7.3e-9 with h = 0.05 (measured; order 3.97). Tolerance 3x; the
# order bound catches a lower-order bug.
LOGISTIC_ATOL = 3.5e-7
LOGISTIC_MIN_ORDER = 3.8
# ETDRK4 is fourth order; on KS to t = 5 with h = 1/8, 1/16, 1/32, 1/64 the successive
# differences shrink by 12.0, 13.5, 14.7 (measured; pre-asymptotic order 3.6-3.9).
KS_MIN_ORDER = 3.4
# Spectral differentiation keeps the mean of a conservative nonlinearity to round-off.
MEAN_ATOL = 1e-12


# AC.mat vs `allen_cahn()` (512 modes, dt 1e-3): max abs 7.6e-6, relative L2 1.05e-6, measured
# here, unchanged for dt from 5e-3 to 1e-4, so it is the file's time-stepping error. The file
# is only as accurate as 512 modes allow: 1024 modes differ from it by 5.8e-4 (max abs).
# Tolerances about 3x.
AC_MAT_MAX_ABS = 2.5e-5
AC_MAT_REL_L2 = 3.5e-6
# KdV.mat vs `kdv()` with lambda1 = 1, lambda2 = 0.0025, dt 1e-4: max abs 2.3e-11, relative L2
# 6.8e-12, measured here (dt 2e-4 gives 1.4e-10). The file's lambdas are exactly these.
# Tolerances about 4x (round-off level; allow for other FFT builds).
KDV_MAT_MAX_ABS = 1e-10
KDV_MAT_REL_L2 = 3e-11


# --- Fourier ETDRK4 ------------------------------------------------------------------------


def test_etdrk4_heat_is_exact():
    t = np.linspace(0, 1, 6)
    grid = solve_periodic(
        lambda k: -(k**2),
        lambda u, u_hat, k: np.zeros_like(u_hat),
        lambda x: np.sin(3 * x),
        x_min=0.0,
        x_max=2 * np.pi,
        n_modes=16,
        t_eval=t,
        dt=0.1,
    )
    assert grid.periodic == {"x": 2 * np.pi}
    x = grid.axes["x"]
    assert x.size == 16 and x[-1] < 2 * np.pi
    expected = np.exp(-9 * t)[None, :] * np.sin(3 * x)[:, None]
    np.testing.assert_allclose(grid.values["u"], expected, rtol=0, atol=HEAT_ATOL)


def test_etdrk4_complex_linear_part_is_exact():
    # Advection u_t = -u_x, symbol -ik: the whole-circle contour handles complex L.
    grid = solve_periodic(
        lambda k: -1j * k,
        lambda u, u_hat, k: np.zeros_like(u_hat),
        lambda x: np.cos(2 * x),
        x_min=0.0,
        x_max=2 * np.pi,
        n_modes=16,
        t_eval=np.array([0.0, 0.37]),
        dt=0.05,
    )
    x = grid.axes["x"]
    np.testing.assert_allclose(grid.values["u"][:, 1], np.cos(2 * (x - 0.37)), atol=HEAT_ATOL)


def test_etdrk4_nonlinear_logistic():
    t = np.array([0.0, 0.5, 2.0])
    exact = 1 / (1 + 9 * np.exp(-t))
    errors = []
    for dt in (0.1, 0.05):
        grid = solve_periodic(
            lambda k: -(k**2),
            lambda u, u_hat, k: np.fft.rfft(u * (1 - u)),
            lambda x: np.full_like(x, 0.1),
            x_min=0.0,
            x_max=1.0,
            n_modes=8,
            t_eval=t,
            dt=dt,
        )
        errors.append(np.abs(grid.values["u"] - exact[None, :]).max())
    assert errors[0] < LOGISTIC_ATOL
    assert np.log2(errors[0] / errors[1]) > LOGISTIC_MIN_ORDER


def test_solve_periodic_errors():
    common = dict(x_min=0.0, x_max=1.0, t_eval=np.array([0.0, 1.0]), dt=0.1)
    zero = lambda u, u_hat, k: np.zeros_like(u_hat)  # noqa: E731
    with pytest.raises(ProblemError, match="`n_modes` must be an even integer"):
        solve_periodic(lambda k: -(k**2), zero, np.sin, n_modes=15, **common)
    with pytest.raises(ProblemError, match="returned shape"):
        solve_periodic(lambda k: -(k**2), lambda u, u_hat, k: u, np.sin, n_modes=16, **common)
    with pytest.raises(ProblemError, match="strictly increasing"):
        solve_periodic(
            lambda k: -(k**2),
            zero,
            np.sin,
            n_modes=16,
            x_min=0.0,
            x_max=1.0,
            t_eval=np.array([1.0, 0.5]),
            dt=0.1,
        )


def test_allen_cahn_reproduces_raissi_file():
    """ETDRK4 vs `AC.mat`: max abs 7.6e-6, relative L2 1.05e-6 (measured)."""
    reference = Grid.from_mat(
        reference_data_file("raissi_pinns", "AC.mat"),
        {"x": "x", "t": "tt"},
        {"u": "uu"},
        layout=("x", "t"),
        periodic={"x": 2.0},
    )
    computed = allen_cahn(t=reference.axes["t"])
    np.testing.assert_allclose(computed.axes["x"], reference.axes["x"], rtol=0, atol=1e-15)
    max_abs, rel_l2 = max_and_relative_l2(computed.values["u"], reference.values["u"])
    assert max_abs < AC_MAT_MAX_ABS
    assert rel_l2 < AC_MAT_REL_L2
    # The file's grid stops at x = 0.996; the periodic wrap covers x = 1 (u = -1 at t = 0).
    assert reference.evaluate({"x": 1.0, "t": 0.0})["u"] == pytest.approx(-1.0, abs=1e-12)


def test_kdv_reproduces_raissi_file():
    """ETDRK4 vs `KdV.mat` with lambda = (1, 0.0025): max abs 2.3e-11, rel L2 6.8e-12."""
    data = scipy.io.loadmat(reference_data_file("raissi_pinns", "KdV.mat"))
    computed = kdv(t=data["tt"].ravel())
    max_abs, rel_l2 = max_and_relative_l2(computed.values["u"], data["uu"])
    assert max_abs < KDV_MAT_MAX_ABS
    assert rel_l2 < KDV_MAT_REL_L2
    # The grid is periodic: x = 1 is x = -1.
    at_ends = computed.evaluate({"x": np.array([-1.0, 1.0]), "t": 0.5})["u"]
    assert at_ends[0] == at_ends[1]


def test_kuramoto_sivashinsky_converges_at_fourth_order_and_keeps_mean():
    t = np.array([0.0, 5.0])
    finals = [
        kuramoto_sivashinsky(
            t=t, dt=dt, u0=lambda x: np.cos(x / 16) * (1 + np.sin(x / 16)) + 0.3
        ).values["u"][:, -1]
        for dt in (1 / 8, 1 / 16, 1 / 32)
    ]
    coarse = np.abs(finals[0] - finals[1]).max()
    fine = np.abs(finals[1] - finals[2]).max()
    assert np.log2(coarse / fine) > KS_MIN_ORDER
    for final in finals:
        assert abs(final.mean() - 0.3) < MEAN_ATOL


def test_kuramoto_sivashinsky_classic_run_stays_bounded():
    # Kassam & Trefethen Fig. 4.1: the default set-up to t = 150 stays O(1) (|u| < 4) with
    # zero mean, after the chaotic cells form.
    grid = kuramoto_sivashinsky(t=np.linspace(0, 150, 4))
    u = grid.values["u"]
    assert np.all(np.isfinite(u)) and np.abs(u).max() < 4.0
    assert np.abs(u.mean(axis=0)).max() < MEAN_ATOL
    assert np.abs(u[:, -1]).max() > 2.0  # developed, not decayed
