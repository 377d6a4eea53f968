"""The ``rl-coordconv`` command: one entry point, one subcommand per module in this package.

Each module ``rl_coordconv/cli/<name>.py`` defines ``add_parser(subparsers)``, which adds its
subcommand and sets ``func`` (called with the parsed arguments, returning an exit status). Modules keep
their heavy imports (torch, SB3) inside ``func`` so that ``--help`` stays fast. No logic lives here: the
subcommands call the library's functions.

One error boundary serves every subcommand (:func:`main`): a bad command line (argparse), a
:class:`~rl_coordconv.errors.UserError` (which includes a damaged run-folder file,
:class:`~rl_coordconv.runfolder.RunFolderError`) become one line on stderr and exit status 2; a file
system refusal that is no bug of ours (permission denied, disk full, read-only file system) becomes one
line and exit status 1; a reader that went away (``rl-coordconv games | head -1``) ends the command
quietly with exit status 0; Ctrl-C becomes exit status 130 with a hint that the work can be resumed.
Anything else is a bug and keeps its traceback.

:func:`main` is where the command's process starts: it sets the package's process defaults
(:mod:`rl_coordconv.process_env`) before any subcommand imports torch.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from typing import NoReturn

from rl_coordconv.errors import UserError
from rl_coordconv.process_env import apply_process_defaults

__all__ = ["main", "build_parser", "add_plugin_option", "OneLineParser", "ENVIRONMENT_ERRNOS"]

#: ``OSError`` numbers that say the machine refused (not that the code is wrong): one line, exit status 1.
ENVIRONMENT_ERRNOS: frozenset[int] = frozenset(
    {errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EMFILE}
)


class OneLineParser(argparse.ArgumentParser):
    """An argument parser that reports a bad command line as one line on stderr (exit status 2), no usage dump."""

    def error(self, message: str) -> NoReturn:
        """Print ``message`` on one line and exit with status 2.

        :param message: argparse's message
        """
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def add_plugin_option(parser: argparse.ArgumentParser, what: str) -> None:
    """Add ``--plugin MODULE`` (repeatable): modules of the user's imported before the command runs, with
    :func:`rl_coordconv.plugins.import_plugins` (the command calls it with ``args.plugin``).

    :param parser: the subcommand's parser
    :param what: what the module's registrations are for, ending the help text
    """
    parser.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help=f"import your module first (found on the Python path or in the current folder; repeatable), {what}",
    )


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand found in this package.

    :return: the top-level parser
    """
    parser = OneLineParser(
        prog="rl-coordconv",
        description="CoordConv vs NatureCNN on Atari with Stable-Baselines3: train, sweep, analyse.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser)
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
    apply_process_defaults()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.func(args)
        sys.stdout.flush()  # here, not at exit: a closed pipe is then caught below
    except BrokenPipeError:
        # the reader went away (`rl-coordconv games | head -1`): not an error of ours. What is left in
        # stdout's buffer goes to devnull, so the interpreter's final flush does not fail again
        # (the Python docs' "Note on SIGPIPE").
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except UserError as err:
        print(f"rl-coordconv {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except OSError as err:
        if err.errno not in ENVIRONMENT_ERRNOS:
            raise
        where = f" {err.filename}" if err.filename else ""
        print(f"rl-coordconv {args.command}: error: cannot use{where}: {err.strerror or err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            f"\nrl-coordconv {args.command}: interrupted; finished work is on disk, "
            "run the same command again (with --resume for train) to continue.",
            file=sys.stderr,
        )
        return 130
    return int(status or 0)


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
