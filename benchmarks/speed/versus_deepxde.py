"""pinnkit next to DeepXDE (PyTorch backend) on the same problem, network, initial weights and
training points: milliseconds per Adam iteration, peak memory, matmul throughput, and the
time each tool needs to reach a relative L2 error of 1e-2 on Burgers.

Settings: `burgers` is DeepXDE's example (examples/pinn_forward/Burgers.py: net
[2] + [20] * 3 + [1] tanh, Glorot normal, 2540 domain / 80 boundary / 160 initial points,
Adam lr 1e-3); `burgers_large` the same equation with a 4 x 128 net and 16000 domain points;
`kdv` the third-order u_t + u u_x + 0.0025 u_xxx = 0, u(x, 0) = cos(pi x), periodic in x
(u and u_x), with the 4 x 128 net and 16000 domain points.

How the two sides are matched. DeepXDE builds its model (seeded), samples its points and
draws its Glorot weights; pinnkit gets exactly those points (`Trainer.use_points`: the PDE on
all of DeepXDE's `train_x_all`, each condition on the points DeepXDE's condition filters out)
and those weights, with the first layer rescaled to absorb pinnkit's input normalisation to
[-1, 1], so both networks compute the same function. Loss weights are equal (pinnkit's one
periodic term averages the u and u_x mismatches, DeepXDE has one term for each, so it gets
weight 2). The script checks that the initial loss terms agree to float32 round-off and that
the losses still agree after the warm-up steps, and records both.

What is timed. One iteration is one optimiser update as each tool's own Adam loop does it:
DeepXDE's `Model._train_step` with its per-iteration batch fetch, pinnkit's
`Trainer._adam_step` (residuals, backward, NaN guard, Adam). Periodic logging of either loop is
not included. Blocks of iterations go round robin (DeepXDE, then each pinnkit engine) so
machine drift cancels; the ratio is the median over rounds of pinnkit's block time over
DeepXDE's block time of the same round. Each block starts with one untimed iteration and
runs with the host allocator as the tool's own loop has it: pinnkit's `Trainer.run` keeps
freed memory in the process (`pinnkit.train.host_memory`; the memory children below too),
DeepXDE has glibc's defaults. A `deepxde+retained` row runs DeepXDE's iterations with
pinnkit's allocator, and each pinnkit row also gives its ratio to that row ("ratio, same
allocator"): what the arithmetic does apart from the allocator (`host_memory.py` beside this
script measures the setting in fresh processes per tool). Peak memory is
`torch.cuda.max_memory_allocated` above what was allocated before the steps (CUDA), or on
CPU the peak resident set of a fresh child process per tool above what it held after setting
up and warming up (freed heap returned to the system first with `malloc_trim`; the peak
reset through /proc/self/clear_refs; Linux). Matmul
throughput counts the matmul FLOPs of one iteration (torch.utils.flop_counter's formulas), divides
them by the measured seconds per iteration and by the rate of a large float32 matmul on the same
device.

`--time-to-target` trains Burgers with each tool's documented recipe (DeepXDE: its example,
15000 Adam iterations then L-BFGS; pinnkit: `problems/burgers.py` as bundled), evaluates the
relative L2 error against DeepXDE's `Burgers.npz` every `--every` iterations with that time
taken off the clock, and reports the training time when the error first reaches `--target`.
Set-up time (sampling, building the model) is reported separately; `--pinnkit-compile` runs
pinnkit's recipe with `compile=True` (the compile happens in the first steps, on the clock).

    OMP_NUM_THREADS=2 python benchmarks/speed/versus_deepxde.py --threads 2 --time-to-target \
        --quiet

writes `benchmarks/speed/versus_deepxde.json` and `.md` (sections not run are kept from the
previous file) and prints the Markdown tables. `--device cuda` runs everything on the GPU.
Needs the `bench` extra (`pip install -e ".[bench]"`).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import ctypes
import dataclasses
import json
import math
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

os.environ["DDE_BACKEND"] = "pytorch"  # before deepxde is imported anywhere

import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402
import torch  # noqa: E402

import pinnkit as pk  # noqa: E402
from pinnkit.compile.auto import ENGINES  # noqa: E402
from pinnkit.runs import predict_points  # noqa: E402
from pinnkit.train import Trainer, host_memory  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
REFERENCE = ROOT.parent / "shared" / "data" / "deepxde" / "Burgers.npz"
NU = 0.01 / math.pi
KDV_LAMBDA = 0.0025  # lambda_2 of Raissi et al.'s KdV case; lambda_1 = 1


@dataclass(frozen=True)
class Setting:
    """One side-by-side case: equation, hidden layer widths, DeepXDE's point counts."""

    name: str
    equation: str  # "burgers" or "kdv"
    hidden: tuple[int, ...]
    domain: int
    boundary: int
    initial: int
    steps: int  # iterations per timed block (about 0.2-0.5 s on one CPU core)


