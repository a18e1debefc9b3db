"""Physics-Informed Gaussians (`pk.Gaussians`): values, derivatives, memory, the field
model wiring, a tiny fit."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import pinnkit as pk
from pinnkit.build import build_model
from pinnkit.compile import compile_problem
from pinnkit.models import FieldModel
from pinnkit.models.gaussian import GaussianFeatures, gaussian_features
from tests.helpers import ENGINE_RTOL, relative_difference, sample_batches
from tests.training_cases import poisson_1d

# Hand-computed values and the diagonal/full comparison are the same float64 operations up
# to a few roundings of order-1 numbers: 1e-12 is four orders above their round-off.
VALUE_RTOL = 1e-12
# Central differences of an autograd derivative in float64 with step 1e-5: truncation
# ~h^2 |f'''| / 6 ~ 1e-10 * 1e3 for Gaussians of width ~0.25 (derivatives grow like
# sigma^-order), round-off ~1e-16 / 1e-5; 1e-6 of the derivative's scale bounds both.
FINITE_DIFFERENCE_STEP = 1e-5
FINITE_DIFFERENCE_RTOL = 1e-6


def _features(n_in, generator, **kwargs) -> GaussianFeatures:
    return gaussian_features(
        pk.Gaussians(**{"count": 16, "features": 3, **kwargs}), n_in, generator
    )


def _randomise(module: GaussianFeatures, generator: torch.Generator) -> None:
    """Move every parameter off its initial value so the tests see a generic PIG."""
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.2 * torch.randn(p.shape, generator=generator, dtype=p.dtype))


# -- values and shapes -----------------------------------------------------------------------


@pytest.mark.parametrize("covariance", ["diagonal", "full"])
@pytest.mark.parametrize("n_in", [1, 2, 3])
def test_shapes_and_initialisation(n_in, covariance, generator):
    spec = pk.Gaussians(count=64, features=5, covariance=covariance, init_scale=0.5)
    module = gaussian_features(spec, n_in, generator)
    assert module.n_out == 5
    assert module(torch.rand(7, n_in) * 2 - 1).shape == (7, 5)
    assert module.means.shape == module.log_scales.shape == (64, n_in)
    assert module.means.abs().max() <= 1
    spacing = 2 / 64 ** (1 / n_in)
    torch.testing.assert_close(module.log_scales.exp(), torch.full((64, n_in), 0.5 * spacing))
    if covariance == "full":
        assert module.off_diagonal.shape == (64, n_in * (n_in - 1) // 2)
    else:
        assert module.off_diagonal is None
    again = gaussian_features(spec, n_in, torch.Generator().manual_seed(0))
    assert all(torch.equal(a, b) for a, b in zip(module.parameters(), again.parameters()))


def test_means_cover_the_interval_quasi_uniformly(generator):
    means = (
        gaussian_features(pk.Gaussians(count=64), 1, generator).means.detach().sort(dim=0).values
    )
    gaps = torch.diff(torch.cat([torch.tensor([[-1.0]]), means, torch.tensor([[1.0]])]), dim=0)
    assert gaps.max() < 3 * 2 / 64  # no hole wider than three mean spacings


def test_a_single_gaussian_by_hand(float64):
    means = torch.tensor([[0.2, -0.1]])
    log_scales = torch.log(torch.tensor([[0.5, 0.25]]))
    vectors = torch.tensor([[2.0, -1.0]])
    z = torch.tensor([[0.7, 0.15]])  # one standard deviation away along each axis
    diagonal = GaussianFeatures(means, log_scales, vectors)
    expected = torch.tensor([[2.0, -1.0]]) * math.exp(-1.0)
    torch.testing.assert_close(diagonal(z), expected, rtol=VALUE_RTOL, atol=0)

    full = GaussianFeatures(means, log_scales, vectors, full=True)
    with torch.no_grad():
        full.off_diagonal.fill_(1.0)  # W = [[2, 0], [1, 4]], W (z - mu) = [1, 1.5]
    expected = torch.tensor([[2.0, -1.0]]) * math.exp(-0.5 * (1.0 + 1.5**2))
    torch.testing.assert_close(full(z), expected, rtol=VALUE_RTOL, atol=0)
    inverse = np.linalg.inv(np.array([[2.0, 0.0], [1.0, 4.0]]))
    torch.testing.assert_close(
        full.covariances()[0].detach(), torch.tensor(inverse @ inverse.T), rtol=VALUE_RTOL, atol=0
    )


def test_full_equals_diagonal_when_the_factor_is_diagonal(generator, float64):
    diagonal = _features(3, torch.Generator().manual_seed(1))
    full = _features(3, torch.Generator().manual_seed(1), covariance="full")
    _randomise(diagonal, generator)
    with torch.no_grad():
        for name in ("means", "log_scales", "vectors"):
            getattr(full, name).copy_(getattr(diagonal, name))
    z = torch.rand(20, 3, generator=generator) * 2 - 1
    torch.testing.assert_close(full(z), diagonal(z), rtol=VALUE_RTOL, atol=0)


def test_full_covariance_matches_the_quadratic_form_of_sigma(generator, float64):
    module = _features(3, generator, covariance="full")
    _randomise(module, generator)
    z = torch.rand(10, 3, generator=generator) * 2 - 1
    difference = z[:, None, :] - module.means  # (batch, N, d): fine in a small test
    precision = torch.linalg.inv(module.covariances())
    quadratic = torch.einsum("bni,nij,bnj->bn", difference, precision, difference)
    expected = torch.exp(-0.5 * quadratic) @ module.vectors
    torch.testing.assert_close(module(z), expected, rtol=1e-10, atol=1e-12)


# -- derivatives -----------------------------------------------------------------------------


@pytest.mark.parametrize("covariance", ["diagonal", "full"])
def test_gradients_reach_every_parameter(covariance, generator):
    module = _features(2, generator, covariance=covariance)
    _randomise(module, generator)
    module(torch.rand(32, 2, generator=generator) * 2 - 1).square().sum().backward()
    names = {"means", "log_scales", "vectors"}
    names |= {"off_diagonal"} if covariance == "full" else set()
    assert {n for n, _ in module.named_parameters()} == names
    for name, p in module.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def _partial(module, z0, directions):
    """The derivative of output 0 along `directions` at every row of `z0`, by autograd."""
    z = z0.clone().requires_grad_(True)
    value = module(z)[:, 0]
    for direction in directions:
        (grad,) = torch.autograd.grad(value.sum(), z, create_graph=True)
        value = grad[:, direction]
    return value.detach()


@pytest.mark.parametrize("covariance", ["diagonal", "full"])
@pytest.mark.parametrize("directions", [(0, 0), (0, 1), (1, 1), (0, 1, 1), (0, 0, 0)])
def test_second_and_third_derivatives_match_finite_differences(
    covariance, directions, generator, float64
):
    """Each autograd derivative equals the central difference of the one below it."""
    module = _features(2, generator, covariance=covariance)
    _randomise(module, generator)
    z0 = torch.rand(16, 2, generator=generator) * 2 - 1
    *lower, last = directions
    step = torch.zeros(2)
    step[last] = FINITE_DIFFERENCE_STEP
    central = (_partial(module, z0 + step, lower) - _partial(module, z0 - step, lower)) / (
        2 * FINITE_DIFFERENCE_STEP
    )
    exact = _partial(module, z0, directions)
    assert relative_difference(central, exact) <= FINITE_DIFFERENCE_RTOL


def test_both_engines_agree_through_a_gaussian_model(generator, rng, float64):
    problem = poisson_1d()
    config = pk.Config(gaussians=pk.Gaussians(count=32, features=4, covariance="full"))
    model = build_model(problem, config, generator).double()
    reverse = compile_problem(problem, dtype=torch.float64, engine="autograd")
    forward = compile_problem(problem, dtype=torch.float64, engine="func")
    batches = sample_batches(reverse, rng)
    a, b = reverse.residuals(model, batches), forward.residuals(model, batches)
    for term in a:
        assert relative_difference(b[term], a[term]) <= ENGINE_RTOL, term


# -- memory ----------------------------------------------------------------------------------


def test_thousands_of_gaussians_on_thousands_of_points(generator):
    module = gaussian_features(pk.Gaussians(count=4096, features=4), 2, generator)
    with torch.no_grad():
        out = module(torch.rand(2048, 2, generator=generator) * 2 - 1)
    assert out.shape == (2048, 4) and torch.isfinite(out).all()


@pytest.mark.parametrize("covariance", ["diagonal", "full"])
def test_no_saved_tensor_is_larger_than_batch_by_count(covariance, generator):
    """Autograd keeps (batch, N) tensors at most: nothing of shape (batch, N, d[, d])."""
    batch, count = 40, 24
    module = gaussian_features(pk.Gaussians(count=count, covariance=covariance), 3, generator)
    sizes = []

    def pack(tensor):
        sizes.append(tensor.numel())
        return tensor

    z = (torch.rand(batch, 3, generator=generator) * 2 - 1).requires_grad_(True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        out = module(z)
        (grad,) = torch.autograd.grad(out.sum(), z, create_graph=True)
        torch.autograd.grad(grad.sum(), z, create_graph=True)
    assert sizes and max(sizes) <= batch * count


def test_field_model_puts_gaussians_after_the_periodic_embedding(generator):
    model = FieldModel(
        lo=[0.0, 0.0],
        hi=[2.0, 1.0],
        n_out=2,
        body=pk.MLP(width=16, depth=1),
        generator=generator,
        periods={0: 2.0},
        gaussians=pk.Gaussians(count=32, features=6),
    )
    assert model.gaussians.means.shape == (32, 3)  # y, cos(pi x), sin(pi x)
    points = torch.rand(9, 2, generator=generator)
    assert model(points).shape == (9, 2)
    shifted = points + torch.tensor([2.0, 0.0])
    torch.testing.assert_close(model(shifted), model(points), rtol=1e-5, atol=1e-6)


def test_a_tiny_fit_lowers_the_loss():
    config = pk.Config(
        steps=50,
        gaussians=pk.Gaussians(count=64, features=4),
        model=pk.MLP(width=8, depth=1),
        sampling=pk.Sampling(interior=128, boundary=8),
        log_every=10,
        progress=False,
    )
    run = pk.fit(poisson_1d(), config, out=None)
    losses = [row["loss"] for row in run.metrics if row.get("phase") == "adam"]
    assert len(losses) >= 2 and all(math.isfinite(v) for v in losses)
    assert losses[-1] < 0.5 * losses[0]
