"""Benchmark: cost of a CoordConv training step relative to SB3's NatureCNN, measured side by side.

One training step = forward + backward + Adam step of the features extractor (plus a linear head to a
scalar loss), batch 256 of 4x84x84 images, eager mode. The variants are interleaved round-robin, many
times, in one process, and the script prints each variant's median time and its median ratio to
NatureCNN (the ratio of the medians and the median of per-round ratios). Run with
``make bench`` or ``python experiments/bench_coordconv.py --rounds 40``.

Variants:
- ``nature``: SB3's NatureCNN (Mnih et al. 2015), the baseline;
- ``coordconv``: CoordConvNatureCNN, coordinates on the first layer, folded coordinate term
  (rl_coordconv.layers.CoordConv2d: one 1-image convolution, broadcast-added);
- ``concat``: the same network computed the usual way (AddCoords concatenation + nn.Conv2d), the
  reference the folded layer must beat.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.torch_layers import NatureCNN
from torch import nn

from rl_coordconv import AddCoords, CoordConvNatureCNN


def concat_reference(extractor: CoordConvNatureCNN) -> nn.Module:
    """Copy of ``extractor`` whose CoordConv layers concatenate coordinates (AddCoords + nn.Conv2d).

    :param extractor: a CoordConvNatureCNN
    :return: an equivalent module computing the concatenation form
    """
    layers: list[nn.Module] = []
    for module in extractor.cnn:
        if hasattr(module, "as_conv2d"):
            layers += [AddCoords(module.with_r), module.as_conv2d()]
        else:
            layers.append(module)
    return nn.Sequential(nn.Sequential(*layers), extractor.linear)


def make_step(model: nn.Module, batch: torch.Tensor) -> Callable[[], None]:
    """Return a closure doing one forward + backward + Adam step on ``batch``.

    :param model: maps (N, 4, 84, 84) -> (N, 512)
    :param batch: input images (float, normalised)
    :return: the step function
    """
    head = nn.Linear(512, 1)
    params = list(model.parameters()) + list(head.parameters())
    optimizer = torch.optim.Adam(params, lr=1e-4)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = head(model(batch)).pow(2).mean()
        loss.backward()
        optimizer.step()

    return step


def main() -> None:
    """Parse arguments, run the interleaved benchmark, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="interleaved rounds (each times every variant once)")
    parser.add_argument("--batch", type=int, default=256, help="batch size")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds first")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    space = spaces.Box(0, 255, (4, 84, 84), np.uint8)
    batch = torch.rand(args.batch, 4, 84, 84)
    coord = CoordConvNatureCNN(space, coord_layers="first")
    variants = {
        "nature": NatureCNN(space),
        "coordconv": coord,
        "concat": concat_reference(coord),
    }
    steps = {name: make_step(model, batch) for name, model in variants.items()}
    times: dict[str, list[float]] = {name: [] for name in variants}
    for round_ in range(args.warmup + args.rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            elapsed = time.perf_counter() - start
            if round_ >= args.warmup:
                times[name].append(elapsed)
    base = times["nature"]
    print(
        f"CoordConv training-step benchmark: batch {args.batch} x 4x84x84, forward+backward+Adam, eager; "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}, "
        f"{args.rounds} interleaved rounds"
    )
    print(f"{'variant':<10} {'median ms':>10} {'ratio of medians':>17} {'median of ratios':>17}")
    for name, values in times.items():
        ratio_of_medians = statistics.median(values) / statistics.median(base)
        median_ratio = statistics.median(v / b for v, b in zip(values, base))
        print(f"{name:<10} {1e3 * statistics.median(values):>10.1f} {ratio_of_medians:>17.3f} {median_ratio:>17.3f}")


if __name__ == "__main__":
    main()
