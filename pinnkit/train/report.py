"""Reporting of a run: the metrics line of each logged block (to `metrics.jsonl`, or kept in
memory, and to TensorBoard when asked), the progress bar, the run's notes (warnings that
also go to `summary.json`), and the summary itself.

Only rank 0 of a data-parallel run writes; the others report nothing.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pinnkit.compile import AbstractResiduals
from pinnkit.config import Config
from pinnkit.errors import ConfigError, PinnkitWarning
from pinnkit.problem.data import observed_values
from pinnkit.problem.noise import noise_variance
from pinnkit.runs import METRICS, SUMMARY, write_json
from pinnkit.train.distributed import World

__all__ = [
    "Reporter",
    "TENSORBOARD",
    "LARGE_HIDDEN_OUTPUT",
    "LARGE_FIELD",
    "require_tensorboard",
    "large_hidden_notes",
    "large_field_notes",
    "UNEXPLAINED",
    "NOISE_RATIO",
    "MISSED_SHARE",
    "missed_data_notes",
    "UNHELD",
    "UNHELD_POINTS",
    "unheld_notes",
    "fresh_point_notes",
    "end_notes",
]

#: The run directory's folder of TensorBoard event files.
TENSORBOARD = "tensorboard"

#: A Hidden term whose output at the end of training is this many times its network's
#: `HiddenNet.scale` (RMS over the interior points) gets a note suggesting a scale.
LARGE_HIDDEN_OUTPUT = 4.0
#: An observed field whose observations (RMS) are this many times the field model's fixed
#: output scale (`MLP.scale`, a number) gets a note suggesting `MLP(scale="data")`.
LARGE_FIELD = 10.0
#: An observed field whose fit leaves more than this fraction of its observations' variance
#: unexplained (mean square misfit over variance) gets a note: a fit that followed the
#: observations leaves only their noise, which is below half their variance wherever the
#: signal varies more than the noise (ODEBench at 5% noise: at most 0.36).
UNEXPLAINED = 0.5
#: Fields with fewer observations than this get no such note (a pinned value, p(0, 0) = 0).
MIN_OBSERVATIONS = 10
#: An observed field whose fit misses its observations by more than this many times their
#: noise variance, as the observations show it between neighbours (`problem.noise`: an
#: estimate that the signal's curvature can only raise), and leaves more than
#: `MISSED_SHARE` of their variance unexplained, gets the note too: a damped oscillator
#: fitted without Fourier features left 2-3% of the variance, 130 times the noise.
NOISE_RATIO = 10.0
#: An equation met this many times worse (mean square) on fresh points than on those the
#: solution was trained on gets a note (`unheld_notes`). Measured on eight runs of
#: 2026-12-07: 0.9-1.4 where Adam drew its points afresh every step and the solution held;
#: 6.6 after 2,000 L-BFGS steps on one point set, 800-9,700 after a Levenberg-Marquardt
#: stage (an initial layer at t < 0.01 no fit held), and 555-698 where an unobserved
#: predator dropped from 1 to 0 just after the start (95-100% of it at 1% of the points);
#: the test suite's stages on 32-64 points, 10-2,600.
UNHELD = 30.0
#: Fewer fresh interior points than this are not judged (1% of them is under one point).
UNHELD_POINTS = 100
#: See `NOISE_RATIO`: below this share of the variance (a relative misfit of 10%) the noise
#: estimate is not consulted (clean synthetic observations have next to no noise).
MISSED_SHARE = 0.01


def require_tensorboard(config: Config) -> None:
    """Check, before anything is written, that `config.tensorboard` can be honoured.

    **Raises**

    `ConfigError` when TensorBoard files are asked for and the `tensorboard` package is
    not installed.
    """
    if config.tensorboard and importlib.util.find_spec("tensorboard") is None:
        raise ConfigError(
            "tensorboard=True: the `tensorboard` package is not installed, so no event files "
            'can be written. Fix: `pip install tensorboard` (or `pip install "pinnkit'
            '[tensorboard]"`), or drop `--tensorboard` / `--set tensorboard=false`.'
        )


class Reporter:
    """Writes what a run reports while it trains and when it ends.

    **Arguments**

    - `name`: the problem's name (the progress bar's label).
    - `config`: reads `progress` and `tensorboard`.
    - `directory`: the run directory (None: metrics are kept in memory).
    - `world`: the processes of the run (only rank 0 writes).
    """

    def __init__(self, name: str, config: Config, *, directory: Path | None, world: World):
        self.name = name
        self.config = config
        self.directory = directory
        self.world = world
        self.memory: list[dict] = []  # the metrics lines of a run without a directory
        self.notes: list[str] = []  # warnings of this run, also written to summary.json
        self._bar = None
        self._board = None

    def start(self, total: int, initial: int) -> None:
        """Open the progress bar (from step `initial` of `total`) and, when asked, the
        TensorBoard writer, for one stretch of training; `close()` ends it."""
        self._bar = _progress_bar(
            self.name, total, initial, self.config.progress and self.world.is_main
        )
        if self.config.tensorboard and self.directory is not None and self.world.is_main:
            require_tensorboard(self.config)
            from torch.utils.tensorboard import SummaryWriter

            self._board = SummaryWriter(log_dir=str(self.directory / TENSORBOARD))

    def row(self, row: dict, *, rel_l2: dict[str, float]) -> None:
        """Write one metrics line and move the progress bar to its step (showing the
        latest errors `rel_l2`, whether or not this line measured them)."""
        self._write(row)
        postfix = {"loss": f"{row['loss']:.2e}"}
        if "causal_min_weight" in row:  # the causal convergence indicator: -> 1 when done
            postfix["w_min"] = f"{row['causal_min_weight']:.3f}"
        postfix.update({k: f"{v:.1e}" for k, v in row["terms"].items()})
        postfix.update({f"L2[{k}]": f"{v:.1e}" for k, v in rel_l2.items()})
        postfix.update({k: f"{v:.4g}" for k, v in row.get("parameters", {}).items()})
        self._bar.set_postfix(postfix, refresh=False)
        self._bar.update(row["step"] - self._bar.n)

    def note(self, note: str, *, replace: str | None = None, stacklevel: int = 3) -> None:
        """Record `note` for the summary and warn with it (`PinnkitWarning`); a note
        starting with `replace` is dropped first (one note per topic)."""
        if replace is not None:
            self.notes = [n for n in self.notes if not n.startswith(replace)]
        self.notes.append(note)
        warnings.warn(note, PinnkitWarning, stacklevel=stacklevel)

    def has_note(self, prefix: str) -> bool:
        return any(n.startswith(prefix) for n in self.notes)

    def close(self) -> None:
        """Close the progress bar and the TensorBoard writer (when open)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._board is not None:
            self._board.close()
            self._board = None

    def summary(self, values: dict) -> dict:
        """The run's summary: `values` (loss terms, errors, steps, time, notes, ...) and the
        versions; written to `summary.json` on rank 0 of a run with a directory, and the
        metrics kept in memory under `_metrics` otherwise."""
        summary = dict(values)
        summary["pinnkit_version"] = _pinnkit_version()
        summary["torch_version"] = torch.__version__
        if self.directory is not None:
            if self.world.is_main:
                write_json(self.directory / SUMMARY, summary)
        else:
            summary["_metrics"] = self.memory
        return summary

    def _write(self, row: dict) -> None:
        if self.directory is None:
            self.memory.append(row)
            return
        if not self.world.is_main:
            return
        with open(self.directory / METRICS, "a") as handle:
            handle.write(json.dumps(row) + "\n")
        if self._board is not None:
            _board_row(self._board, row)


