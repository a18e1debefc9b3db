"""DeepXDE (PyTorch backend) on pinnkit's bundled problems, each with the recipe of DeepXDE's
own example for that equation, scored on pinnkit's reference grid. Used by `frontier.py`.

- burgers: `examples/pinn_forward/Burgers.py` (FNN [2] + [20] * 3 + [1] tanh, Glorot
  normal, 2540 domain / 80 boundary / 160 initial points, Adam lr 1e-3 for 15000
  iterations, then L-BFGS), then NNCG (DeepXDE's `model.compile("NNCG")`, its default
  options) for 1000 iterations, as the NNCG paper (Rathore et al., ICML 2024) follows
  Adam and L-BFGS with it.
- kovasznay: `examples/pinn_forward/Kovasznay_flow.py` (FNN [2] + [50] * 4 + [3] tanh,
  2601 domain / 400 boundary points, Adam lr 1e-3 for 30000 iterations, then L-BFGS).
- helmholtz: `examples/pinn_forward/Helmholtz_Dirichlet_2d.py`'s recipe (FNN 3 x 150 sin,
  Glorot uniform, the boundary condition imposed exactly by the output transform, here
  (1 - x^2)(1 - y^2) N(x, y), 10 points per shortest wavelength, Adam lr 1e-3 for 5000
  iterations, no L-BFGS) on pinnkit's problem (a = (1, 4), k = 1).

DeepXDE computes in float32 as its examples do. Each recipe returns the row `frontier.py`
records: relative L2 per field, parameter count, wall time of the training calls.
"""

from __future__ import annotations

import os
import time

os.environ["DDE_BACKEND"] = "pytorch"  # before deepxde is imported anywhere

import numpy as np  # noqa: E402

import pinnkit as pk  # noqa: E402
from pinnkit.cli import bundled_problems  # noqa: E402
from pinnkit.runs import ErrorGrid  # noqa: E402


def _score(problem_name: str, model, recipe: str, wall: float) -> dict:
    problem, _, _ = pk.load_problem_file(bundled_problems()[problem_name])
    grid = ErrorGrid.build(problem)
    values = model.predict(grid.points.astype(np.float32)).astype(np.float64)
    rel_l2 = grid.rel_l2(lambda _: {f: values[:, j] for j, f in enumerate(problem.field_names)})
    return {
        "tool": "deepxde",
        "rel_l2": rel_l2,
        "learned": {},
        "dtype": "float32",
        "recipe": recipe,
        "parameters": sum(p.numel() for p in model.net.parameters()),
        "wall_seconds": round(wall, 1),
        "device": "cpu",
    }


def _train(model, adam_steps: int, *, lbfgs: bool = True, nncg: int = 0) -> float:
    import deepxde as dde

    start = time.perf_counter()
    model.compile("adam", lr=1e-3)
    model.train(iterations=adam_steps, display_every=max(adam_steps, 1), verbose=0)
    if lbfgs:
        model.compile("L-BFGS")
        model.train(verbose=0)
    if nncg:
        dde.optimizers.set_NNCG_options(rank=50, mu=1e-1)  # as DeepXDE's Burgers_NNCG.py
        model.compile("NNCG")
        model.train(iterations=nncg, display_every=nncg, verbose=0)
    return time.perf_counter() - start


def burgers(seed: int) -> dict:
    import deepxde as dde

    dde.config.set_random_seed(seed)
    nu = 0.01 / np.pi

    def pde(x, y):
        y_x = dde.grad.jacobian(y, x, i=0, j=0)
        y_t = dde.grad.jacobian(y, x, i=0, j=1)
        y_xx = dde.grad.hessian(y, x, i=0, j=0)
        return y_t + y * y_x - nu * y_xx

    geometry = dde.geometry.GeometryXTime(
        dde.geometry.Interval(-1, 1), dde.geometry.TimeDomain(0, 0.99)
    )
    conditions = [
        dde.icbc.DirichletBC(geometry, lambda x: 0, lambda _, on_boundary: on_boundary),
        dde.icbc.IC(geometry, lambda x: -np.sin(np.pi * x[:, 0:1]), lambda _, on: on),
    ]
    data = dde.data.TimePDE(
        geometry, pde, conditions, num_domain=2540, num_boundary=80, num_initial=160
    )
    model = dde.Model(data, dde.nn.FNN([2] + [20] * 3 + [1], "tanh", "Glorot normal"))
    wall = _train(model, 15000, nncg=1000)
    return _score("burgers", model, "float32 Adam 15000 -> L-BFGS -> NNCG 1000", wall)