SETTINGS = {
    s.name: s
    for s in (
        Setting("burgers", "burgers", (20, 20, 20), 2540, 80, 160, 80),
        Setting("burgers_large", "burgers", (128,) * 4, 16000, 500, 1000, 3),
        Setting("kdv", "kdv", (128,) * 4, 16000, 500, 1000, 2),
    )
}
#: Per-iteration ratio targets of issue 5 (pinnkit seconds / DeepXDE seconds).
TARGETS = {"cpu": {"burgers": 0.5, "burgers_large": 0.33, "kdv": 0.33}, "cuda": 0.2}
TIME_TO_TARGET_RATIO = 0.33
#: DeepXDE's iterations run with pinnkit's host allocator (`own_allocator`): the row that
#: separates what the allocator gives from what the arithmetic does.
RETAINED = "deepxde+retained"


# -- the two sides of one setting ---------------------------------------------------------


def deepxde_model(setting: Setting, seed: int, device: str):
    """DeepXDE's model of `setting`, compiled for Adam lr 1e-3 (its example's maths)."""
    import deepxde as dde

    # DeepXDE makes CUDA the default device on import when it has one; pin the asked one.
    if torch.get_default_device() != torch.device(device):
        torch.set_default_device(device)
    dde.config.set_random_seed(seed)
    if setting.equation == "burgers":

        def pde(x, y):
            y_x = dde.grad.jacobian(y, x, i=0, j=0)
            y_t = dde.grad.jacobian(y, x, i=0, j=1)
            y_xx = dde.grad.hessian(y, x, i=0, j=0)
            return y_t + y * y_x - NU * y_xx

        space, times = dde.geometry.Interval(-1, 1), dde.geometry.TimeDomain(0, 0.99)
        geometry = dde.geometry.GeometryXTime(space, times)
        conditions = [
            dde.icbc.DirichletBC(geometry, lambda x: 0, lambda _, on_boundary: on_boundary),
            dde.icbc.IC(geometry, lambda x: -np.sin(np.pi * x[:, 0:1]), lambda _, on: on),
        ]
    else:

        def pde(x, y):
            y_x = dde.grad.jacobian(y, x, i=0, j=0)
            y_t = dde.grad.jacobian(y, x, i=0, j=1)
            y_xx = dde.grad.hessian(y, x, i=0, j=0)
            y_xxx = dde.grad.jacobian(y_xx, x, i=0, j=0)
            return y_t + y * y_x + KDV_LAMBDA * y_xxx

        space, times = dde.geometry.Interval(-1, 1), dde.geometry.TimeDomain(0, 1)
        geometry = dde.geometry.GeometryXTime(space, times)
        on_boundary = lambda _, on: on  # noqa: E731
        conditions = [
            dde.icbc.IC(geometry, lambda x: np.cos(np.pi * x[:, 0:1]), lambda _, on: on),
            dde.icbc.PeriodicBC(geometry, 0, on_boundary, derivative_order=0),
            dde.icbc.PeriodicBC(geometry, 0, on_boundary, derivative_order=1),
        ]
    data = dde.data.TimePDE(
        geometry,
        pde,
        conditions,
        num_domain=setting.domain,
        num_boundary=setting.boundary,
        num_initial=setting.initial,
    )
    net = dde.nn.FNN([2, *setting.hidden, 1], "tanh", "Glorot normal")
    model = dde.Model(data, net)
    model.compile("adam", lr=1e-3, verbose=0)
    return model


def kdv_problem() -> pk.Problem:
    x, t = sp.symbols("x t")
    u = sp.Function("u")(x, t)
    return pk.Problem(
        name="kdv",
        domain=pk.Interval(x, -1, 1) * pk.TimeInterval(t, 0, 1),
        fields=[u],
        equations=[sp.Eq(u.diff(t) + u * u.diff(x) + sp.Float(KDV_LAMBDA) * u.diff(x, 3), 0)],
        # DeepXDE has one mean-square term for u and one for u_x; pinnkit's term is their mean.
        conditions=[pk.Initial(u, sp.cos(sp.pi * x)), pk.Periodic(x, order=1, weight=2.0)],
    )


def burgers_problem() -> pk.Problem:
    problem, _, _ = pk.load_problem_file(ROOT / "problems" / "burgers.py")
    return problem


