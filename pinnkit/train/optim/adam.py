"""The Adam stage: torch's fused Adam, stepped without the optimiser's per-call
bookkeeping.

`torch.optim.Adam(fused=True)` updates every tensor in one kernel, but its `step()` first
runs Python bookkeeping on every call (hooks, grad-mode switching, rebuilding the lists of
parameters and states, grouping them by device and dtype): about 0.1 ms, 5% of a compiled
step of the Burgers example (3 x 20 net, 2 CPU threads; `benchmarks/speed`). `step` makes
the same two calls that `step()` ends in (the step counters' increment and
`torch._fused_adam_`) on the optimiser's own state, so checkpoints, `state_dict` and
`load_state_dict` are untouched; where that path does not apply (the first step, which
creates the state; other settings; a torch without the kernel) it calls `adam.step()`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["make_adam", "step"]


def make_adam(params: Sequence[torch.Tensor], learning_rate: float) -> torch.optim.Adam:
    """Adam over `params`, fused where torch has the kernel for them (floating point
    tensors on CPU or CUDA)."""
    fusable = bool(params) and all(
        p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params
    )
    return torch.optim.Adam(params, lr=learning_rate, fused=fusable)


def step(adam: torch.optim.Adam) -> None:
    """One update, the same as `adam.step()` (see the module docstring)."""
    if not _direct(adam):
        adam.step()
        return
    group = adam.param_groups[0]
    params = [p for p in group["params"] if p.grad is not None]
    states = [adam.state.get(p) for p in params]
    if not params or any(not s for s in states):  # the first step creates the state
        adam.step()
        return
    steps = [s["step"] for s in states]
    beta1, beta2 = group["betas"]
    torch._foreach_add_(steps, 1)
    torch._fused_adam_(
        params,
        [p.grad for p in params],
        [s["exp_avg"] for s in states],
        [s["exp_avg_sq"] for s in states],
        [],
        steps,
        amsgrad=False,
        lr=group["lr"],
        beta1=beta1,
        beta2=beta2,
        weight_decay=group["weight_decay"],
        eps=group["eps"],
        maximize=False,
        grad_scale=None,
        found_inf=None,
    )


def _direct(adam: torch.optim.Adam) -> bool:
    """Whether `step` may make the fused calls itself: one group of plain fused Adam whose
    tensors share one device and dtype (what `torch.optim.Adam` would group into one call)."""
    if len(adam.param_groups) != 1 or not hasattr(torch, "_fused_adam_"):
        return False
    group = adam.param_groups[0]
    plain = (
        group.get("fused")
        and not group.get("amsgrad")
        and not group.get("maximize")
        and not group.get("differentiable")
        and not group.get("capturable")
        and not group.get("decoupled_weight_decay")
        and not isinstance(group["lr"], torch.Tensor)
    )
    kinds = {(p.device, p.dtype) for p in group["params"]}
    return bool(plain) and len(kinds) == 1
