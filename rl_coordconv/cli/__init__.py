"""The ``rl-coordconv`` command: one entry point, one subcommand per module in this package.

Each module ``rl_coordconv/cli/<name>.py`` defines ``add_parser(subparsers)``, which adds its
subcommand and sets ``func`` (called with the parsed arguments, returning an exit status). Modules keep
their heavy imports (torch, SB3) inside ``func`` so that ``--help`` stays fast. No logic lives here: the
subcommands call the library's functions.

A :class:`~rl_coordconv.errors.UserError` becomes one line on stderr and exit status 2; Ctrl-C becomes
exit status 130 with a hint that the work can be resumed. Anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from rl_coordconv.errors import UserError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand found in this package.

    :return: the top-level parser
    """
    parser = argparse.ArgumentParser(
        prog="rl-coordconv",
        description="CoordConv vs NatureCNN on Atari with Stable-Baselines3: train, sweep, analyse.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        add_parser = getattr(module, "add_parser", None)
        if add_parser is not None:
            add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    :param argv: the arguments (without the program name); ``sys.argv[1:]`` when None
    :return: the exit status
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.func(args)
    except UserError as err:
        print(f"rl-coordconv {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (`rl-coordconv games | head`): not an error of ours
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(
            f"\nrl-coordconv {args.command}: interrupted; finished work is on disk, "
            "run the same command again (with --resume for train) to continue.",
            file=sys.stderr,
        )
        return 130
    return int(status or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
