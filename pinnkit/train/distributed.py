"""Data-parallel training across processes (torch.distributed, launched with torchrun): which
process this is, its device and random stream, and the few collectives the trainer needs.

The trainer is written once; in a single process every method here is a no-op (or the
identity), so a one-process run computes exactly what it computed before this module existed.

**The convention.** With $W$ processes (ranks), every rank draws its own collocation points,
`sampling.interior` (etc.) of them per step, from its own random stream (`rank_generator`).
The *combined batch* is the union of the ranks' batches, and the loss every rank optimises is
the loss on the combined batch: each term is the mean over ranks of the per-rank means,
$L_k = \\frac{1}{W}\\sum_r L_k^{(r)}$, which equals the mean over the combined batch because
every rank has the same number of points. The causal chunk losses are formed from the ranks'
summed chunk sums and counts, so they too are the combined batch's (chunks hold unequal
numbers of points). Data points are not split: every rank evaluates all of them, and the
mean over ranks of identical values is the data term itself.

Every rank sees the same loss values (`World.sum` returns the all-reduced value), so every
decision that depends on them (the NaN guard, causal and balancing weights, L-BFGS line
searches) is taken identically everywhere. Gradients flow only through each rank's own
contribution; `World.reduce_gradients` then sums the parameter gradients over ranks, which
gives exactly the gradient of the combined-batch loss, also for losses that are nonlinear in
the per-rank sums (the causal weights). Ranks therefore stay in lockstep, and
`World.check_lockstep` verifies that they did (at each checkpoint and at the end).

This is the arithmetic of `DistributedDataParallel` (which averages gradients of per-rank
losses), done explicitly: pinnkit's trainable state spans the model and the compiled problem
(learned constants, Hidden-term networks), the residuals are taken with `torch.func`, and the
L-BFGS closure is evaluated many times per step, none of which DDP's module wrapper sees.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch
from torch import Tensor

from pinnkit.errors import ConfigError, PinnkitError, TrainingError

__all__ = ["World", "rank_generator", "leave"]

T = TypeVar("T")

#: The variables torchrun sets for every worker (`MASTER_ADDR`/`MASTER_PORT` as well).
ENVIRONMENT = ("RANK", "WORLD_SIZE", "LOCAL_RANK")

_LAUNCH = (
    "Fix: launch every process with torchrun, e.g. "
    "`torchrun --nproc_per_node 2 -m pinnkit fit problems/burgers.py`, or unset the variables "
    "for a one-process run."
)


def rank_generator(seed: int, rank: int) -> np.random.Generator:
    """The random stream rank `rank` draws its collocation points from.

    Rank 0 draws from `numpy.random.default_rng(seed)`, the stream of a one-process run;
    rank $r \\ge 1$ from the independent child stream
    `numpy.random.SeedSequence(seed, spawn_key=(r,))` (what `SeedSequence(seed).spawn`
    gives as its child $r$). A run is therefore reproducible from `config.seed` and the number
    of processes, and one process holding all $W$ streams can redraw the combined batch.

    **Arguments**

    - `seed`: `config.seed`.
    - `rank`: the global rank, $0 \\le r < W$.
    """
    if int(rank) < 0:
        raise ConfigError(f"rank_generator: rank={rank} must be >= 0.")
    if int(rank) == 0:
        return np.random.default_rng(int(seed))
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(rank),)))


class _SumOverRanks(torch.autograd.Function):
    """Forward: the sum over ranks (the same value on every rank). Backward: the identity,
    so each rank's gradient is its own contribution; `World.reduce_gradients` sums those."""

    @staticmethod
    def forward(ctx, local: Tensor) -> Tensor:
        import torch.distributed as dist

        total = local.detach().clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        return grad