def large_hidden_notes(
    residuals: AbstractResiduals, model: nn.Module, points: torch.Tensor
) -> dict[str, str]:
    """A note for each Hidden term whose output ended up large for its network's scale.

    Adam moves each weight by about the learning rate per step, so such a term grows slowly
    and can stop on a plateau (`HiddenNet.scale`). Measured at `points` (the last interior
    points); the note names the scale to refit with. Returns `hidden: "<name>"` -> note.
    """
    if not residuals.hidden:
        return {}
    with torch.no_grad():
        values = residuals.hidden_values(model, points)
    notes = {}
    for name, (_inputs, output) in values.items():
        scale = residuals.hidden[name].scale
        size = float(output.square().mean().sqrt())
        if not size > LARGE_HIDDEN_OUTPUT * scale:
            continue
        suggest = f"{float(f'{size:.2g}'):g}"  # two significant digits, no exponent
        notes[f'hidden: "{name}"'] = (
            f'hidden: "{name}" came out {size:.3g} in size (RMS over the interior points), '
            f"{size / scale:.3g}x its network's scale {scale:g}. Adam moves each weight by "
            "about the learning rate per step, so a term this large trains slowly and can "
            f"stop on a plateau; refit with HiddenNet(scale={suggest}) "
            f"(`--set hidden_terms.{name}='{{\"scale\": {suggest}}}'`)."
        )
    return notes


