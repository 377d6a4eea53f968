"""``rl-coordconv sweep SPEC --out DIR --workers N``: run an experiment spec's cells, resumably."""

from __future__ import annotations

import argparse
import shlex
import sys


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` subcommand.

    :param subparsers: the top-level parser's subparsers
    """
    parser = subparsers.add_parser(
        "sweep",
        help="run every (game, algo, extractor, seed) cell of an experiment spec, N at a time",
        description=(
            "Run every cell (game, algo, extractor, seed) of an experiment spec (experiments/*.yaml) into "
            "DIR/runs/<run name>, up to N at a time, each worker's torch threads bounded. Running the same "
            "command again continues: complete cells are skipped, interrupted ones resume from their last "
            "checkpoint, failed ones are tried again. The spec is copied to DIR/spec.yaml; a different spec "
            "into the same DIR is refused."
        ),
    )
    parser.add_argument("spec", metavar="SPEC", help="experiment spec (YAML), e.g. experiments/quick.yaml")
    parser.add_argument("--out", required=True, metavar="DIR", help="sweep folder (run folders go to DIR/runs/)")
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        metavar="N",
        help="cells run at once (default: one per CPU core); each gets max(1, cores // N) threads",
    )
    parser.add_argument("--executor", default="local", help="where cells run: 'local' (spawned processes)")
    parser.add_argument("--device", default="auto", help="torch device for training: auto, cpu or cuda")
    parser.add_argument(
        "--dry-run", action="store_true", help="list the cells and the estimated time; run and write nothing"
    )
    parser.add_argument(
        "--progress",
        choices=("auto", "rich", "plain", "quiet"),
        default="auto",
        help="progress display: a live bar on a terminal, plain lines otherwise (auto)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run (or list) the sweep.

    :param args: parsed arguments
    :return: 0 when every cell is complete, 1 when some failed, 130 when interrupted
    """
    from rl_coordconv.sweep import SweepInterrupted, dry_run_text, get_executor, load_spec, run_sweep
    from rl_coordconv.sweep.estimate import available_cores

    spec = load_spec(args.spec)
    workers = args.workers or max(1, min(available_cores(), len(spec.cells())))
    if args.dry_run:
        get_executor(args.executor, workers)  # an unknown executor is an error here too
        print(dry_run_text(spec, args.out, workers))
        return 0
    command = ["rl-coordconv", "sweep", args.spec, "--out", args.out, "--workers", str(workers)]
    if args.executor != "local":
        command += ["--executor", args.executor]
    if args.device != "auto":
        command += ["--device", args.device]
    try:
        result = run_sweep(
            spec,
            args.out,
            workers=workers,
            executor=args.executor,
            device=args.device,
            progress=args.progress,
            command=" ".join(shlex.quote(part) for part in command),
        )
    except SweepInterrupted as stop:
        res = stop.result
        print(
            f"rl-coordconv sweep: interrupted; {len(res.complete)}/{len(spec.cells())} cells complete, the others "
            f"resume from their last checkpoint: run the same command again to continue.",
            file=sys.stderr,
        )
        return 130
    total = len(spec.cells())
    if result.failed:
        names = ", ".join(str(c) for c in result.failed)
        print(
            f"rl-coordconv sweep: {len(result.failed)} of {total} cells failed: {names}; "
            f"their errors are in {result.out}/runs/<run name>/error.txt. "
            f"Run the same command again to retry them.",
            file=sys.stderr,
        )
        return 1
    skipped = f" ({len(result.skipped)} already complete, skipped)" if result.skipped else ""
    print(f"sweep complete: {len(result.complete)}/{total} cells{skipped} in {result.out}/runs")
    return 0 if result.ok else 1
