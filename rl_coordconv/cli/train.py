"""``rl-coordconv train``: train one agent on one Atari game into a run folder (:func:`rl_coordconv.training.train`)."""

from __future__ import annotations

import argparse
import shlex

from rl_coordconv.atari.backends import DEFAULT_BACKEND
from rl_coordconv.cli import add_plugin_option

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` subcommand.

    :param subparsers: the top-level parser's subparsers
    """
    parser = subparsers.add_parser(
        "train",
        help="train one agent (algorithm x game x extractor x seed) into a run folder",
        description="Train one A2C or PPO agent on one Atari game with rl-baselines3-zoo's hyperparameters and "
        "write its run folder (config.yaml, episodes.csv, evaluations.csv, tb/, model.zip, status.json). "
        "Scores are whole-game, unclipped Atari scores. Interrupted runs continue with --resume.",
        epilog="example: rl-coordconv train --algo ppo --game Pong --extractor coordconv --seed 0 "
        "--timesteps 1000000 --out runs/",
    )
    parser.add_argument("--algo", required=True, metavar="{a2c,ppo}", help="the algorithm")
    parser.add_argument(
        "--game", required=True, help="Atari game: Pong, pong, ALE/Pong-v5 ... (list: rl-coordconv games)"
    )
    parser.add_argument(
        "--extractor", default="coordconv", help="features extractor (list: rl-coordconv extractors); default coordconv"
    )
    add_plugin_option(parser, "so that the extractor or backend it registers can be named")
    parser.add_argument("--seed", type=int, default=0, help="root seed; every other seed derives from it (default 0)")
    parser.add_argument(
        "--timesteps", type=int, default=1_000_000, help="budget in agent steps, summed over envs (default 1000000)"
    )
    parser.add_argument("--out", default="runs", help="parent folder of the run folder (default runs/)")
    parser.add_argument("--run-dir", default=None, help="exact run folder (default OUT/GAME-ALGO-EXTRACTOR-seedSEED)")
    parser.add_argument(
        "--protocol",
        default="standard",
        help="standard (zoo/SB3 numbers) or machado (sticky actions); default standard",
    )
    parser.add_argument("--n-envs", type=int, default=None, help="parallel environments (default: the preset's)")
    parser.add_argument("--preset", default=None, help="agent preset: a2c, ppo or a YAML file (default: the algo's)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a preset value, e.g. --set n_steps=64 --set learning_rate=lin_1e-3 (repeatable)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    parser.add_argument(
        "--eval-freq",
        type=int,
        default=None,
        help="agent steps between evaluations (default: a tenth of the run, within 50k-250k; 0: at the end only)",
    )
    parser.add_argument(
        "--eval-episodes", type=int, default=10, help="whole games per evaluation (default 10; 0: no evaluation)"
    )
    parser.add_argument(
        "--eval-deterministic", action="store_true", help="evaluate with the most likely action (default: sample)"
    )
    parser.add_argument(
        "--checkpoint-freq",
        type=int,
        default=None,
        help="agent steps between checkpoints (default: a tenth of the run, at most 100k; 0: none)",
    )
    parser.add_argument("--keep-checkpoints", action="store_true", help="keep checkpoints once the run is complete")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run from its last checkpoint")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: the CPUs available, at most 8)"
    )
    parser.add_argument(
        "--backend",
        default=DEFAULT_BACKEND,
        help="environment backend: ale_vector (ale-py's C++ vector env, faster) or sb3 (SB3's wrappers in Python, "
        f"the pipeline of zoo's published scores); both resume exactly; default {DEFAULT_BACKEND}",
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="torch.compile the features extractor (faster updates after a start-up cost; same learning)",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    parser.set_defaults(func=run)


def _command(args: argparse.Namespace) -> str:
    parts = ["rl-coordconv", "train"]
    for module in args.plugin:
        parts += ["--plugin", module]
    for option in (
        "algo",
        "game",
        "extractor",
        "seed",
        "timesteps",
        "out",
        "run_dir",
        "protocol",
        "n_envs",
        "preset",
        "device",
        "eval_freq",
        "eval_episodes",
        "checkpoint_freq",
        "threads",
        "backend",
    ):
        value = getattr(args, option)
        if value is not None:
            parts += [f"--{option.replace('_', '-')}", str(value)]
    for item in args.overrides:
        parts += ["--set", item]
    for flag in ("eval_deterministic", "keep_checkpoints", "compile"):
        if getattr(args, flag):
            parts.append(f"--{flag.replace('_', '-')}")
    return " ".join(shlex.quote(p) for p in parts)


def run(args: argparse.Namespace) -> int:
    """Train, or resume, one run.

    :param args: parsed arguments
    :return: exit status
    """
    from rl_coordconv.agents import parse_overrides
    from rl_coordconv.learner import LearnerSettings
    from rl_coordconv.plugins import import_plugins
    from rl_coordconv.training import train

    import_plugins(args.plugin)
    train(
        args.algo,
        args.game,
        args.extractor,
        args.seed,
        args.timesteps,
        args.out,
        run_dir=args.run_dir,
        protocol=args.protocol,
        n_envs=args.n_envs,
        preset=args.preset,
        hyperparameters=parse_overrides(args.overrides),
        device=args.device,
        eval_freq=args.eval_freq,
        eval_episodes=args.eval_episodes,
        eval_deterministic=args.eval_deterministic,
        checkpoint_freq=args.checkpoint_freq,
        keep_checkpoints=args.keep_checkpoints,
        resume=args.resume,
        progress_bar=not args.no_progress and not args.quiet,
        threads=args.threads,
        backend=args.backend,
        learner=LearnerSettings(compile=args.compile),
        command=_command(args),
        quiet=args.quiet,
    )
    return 0
