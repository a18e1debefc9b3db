"""Tests of the fused Adam step: exactly torch's fused Adam update, and its fallback."""

from __future__ import annotations

import copy

import pytest
import torch


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_adam_step_is_torch_adams_step(dtype):
    """`pinnkit.train.adam.step` makes exactly torch's fused Adam update, across the first
    step (which creates the state), a learning-rate change, a parameter without a gradient
    and a reload of the state (the NaN guard's rollback)."""
    from pinnkit.train.optim import adam

    g = torch.Generator().manual_seed(0)
    start = [torch.randn(5, 3, generator=g, dtype=dtype), torch.randn(3, generator=g, dtype=dtype)]
    ours = [torch.nn.Parameter(p.clone()) for p in start]
    theirs = [torch.nn.Parameter(p.clone()) for p in start]
    a, b = adam.make_adam(ours, 1e-2), torch.optim.Adam(theirs, lr=1e-2, fused=True)
    assert adam._direct(a)
    saved = None
    for k in range(6):
        grads = [torch.randn(p.shape, generator=g, dtype=dtype) for p in start]
        for opt, params in ((a, ours), (b, theirs)):
            opt.zero_grad(set_to_none=True)
            for p, gr in zip(params, grads):
                if not (k == 3 and p.ndim == 1):  # step 3: the bias has no gradient
                    p.grad = gr.clone()
            if k == 2:
                opt.param_groups[0]["lr"] = 3e-3
        adam.step(a)
        b.step()
        if k == 1:
            saved = copy.deepcopy((a.state_dict(), b.state_dict(), [p.detach() for p in ours]))
        for p, q in zip(ours, theirs):
            assert torch.equal(p, q), k
    a.load_state_dict(saved[0])
    b.load_state_dict(saved[1])
    with torch.no_grad():
        for p, q, s in zip(ours, theirs, saved[2]):
            p.copy_(s)
            q.copy_(s)
    for opt, params in ((a, ours), (b, theirs)):
        for p in params:
            p.grad = torch.ones_like(p)
    adam.step(a)
    b.step()
    for p, q in zip(ours, theirs):
        assert torch.equal(p, q)
    assert int(a.state[ours[0]]["step"]) == int(b.state[theirs[0]]["step"]) == 3


def test_adam_step_falls_back_where_the_direct_call_does_not_apply():
    from pinnkit.train.optim import adam

    mixed = [torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2).double())]
    assert not adam._direct(adam.make_adam(mixed, 1e-3))
    plain = [torch.nn.Parameter(torch.ones(2))]
    assert not adam._direct(torch.optim.Adam(plain, lr=1e-3, amsgrad=True, fused=True))
    assert not adam._direct(torch.optim.Adam(plain, lr=1e-3))  # not fused
    unfused = torch.optim.Adam(plain, lr=1e-1)
    plain[0].grad = torch.ones(2)
    adam.step(unfused)  # takes adam.step()
    assert torch.allclose(plain[0].detach(), torch.full((2,), 0.9))
