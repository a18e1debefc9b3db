"""The Taylor engine's affine maps on the CPU through oneDNN when they are large.

A PINN layer is a tall, narrow product: (rows x width) @ (width x width) with rows in the
tens of thousands (every point, times every tangent row). On the 2-core AMD EPYC (Zen 4)
this project is measured on, torch's `F.linear` (MKL's sgemm) ran those at 100-140
GFLOP/s and oneDNN's matmul (`torch.ops.mkldnn._linear_pointwise`, the kernel inductor uses
for frozen inference graphs) at 150-175; at 128 x 128 x 16000 the call took 0.66 of MKL's
time, at 4 x 128 KdV's whole compiled step about 0.86. Below about 1e7 multiply-adds MKL's
call is as fast or faster (at 32 x 32 x 1000, 1.45x), so smaller products keep `F.linear`.

The oneDNN product is a custom op (`pinnkit::linear`) so that `torch.compile` calls it as
one kernel and autograd has its gradient: the input's through the same kernel, the
weight's through one `mm` (a short, wide product that MKL runs well); torch's
`FlopCounterMode` counts it as `mm` would. float32 only; other dtypes, CUDA, and torch
builds without oneDNN take `F.linear`.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.nn import functional
from torch.utils.flop_counter import register_flop_formula

__all__ = ["linear", "uses_onednn"]

#: rows x in x out from which a product goes to oneDNN (measured crossover about 1e7 on
#: 2 cores; twice that and more for the call's overhead under torch.compile).
MIN_SIZE = 1 << 25

_AVAILABLE = torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")


@torch.library.custom_op("pinnkit::linear", mutates_args=())
def _onednn_linear(x: Tensor, weight: Tensor) -> Tensor:
    """$x W^T$ over the last dimension of `x` (any leading shape), by oneDNN."""
    rows = x.reshape(-1, x.shape[-1]).contiguous()
    out = torch.ops.mkldnn._linear_pointwise(rows, weight.contiguous(), None, "none", [], "")
    return out.reshape(*x.shape[:-1], weight.shape[0])


@_onednn_linear.register_fake
def _(x: Tensor, weight: Tensor) -> Tensor:
    return x.new_empty((*x.shape[:-1], weight.shape[0]))


def _setup_context(ctx, inputs, output) -> None:
    x, weight = inputs
    ctx.save_for_backward(x, weight)


def _backward(ctx, grad: Tensor):
    x, weight = ctx.saved_tensors
    grad_x = _onednn_linear(grad, weight.t().contiguous())
    grad_weight = grad.reshape(-1, grad.shape[-1]).t() @ x.reshape(-1, x.shape[-1])
    return grad_x, grad_weight


_onednn_linear.register_autograd(_backward, setup_context=_setup_context)


@register_flop_formula(torch.ops.pinnkit.linear)
def _flops(x_shape, weight_shape, *args, out_shape=None, **kwargs) -> int:
    """Its FLOPs for torch's `FlopCounterMode`: 2 per multiply-add, as `mm` counts."""
    return 2 * math.prod(x_shape[:-1]) * x_shape[-1] * weight_shape[0]


def uses_onednn(x: Tensor, weight: Tensor) -> bool:
    """Whether `linear(x, weight)` goes through oneDNN (see the module docstring)."""
    return (
        _AVAILABLE
        and x.device.type == "cpu"
        and x.dtype == weight.dtype == torch.float32
        and x.numel() * weight.shape[0] >= MIN_SIZE
    )


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """`F.linear(x, weight, bias)`, through oneDNN where that is faster."""
    if not uses_onednn(x, weight):
        return functional.linear(x, weight, bias)
    out = _onednn_linear(x, weight)
    return out + bias if bias is not None else out
