"""``rl-coordconv train``: train one agent on one Atari game into a run folder (:func:`rl_coordconv.training.train`).

Its options are generated from :class:`rl_coordconv.settings.RunSettings` and
:class:`~rl_coordconv.settings.FolderOptions` (:mod:`rl_coordconv.settings_cli`), and so is the command it
records in ``config.yaml``: a new training option is a new field there, never a line here.
"""

from __future__ import annotations

import argparse

from rl_coordconv.algorithms import ALGORITHMS
from rl_coordconv.cli import add_plugin_option
from rl_coordconv.settings import FolderOptions, RunSettings
from rl_coordconv.settings_cli import add_options, command_line, from_args

__all__ = ["add_parser", "run", "recorded_command"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` subcommand.

    :param subparsers: the top-level parser's subparsers
    """
    parser = subparsers.add_parser(
        "train",
        help="train one agent (algorithm x game x extractor x seed) into a run folder",
        description=f"Train one {' or '.join(a.label for a in ALGORITHMS.values())} agent on one Atari game with rl-baselines3-zoo's hyperparameters and "
        "write its run folder (config.yaml, episodes.csv, evaluations.csv, tb/, model.zip, status.json). "
        "Scores are whole-game, unclipped Atari scores. Interrupted runs continue with --resume.",
        epilog="example: rl-coordconv train --algo ppo --game Pong --extractor coordconv --seed 0 "
        "--timesteps 1000000 --out runs/",
    )
    add_options(parser, RunSettings)
    add_options(parser, FolderOptions)
    add_plugin_option(parser, "so that the extractor or backend it registers can be named")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run from its last checkpoint")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    parser.set_defaults(func=run)


def recorded_command(settings: RunSettings, folder: FolderOptions, plugins: list[str] | tuple[str, ...] = ()) -> str:
    """The command line that redoes a run: ``rl-coordconv train`` with its plugins, settings and folder options.

    :param settings: the run's settings
    :param folder: where its folder is, and whether it keeps its checkpoints
    :param plugins: the modules of ``--plugin``
    :return: the command line, each word shell-quoted
    """
    prefix = ["rl-coordconv", "train"] + [word for module in plugins for word in ("--plugin", module)]
    return command_line(prefix, settings, folder)


def run(args: argparse.Namespace) -> int:
    """Train, or resume, one run.

    :param args: parsed arguments
    :return: exit status
    """
    from rl_coordconv.plugins import import_plugins
    from rl_coordconv.training import train

    import_plugins(args.plugin)
    settings, folder = from_args(RunSettings, args), from_args(FolderOptions, args)
    train(
        settings,
        out=folder.out,
        run_dir=folder.run_dir,
        keep_checkpoints=folder.keep_checkpoints,
        resume=args.resume,
        progress_bar=not args.no_progress and not args.quiet,
        command=recorded_command(settings, folder, args.plugin),
        quiet=args.quiet,
    )
    return 0