def deepxde_points(setting: Setting, model) -> dict[str, np.ndarray]:
    """DeepXDE's training points by pinnkit region (see the module docstring)."""
    data = model.data
    start = np.cumsum([0, *data.num_bcs]).astype(int)
    parts = [data.train_x[a:b] for a, b in zip(start[:-1], start[1:])]
    points = {"interior": data.train_x[start[-1] :]}
    if setting.equation == "burgers":
        points.update(boundary=parts[0], initial=parts[1])
    else:
        initial, periodic, periodic_x = parts
        # PeriodicBC stacks the boundary points and their images; pinnkit takes the first
        # half and evaluates both ends itself. Both periodic terms use the same points.
        assert np.array_equal(periodic, periodic_x), "this is a bug in the benchmark"
        points.update(initial=initial, **{"periodic:x": periodic[: len(periodic) // 2]})
    return points


def deepxde_weights(model) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (layer.weight.detach().cpu().double().numpy(), layer.bias.detach().cpu().double().numpy())
        for layer in model.net.linears
    ]


def pinnkit_trainer(
    setting: Setting,
    variant: dict,
    device: str,
    points: dict[str, np.ndarray],
    weights: list[tuple[np.ndarray, np.ndarray]],
) -> Trainer:
    """pinnkit's trainer for `setting` on DeepXDE's points, starting from DeepXDE's weights."""
    problem = burgers_problem() if setting.equation == "burgers" else kdv_problem()
    width, depth = setting.hidden[0], len(setting.hidden)
    config = pk.Config(
        device=device,
        model=pk.MLP(width=width, depth=depth, activation="tanh"),
        optimizer=pk.Adam(learning_rate=1e-3, decay_rate=1.0),
        sampling=pk.Sampling(resample_every=0),
        progress=False,
        **variant,
    )
    with torch.device("cpu"):  # DeepXDE makes CUDA the default device when it has one
        trainer = Trainer(problem, config)
    load_weights(trainer.model, weights)
    trainer.use_points(points)
    return trainer


def load_weights(model, weights: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Copy DeepXDE's layers into pinnkit's MLP body.

    pinnkit's model maps inputs to [-1, 1] first, z = s (p - c); for W_1 z + b_1 to equal
    DeepXDE's W p + b, W_1 = W diag(1/s) and b_1 = b + W c.
    """
    linears = [m for m in model.body if isinstance(m, torch.nn.Linear)]
    if model.periodic is not None or model.fourier is not None or model.gaussians is not None:
        raise AssertionError("plain MLP expected; this is a bug in the benchmark")
    assert len(linears) == len(weights), "layer counts differ; this is a bug in the benchmark"
    center = model.normalize.center.double().cpu().numpy()
    scale = model.normalize.scale.double().cpu().numpy()
    with torch.no_grad():
        for k, (layer, (w, b)) in enumerate(zip(linears, weights)):
            if k == 0:
                w, b = w / scale[None, :], b + w @ center
            layer.weight.copy_(torch.as_tensor(w))
            layer.bias.copy_(torch.as_tensor(b))


def deepxde_step(model) -> None:
    """One iteration of DeepXDE's Adam loop (Model._train_sgd without logging)."""
    model.train_state.set_data_train(*model.data.train_next_batch(None))
    state = model.train_state
    model._train_step(state.X_train, state.y_train, state.train_aux_vars)


def deepxde_loss_terms(setting: Setting, model, names: list[str]) -> dict[str, float]:
    """DeepXDE's current loss terms, grouped under pinnkit's term names."""
    data = model.data
    with torch.enable_grad():
        losses = model.outputs_losses_train(data.train_x, data.train_y, data.train_aux_vars)[1]
    values = [float(v) for v in losses.detach().cpu()]
    equation, *conditions = names  # pinnkit's order: the equation, then the conditions
    if setting.equation == "burgers":
        initial, boundary = conditions
        return {equation: values[0], boundary: values[1], initial: values[2]}
    initial, periodic = conditions
    return {equation: values[0], initial: values[1], periodic: values[2] + values[3]}


def pinnkit_loss_terms(trainer: Trainer) -> dict[str, float]:
    """pinnkit's current loss terms times their weights."""
    terms = trainer.loss.evaluate(trainer.model, trainer._batches())
    return {k: v * trainer.loss.weights[k] for k, v in terms.values().items()}


def loss_names(setting: Setting) -> list[str]:
    """pinnkit's term names: the equation, then the conditions in the problem's order."""
    problem = burgers_problem() if setting.equation == "burgers" else kdv_problem()
    return ["eq0", *(c.name for c in problem.conditions)]


def same_trajectory(setting: Setting, seed: int, device: str, steps: int = 5) -> float:
    """Largest relative gap between the two total losses over `steps` Adam iterations, with
    pinnkit's input normalisation set to the identity.

    Then both tools have the same parameters, not only the same function, and follow one
    trajectory up to round-off. With the normalisation on (as timed) the losses part slowly
    from the first step: Adam is not invariant to rescaling the first layer's weights.
    """
    model = deepxde_model(setting, seed, device)
    weights = deepxde_weights(model)
    trainer = pinnkit_trainer(
        setting, {"engine": "autograd"}, device, deepxde_points(setting, model), weights
    )
    trainer.model.normalize.center.zero_()
    trainer.model.normalize.scale.fill_(1.0)
    load_weights(trainer.model, weights)
    names = loss_names(setting)
    gap = 0.0
    for _ in range(steps):
        theirs = sum(deepxde_loss_terms(setting, model, names).values())
        ours = sum(pinnkit_loss_terms(trainer).values())
        gap = max(gap, abs(ours - theirs) / abs(theirs))
        deepxde_step(model)
        trainer._adam_step()
    return gap


def relative_gap(a: dict[str, float], b: dict[str, float]) -> float:
    return max(abs(a[k] - b[k]) / max(abs(a[k]), 1e-30) for k in a)


# -- timing, memory, FLOPs ----------------------------------------------------------------


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_block(step, steps: int, device: str) -> float:
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return (time.perf_counter() - start) / steps


def matmul_flops(step) -> float:
    """Matmul FLOPs of one call of `step` (forward, derivatives and backward).

    torch's FlopCounterMode cannot be used: its module hooks break `autograd.grad` on leaf
    inputs, which DeepXDE calls. This counts the same aten ops with torch's own formulas.
    """
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import flop_registry

    class Count(TorchDispatchMode):
        flops = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            formula = flop_registry.get(func._overloadpacket)
            if formula is not None:
                Count.flops += formula(*args, **kwargs, out_val=out)
            return out

    with Count():
        step()
    return float(Count.flops)


def matmul_peak(device: str) -> float:
    """FLOP/s of a large float32 matmul here (best of 5): the denominator of 'fraction'."""
    n = 8192 if device.startswith("cuda") else 2048
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    best = math.inf
    for _ in range(6):
        sync(device)
        start = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best


def cuda_peak_bytes(step, steps: int) -> int:
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - base


def _memory_mib() -> dict[str, float]:
    """This process's resident set now (`VmRSS`) and its peak since the last reset (`VmHWM`)."""
    out = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(("VmRSS", "VmHWM")):
                key, value = line.split(":")
                out[key] = int(value.split()[0]) / 1024
    return out


def reset_peak() -> float:
    """Hand freed heap back to the OS and reset the resident-set peak (Linux): returns the
    resident set (MiB) now, what is live, which the steps that follow grow to their peak."""
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # resets VmHWM to the current resident set
    return _memory_mib()["VmRSS"]


def own_allocator(label: str, device: str):
    """The host allocator as the tool's own training loop has it: pinnkit's `Trainer.run`
    keeps freed memory in the process (`pinnkit.train.host_memory`), DeepXDE leaves glibc's
    defaults (restored, and the retained heap handed back, when a pinnkit block ends)."""
    if label == "deepxde":
        return contextlib.nullcontext(False)
    return host_memory.retained(device)  # pinnkit, and DeepXDE as RETAINED


def cpu_memory_child(
    tool: str, setting_name: str, variant: dict, threads: int, steps: int, warmup: int, payload
) -> dict:
    """Runs in a fresh process: resident memory after setup and `warmup` iterations (which
    compile, where asked), and the peak during `steps` more iterations above it (Linux: the
    peak is reset through /proc/self/clear_refs).

    `payload` is the seed for DeepXDE, and DeepXDE's (points, weights) for pinnkit, so the
    pinnkit process never imports DeepXDE.
    """
    torch.set_num_threads(threads)
    setting = SETTINGS[setting_name]
    if tool.startswith("deepxde"):
        model = deepxde_model(setting, payload, "cpu")
        step = lambda: deepxde_step(model)  # noqa: E731
    else:
        points, weights = payload
        step = pinnkit_trainer(setting, variant, "cpu", points, weights)._adam_step
    with own_allocator(tool, "cpu"):
        for _ in range(warmup):
            step()
        setup_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        base = reset_peak()
        for _ in range(steps):
            step()
        peak = _memory_mib()["VmHWM"]
    return {
        "rss_after_setup_mib": base,
        "training_peak_mib": peak - base,
        "setup_peak_mib": setup_peak,
    }


def cpu_memory(tool, setting, variant, threads, steps, warmup, payload) -> dict:
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        future = pool.submit(
            cpu_memory_child, tool, setting.name, variant, threads, steps, warmup, payload
        )
        return future.result()


# -- per-iteration comparison -------------------------------------------------------------


def variants() -> dict[str, dict]:
    """pinnkit configurations to time: `auto` (the default), every engine by name, and
    `auto` through torch.compile when `Config` has that switch."""
    out = {"auto": {"engine": "auto"}, **{name: {"engine": name} for name in ENGINES}}
    fields = {f.name for f in dataclasses.fields(pk.Config)}
    if "compile" in fields and isinstance(pk.Config().compile, bool):
        out["auto+compile"] = {"engine": "auto", "compile": True}
    return out


def compare_setting(setting: Setting, args) -> dict:
    import deepxde as dde

    model = deepxde_model(setting, args.seed, args.device)
    points = deepxde_points(setting, model)
    weights = deepxde_weights(model)
    names = loss_names(setting)
    initial = {"deepxde": deepxde_loss_terms(setting, model, names)}
    tools: dict[str, dict] = {"deepxde": {"step": lambda: deepxde_step(model)}}
    time_block(tools["deepxde"]["step"], args.warmup, args.device)
    if host_memory.why_not(args.device) is None:  # DeepXDE with pinnkit's host allocator
        tools[RETAINED] = tools["deepxde"]
    failures = {}
    for label, variant in variants().items():
        if args.engines and label.split("+")[0] not in args.engines:
            continue
        if "compile" in variant and args.no_compile:
            continue
        try:  # a variant that cannot run here is reported, not fatal
            trainer = pinnkit_trainer(setting, variant, args.device, points, weights)
            initial[f"pinnkit[{label}]"] = pinnkit_loss_terms(trainer)
            time_block(trainer._adam_step, args.warmup, args.device)  # compiles, if asked
        except Exception as err:
            failures[label] = f"{type(err).__name__}: {str(err)[:300]}"
            continue
        tools[f"pinnkit[{label}]"] = {
            "step": trainer._adam_step,
            "trainer": trainer,
            "variant": variant,
        }
    initial_gap = max(relative_gap(initial["deepxde"], v) for v in initial.values())
    after = {"deepxde": deepxde_loss_terms(setting, model, names)}
    after.update({k: pinnkit_loss_terms(t["trainer"]) for k, t in tools.items() if "trainer" in t})
    totals_after = {k: sum(v.values()) for k, v in after.items()}

    seconds = {label: [] for label in tools}
    steps = args.steps or setting.steps
    for _ in range(args.blocks):
        for label, tool in tools.items():
            with own_allocator(label, args.device):
                tool["step"]()  # untimed: grows a retained heap back to the step's peak
                seconds[label].append(time_block(tool["step"], steps, args.device))
    rows = {}
    base = seconds["deepxde"]
    for label, values in seconds.items():
        ratios = [v / d for v, d in zip(values, base)]
        rows[label] = {
            "ms_per_iteration": 1e3 * statistics.median(values),
            "ms_min": 1e3 * min(values),
            "ms_max": 1e3 * max(values),
            "ratio_to_deepxde": statistics.median(ratios),
        }
        if RETAINED in seconds and not label.startswith("deepxde"):
            same = [v / d for v, d in zip(values, seconds[RETAINED])]
            rows[label]["ratio_to_deepxde_retained"] = statistics.median(same)

    peak = matmul_peak(args.device)
    for label, tool in tools.items():
        if "compile" in tool.get("variant", {}) or label == RETAINED:
            continue  # the counter does not see inside compiled graphs; same maths as eager
        flops = matmul_flops(tool["step"])
        rate = flops / (rows[label]["ms_per_iteration"] / 1e3)
        rows[label].update(
            matmul_gflop_per_iteration=flops / 1e9,
            matmul_gflops=rate / 1e9,
            fraction_of_matmul_peak=rate / peak,
        )

    for label, tool in tools.items():
        if args.device.startswith("cuda"):
            rows[label]["peak_mib"] = cuda_peak_bytes(tool["step"], args.memory_steps) / 2**20
        elif not args.no_memory:
            payload = args.seed if label.startswith("deepxde") else (points, weights)
            tool_name, variant = label.split("[")[0], tool.get("variant", {})
            try:
                rows[label].update(
                    cpu_memory(
                        tool_name,
                        setting,
                        variant,
                        args.threads,
                        args.memory_steps,
                        args.warmup,
                        payload,
                    )
                )
            except Exception as err:  # recorded, not fatal: the timings stand without it
                rows[label]["memory_error"] = f"{type(err).__name__}: {str(err)[:300]}"
    return {
        "setting": dataclasses.asdict(setting),
        "points": {k: int(len(v)) for k, v in points.items()},
        "deepxde_net": str(model.net).replace("\n", " "),
        "initial_loss_terms": initial,
        "initial_loss_max_relative_gap": initial_gap,
        "same_parameters_trajectory_gap": same_trajectory(setting, args.seed, args.device),
        "total_loss_after_warmup": totals_after,
        "rows": rows,
        "failed_variants": failures,
        "matmul_peak_gflops": peak / 1e9,
        "deepxde_version": dde.__version__,
    }


def compare_in_processes(setting: Setting, args) -> dict:
    """`compare_setting` in `args.processes` fresh processes, one after another, each timing
    both tools itself; a row's ratio is the median of the per-process ratios
    (`process_ratios`), its times the median of the per-process medians.

    Why: on the 2-core machine this was written on, a process's speed is bimodal (the same
    steps ran 2.2-2.4 ms in some processes and 4.4-4.7 in others, DeepXDE's 4.4-5.0 and
    6.3-7.2 alike), not in proportion for the two tools; more rounds within one process do
    not help. Memory and the FLOP count come from the first process only.
    """
    if args.processes <= 1:
        return compare_setting(setting, args)
    context = multiprocessing.get_context("spawn")
    results = []
    for k in range(args.processes):
        child = argparse.Namespace(**{**vars(args), "no_memory": args.no_memory or k > 0})
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
            results.append(pool.submit(_compare_child, setting.name, child).result())
    merged = results[0]
    for label, row in merged["rows"].items():
        runs = [r["rows"][label] for r in results if label in r["rows"]]
        row["process_ratios"] = [r["ratio_to_deepxde"] for r in runs]
        row["ratio_to_deepxde"] = statistics.median(row["process_ratios"])
        if "ratio_to_deepxde_retained" in row:
            same = [r["ratio_to_deepxde_retained"] for r in runs]
            row["process_ratios_retained"] = same
            row["ratio_to_deepxde_retained"] = statistics.median(same)
        row["ms_per_iteration"] = statistics.median(r["ms_per_iteration"] for r in runs)
        row["ms_min"] = min(r["ms_min"] for r in runs)
        row["ms_max"] = max(r["ms_max"] for r in runs)
    merged["processes"] = args.processes
    return merged


def _compare_child(setting_name: str, args) -> dict:
    torch.set_num_threads(args.threads)
    return compare_setting(SETTINGS[setting_name], args)


# -- time to a relative L2 error ----------------------------------------------------------


class _Stop(Exception):
    pass


class Probe:
    """Error checks during training with their own time taken off the clock."""

    def __init__(self, reference: Path, target: float, budget: float, every: int):
        data = np.load(reference)
        xx, tt = np.meshgrid(data["x"].ravel(), data["t"].ravel(), indexing="ij")
        self.points = np.column_stack([xx.ravel(), tt.ravel()])
        self.values = data["usol"].ravel()  # (x, t) order, matching the meshgrid
        self.target, self.budget, self.every = target, budget, every
        self.next_due = every
        self.excluded = 0.0
        self.trajectory: list[dict] = []
        self.reached: dict | None = None

    def due(self, step: int) -> bool:
        """True at the first report at or past each multiple of `every` iterations."""
        if step < self.next_due:
            return False
        self.next_due = (step // self.every + 1) * self.every
        return True

    def check(self, clock: float, step: int, phase: str, predict) -> bool:
        """Record the error at `step`; True when training should stop."""
        start = time.perf_counter()
        error = float(
            np.linalg.norm(predict(self.points) - self.values) / np.linalg.norm(self.values)
        )
        row = {"seconds": round(clock, 3), "step": step, "phase": phase, "rel_l2": error}
        self.trajectory.append(row)
        self.excluded += time.perf_counter() - start
        if error <= self.target and self.reached is None:
            self.reached = row
        return self.reached is not None or clock > self.budget

    def result(self, setup: float) -> dict:
        best = min(self.trajectory, key=lambda r: r["rel_l2"]) if self.trajectory else None
        return {
            "reached": self.reached,
            "seconds_to_target": self.reached["seconds"] if self.reached else None,
            "best": best,
            "last": self.trajectory[-1] if self.trajectory else None,
            "setup_seconds": round(setup, 3),
            "trajectory": self.trajectory,
        }


def deepxde_to_target(args) -> dict:
    """DeepXDE's Burgers example recipe: Adam 15000 at lr 1e-3, then L-BFGS."""
    import deepxde as dde

    probe = Probe(args.reference, args.target, args.budget, args.every)
    start = time.perf_counter()
    model = deepxde_model(SETTINGS["burgers"], args.seed, args.device)
    setup = time.perf_counter() - start

    def predict(points):
        with torch.no_grad():
            out = model.net(torch.as_tensor(points, dtype=torch.float32))
        return out.double().cpu().numpy().ravel()

    class Check(dde.callbacks.Callback):
        def __init__(self, phase):
            super().__init__()
            self.phase = phase

        def on_epoch_end(self):
            step = self.model.train_state.step
            if probe.due(step):
                clock = time.perf_counter() - begin - probe.excluded
                if probe.check(clock, step, self.phase, predict):
                    self.model.stop_training = True

    begin = time.perf_counter()
    model.train(
        iterations=args.deepxde_adam, display_every=1000, callbacks=[Check("adam")], verbose=0
    )
    if probe.reached is None and probe.trajectory[-1]["seconds"] <= args.budget:
        # DeepXDE's L-BFGS reports every `iter_per_step` iterations (default 1000); a finer
        # report costs it one extra loss evaluation per report.
        dde.optimizers.config.LBFGS_options["iter_per_step"] = args.every
        dde.optimizers.config.LBFGS_options["fun_per_step"] = int(args.every * 1.25)
        model.compile("L-BFGS", verbose=0)
        model.train(callbacks=[Check("lbfgs")], verbose=0)
        # DeepXDE's L-BFGS may stop between reports (seen: after 4 iterations, when torch's
        # L-BFGS met a stopping test); the state it ends in is checked too.
        step = model.train_state.step
        if probe.reached is None and probe.trajectory[-1]["step"] != step:
            probe.check(time.perf_counter() - begin - probe.excluded, step, "lbfgs", predict)
    return probe.result(setup)


def pinnkit_to_target(args) -> dict:
    """pinnkit's bundled Burgers configuration (problems/burgers.py)."""
    probe = Probe(args.reference, args.target, args.budget, args.every)
    start = time.perf_counter()
    problem, config, _ = pk.load_problem_file(ROOT / "problems" / "burgers.py")
    # The bundled recipe, minus pinnkit's own error evaluations (the probe does them).
    config = config.replace(seed=args.seed, device=args.device, progress=False, eval_every=10**9)
    if args.pinnkit_adam is not None:
        config = config.replace(steps=args.pinnkit_adam)
    if args.pinnkit_compile:
        config = config.replace(compile=True)
    trainer = None

    def callback(step, row):
        if probe.due(step):
            clock = row["seconds"] - probe.excluded

            def predict(points):
                return predict_points(trainer.model, problem, points)["u"]

            if probe.check(clock, step, row["phase"], predict):
                raise _Stop

    with torch.device("cpu"):
        trainer = Trainer(problem, config, callback=callback)
    setup = time.perf_counter() - start
    try:
        trainer.run()
    except _Stop:
        pass
    return probe.result(setup)


# -- reporting ----------------------------------------------------------------------------


def environment(args) -> dict:
    import deepxde as dde

    device = args.device
    if device.startswith("cuda"):
        device += f" ({torch.cuda.get_device_name()})"
    return {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "device": device,
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "quiet_machine": bool(args.quiet),
        "load_average": args.load_average,
        "load_average_end": os.getloadavg(),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "torch": torch.__version__,
        "deepxde": dde.__version__,
        "pinnkit": pk.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "command": " ".join(sys.argv),
    }


def markdown(out: dict) -> str:
    lines = []
    per = out.get("per_iteration")
    if per:
        env = per["environment"]
        kind = "cuda" if env["device"].startswith("cuda") else "cpu"
        lines += [
            f"Per Adam iteration, {env['device']}, {env['threads']} threads, torch "
            f"{env['torch']}, DeepXDE {env['deepxde']}, {env['date']}; machine "
            + ("quiet" if env["quiet_machine"] else "**shared (not quiet): preliminary**")
            + f"; load average at start {env['load_average'][0]:.2f}.",
            "",
            "| setting | tool | ms / iteration | ratio to DeepXDE | target | ratio, same "
            "allocator | matmul GFLOP/s | of matmul peak | peak memory MiB |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name, result in per["settings"].items():
            target = TARGETS[kind] if kind == "cuda" else TARGETS["cpu"][name]
            for label, row in result["rows"].items():
                is_deepxde = label.startswith("deepxde")
                same = row.get("ratio_to_deepxde_retained")
                memory = row.get("peak_mib")
                if "training_peak_mib" in row:
                    memory = f"{row['training_peak_mib']:.1f} ({row['rss_after_setup_mib']:.0f})"
                elif memory is not None:
                    memory = f"{memory:.1f}"
                met = "" if is_deepxde else ("yes" if row["ratio_to_deepxde"] <= target else "no")
                lines.append(
                    f"| {name} | {label} | {row['ms_per_iteration']:.2f} | "
                    f"{row['ratio_to_deepxde']:.2f} | "
                    + ("" if is_deepxde else f"<= {target} ({met})")
                    + f" | {'' if same is None else f'{same:.2f}'} | "
                    + (
                        f"{row['matmul_gflops']:.2f} | {100 * row['fraction_of_matmul_peak']:.1f}%"
                        if "matmul_gflops" in row
                        else "n/a | n/a"
                    )
                    + f" | {memory or ''} |"
                )
        lines += [
            "",
            "Runs (each setting's ratios are medians over rounds within a process, then "
            "over processes; each tool's blocks with the host allocator its own loop has: "
            "pinnkit keeps freed memory in the process, DeepXDE has glibc's defaults, see "
            f"host_memory.md; `{RETAINED}` is DeepXDE with pinnkit's allocator, and 'ratio, "
            "same allocator' pinnkit's time over that row's):",
            "",
        ]
        for name, result in per["settings"].items():
            env, timing = result.get("environment", per["environment"]), result.get("timing", {})
            ratios = {
                k: ", ".join(f"{x:.2f}" for x in r["process_ratios"])
                for k, r in result["rows"].items()
                if "process_ratios" in r and k != "deepxde"
            }
            lines.append(
                f"- {name}: {env['date']}, {timing.get('processes', 1)} process(es) x "
                f"{timing.get('blocks', per.get('blocks'))} rounds, load average at start "
                f"{env['load_average'][0]:.2f}"
                + (
                    "; per-process ratios: " + "; ".join(f"{k} {v}" for k, v in ratios.items())
                    if ratios
                    else ""
                )
                + "."
            )
        lines += [
            "",
            "Floor: the fewest matmul FLOPs per iteration among pinnkit's engines, at the "
            "device's full matmul rate, against DeepXDE's measured time (a ratio no engine "
            "doing that arithmetic can go below):",
            "",
        ]
        for name, result in per["settings"].items():
            counted = {
                k: r["matmul_gflop_per_iteration"]
                for k, r in result["rows"].items()
                if k != "deepxde" and "matmul_gflop_per_iteration" in r
            }
            if not counted:
                continue
            label = min(counted, key=counted.get)
            floor_ms = 1e3 * counted[label] / result["matmul_peak_gflops"]
            deepxde = result["rows"]["deepxde"]
            lines.append(
                f"- {name}: {counted[label]:.3g} GFLOP ({label}; DeepXDE "
                f"{deepxde.get('matmul_gflop_per_iteration', float('nan')):.3g}) at "
                f"{result['matmul_peak_gflops']:.0f} GFLOP/s: {floor_ms:.2f} ms, ratio "
                f"{floor_ms / deepxde['ms_per_iteration']:.2f}."
            )
        lines += ["", "Checks (same function, points and loss):", ""]
        for name, result in per["settings"].items():
            totals = ", ".join(f"{k} {v:.6g}" for k, v in result["total_loss_after_warmup"].items())
            lines.append(
                f"- {name}: initial loss terms agree to a relative "
                f"{result['initial_loss_max_relative_gap']:.1e}; with pinnkit's input "
                "normalisation off (same parameters) the total losses of 5 Adam iterations "
                f"agree to {result['same_parameters_trajectory_gap']:.1e}; total loss after the "
                "warm-up (normalisation on): "
                f"{totals}. Points: {result['points']}."
                + (f" Failed: {result['failed_variants']}." if result["failed_variants"] else "")
            )
        lines.append("")
        lines.append(
            "Peak memory: on CPU the peak resident set during the iterations above what the "
            "process held after setting up and the warm-up (in brackets), one fresh process "
            "per tool; on CUDA "
            "max_memory_allocated above what was allocated before the iterations. Matmul "
            "throughput is not counted inside torch.compile graphs (n/a)."
        )
    ttt = out.get("time_to_target")
    if ttt:
        env = ttt["environment"]
        lines += [
            "",
            f"Time to relative L2 <= {ttt['target']:g} on Burgers (each tool's own recipe; "
            f"{env['device']}, {env['threads']} threads, "
            + ("quiet machine" if env["quiet_machine"] else "**shared machine: preliminary**")
            + f", budget {ttt['budget']:g} s per tool, error checked every {ttt['every']} "
            "iterations off the clock):",
            "",
            "| tool | recipe | seconds to target | best rel. L2 (at s, step) | setup s |",
            "|---|---|---|---|---|",
        ]
        for label, result in ttt["tools"].items():
            best = result["best"]
            reached = result["seconds_to_target"]
            lines.append(
                f"| {label} | {result['recipe']} | "
                + (f"{reached:.1f}" if reached is not None else "not reached")
                + f" | {best['rel_l2']:.2e} ({best['seconds']:.0f} s, {best['step']}) | "
                f"{result['setup_seconds']:.1f} |"
            )
        if ttt.get("ratio") is not None:
            lines += [
                "",
                f"pinnkit / DeepXDE time to target: {ttt['ratio']:.2f} "
                f"(target <= {TIME_TO_TARGET_RATIO}).",
            ]
        elif ttt.get("ratio_bound") is not None:
            lines += [
                "",
                f"DeepXDE did not reach the target; pinnkit / DeepXDE's whole run: "
                f"< {ttt['ratio_bound']:.2f}.",
            ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (CPU)")
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--engines", default="", help="comma list; default every engine")
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile variants")
    parser.add_argument("--blocks", type=int, default=7, help="timed rounds")
    parser.add_argument(
        "--processes", type=int, default=1, help="fresh processes per setting (median ratio)"
    )
    parser.add_argument("--steps", type=int, default=0, help="iterations per block")
    parser.add_argument("--warmup", type=int, default=5, help="untimed iterations per tool")
    parser.add_argument("--memory-steps", type=int, default=5)
    parser.add_argument("--no-memory", action="store_true", help="skip the CPU memory children")
    parser.add_argument("--skip-per-iteration", action="store_true")
    parser.add_argument("--time-to-target", action="store_true")
    parser.add_argument("--target", type=float, default=1e-2)
    parser.add_argument("--budget", type=float, default=1800.0, help="seconds per tool")
    parser.add_argument("--every", type=int, default=250, help="iterations between checks")
    parser.add_argument("--deepxde-adam", type=int, default=15000, help="its example's 15000")
    parser.add_argument("--pinnkit-adam", type=int, default=None, help="default: the file's")
    parser.add_argument(
        "--pinnkit-compile", action="store_true", help="pinnkit's recipe with compile=True"
    )
    parser.add_argument("--reference", type=Path, default=REFERENCE, help="Burgers.npz")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="state that nothing else ran")
    parser.add_argument("--out", type=Path, default=HERE / "versus_deepxde.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    args.threads = torch.get_num_threads()
    args.load_average = os.getloadavg()  # 1, 5, 15 minutes, before anything ran
    args.engines = [e for e in args.engines.split(",") if e]

    out = json.loads(args.out.read_text()) if args.out.exists() else {}
    if not args.skip_per_iteration:
        # Settings not run now are kept from the previous file, each with its environment.
        previous = out.get("per_iteration", {})
        results = dict(previous.get("settings", {}))
        for name, kept in results.items():
            kept.setdefault("environment", previous.get("environment"))
            kept.setdefault(
                "timing",
                {
                    "blocks": previous.get("blocks"),
                    "steps_per_block": previous.get("steps_per_block", {}).get(name),
                    "warmup": previous.get("warmup"),
                    "processes": 1,
                },
            )
        ran = args.settings.split(",")
        for name in ran:
            results[name] = compare_in_processes(SETTINGS[name], args)
            results[name]["environment"] = environment(args)
            results[name]["timing"] = {
                "blocks": args.blocks,
                "steps_per_block": args.steps or SETTINGS[name].steps,
                "warmup": args.warmup,
                "processes": args.processes,
            }
            rows = results[name]["rows"]
            print(
                f"{name}: "
                + ", ".join(f"{k} {v['ms_per_iteration']:.2f} ms" for k, v in rows.items()),
                flush=True,
            )
        out["per_iteration"] = {
            "environment": environment(args),
            "blocks": args.blocks,
            "steps_per_block": {n: args.steps or SETTINGS[n].steps for n in ran},
            "warmup": args.warmup,
            "settings": results,
        }
    if args.time_to_target:
        tools = {}
        tools["deepxde"] = {
            "recipe": f"examples/pinn_forward/Burgers.py: Adam {args.deepxde_adam} (lr 1e-3) "
            "+ L-BFGS",
            **deepxde_to_target(args),
        }
        print(f"deepxde: {tools['deepxde']['reached'] or tools['deepxde']['best']}", flush=True)
        tools["pinnkit"] = {
            "recipe": "problems/burgers.py: Adam "
            + (f"{args.pinnkit_adam}" if args.pinnkit_adam is not None else "6000")
            + " (resampled each step) + L-BFGS 3000"
            + (", compile=True" if args.pinnkit_compile else ""),
            **pinnkit_to_target(args),
        }
        print(f"pinnkit: {tools['pinnkit']['reached'] or tools['pinnkit']['best']}", flush=True)
        ours, theirs = tools["pinnkit"]["seconds_to_target"], tools["deepxde"]["seconds_to_target"]
        last = tools["deepxde"]["last"]
        out["time_to_target"] = {
            "environment": environment(args),
            "target": args.target,
            "budget": args.budget,
            "every": args.every,
            "tools": tools,
            "ratio": ours / theirs if ours is not None and theirs is not None else None,
            "ratio_bound": ours / last["seconds"] if ours is not None and theirs is None else None,
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    table = markdown(out)
    args.out.with_suffix(".md").write_text(table)
    print()
    print(table)


if __name__ == "__main__":
    main()