def large_field_notes(problem, model) -> dict[str, str]:
    """A note for each observed field whose observations are large for the field model's
    fixed output scale (`model.scale`, a number; none for `scale="data"` or a model without
    one): its network's O(1) output must grow to them, which takes Adam thousands of steps
    (a logistic population observed up to 170 came out 107 after 2,000 steps, the data's
    loss 870). Returns `scale: "<field>"` -> note."""
    scale = getattr(model, "scale", None)
    if not isinstance(scale, (int, float)):  # "data", or a model without a scale
        return {}
    observed = observed_values(problem.data)
    sizes = {field: float(np.sqrt(np.mean(np.square(v)))) for field, v in observed.items()}
    return {
        f'scale: "{field}"': (
            f'scale: "{field}" is observed at {size:.3g} (RMS of its observations), '
            f"{size / scale:.3g}x the field model's output scale {scale:g}. Its network's "
            "O(1) output must grow to that, which takes Adam thousands of steps; refit with "
            'pk.MLP(scale="data") (`--set model.scale=data`), which scales each observed '
            "field by its observations' mean and spread."
        )
        for field, size in sizes.items()
        if size > LARGE_FIELD * scale
    }


def missed_data_notes(problem, predict) -> dict[str, str]:
    """A note for each observed field the trained solution has not followed: its mean
    square misfit is more than `UNEXPLAINED` of its observations' variance, or more than
    `MISSED_SHARE` of it and `NOISE_RATIO` times their noise variance estimated from the
    observations alone (`pinnkit.problem.noise`). `predict` maps (n, n_coords) points to
    field values (`runs.predict_points`). A Hidden term can hold the equations while the
    solution stays nearly flat (a pendulum whose damping was hidden, observed at 60 times
    over three swings: the angle came out a slow drift, relative L2 1.0, and the damping
    network absorbed the swing). Returns `data: "<field>"` -> note."""
    names = [c.name for c in problem.coords]
    misfit: dict[str, list[np.ndarray]] = {}
    observed: dict[str, list[np.ndarray]] = {}
    where: dict[str, list[np.ndarray]] = {}
    for data in problem.data:
        points = data.points(names)
        values = predict(points)
        for field, seen in data.values.items():
            misfit.setdefault(field, []).append(values[field] - seen)
            observed.setdefault(field, []).append(seen)
            where.setdefault(field, []).append(points)
    notes = {}
    for field, parts in misfit.items():
        seen, missed = np.concatenate(observed[field]), np.concatenate(parts)
        spread = float(np.var(seen))
        if len(seen) < MIN_OBSERVATIONS or not spread > 0:
            continue
        square = float(np.mean(missed**2))
        share = square / spread
        if share > UNEXPLAINED:
            how = f"leaves {min(share, 1):.0%}{'+' if share > 1 else ''} of the spread"
            why = "it has not followed them, or they are mostly noise"
        elif share > MISSED_SHARE:
            noise = noise_variance(np.concatenate(where[field]), seen)
            if noise is None or not square > NOISE_RATIO * noise:
                continue
            times = f"{square / noise:.3g} times" if noise > 0 else "far more than"
            how = (
                f"misses by {times} the noise variance ({noise:.3g}, estimated from "
                f"neighbouring observations) and leaves {share:.1%} of the spread"
            )
            why = "it has not followed them"
        else:
            continue
        notes[f'data: "{field}"'] = (
            f'data: "{field}": the trained solution {how} of its {len(seen)} observations '
            f"unexplained (mean square misfit {square:.3g}, their variance {spread:.3g}): {why}. "
            "Look at the solution figure. A solution that oscillates more than a plain "
            "network follows needs Fourier features (pk.Fourier(features=32, sigma=2)); a "
            "Hidden term can hold the equations while the solution stays flat."
        )
    return notes


