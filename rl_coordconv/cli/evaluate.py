"""``rl-coordconv evaluate``: play a run's saved model and print whole-game scores."""

from __future__ import annotations

import argparse

from rl_coordconv.cli import add_plugin_option

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` subcommand.

    :param subparsers: the top-level parser's subparsers
    """
    parser = subparsers.add_parser(
        "evaluate",
        help="play a run's saved model and print whole-game scores",
        description="Play the model of a run folder on fresh games of its game and protocol and print each game's "
        "whole-game, unclipped score. Repeating the command repeats the scores (the games are seeded).",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by rl-coordconv train")
    parser.add_argument("--episodes", type=int, default=10, help="whole games to play (default 10)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the games (default: derived from the run's)")
    parser.add_argument(
        "--deterministic", action="store_true", default=None, help="most likely actions (default: as the run evaluated)"
    )
    parser.add_argument("--gif", default=None, metavar="FILE.gif", help="also record one game as an animated GIF")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    parser.add_argument(
        "--checkpoint", action="store_true", help="play the newest checkpoint of an unfinished run instead of model.zip"
    )
    add_plugin_option(parser, "the module that defines the run's own extractor (the model names its class)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the scores.

    :param args: parsed arguments
    :return: exit status
    """
    import numpy as np

    from rl_coordconv.evaluation import evaluate_run
    from rl_coordconv.plugins import import_plugins

    import_plugins(args.plugin)
    result = evaluate_run(
        args.run_dir,
        args.episodes,
        seed=args.seed,
        deterministic=args.deterministic,
        gif=args.gif,
        device=args.device,
        use_checkpoint=args.checkpoint,
    )
    scores = result["scores"]
    print(f"{result['model']} ({result['agent_steps']} agent steps), seed {result['seed']}:")
    for i, score in enumerate(scores, 1):
        print(f"  game {i:>3}: {score:g}")
    print(f"mean {np.mean(scores):g} +- {np.std(scores):g} (std) over {len(scores)} whole games, unclipped scores")
    if result["gif"] is not None:
        print(f"recorded one game (score {result['gif_score']:g}) to {result['gif']}")
    return 0
