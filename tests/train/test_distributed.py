"""Data-parallel training (`pinnkit.train.distributed`): the pure pieces (launch environment,
rank streams, the one-process world, the causal chunk convention), and, slow, two processes
under torchrun (gloo, CPU) against one process on their combined batch, rank 0 alone writing,
and resume."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import pinnkit as pk
from pinnkit.compile import Batch
from pinnkit.runs import load_checkpoint, read_metrics, save_checkpoint
from pinnkit.train import Trainer, World, rank_generator
from pinnkit.train.weighting import causal_weighting
from tests.helpers import DISTRIBUTED_RTOL, EXACT_RTOL, UNFOLLOWED, heat_problem

TORCHRUN = {"MASTER_ADDR": "localhost", "MASTER_PORT": "29500"}


# -- the launch environment ---------------------------------------------------------------


def test_no_torchrun_variables_is_one_process():
    assert World.from_environment({}) == World(rank=0, size=1, local_rank=0)
    assert World.from_environment({"WORLD_SIZE": "1"}) == World()
    assert not World().is_distributed and World().is_main


def test_torchrun_variables_are_read():
    env = {"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", **TORCHRUN}
    world = World.from_environment(env)
    assert (world.rank, world.size, world.local_rank) == (3, 4, 1)
    assert world.is_distributed and not world.is_main


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"RANK": "1", "WORLD_SIZE": "2", **TORCHRUN}, "LOCAL_RANK is not"),
        ({"RANK": "a", "WORLD_SIZE": "2", "LOCAL_RANK": "0", **TORCHRUN}, "expected integers"),
        ({"RANK": "2", "WORLD_SIZE": "2", "LOCAL_RANK": "0", **TORCHRUN}, "do not make sense"),
        ({"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1"}, "cannot find each other"),
    ],
)
def test_a_broken_launch_environment_is_a_config_error(env, match):
    with pytest.raises(pk.ConfigError, match=match):
        World.from_environment(env)


def test_a_cuda_device_without_index_follows_the_local_rank():
    world = World(rank=3, size=4, local_rank=1)
    assert world.place(torch.device("cuda")) == torch.device("cuda", 1)
    assert world.place(torch.device("cuda", 0)) == torch.device("cuda", 0)
    assert world.place(torch.device("cpu")) == torch.device("cpu")
    assert World().place(torch.device("cuda")) == torch.device("cuda")


# -- rank streams -------------------------------------------------------------------------


def test_rank_zero_draws_the_one_process_stream_and_other_ranks_their_own():
    first = np.random.default_rng(7).uniform(size=5)
    np.testing.assert_array_equal(rank_generator(7, 0).uniform(size=5), first)
    draws = [rank_generator(7, r).uniform(size=5) for r in range(4)]
    assert len({d.tobytes() for d in draws}) == 4
    np.testing.assert_array_equal(rank_generator(7, 2).uniform(size=5), draws[2])  # reproducible
    child = np.random.default_rng(np.random.SeedSequence(7).spawn(3)[2]).uniform(size=5)
    np.testing.assert_array_equal(draws[2], child)
    with pytest.raises(pk.ConfigError, match="must be >= 0"):
        rank_generator(7, -1)


# -- the one-process world is the identity ------------------------------------------------


def test_the_one_process_world_changes_nothing():
    world = World()
    value = torch.tensor([1.0, 2.0], requires_grad=True)
    assert world.sum(value) is value
    terms = {"a": value.sum(), "b": value.prod()}
    assert world.mean_terms(terms) == terms
    assert world.sum_tensors([value, None]) == [value, None]
    assert world.gather({"x": 1}) == [{"x": 1}]
    assert world.on_main(lambda: 42) == 42
    world.check_lockstep([value], "here")


def test_causal_chunk_sums_of_two_halves_give_the_whole_batchs_chunk_losses(generator):
    """The convention several ranks rely on: chunk sums and counts add up over ranks."""
    causal = causal_weighting(pk.Causal(chunks=5), heat_problem())
    times = torch.rand(200, generator=generator, dtype=torch.float64)
    residual = torch.randn(200, generator=generator, dtype=torch.float64)
    whole = causal.chunk_losses(residual, times)
    (s0, c0), (s1, c1) = (
        causal.chunk_sums(residual[p], times[p]) for p in (slice(0, 100), slice(100, None))
    )
    torch.testing.assert_close((s0 + s1) / (c0 + c1), whole, rtol=EXACT_RTOL, atol=0)


# -- errors -------------------------------------------------------------------------------


def test_other_commands_refuse_to_run_under_torchrun(monkeypatch, capsys):
    from pinnkit.cli import main

    for key, value in {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0", **TORCHRUN}.items():
        monkeypatch.setenv(key, value)
    assert main(["problems"]) == 2
    assert "runs in one process" in capsys.readouterr().err


def test_a_rank_that_left_its_process_group_ends_through_os_exit(monkeypatch, capsys):
    """After destroying its process group a torchrun rank ends with `os._exit` and the
    command's exit code, its output flushed first: torch's gloo teardown at interpreter exit
    can abort the process (4 of 40 two-process launches under load), and torchrun then
    kills the other ranks. Without a group, `main` returns as usual."""
    import pinnkit.cli as cli
    import pinnkit.train.distributed as distributed

    class Exited(Exception):
        pass

    calls = []

    def exit_now(code):
        calls.append(("exit", code))
        raise Exited

    monkeypatch.setattr(distributed, "leave", lambda: True)
    monkeypatch.setattr(cli.os, "_exit", exit_now)
    monkeypatch.setattr(cli.logging, "shutdown", lambda: calls.append(("logging",)))
    with pytest.raises(Exited):
        cli.main(["problems"])
    assert calls == [("logging",), ("exit", 0)]
    assert "fisher_hidden" in capsys.readouterr().out
    monkeypatch.setattr(distributed, "leave", lambda: False)
    assert cli.main(["problems"]) == 0


def test_resume_with_another_number_of_processes_is_a_config_error(tmp_path):
    config = pk.Config(
        steps=4,
        model=pk.MLP(width=4, depth=1),
        sampling=pk.Sampling(interior=16, boundary=4, initial=4),
        log_every=2,
        progress=False,
    )
    pk.fit(heat_problem(), config, directory=tmp_path / "run")
    state = load_checkpoint(tmp_path / "run")
    save_checkpoint(tmp_path / "run", {**state, "world_size": 2})
    with pytest.raises(pk.ConfigError, match="written by 2 process"):
        pk.resume(tmp_path / "run", problem=heat_problem(), steps=8)


# -- two processes under torchrun (slow) --------------------------------------------------

# Heat equation with a learned diffusivity, observations, causal weights with a schedule and
# gradient-norm balancing: every term and strategy the loss can have. float64 so that two
# processes and one agree to round-off.
_PROBLEM = """
import numpy as np
import sympy as sp
import pinnkit as pk

