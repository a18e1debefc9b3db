"""The training loop: the `Trainer` runs the first phase (Adam or SOAP, fresh points each
step), then the optional L-BFGS polish, then the further stages of `Config.stages`
(SSBroyden, Levenberg-Marquardt; each may switch the run to float64), from the start or
from a checkpoint, and ends in a `Run`.

What it builds comes from `pinnkit.build`; the loss with its strategies is `pinnkit.train.loss`;
the NaN guard `pinnkit.train.guard`; reporting `pinnkit.train.report`; checkpoint state
`pinnkit.train.state`. None of them calls back into the loop. Under torchrun the same loop
trains data-parallel (`pinnkit.train.distributed`): rank 0 alone writes the run directory.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import torch

from pinnkit.build import build, dtype_name, resolve_device, resolve_dtype
from pinnkit.compile import Batch
from pinnkit.compile.jacobian import jacobian_rows, residual_vector
from pinnkit.config import Config
from pinnkit.config import LevenbergMarquardt as LevenbergMarquardtSpec
from pinnkit.errors import ConfigError
from pinnkit.problem import Problem
from pinnkit.runs import ErrorGrid, Run, predict_points, save_checkpoint
from pinnkit.train import host_memory, state
from pinnkit.train.distributed import World, rank_generator
from pinnkit.train.guard import MAX_NAN_RETRIES, Guard, nonfinite, overflowed
from pinnkit.train.loss import Loss
from pinnkit.train.optim import first
from pinnkit.train.optim.gauss_newton import LevenbergMarquardt
from pinnkit.train.optim.lbfgs import lbfgs_block, make_lbfgs
from pinnkit.train.optim.ssbroyden import SelfScaledQuasiNewton, self_scaled_block
from pinnkit.train.optim.stages import (
    fresh_points_due,
    make_stage_optimizer,
    segment_end,
    stage_phase,
)
from pinnkit.train.report import Reporter, end_notes, fresh_point_notes, large_hidden_notes
from pinnkit.train.sampling import Sampler, given_points
from pinnkit.train.terms import LossTerms

__all__ = ["Trainer"]

log = logging.getLogger("pinnkit")
ROLLED_BACK = "step %d: %s is not finite; rolled back, points redrawn (unless given), lr x%.3g"


class Trainer:
    """Owns one training run from start (or checkpoint) to `Run`.

    **Arguments**

    - `problem`, `config`: what to train and how.
    - `directory`: the run directory to write (None: train in memory only).
    - `source`: text of the problem file, saved as `problem.py` for `--resume`.
    - `extra_ops`: passed to `compile_problem`.
    - `callback`: called as `callback(step, row)` after each logged step (for notebooks),
      with the metrics line of that step.
    - `world`: the processes of a data-parallel run (`World.from_environment()` after
      `join`; see `pinnkit.train.distributed`). Default: one process. Every rank builds a
      `Trainer` with the same arguments; each draws its own points, and only rank 0 writes
      to `directory`.
    """

    def __init__(
        self,
        problem: Problem,
        config: Config,
        *,
        directory: Path | None = None,
        source: str | None = None,
        extra_ops=None,
        callback: Callable | None = None,
        world: World | None = None,
    ):
        self.problem = problem
        self.config = config
        self.directory = Path(directory) if directory is not None else None
        self.source = source
        self.callback = callback
        self.world = world if world is not None else World()
        if self.world.is_distributed and any(
            isinstance(spec, LevenbergMarquardtSpec) for spec in config.stages
        ):
            raise ConfigError(
                "stages: the LevenbergMarquardt stage runs in one process (its normal "
                "equations are not summed over ranks yet). Fix: run it without torchrun, or "
                "use `pk.SSBroyden` (its losses and gradients are reduced over ranks)."
            )
        # The torch generator (initial weights) is the same on every rank; the numpy stream
        # (collocation points) is this rank's own.
        self.generator = torch.Generator().manual_seed(int(config.seed))
        self.rng = rank_generator(int(config.seed), self.world.rank)
        built = build(
            problem,
            config,
            generator=self.generator,
            device=self.world.place(resolve_device(config.device)),
            extra_ops=extra_ops,
        )
        self.device, self.dtype = built.device, built.dtype
        self.compiled, self.model = built.residuals, built.model
        strict = bool(problem.exact_parts)  # distance functions: keep points off the boundary
        self.sampler = Sampler(
            problem.domain, self.compiled, config.sampling, self.dtype, self.device, strict=strict
        )
        self.params = list(self.model.parameters()) + list(self.compiled.parameters())
        self.world.broadcast(self.params)  # equal already (one seed); this makes it certain
        # Fused Adam: one kernel, not a dozen ops per tensor (0.4 -> 0.1 ms/step, `optim.adam`).
        self.optimizer = first.make_optimizer(config.optimizer, self.params)
        self.loss = Loss(
            problem,
            self.compiled,
            config,
            weights=built.weights,
            params=self.params,
            world=self.world,
            dtype=self.dtype,
            device=self.device,
        )
        self.guard = Guard()
        self.reporter = Reporter(problem.name, config, directory=self.directory, world=self.world)
        self.lbfgs: torch.optim.LBFGS | None = None
        self.stage = -1  # the index in `config.stages` of the stage running (-1: none yet)
        self.stage_optimizer: SelfScaledQuasiNewton | LevenbergMarquardt | None = None
        self.error_grid = ErrorGrid.build(problem)
        self.first_phase = first.phase_name(config.optimizer)  # "adam" or "soap"
        self.phase = self.first_phase
        self.step, self.lr_scale, self.elapsed, self.given = 0, 1.0, 0.0, False  # given: use_points
        self.points: dict[str, Batch] | None = None  # the sampled regions' current points
        self.last_terms, self.last_rel_l2 = {}, {}  # term or field -> the last logged value

    # -- public -------------------------------------------------------------------------------

    @property
    def total_steps(self) -> int:
        stages = sum(int(spec.steps) for spec in self.config.stages)
        return int(self.config.steps) + int(self.config.lbfgs.steps) + stages

    @property
    def notes(self) -> list[str]:
        """The run's notes so far (also written to `summary.json`)."""
        return self.reporter.notes

    def run(self) -> Run:
        """Train to the end and return the `Run` (writing the run directory if any)."""
        start = time.perf_counter()
        base = self.elapsed
        self.reporter.start(self.total_steps, self.step)
        try:
            with host_memory.retained(self.device, enabled=self.config.retain_memory):
                self._train(base, start)
        finally:
            self.reporter.close()
        self.elapsed = base + time.perf_counter() - start
        self._note_scales()
        return self._finish()

    def use_points(self, points: Mapping[str, np.ndarray | torch.Tensor | Batch]) -> None:
        """Train the first phase (Adam or SOAP) on given collocation points instead of
        sampled ones.

        For side-by-side comparisons with another code on its exact points. The L-BFGS
        polish still draws its own set. Does not yet accept points for regions that need
        normals unless given as a `Batch` with its normals.

        **Arguments**

        - `points`: region name (as in `compiled.sample_regions`: `interior`, `initial`,
          `boundary`, `periodic:x`, ...) -> points of shape (batch, n_coords), in the
          order of `problem.coords`.

        **Raises**

        `ConfigError` when `sampling.resample_every` is not 0 (the points would be
        replaced at the next resample) or the regions are not exactly the sampled ones.
        """
        self.points = given_points(
            points, self.compiled, self.config.sampling, device=self.device, dtype=self.dtype
        )
        self.given = True

    def state(self) -> dict:
        """Everything needed to continue exactly where training stands (`train.state`)."""
        return state.capture(self)

    def load_state(self, saved: Mapping) -> None:
        """Restore a `state()` (from a checkpoint; `RunError` when it does not fit)."""
        self.convert(resolve_dtype(saved.get("dtype", self.config.dtype)))
        state.restore(self, saved)
        self.guard.snapshot(self.model, self.compiled, self.optimizer, self.last_terms)

    def attach(self, directory: Path) -> None:
        """Write this run to `directory` from now on (`fit` builds the trainer first, so a
        problem or config that fails to build leaves no directory)."""
        self.directory = Path(directory)
        self.reporter.directory = self.directory

    def checkpoint(self) -> None:
        """Write `checkpoint.pt` (rank 0; every rank must call it, with the same directory)."""
        if self.directory is not None:
            self.world.check_lockstep(self.params, f"the checkpoint of step {self.step}")
            saved = self.state()
            if self.world.is_main:
                save_checkpoint(self.directory, saved)

    # -- the stages ---------------------------------------------------------------------------

    def _train(self, base: float, start: float) -> None:
        """The first phase's steps, then the L-BFGS polish and the further stages, from
        wherever the run stands."""
        while self.step < self.config.steps:
            block = min(
                self.config.log_every - self.step % self.config.log_every,
                self.config.steps - self.step,
            )
            for _ in range(block):
                terms = self._adam_step()
            self.elapsed = base + time.perf_counter() - start
            self._after_block(terms)
        if self.step < int(self.config.steps) + int(self.config.lbfgs.steps):
            self.phase = "lbfgs"
            self._polish(base, start)
        self._stages(base, start)

    def _learning_rate(self) -> float:
        opt = self.config.optimizer
        return opt.learning_rate * self.lr_scale * opt.decay_rate ** (self.step / opt.decay_steps)

    def _batches(self) -> dict[str, Batch]:
        every = int(self.config.sampling.resample_every)
        if self.points is None or (every > 0 and self.step % every == 0):
            self.points = self.sampler.sample(self.rng)
        return self.loss.batches(self.model, self.points, domain=self.problem.domain, rng=self.rng)

    def _adam_step(self) -> LossTerms:
        """One first-phase step, Adam's or SOAP's (the name predates SOAP; benchmarks use it)."""
        batches = self._batches()
        for _attempt in range(MAX_NAN_RETRIES + 1):
            for group in self.optimizer.param_groups:
                group["lr"] = self._learning_rate()
            self.optimizer.zero_grad(set_to_none=True)
            terms = self.loss.evaluate(self.model, batches)
            terms.total().backward()
            self.world.reduce_gradients(self.params)
            bad = nonfinite(terms, self.params)
            if bad is None:
                first.step(self.optimizer)
                self.loss.commit()
                self.step += 1
                return terms
            self.guard.rollback(bad, self.step, self.model, self.compiled, self.optimizer)
            self.lr_scale *= 0.5
            if not self.given:  # a point where a term has no derivative fails on any weights
                self.points = None
                batches = self._batches()
            log.warning(ROLLED_BACK, self.step, bad, self.lr_scale)
        raise AssertionError("unreachable; this is a bug in pinnkit")

    def _polish(self, base: float, start: float) -> None:
        """The L-BFGS polish, on one fixed point set drawn when it starts."""
        if self.lbfgs is None:
            self.lbfgs = make_lbfgs(self.params, self.config.lbfgs)
            self.points = self.sampler.sample(self.rng, scale=float(self.config.lbfgs.points))
        end = int(self.config.steps) + int(self.config.lbfgs.steps)
        self._closure_blocks(lambda c, n: lbfgs_block(self.lbfgs, c, n), end, base, start)

    def _stages(self, base: float, start: float) -> None:
        """The further stages of `config.stages`, in order, from wherever the run stands."""
        end = int(self.config.steps) + int(self.config.lbfgs.steps)
        for index, spec in enumerate(self.config.stages):
            end += int(spec.steps)
            if self.step >= end:
                continue
            if self.stage != index:  # entering it (a resumed run may be inside it already)
                self._enter_stage(index, spec)
            optimizer, first = self.stage_optimizer, end - int(spec.steps)
            while self.step < end:
                if fresh_points_due(spec, self.step, first):  # after the checkpoint there
                    self.points = self._stage_points(spec)
                stop = segment_end(spec, self.step, first, end)
                if isinstance(optimizer, LevenbergMarquardt):
                    self._least_squares_blocks(optimizer, spec, stop, base, start)
                else:
                    block = lambda c, n, o=optimizer: self_scaled_block(o, c, n)  # noqa: E731
                    self._closure_blocks(block, stop, base, start)

    def _enter_stage(self, index: int, spec) -> None:
        """Switch to stage `index`: its precision, its point set, a fresh optimiser."""
        self.stage, self.phase = index, stage_phase(spec)
        self.convert(resolve_dtype(spec.dtype))
        self.points = self._stage_points(spec)
        self.stage_optimizer = make_stage_optimizer(spec, self.params)

    def _stage_points(self, spec) -> dict[str, Batch]:
        """A point set of stage `spec`, its interior drawn by RAD when `spec.resample` is
        `residual` (`Sampler.redraw_interior`, from the run's one stream)."""
        points = self.sampler.sample(self.rng, scale=float(spec.points))
        if spec.resample == "residual":
            self.loss.batches(self.model, points)  # the model and points the score reads
            points = self.sampler.redraw_interior(points, self.loss.equation_score, self.rng)
        return points

    def _least_squares_blocks(self, optimizer, spec, end: int, base: float, start: float) -> None:
        """Levenberg-Marquardt iterations on the current points up to step `end`; each takes
        the Jacobian of the weighted residual vector (`pinnkit.compile.jacobian`)."""
        if not self.guard.has_snapshot:
            self.guard.snapshot(self.model, self.compiled, self.optimizer, self.last_terms)
        batches = self.loss.batches(self.model, self.points)
        weights = self.loss.effective_weights()
        sketch = int(spec.sketch) or None

        def system():
            # The sketch's rows come from the run's one stream (checkpointed), so a resumed
            # run draws the same rows.
            seed = int(self.rng.integers(2**62)) if sketch else 0
            return jacobian_rows(
                self.compiled,
                self.model,
                batches,
                weights,
                chunk=int(spec.chunk),
                sample=sketch,
                generator=torch.Generator().manual_seed(seed),
            )

        def loss():
            return residual_vector(self.compiled, self.model, batches, weights).square().sum()

        def iterations(n: int) -> LossTerms:
            for _ in range(n):
                optimizer.step(system, loss)
            return self.loss.evaluate(self.model, batches, polish=True)  # for the log

        self._blocks(iterations, end, base, start)

    def _closure_blocks(self, run_block: Callable, end: int, base: float, start: float) -> None:
        """Blocks of a closure-driven optimiser (`run_block(closure, iterations)`) on the
        current points up to step `end` (`_blocks`)."""
        if not self.guard.has_snapshot:
            # No first-phase step took one (steps=0): the start is the good state.
            self.guard.snapshot(self.model, self.compiled, self.optimizer, self.last_terms)
        batches = self.loss.batches(self.model, self.points)

        def closure():
            for p in self.params:
                p.grad = None
            terms = self.loss.evaluate(self.model, batches, polish=True)
            total = terms.total()
            total.backward()
            self.world.reduce_gradients(self.params)
            closure.terms = terms
            return total

        def iterations(n: int) -> LossTerms:
            run_block(closure, n)
            return closure.terms

        self._blocks(iterations, end, base, start)

    def _blocks(self, iterations: Callable, end: int, base: float, start: float) -> None:
        """Logged blocks of `iterations(n) -> LossTerms` up to step `end`. A non-finite loss
        or update (`overflowed`) puts back the last good state and ends this stage."""
        while self.step < end:
            block = min(self.config.log_every - self.step % self.config.log_every, end - self.step)
            try:
                bad = (terms := iterations(block)).first_nonfinite()
            except RuntimeError as err:
                bad = overflowed(err)
            if bad is not None:
                self.guard.restore_weights(self.model, self.compiled)
                log.warning(
                    "%s: loss term %r became non-finite at step %d; kept the last good "
                    "state and stopped this stage.",
                    self.phase,
                    bad,
                    self.step,
                )
                self.step = end
                break
            self.loss.commit()  # the causal indicator, for the log
            self.step += block
            self.elapsed = base + time.perf_counter() - start
            self._after_block(terms)

    def convert(self, dtype: torch.dtype) -> None:
        """Compute in `dtype` from now on: the model, the learned constants and Hidden
        networks, the data and RAR points (the next points are drawn in it)."""
        if dtype == self.dtype:
            return
        self.model.to(dtype=dtype)
        self.compiled.to(dtype=dtype)
        self.dtype = self.sampler.dtype = dtype
        self.loss.convert(dtype)
        if self.points is not None:
            self.points = {k: b.to(dtype=dtype) for k, b in self.points.items()}

    # -- after each logged block, and at the end ----------------------------------------------

    def _after_block(self, terms: LossTerms) -> None:
        self.last_terms = terms.values()
        self.guard.snapshot(self.model, self.compiled, self.optimizer, self.last_terms)
        row = {
            "step": self.step,
            "phase": self.phase,
            "loss": terms.total_value(),
            "terms": self.last_terms,
            "lr": self._learning_rate() if self.phase == self.first_phase else None,
            "seconds": round(self.elapsed, 3),
        }
        if self.problem.parameters:
            row["parameters"] = {
                k: float(v.detach()) for k, v in self.compiled.parameter_values().items()
            }
        row.update(self.loss.metrics())
        self._note_stall()
        if self.error_grid is not None and (
            self.step % self.config.eval_every == 0 or self.step >= self.total_steps
        ):
            self.last_rel_l2 = self.error_grid.rel_l2(self._predict)
            row["rel_l2"] = self.last_rel_l2
        self.reporter.row(row, rel_l2=self.last_rel_l2)
        if self.callback is not None:
            self.callback(self.step, row)
        if self.step % self.config.checkpoint_every == 0 or self.step >= self.total_steps:
            self.checkpoint()

    def _note_stall(self) -> None:
        """Note (and warn) once per run when the causal epsilon schedule has stalled."""
        if self.phase != self.first_phase:
            return
        note = self.loss.stalled()
        if note and not self.reporter.has_note("causal:"):
            self.reporter.note(note, stacklevel=4)

    def _note_scales(self) -> None:
        """The end-of-training notes (`report.end_notes`); none without Adam steps
        (discovery's L-BFGS refits): their runs had their own."""
        if self.config.steps == 0:
            return
        interior = (self.points or {}).get("interior")
        notes = end_notes(self.problem, self.config.model, self._predict)
        if interior is not None:
            notes.update(large_hidden_notes(self.compiled, self.model, interior.points))
            if self.config.lagrangian is None:  # Lagrangian points move with the flow
                args = (self.compiled, self.model, self.sampler, self.points, self.config)
                notes.update(fresh_point_notes(*args))
        for topic, note in notes.items():  # a trainer run again keeps the newest per topic
            self.reporter.note(note, replace=topic, stacklevel=4)

    def _predict(self, points: np.ndarray) -> dict[str, np.ndarray]:
        return predict_points(self.model, self.problem, points)

    def _finish(self) -> Run:
        self.world.check_lockstep(self.params, "the end of training")
        if self.error_grid is not None:
            self.last_rel_l2 = self.error_grid.rel_l2(self._predict)
        weights = self.loss.effective_weights()
        after_adam = max(0, self.step - int(self.config.steps))
        device = str(self.device)
        if self.device.type == "cuda":
            device += f" ({torch.cuda.get_device_name(self.device)})"
        summary = self.reporter.summary(
            {
                "problem": self.problem.name,
                "loss_terms": self.last_terms,
                "loss": sum(weights[k] * v for k, v in self.last_terms.items()),
                "rel_l2": self.last_rel_l2 or None,
                "parameters": {
                    k: float(v.detach()) for k, v in self.compiled.parameter_values().items()
                },
                "steps": self.step,
                "adam_steps": int(self.config.steps),
                "lbfgs_steps": min(after_adam, int(self.config.lbfgs.steps)),
                "stage_steps": max(0, after_adam - int(self.config.lbfgs.steps)),
                "wall_seconds": round(self.elapsed, 3),
                "notes": list(self.notes),
                "device": device,
                "dtype": dtype_name(self.dtype),
                "network_parameters": sum(p.numel() for p in self.model.parameters()),
                "engine": self.compiled.engine_name,
                "engines": self.compiled.engines(self.model),
                "seed": int(self.config.seed),
                "processes": self.world.size,
            }
        )
        return Run(
            problem=self.problem,
            config=self.config,
            model=self.model,
            compiled=self.compiled,
            summary=summary,
            directory=self.directory,
        )