@dataclass(frozen=True)
class World:
    """This process's place among the processes of one data-parallel run.

    `World()` is the one-process world (every collective a no-op);
    `World.from_environment()` reads what torchrun set. `join` starts the process group.

    **Arguments**

    - `rank`: global rank of this process, $0 \\le$ `rank` $<$ `size`.
    - `size`: number of processes $W$ (torchrun's `WORLD_SIZE`).
    - `local_rank`: rank on this machine; picks the GPU (`cuda:<local_rank>`).
    """

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    def __post_init__(self):
        if not (self.size >= 1 and 0 <= self.rank < self.size and self.local_rank >= 0):
            raise ConfigError(
                f"distributed: rank={self.rank}, world size={self.size}, local rank="
                f"{self.local_rank} do not make sense (need 0 <= rank < size, local rank >= 0)."
                f" {_LAUNCH}"
            )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> World:
        """The world torchrun describes in `RANK`, `WORLD_SIZE` and `LOCAL_RANK`.

        None of them set (or `WORLD_SIZE=1`): the one-process world.

        **Raises**

        `ConfigError` when only some are set, one is not an integer, or `MASTER_ADDR` /
        `MASTER_PORT` are missing for more than one process.
        """
        environ = os.environ if environ is None else environ
        given = {k: environ[k] for k in ENVIRONMENT if k in environ}
        if not given:
            return cls()
        missing = [k for k in ENVIRONMENT if k not in given]
        if missing and given.get("WORLD_SIZE", "1").strip() != "1":
            raise ConfigError(
                f"distributed: {', '.join(f'{k}={v}' for k, v in given.items())} is set but "
                f"{', '.join(missing)} is not. {_LAUNCH}"
            )
        try:
            values = {k: int(v) for k, v in given.items()}
        except ValueError:
            raise ConfigError(
                f"distributed: expected integers in {', '.join(ENVIRONMENT)}; found "
                f"{given}. {_LAUNCH}"
            ) from None
        world = cls(
            rank=values.get("RANK", 0),
            size=values.get("WORLD_SIZE", 1),
            local_rank=values.get("LOCAL_RANK", 0),
        )
        unset = [k for k in ("MASTER_ADDR", "MASTER_PORT") if k not in environ]
        if world.size > 1 and unset:
            raise ConfigError(
                f"distributed: WORLD_SIZE={world.size} but {', '.join(unset)} is not set, so "
                f"the processes cannot find each other. {_LAUNCH}"
            )
        return world

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0, the one process that writes files."""
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.size > 1

    # -- setup --------------------------------------------------------------------------------

    def place(self, device: torch.device) -> torch.device:
        """`device` for this process: a CUDA device without an index becomes
        `cuda:<local_rank>` when there are several processes; anything else is kept."""
        if self.is_distributed and device.type == "cuda" and device.index is None:
            return torch.device("cuda", self.local_rank)
        return device

    def join(self, device: torch.device) -> None:
        """Start the process group (backend `nccl` on CUDA, `gloo` on CPU) unless one is
        running; a no-op for one process. `device` is this process's, from `place`.

        **Raises**

        `ConfigError` when torch was built without torch.distributed, a running process
        group disagrees with the environment, or the GPU of this rank does not exist.
        """
        if not self.is_distributed:
            return
        import torch.distributed as dist

        if not dist.is_available():
            raise ConfigError(
                f"distributed: WORLD_SIZE={self.size}, but this torch build has no "
                "torch.distributed. Fix: install a torch build with it (the Linux wheels have "
                "it), or run one process."
            )
        if dist.is_initialized():
            if (dist.get_rank(), dist.get_world_size()) != (self.rank, self.size):
                raise ConfigError(
                    f"distributed: the running process group is rank {dist.get_rank()} of "
                    f"{dist.get_world_size()}, the environment says rank {self.rank} of "
                    f"{self.size}. Fix: start the group from torchrun's variables, or let "
                    "pinnkit start it."
                )
            return
        if device.type == "cuda":
            if device.index is not None and device.index >= torch.cuda.device_count():
                raise ConfigError(
                    f"distributed: rank {self.rank} (local rank {self.local_rank}) would train "
                    f"on {device}, but this machine has {torch.cuda.device_count()} GPU(s). "
                    "Fix: one process per GPU (`torchrun --nproc_per_node "
                    f"{torch.cuda.device_count()} ...`), or `--device cpu`."
                )
            torch.cuda.set_device(device)
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, rank=self.rank, world_size=self.size)

    # -- collectives --------------------------------------------------------------------------

    def sum(self, local: Tensor) -> Tensor:
        """$\\sum_r$ `local`$^{(r)}$, the same value on every rank; differentiable, with the
        gradient of this rank's own `local` (see the module docstring)."""
        if not self.is_distributed:
            return local
        return _SumOverRanks.apply(local)

    def mean_terms(self, terms: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Scalar loss terms averaged over ranks ($\\frac{1}{W}\\sum_r L_k^{(r)}$), in one
        collective; the identity for one process."""
        if not self.is_distributed or not terms:
            return dict(terms)
        names = list(terms)
        mean = self.sum(torch.stack([terms[k] for k in names]) / self.size)
        return dict(zip(names, mean.unbind()))

    def sum_tensors(self, tensors: Sequence[Tensor | None]) -> list[Tensor | None]:
        """Each tensor summed over ranks (None stays None: an unused parameter is unused on
        every rank, since all ranks run the same graph). One collective per dtype."""
        out: list[Tensor | None] = list(tensors)
        if not self.is_distributed:
            return out
        import torch.distributed as dist

        groups: dict[torch.dtype, list[int]] = {}
        for i, t in enumerate(tensors):
            if t is not None:
                groups.setdefault(t.dtype, []).append(i)
        for indices in groups.values():
            flat = torch.cat([tensors[i].detach().reshape(-1) for i in indices])
            dist.all_reduce(flat)
            for i, part in zip(indices, flat.split([tensors[i].numel() for i in indices])):
                out[i] = part.view_as(tensors[i])
        return out

    def reduce_gradients(self, parameters: Sequence[Tensor]) -> None:
        """Replace each parameter's `.grad` by its sum over ranks, in place."""
        if not self.is_distributed:
            return
        summed = self.sum_tensors([p.grad for p in parameters])
        for p, g in zip(parameters, summed):
            if g is not None:
                p.grad.copy_(g)

    def broadcast(self, tensors: Sequence[Tensor]) -> None:
        """Overwrite `tensors` with rank 0's values, in place."""
        if not self.is_distributed:
            return
        import torch.distributed as dist

        with torch.no_grad():
            for t in tensors:
                dist.broadcast(t.data, src=0)

    def gather(self, value: T) -> list[T]:
        """Every rank's `value` (picklable; tensors on the CPU), in rank order, on every rank."""
        if not self.is_distributed:
            return [value]
        import torch.distributed as dist

        out: list = [None] * self.size
        dist.all_gather_object(out, value)
        return out

    def on_main(self, action: Callable[[], T]) -> T:
        """Run `action` on rank 0 only and return its result on every rank.

        An exception on rank 0 is raised on every rank (a `PinnkitError` as itself, anything
        else as a `TrainingError` naming it), so no rank is left waiting in a collective.
        """
        if not self.is_distributed:
            return action()
        import torch.distributed as dist

        result, error, cause = None, None, None
        if self.is_main:
            try:
                result = action()
            except PinnkitError as err:
                error = err
            except Exception as err:  # re-raised below, on every rank
                error, cause = TrainingError(f"rank 0 failed: {type(err).__name__}: {err}"), err
        box = [(result, error)]
        dist.broadcast_object_list(box, src=0)
        result, error = box[0]
        if error is not None:
            raise error from cause
        return result

    def check_lockstep(self, tensors: Sequence[Tensor], where: str) -> None:
        """Verify that `tensors` (the trainable parameters) are bitwise equal on every rank.

        **Raises**

        `TrainingError` on every rank when they differ: the ranks took different steps,
        which is a bug in pinnkit (or a model that is not deterministic across processes).
        """
        if not self.is_distributed or not tensors:
            return
        import torch.distributed as dist

        flat = torch.cat([t.detach().reshape(-1).to(torch.float64) for t in tensors])
        high, low = flat.clone(), flat.clone()
        dist.all_reduce(high, op=dist.ReduceOp.MAX)
        dist.all_reduce(low, op=dist.ReduceOp.MIN)
        differ = int((high != low).sum())
        if differ:
            raise TrainingError(
                f"distributed: at {where}, {differ} of {flat.numel()} parameter values differ "
                f"between the {self.size} ranks (largest gap {float((high - low).max()):.3g}); "
                "the ranks are no longer training the same model. This is a bug in pinnkit "
                "(or a non-deterministic model or extra op); please report it with the config. "
                "Try: run one process to check the problem trains, or `--dtype float64`."
            )


def leave() -> bool:
    """Shut the process group down, if one is running (the CLI calls this on exit);
    whether one was."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
        return True
    return False