def unheld_notes(problem, residuals, points, trained, *, fix: str) -> dict[str, str]:
    """A note for each equation whose `residuals` (term -> tensor at `points`, the interior
    points, fresh) have a mean square more than `UNHELD` times `trained[term]` (its mean
    square where the solution was trained), saying where the worst 1% of the points lie when
    they hold half of it or more (`_place`), and ending with `fix`. `unheld: "<term>"` ->
    note."""
    names = [c.name for c in problem.coords]
    low, high = (np.asarray(b, float) for b in problem.domain.bounds)
    where = points.detach().double().cpu().numpy()
    notes = {}
    if len(where) < UNHELD_POINTS:
        return notes
    for eq in problem.equations:
        r, before = residuals.get(eq.name), trained.get(eq.name, 0.0)
        if r is None or not before > 0 or r.shape[0] != len(where):
            continue
        squares = r.detach().double().cpu().numpy() ** 2
        fresh = float(squares.mean())
        if not fresh > UNHELD * before:
            continue
        worst = np.argsort(squares)[::-1][: max(1, len(squares) // 100)]
        share = squares[worst].sum() / squares.sum()
        place = _place(share, where[worst], names, high - low)
        notes[f'unheld: "{eq.name}"'] = (
            f'equation "{eq.name}" is met {fresh / before:.3g}x worse on {len(squares):,} fresh '
            f"points (mean square {fresh:.3g}) than where the solution was trained "
            f"({before:.3g}); {share:.0%} of it at 1% of the points{place}: the solution has "
            f"a layer, a jump or a wrong branch there that its training points missed. {fix}"
        )
    return notes


def _place(share: float, worst: np.ndarray, names, extent: np.ndarray) -> str:
    """Where the worst points (rows of `worst`, the worst first) lie, when they hold half of
    the residual or more: the coordinates they span less than half the domain's `extent` of,
    else the worst point."""
    if share < 0.5:
        return ""
    span = [
        f"{n} in [{worst[:, i].min():.3g}, {worst[:, i].max():.3g}]"
        for i, n in enumerate(names)
        if np.ptp(worst[:, i]) < 0.5 * extent[i]
    ]
    if span:
        return ", where " + ", ".join(span)
    return ", the worst at " + ", ".join(f"{n} = {v:.3g}" for n, v in zip(names, worst[0]))


def fresh_point_notes(compiled, model, sampler, points, config) -> dict[str, str]:
    """`unheld_notes` at the end of training: the equations' residuals on a fresh draw of
    the training counts (`sampler`, seeded by `config.seed`) against those on `points`, the
    last point set the solution was trained on (by the last of `config`'s stages, whose
    remedy the note names)."""
    if "interior" not in (points or {}):
        return {}
    fresh = sampler.sample(np.random.default_rng(config.seed + 1))
    before = compiled.residuals(model, points)
    trained = {k: float(r.detach().double().square().mean()) for k, r in before.items()}
    remedy = ""
    if config.stages:
        remedy = "a fresh draw of points in the last stages (`resample_every`), "
    elif config.lbfgs.steps:
        remedy = "more points for the L-BFGS polish, which trains on one fixed set "
        remedy += f"(`pk.LBFGS(points={4 * config.lbfgs.points:g})`), "
    elif config.sampling.resample_every != 1:
        remedy = "a fresh draw of points every step (`pk.Sampling(resample_every=1)`), "
    return unheld_notes(
        compiled.problem,
        compiled.residuals(model, fresh),
        fresh["interior"].points,
        trained,
        fix=f"Look at the solution figure; {remedy}more interior points or causal weighting "
        "(pk.Causal) help.",
    )


def end_notes(problem, model, predict) -> dict[str, str]:
    """The notes on a trained run's fields: observed far above the field model's scale
    (`large_field_notes`), or not followed (`missed_data_notes`); topic -> note."""
    return {**large_field_notes(problem, model), **missed_data_notes(problem, predict)}


def _board_row(board, row: dict) -> None:
    """One metrics line as TensorBoard scalars at its step."""
    step = int(row["step"])
    board.add_scalar("loss", row["loss"], step)
    for k, v in row["terms"].items():
        board.add_scalar(f"terms/{k}", v, step)
    if row.get("lr") is not None:
        board.add_scalar("learning_rate", row["lr"], step)
    for k, v in row.get("rel_l2", {}).items():
        board.add_scalar(f"rel_l2/{k}", v, step)
    for k, v in row.get("parameters", {}).items():
        board.add_scalar(f"parameters/{k}", v, step)
    for k in ("causal_min_weight", "causal_epsilon", "rar_points"):
        if k in row:
            board.add_scalar(f"strategies/{k}", row[k], step)
    for k, v in (row.get("balance") or {}).items():
        board.add_scalar(f"strategies/balance/{k}", v, step)
    board.flush()


def _progress_bar(name: str, total: int, initial: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        disable=not enabled,
        desc=name,
        file=sys.stderr,
        dynamic_ncols=True,
        leave=True,
    )


def _pinnkit_version() -> str:
    try:
        return version("pinnkit")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0.0.0+unknown"
