"""Specs of the networks: the field model's body (`MLP`), its input features (`Fourier`,
`Gaussians`), the Hidden terms' networks (`HiddenNet`) and the Lagrangian PINN (`Lagrangian`).

Specs are plain frozen data, validated when made; `pinnkit.build` turns them into modules
(`pinnkit.models`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pinnkit.config.checks import Count, Flag, Real, check_fields
from pinnkit.errors import ConfigError, did_you_mean

__all__ = [
    "MLP",
    "Fourier",
    "Gaussians",
    "HiddenNet",
    "Lagrangian",
    "ACTIVATIONS",
    "INITS",
    "COVARIANCES",
    "BOTH_FEATURES",
]

#: Names of the smooth activations a network may use (`pinnkit.models.mlp` maps them to modules).
ACTIVATIONS = ("gelu", "sigmoid", "silu", "sin", "softplus", "tanh")
#: Weight initialisations (`pinnkit.models.mlp.initialise`).
INITS = ("xavier_normal", "xavier_uniform", "kaiming_normal", "default")
#: Covariance kinds of Physics-Informed Gaussians.
COVARIANCES = ("diagonal", "full")
#: The width and depth of an `MLP` or a `HiddenNet`.
LAYERS = {"width": Count(high=100_000), "depth": Count(high=1_000)}
#: Raised when both input features are asked for (key phrase: "not both").
BOTH_FEATURES = (
    "fourier and gaussians are both set; use one input feature, not both. "
    "Fix: `--set fourier=null` (or `--set gaussians=null`)."
)


@dataclass(frozen=True)
class MLP:
    """Spec of a fully connected network: `depth` hidden layers of `width` units.

    **Arguments**

    - `width`: units per hidden layer (default 64).
    - `depth`: number of hidden layers (default 4).
    - `activation`: one of `tanh` (default), `sin`, `gelu`, `silu`, `softplus`, `sigmoid`.
      Smooth activations are required: residuals differentiate the network.
    - `init`: weight initialisation, `xavier_normal` (default, Glorot), `xavier_uniform`,
      `kaiming_normal` or `default` (torch's); biases start at zero except for `default`.
    - `scale`: the size of the fields, so the network's O(1) output need not grow to it:
      each field is `offset + scale * output`. A number (default 1, offset 0) is the same for
      every field; `"data"` takes each observed field's mean as its offset and its standard
      deviation as its scale, from the problem's observations (fields not observed: 0 and 1).
      A field of size ~100 learned through an unscaled output takes Adam thousands of steps
      just to grow (the network's last weights move by about the learning rate per step).
      Only the field model of `model=` is scaled (a Lagrangian PINN's positions are not).
    """

    width: int = 64
    depth: int = 4
    activation: str = "tanh"
    init: str = "xavier_normal"
    scale: float | str = 1.0

    def __post_init__(self):
        check_fields(self, LAYERS)
        _check_layers(self, "model")
        if self.scale != "data" and not _positive(self.scale):
            raise ConfigError(
                f'model.scale={self.scale!r} must be a finite number > 0 or "data": the '
                'fields\' size (e.g. 100 for a field of size ~100; default 1), or "data" '
                "for each observed field's mean and spread."
            )


@dataclass(frozen=True)
class Fourier:
    """Spec of random Fourier features (Tancik et al. 2020; Wang, Wang, Perdikaris 2021).

    The normalised input $z \\in [-1, 1]^d$ is mapped to
    $[\\cos(2\\pi z B), \\sin(2\\pi z B)]$ with $B_{ij} \\sim \\mathcal{N}(0, \\sigma^2)$,
    which lets a network fit high frequencies that a plain MLP learns slowly (spectral bias).

    **Arguments**

    - `features`: number of frequencies $m$ (the body sees $2m$ inputs; default 64).
    - `sigma`: standard deviation of the frequencies (default 1.0). Too large gives noisy
      fits; 1 to 10 is the usual range.
    - `trainable`: learn $B$ as well (default False).
    """

    features: int = 64
    sigma: float = 1.0
    trainable: bool = False

    def __post_init__(self):
        check_fields(self, {"features": Count(), "sigma": Real(), "trainable": Flag()})


@dataclass(frozen=True)
class Gaussians:
    r"""Spec of Physics-Informed Gaussians (Kang et al. 2024, arXiv 2412.05994).

    $N$ Gaussians with trainable means $\mu_i$ and covariances $\Sigma_i$ in the normalised
    input space $[-1, 1]^d$, each carrying a trainable feature vector $f_i \in \mathbb{R}^k$.
    The feature of a point $x$ is

    $$\mathrm{FE}(x) = \sum_{i=1}^{N} f_i\, G_i(x), \qquad
      G_i(x) = \exp\!\big(-\tfrac12 (x - \mu_i)^\top \Sigma_i^{-1} (x - \mu_i)\big),$$

    and a light body (a small MLP, e.g. `pk.MLP(width=16, depth=1)`) maps $\mathrm{FE}(x)$
    to the fields. The Gaussians act as an adaptive mesh: training moves and reshapes them
    where the solution needs resolution. Every $G_i$ is smooth, so the model can be
    differentiated as often as the PDE needs.

    **Arguments**

    - `count`: number of Gaussians $N$ (default 1024).
    - `features`: length $k$ of each feature vector; the body sees $k$ inputs (default 4).
    - `covariance`: `diagonal` (default; one scale per coordinate, axis-aligned ellipses) or
      `full` (rotated ellipses, through a Cholesky factor with a positive diagonal).
    - `init_scale`: initial standard deviation in units of the spacing of the means,
      $\sigma_0 = \texttt{init\_scale} \cdot 2 / N^{1/d}$ (default 1.0: neighbours overlap).
    - `feature_init`: standard deviation of the initial feature vectors (default 0.1).

    The means start on a scrambled Sobol set over $[-1, 1]^d$ (quasi-uniform), drawn from
    the model's generator.

    **Raises**

    `ConfigError` for a count or feature length below 1, an unknown covariance, or a
    non-positive `init_scale` or negative `feature_init`.

    Does not yet: truncate to the nearest Gaussians (every point sees all $N$, so the cost
    is $O(\text{batch} \cdot N)$), place the means on the circle of an exact periodic
    embedding (with `Periodic(exact=True)` some Gaussians start away from every input), or
    split/prune Gaussians during training.
    """

    count: int = 1024
    features: int = 4
    covariance: str = "diagonal"
    init_scale: float = 1.0
    feature_init: float = 0.1

    def __post_init__(self):
        check_fields(
            self,
            {
                "count": Count(),
                "features": Count(),
                "init_scale": Real(),
                "feature_init": Real(low_open=False),
            },
        )
        if self.covariance not in COVARIANCES:
            raise ConfigError(
                f"gaussians.covariance={self.covariance!r} is unknown; choose one of "
                f"{list(COVARIANCES)}.{did_you_mean(self.covariance, COVARIANCES)}"
            )


@dataclass(frozen=True)
class HiddenNet:
    """Spec of the network of a Hidden term: `depth` hidden layers of `width` units, one output.

    Hidden terms are usually simple functions of a few inputs (a reaction rate $u(1-u)$, a
    flux), so the default is small: 2 layers of 32 tanh units. `Config.hidden` is the spec of
    every Hidden term; `Config.hidden_terms` overrides it per name.

    **Arguments**

    - `width`: units per hidden layer (default 32).
    - `depth`: number of hidden layers (default 2).
    - `activation`: as for `MLP` (default `tanh`); it must be smooth where the term's output
      is differentiated by nothing but the optimiser, so `gelu`/`silu` work too.
    - `init`: weight initialisation, as for `MLP` (default `xavier_normal`).
    - `scale`: a fixed factor on the network's output (default 1): the term's expected
      magnitude, where it is far from 1. Adam moves each weight by about its learning rate
      per step, so a term of size 10 takes thousands of steps to grow out of an unscaled
      network's O(1) output; until then training can sit on a plateau where the term is
      too small or too simple. On the forcing case of `benchmarks/discovery` (g = pi^2
      sin(pi x), 5% noise, Adam at 2e-3 for 3000 steps) three of five seeds stopped with g
      a constant ~7.8; with `scale=10` and the same 3000 steps every seed reached the
      truth's data loss and discovery found the exact form on 4 of 5 seeds (5 of 5 at 1%
      noise). Discovery reads the scaled output, so the formulas found do not depend on it.
    """

    width: int = 32
    depth: int = 2
    activation: str = "tanh"
    init: str = "xavier_normal"
    scale: float = 1.0

    def __post_init__(self):
        check_fields(self, {**LAYERS, "scale": Real()})
        _check_layers(self, "hidden")


@dataclass(frozen=True)
class Lagrangian:
    """Spec of the Lagrangian PINN (see the module docstring for the formulas).

    Both branches use the config's input features (`fourier`, `gaussians`) in front of their
    body; the state branch's body is `config.model`.

    **Arguments**

    - `position`: body (`MLP`) of the characteristic-position branch; None uses `config.model`.
    - `grid`: start positions per period used to bracket the inversion in `forward` (default 128).
    - `baseline`: start the characteristics at the free-streaming ones,
      $\\xi + (t - t_0) a(u_0(\\xi), \\xi, t_0)$ (default True); False starts them at rest.
    """

    position: MLP | None = None
    grid: int = 128
    baseline: bool = True

    def __post_init__(self):
        check_fields(self, {"grid": Count(low=4), "baseline": Flag()})


def _check_layers(spec: MLP | HiddenNet, where: str) -> None:
    """The checks an `MLP` and a `HiddenNet` share: a known activation and initialisation,
    at least one layer of at least one unit. `where` names the config key (`model`, ...)."""
    if spec.activation not in ACTIVATIONS:
        raise ConfigError(
            f"{where}.activation={spec.activation!r} is unknown; choose one of "
            f"{sorted(ACTIVATIONS)}.{did_you_mean(spec.activation, ACTIVATIONS)}"
        )
    if spec.init not in INITS:
        raise ConfigError(
            f"{where}.init={spec.init!r} is unknown; choose one of {list(INITS)}."
            f"{did_you_mean(spec.init, INITS)}"
        )


def _positive(value) -> bool:
    """Whether `value` is a finite number > 0 (not a bool)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )
