"""``rl-coordconv inspect DIR``: look inside a trained agent; writes ``RUN_DIR/inspect/``.

``DIR`` is one run folder, or a sweep folder (any folder of run folders): then every run under it with a
final model and no up-to-date inspection is inspected, one after the other (runs already inspected are
skipped, so an interrupted call goes on where it stopped).
"""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``inspect`` subcommand.

    :param subparsers: the top-level parser's subparsers
    """
    parser = subparsers.add_parser(
        "inspect",
        help="look inside a trained agent: coordinate terms, translation probe, saliency, one game -> RUN_DIR/inspect/",
        description="Play whole games of a run's own game with its own policy (seeded: the command repeats its "
        "output) and write RUN_DIR/inspect/: the coordinate term of every CoordConv filter as heat maps and "
        "its size relative to the image term (table, histogram); the translation probe (how far the action "
        "distribution and value move when the frames shift by 0, 1, 2, 4, 8 pixels), also for the matching "
        "nature run of the same sweep; perturbation saliency of a few frames; one whole game as a GIF; "
        "inspect.md ties them together. Given a sweep folder, inspect every finished run under it that has "
        "no up-to-date inspection.",
    )
    parser.add_argument(
        "run_dir",
        metavar="DIR",
        help="a complete run folder (config.yaml and model.zip), or a sweep folder: every finished run in it",
    )
    parser.add_argument(
        "--games", type=int, default=1, metavar="N", help="whole games played for the frames (default 1)"
    )
    parser.add_argument(
        "--frames", type=int, default=256, metavar="N", help="frames kept from those games, evenly spaced (default 256)"
    )
    parser.add_argument("--no-gif", action="store_true", help="do not record a game as game.gif")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Inspect the run and print where the results are.

    :param args: parsed arguments
    :return: exit status
    """
    import matplotlib

    matplotlib.use("Agg")
    from pathlib import Path

    from rl_coordconv import runfolder
    from rl_coordconv.analysis.load import find_run_dirs
    from rl_coordconv.errors import UserError
    from rl_coordconv.inspection import INSPECT_DIR, inspect_run
    from rl_coordconv.inspection.compare import ensure_inspections

    target = Path(args.run_dir)
    if (target / runfolder.CONFIG).is_file() or not target.is_dir():  # one run (a missing folder: its message)
        inspect_run(target, args.games, max_frames=args.frames, gif=not args.no_gif, device=args.device)
        print(f"inspection: {target / INSPECT_DIR / 'inspect.md'}")
        return 0

    def done(run_dir: Path) -> None:
        print(f"inspection: {run_dir / INSPECT_DIR / 'inspect.md'}", flush=True)

    runs = find_run_dirs(target)
    if not runs:
        raise UserError(f"{str(target)!r} holds no run folder (config.yaml) to inspect")
    inspected = ensure_inspections(
        target, args.games, max_frames=args.frames, gif=not args.no_gif, device=args.device, progress=done
    )
    without = sum(not (runfolder.is_complete(r) and (r / runfolder.MODEL).is_file()) for r in runs)
    note = f" ({without} not finished or without weights, as exported records are)" if without else ""
    print(f"{len(inspected)} run(s) inspected now under {target}{note}")
    return 0
