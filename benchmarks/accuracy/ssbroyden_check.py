"""Check the self-scaled quasi-Newton stage outside the trainer: (1) the sin(pi x) fit of the
tests, SSBroyden and SSBFGS against pinnkit's L-BFGS polish, for several iteration counts;
(2) the cost of one iteration (and the memory of H) for tanh MLPs of growing size on a
least-squares fit of a 2-D function, in float64.

    python benchmarks/accuracy/ssbroyden_check.py [--iterations 200,1000] [--widths 20,40,60]
        [--device cpu] [--threads 2]

Prints Markdown tables; nothing is written.
"""

from __future__ import annotations

import argparse
import math
import time

import torch

from pinnkit.config import LBFGS
from pinnkit.train.optim.lbfgs import lbfgs_block, make_lbfgs
from pinnkit.train.optim.ssbroyden import SelfScaledQuasiNewton, self_scaled_block

DTYPE = torch.float64


def _mlp(inputs: int, width: int, depth: int, seed: int, device: str) -> torch.nn.Module:
    generator = torch.Generator().manual_seed(seed)
    layers, size = [], inputs
    for _ in range(depth):
        layers += [torch.nn.Linear(size, width, dtype=DTYPE), torch.nn.Tanh()]
        size = width
    model = torch.nn.Sequential(*layers, torch.nn.Linear(size, 1, dtype=DTYPE))
    with torch.no_grad():
        for p in model.parameters():
            scale = 1.0 / math.sqrt(p.shape[-1]) if p.dim() > 1 else 0.1
            p.copy_(torch.randn(p.shape, generator=generator, dtype=DTYPE) * scale)
    return model.to(device)


def _closure(optimizer, model, x, target, counter):
    def closure():
        counter[0] += 1
        optimizer.zero_grad()
        value = ((model(x) - target) ** 2).mean()
        value.backward()
        return value

    return closure


def fit_table(iterations: list[int], device: str) -> None:
    x = torch.linspace(-1.0, 1.0, 101, dtype=DTYPE, device=device).unsqueeze(1)
    target = torch.sin(math.pi * x)
    print("| optimiser | iterations | loss | evaluations | wall s |\n|---|---|---|---|---|")
    for count in iterations:
        for name in ("ssbroyden", "ssbfgs", "lbfgs polish"):
            model = _mlp(1, 20, 1, seed=0, device=device)
            params, counter = list(model.parameters()), [0]
            start = time.perf_counter()
            if name == "lbfgs polish":
                optimizer = make_lbfgs(params, LBFGS(steps=count))
                lbfgs_block(optimizer, _closure(optimizer, model, x, target, counter), count)
            else:
                method = "broyden" if name == "ssbroyden" else "bfgs"
                optimizer = SelfScaledQuasiNewton(params, method=method)
                closure = _closure(optimizer, model, x, target, counter)
                self_scaled_block(optimizer, closure, count)
            wall = time.perf_counter() - start
            with torch.no_grad():
                loss = ((model(x) - target) ** 2).mean().item()
            print(f"| {name} | {count} | {loss:.3e} | {counter[0]} | {wall:.2f} |")


def cost_table(widths: list[int], device: str, iterations: int = 20) -> None:
    generator = torch.Generator().manual_seed(1)
    x = (2.0 * torch.rand(2000, 2, generator=generator, dtype=DTYPE) - 1.0).to(device)
    target = torch.sin(math.pi * x[:, :1]) * torch.cos(math.pi * x[:, 1:])
    print("\n| width x 4 | parameters | H GB | s / iteration | evaluations / iteration |")
    print("|---|---|---|---|---|")
    for width in widths:
        model = _mlp(2, width, 4, seed=0, device=device)
        optimizer = SelfScaledQuasiNewton(model.parameters())
        counter = [0]
        closure = _closure(optimizer, model, x, target, counter)
        self_scaled_block(optimizer, closure, 2)  # allocation and first-step scaling
        if device == "cuda":
            torch.cuda.synchronize()
        counter[0], start = 0, time.perf_counter()
        self_scaled_block(optimizer, closure, iterations)
        if device == "cuda":
            torch.cuda.synchronize()
        wall = (time.perf_counter() - start) / iterations
        n = sum(p.numel() for p in model.parameters())
        print(
            f"| {width} | {n:,} | {8 * n * n / 1e9:.2f} | {wall:.3f} | "
            f"{counter[0] / iterations:.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", default="200,1000")
    parser.add_argument("--widths", default="20,40,60")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    fit_table([int(v) for v in args.iterations.split(",")], args.device)
    cost_table([int(v) for v in args.widths.split(",")], args.device)


if __name__ == "__main__":
    main()