x, t = sp.symbols("x t")
u = sp.Function("u")(x, t)
D = pk.Parameter("D", init=0.5)
rng = np.random.default_rng(5)
xs, ts = rng.uniform(0, 1, 30), rng.uniform(0, 1, 30)
problem = pk.Problem(
    name="heat", domain=pk.Interval(x, 0, 1) * pk.TimeInterval(t, 0, 1), fields=[u],
    equations=[sp.Eq(u.diff(t), D * u.diff(x, 2))],
    conditions=[pk.Initial(u, sp.sin(sp.pi * x)), pk.Dirichlet(u, 0)],
    data=pk.Data({x: xs, t: ts}, {u: np.exp(-np.pi**2 * ts / 10) * np.sin(np.pi * xs)}),
)
config = pk.Config(
    steps=30, lbfgs=pk.LBFGS(steps=10), model=pk.MLP(width=16, depth=2), dtype="float64",
    sampling=pk.Sampling(interior=64, boundary=16, initial=16),
    causal=pk.Causal(chunks=4, schedule=(0.1, 1.0)), balance=pk.Balance(every=5),
    log_every=5, eval_every=10, checkpoint_every=10,
)
"""


def _torchrun(cwd: Path, *args: str) -> str:
    """`torchrun --nproc_per_node 2 -m pinnkit fit ARGS` (gloo, CPU); its stdout."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc_per_node", "2", "-m", "pinnkit", "fit", *args, "--quiet", "--no-plot"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _run_directory(stdout: str) -> Path:
    lines = [line for line in stdout.splitlines() if line.startswith("run directory: ")]
    assert len(lines) == 1, stdout  # printed by rank 0 only
    return Path(lines[0].split(": ", 1)[1])


class _CombinedSampler:
    """Draws what `size` ranks draw, one stream each, concatenated: the combined batch."""

    def __init__(self, sampler, seed: int, size: int):
        self.sampler = sampler
        self.streams = [rank_generator(seed, r) for r in range(size)]

    def sample(self, rng, *, scale: float = 1.0) -> dict[str, Batch]:
        parts = [self.sampler.sample(stream, scale=scale) for stream in self.streams]
        out = {}
        for region, first in parts[0].items():
            normals = None
            if first.normals is not None:
                normals = torch.cat([p[region].normals for p in parts])
            out[region] = Batch(torch.cat([p[region].points for p in parts]), normals)
        return out


def _one_process_on_the_combined_batch(problem_file: Path, config: pk.Config, size: int):
    problem, _, _ = pk.load_problem_file(problem_file)
    trainer = Trainer(problem, config.replace(progress=False))
    trainer.sampler = _CombinedSampler(trainer.sampler, int(config.seed), size)
    return trainer, trainer.run()


