"""``rl-coordconv extractors``: list the registered features extractors."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``extractors`` subcommand.

    :param subparsers: the top-level parser's subparsers
    """
    parser = subparsers.add_parser(
        "extractors",
        help="list the registered features extractors and their parameter counts",
        description="List the registered features extractors (names usable in --extractor, specs and "
        "policy_kwargs_for) with their parameter counts on 4x84x84 Atari observations.",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the table.

    :param args: parsed arguments
    :return: exit status
    """
    import numpy as np
    import torch
    from gymnasium import spaces

    from rl_coordconv.extractors import EXTRACTORS

    space = spaces.Box(0, 255, (4, 84, 84), np.uint8)
    torch.manual_seed(0)
    base = None
    print(f"{'name':<15} {'parameters':>11} {'vs nature':>10}  description")
    for name, spec in EXTRACTORS.items():
        model = spec.cls(space, **spec.kwargs)
        count = sum(p.numel() for p in model.parameters())
        base = count if name == "nature" else base
        extra = f"+{count - base}" if base is not None and name != "nature" else ""
        line = f"{name:<15} {count:>11,} {extra:>10}  {spec.description}"
        print(line)
    return 0
