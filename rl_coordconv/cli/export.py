"""``rl-coordconv export``: copy a sweep's records (no weights) to share or commit them."""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``export`` subcommand.

    :param subparsers: the top-level parser's subparsers
    """
    parser = subparsers.add_parser(
        "export",
        help="copy a sweep's records (configs, CSVs, statuses; no weights) into another folder",
        description="Copy the spec and, for every complete run of a sweep folder, exactly the files that "
        "analyze reads (config.yaml, episodes.csv, evaluations.csv, status.json) into DEST, with the "
        "sweep's layout, so that `rl-coordconv analyze DEST` gives the same numbers; for an inspected run also "
        "its inspection's numbers (inspect/summary.json, probe.csv, coord_terms.csv), for `analyze --inspect`. "
        "Weights, checkpoints, TensorBoard files, figures and logs stay behind. Exporting again adds runs "
        "and inspections finished since.",
    )
    parser.add_argument("sweep_dir", metavar="SWEEP_DIR", help="the sweep folder (--out of rl-coordconv sweep)")
    parser.add_argument("dest", metavar="DEST", help="the destination folder (created)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export the records and print what was done.

    :param args: parsed arguments
    :return: exit status
    """
    from rl_coordconv.export import export_records

    print(export_records(args.sweep_dir, args.dest).summary())
    return 0
