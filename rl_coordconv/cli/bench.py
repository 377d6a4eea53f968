"""``rl-coordconv bench``: speed of this package against plain SB3 and raw ale-py, measured side by side."""

from __future__ import annotations

import argparse
import json
import sys

from rl_coordconv.algorithms import ALGORITHMS, algorithm_names

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bench`` subcommand.

    :param subparsers: the top-level parser's subparsers
    """
    labels = "/".join(a.label for a in ALGORITHMS.values())
    parser = subparsers.add_parser(
        "bench",
        help="measure env, extractor, training and sweep speed on this machine",
        description="Measure, interleaved in one process, the env backend against SB3's pipeline and raw "
        f"AtariVectorEnv, every extractor's training step against nature, end-to-end {labels} training "
        "against a plain SB3 script, and a 2-worker sweep against a 1-worker sweep; print medians, ratios "
        "and whether the project's speed targets are met.",
    )
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds (about 3 minutes on 2 cores)")
    parser.add_argument("--json", action="store_true", help="print the figures and ratios as one JSON object")
    parser.add_argument(
        "--only",
        action="append",
        default=None,
        metavar="SECTION",
        help="run only this section (env, extractor, train, sweep); repeatable",
    )
    parser.add_argument(
        "--algo",
        action="append",
        default=None,
        metavar="ALGO",
        help=f"the train section measures only this algorithm ({', '.join(algorithm_names())}); repeatable",
    )
    parser.add_argument("--game", default="Breakout", help="the game every section plays (default Breakout)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds per section")
    parser.add_argument(
        "--env-steps", type=int, default=None, help="agent steps per contender per round in the env section"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its report.

    :param args: parsed arguments
    :return: exit status
    """
    import dataclasses

    from rl_coordconv.bench import SECTIONS, BenchSettings, format_bench, run_bench
    from rl_coordconv.checks import whole

    sections = tuple(args.only) if args.only else SECTIONS
    settings = BenchSettings.quick(sections) if args.quick else BenchSettings(sections=sections)
    settings = dataclasses.replace(settings, game=args.game)
    if args.algo:
        settings = dataclasses.replace(settings, algos=tuple(args.algo))
    if args.rounds is not None:
        settings = dataclasses.replace(settings, rounds=whole(args.rounds, "--rounds", 1))
    if args.env_steps is not None:
        settings = dataclasses.replace(settings, env_agent_steps=whole(args.env_steps, "--env-steps", 1))

    def say(line: str) -> None:
        if not args.json:
            print(line, file=sys.stderr, flush=True)

    results = run_bench(settings, progress=say)
    print(json.dumps(results, indent=2, sort_keys=True) if args.json else format_bench(results))
    return 0
