"""``rl-coordconv extractors``: list the registered features extractors."""

from __future__ import annotations

import argparse

from rl_coordconv.cli import add_plugin_option


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
    add_plugin_option(parser, "so that the extractors it registers are listed too")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the table of :func:`rl_coordconv.extractors.parameter_counts`.

    :param args: parsed arguments
    :return: exit status
    """
    from rl_coordconv.extractors import EXTRACTORS, parameter_counts
    from rl_coordconv.plugins import import_plugins

    import_plugins(args.plugin)
    counts = parameter_counts()
    base = counts.get("nature")
    print(f"{'name':<15} {'parameters':>11} {'vs nature':>10}  description")
    for name, count in counts.items():
        extra = f"{count - base:+d}" if base is not None and name != "nature" else ""
        print(f"{name:<15} {count:>11,} {extra:>10}  {EXTRACTORS[name].description}")
    return 0