def kovasznay(seed: int) -> dict:
    import deepxde as dde

    dde.config.set_random_seed(seed)
    re = 20
    lam = re / 2 - np.sqrt(re**2 / 4 + 4 * np.pi**2)

    def pde(x, out):
        u, v = out[:, 0:1], out[:, 1:2]
        grads = {(i, j): dde.grad.jacobian(out, x, i=i, j=j) for i in range(3) for j in range(2)}
        u_xx = dde.grad.hessian(out, x, component=0, i=0, j=0)
        u_yy = dde.grad.hessian(out, x, component=0, i=1, j=1)
        v_xx = dde.grad.hessian(out, x, component=1, i=0, j=0)
        v_yy = dde.grad.hessian(out, x, component=1, i=1, j=1)
        return [
            u * grads[0, 0] + v * grads[0, 1] + grads[2, 0] - (u_xx + u_yy) / re,
            u * grads[1, 0] + v * grads[1, 1] + grads[2, 1] - (v_xx + v_yy) / re,
            grads[0, 0] + grads[1, 1],
        ]

    def u_exact(x):
        return 1 - np.exp(lam * x[:, 0:1]) * np.cos(2 * np.pi * x[:, 1:2])

    def v_exact(x):
        return lam / (2 * np.pi) * np.exp(lam * x[:, 0:1]) * np.sin(2 * np.pi * x[:, 1:2])

    def p_exact(x):
        return (1 - np.exp(2 * lam * x[:, 0:1])) / 2

    geometry = dde.geometry.Rectangle([-0.5, -0.5], [1, 1.5])
    conditions = [
        dde.icbc.DirichletBC(geometry, u_exact, lambda _, on: on, component=0),
        dde.icbc.DirichletBC(geometry, v_exact, lambda _, on: on, component=1),
        dde.icbc.DirichletBC(
            geometry, p_exact, lambda x, on: on and np.isclose(x[0], 1), component=2
        ),
    ]
    data = dde.data.PDE(geometry, pde, conditions, num_domain=2601, num_boundary=400)
    model = dde.Model(data, dde.nn.FNN([2] + [50] * 4 + [3], "tanh", "Glorot normal"))
    wall = _train(model, 30000)
    return _score("kovasznay", model, "float32 Adam 30000 -> L-BFGS", wall)


def helmholtz(seed: int) -> dict:
    import deepxde as dde
    import torch

    dde.config.set_random_seed(seed)
    a1, a2, k = 1, 4, 1

    def pde(x, y):
        y_xx = dde.grad.hessian(y, x, i=0, j=0)
        y_yy = dde.grad.hessian(y, x, i=1, j=1)
        xs, ys = x[:, 0:1], x[:, 1:2]
        f = ((a1**2 + a2**2) * np.pi**2 - k**2) * torch.sin(a1 * np.pi * xs)
        return -y_xx - y_yy - k**2 * y - f * torch.sin(a2 * np.pi * ys)

    per_side = int(2 / ((2 / a2) / 10))  # 10 points per shortest period (2 / a2) on [-1, 1]
    data = dde.data.PDE(
        dde.geometry.Rectangle([-1, -1], [1, 1]),
        pde,
        [],
        num_domain=per_side**2,
        num_boundary=4 * per_side,
    )
    net = dde.nn.FNN([2] + [150] * 3 + [1], "sin", "Glorot uniform")
    net.apply_output_transform(lambda x, y: (1 - x[:, 0:1] ** 2) * (1 - x[:, 1:2] ** 2) * y)
    model = dde.Model(data, net)
    wall = _train(model, 5000, lbfgs=False)
    return _score("helmholtz", model, "float32 Adam 5000, exact boundary (sin 3 x 150)", wall)


RECIPES = {"burgers": burgers, "kovasznay": kovasznay, "helmholtz": helmholtz}