@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory):
    """One torchrun launch of the problem above, from an empty working directory."""
    root = tmp_path_factory.mktemp("ddp")
    (root / "heat.py").write_text(_PROBLEM)
    (root / "cwd").mkdir()
    stdout = _torchrun(root / "cwd", str(root / "heat.py"), "--out", str(root / "runs"))
    return root, _run_directory(stdout)


@pytest.mark.slow
@pytest.mark.filterwarnings(UNFOLLOWED)  # the one-process side fits 40 steps to the data
def test_two_processes_train_like_one_on_the_combined_batch(two_process_run):
    """Same loss terms and parameters as one process on both ranks' points, to
    DISTRIBUTED_RTOL (measured: 4e-15 and 5e-16), through Adam and L-BFGS, with causal
    weights, balancing, data and a learned constant."""
    root, directory = two_process_run
    config = pk.Config.from_json((directory / "config.json").read_text())
    trainer, one = _one_process_on_the_combined_batch(root / "heat.py", config, 2)
    two = json.loads((directory / "summary.json").read_text())
    assert two["processes"] == 2 and two["steps"] == one.summary["steps"] == 40
    for name, value in one.summary["loss_terms"].items():
        assert two["loss_terms"][name] == pytest.approx(value, rel=DISTRIBUTED_RTOL), name
    assert two["loss"] == pytest.approx(one.summary["loss"], rel=DISTRIBUTED_RTOL)
    assert two["parameters"]["D"] == pytest.approx(one.parameters["D"], rel=DISTRIBUTED_RTOL)
    saved = load_checkpoint(directory)["model"]
    for name, value in trainer.model.state_dict().items():
        torch.testing.assert_close(saved[name], value, rtol=DISTRIBUTED_RTOL, atol=0)


@pytest.mark.slow
def test_only_rank_zero_writes(two_process_run):
    root, directory = two_process_run
    assert list((root / "cwd").iterdir()) == []
    assert [p.parent for p in (root / "runs").glob("*/*/config.json")] == [directory]
    names = {p.name for p in directory.iterdir()}
    assert names == {
        "config.json",
        "problem.py",
        "origin.json",
        "metrics.jsonl",
        "checkpoint.pt",
        "summary.json",
        "hashes.json",
        "plot.npz",
        "run.lock",
    }
    steps = [row["step"] for row in read_metrics(directory)]
    assert steps == list(range(5, 45, 5)), "one metrics line per logged step, not one per rank"
    state = load_checkpoint(directory)
    assert state["world_size"] == 2 and len(state["ranks"]) == 2
    run = pk.Run.load(directory)  # one process reads a two-process run (rank 0's state)
    assert run.predict(x=[0.5], t=[0.0])["u"].shape == (1,)


# Adam only, with RAR and points kept for 3 steps: per-rank state a resume must restore.
_RESUMABLE = [
    "--set",
    "lbfgs.steps=0",
    "--set",
    "causal=null",
    "--set",
    "balance=null",
    "--set",
    'rar={"every": 5, "candidates": 50, "add": 4}',
    "--set",
    "sampling.resample_every=3",
]


@pytest.mark.slow
def test_resume_under_torchrun_continues_exactly(tmp_path):
    """Stop after 15 of 30 steps, resume with torchrun: bit-for-bit the uninterrupted
    two-process run, so each rank's stream, fixed points and RAR points were restored."""
    (tmp_path / "heat.py").write_text(_PROBLEM)
    start = [str(tmp_path / "heat.py"), *_RESUMABLE, "--out", str(tmp_path / "runs")]
    whole = _run_directory(_torchrun(tmp_path, *start))
    cut = _run_directory(_torchrun(tmp_path, *start, "--steps", "15"))
    assert load_checkpoint(cut)["step"] == 15
    _torchrun(tmp_path, "--resume", str(cut), "--steps", "30")
    expected = json.loads((whole / "summary.json").read_text())
    got = json.loads((cut / "summary.json").read_text())
    assert got["steps"] == 30 and got["loss_terms"] == expected["loss_terms"]
    a, b = load_checkpoint(whole), load_checkpoint(cut)
    for name, value in a["model"].items():
        assert torch.equal(b["model"][name], value), name
    for rank in range(2):
        assert torch.equal(b["ranks"][rank]["rar"]["points"], a["ranks"][rank]["rar"]["points"])
    steps = [row["step"] for row in read_metrics(cut)]
    assert steps == sorted(set(steps))


def test_a_rank_without_its_gpu_is_a_config_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr("torch.distributed.is_initialized", lambda: False)
    with pytest.raises(pk.ConfigError, match="this machine has 1 GPU"):
        World(rank=1, size=2, local_rank=1).join(torch.device("cuda", 1))
