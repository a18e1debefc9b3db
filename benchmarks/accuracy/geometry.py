"""Geometry a user brings: the PINNacle cases on shapes with holes and cut-outs, each
against the COMSOL solution PINNacle ships, measured at its own mesh nodes.

Same runner as `frontier.py` (one process and one CPU thread per run, `--jobs` at once,
precision, parameter count, wall time and device beside every error); errors are relative L2
at the reference's nodes inside the domain (`pk.reference.comsol`), never read off the loss.
The reference files are read from `../shared/data/pinnacle/` beside the checkout (or
`$PINNKIT_DATA/pinnacle/`), never copied. Solution figures go to
`docs/benchmarks/accuracy/geometry/` with `--figures`.

    python benchmarks/accuracy/geometry.py --problems poisson2d_holes --configs accurate \\
        --seeds 0 --jobs 1 --figures docs/benchmarks/accuracy/geometry
    python benchmarks/accuracy/geometry.py --report      # only rewrite geometry.md
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from frontier import Case, main  # noqa: E402

PINNACLE = "PINNacle (Hao et al., NeurIPS 2024 Datasets and Benchmarks) reports"

CASES = {
    case.problem: case
    for case in (
        Case(
            "poisson2d_holes",
            "accurate",
            1e-2,
            30,
            f"{PINNACLE} about 0.69 for a vanilla PINN after 20,000 Adam steps on a GPU (as "
            "transcribed, not checked here)",
        ),
        Case(
            "poisson_boltzmann_holes",
            "accurate",
            1e-2,
            30,
            f"{PINNACLE} vanilla-PINN errors for this case in its tables (not transcribed here)",
        ),
        Case(
            "lid_driven_cavity",
            "accurate",
            2e-2,
            30,
            f"{PINNACLE} about 0.047 for a vanilla PINN after 20,000 Adam steps on a GPU (as "
            "transcribed, not checked here)",
            fields=("u", "v"),
        ),
        Case(
            "backward_step",
            "accurate",
            5e-2,
            30,
            f"{PINNACLE} vanilla-PINN errors for this case in its tables (not transcribed here)",
            fields=("u", "v"),
        ),
    )
}

INTRO = (
    "Relative L2 error at the reference's own nodes (COMSOL solutions shipped with PINNacle) "
    "that lie in the domain: the median over the seeds run, with the range in brackets. Each "
    "run is one process with one CPU thread; `jobs` runs shared the machine at once, and "
    "`load` is the median 1-minute load average at the end of the runs. Written by "
    "`benchmarks/accuracy/geometry.py` from `geometry.json`."
)

if __name__ == "__main__":
    main(
        CASES,
        HERE / "geometry.json",
        HERE / "geometry.md",
        "Geometry: the PINNacle cases",
        INTRO,
        __doc__,
    )
