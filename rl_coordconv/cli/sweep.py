"""``rl-coordconv sweep SPEC [--out DIR] --workers N [--executor ray ...]``: run a spec's cells, resumably."""

from __future__ import annotations

import argparse
import os
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


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {text}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` subcommand.

    :param subparsers: the top-level parser's subparsers
    """
    parser = subparsers.add_parser(
        "sweep",
        help="run every (game, algo, extractor, seed) cell of an experiment spec, N at a time",
        description=(
            "Run every cell (game, algo, extractor, seed) of an experiment spec (a YAML file, or a built-in "
            "spec by name: quick, atari100k, ...) into DIR/runs/<run name>, up to N at a time, each worker's torch threads bounded. Running the same "
            "command again continues: complete cells are skipped, interrupted ones resume from their last "
            "checkpoint, failed ones are tried again. The spec is copied to DIR/spec.yaml; a different spec "
            "into the same DIR is refused."
        ),
    )
    parser.add_argument(
        "spec",
        metavar="SPEC",
        help="experiment spec: a YAML file (experiments/quick.yaml) or a built-in spec's name (quick; an unknown "
        "name lists them)",
    )
    parser.add_argument(
        "--out", metavar="DIR", help="sweep folder (run folders go to DIR/runs/; default: runs/<the spec's name>)"
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        metavar="N",
        help="cells run at once (default: one per CPU core; with --executor ray as many as the cluster has "
        "CPUs for); each local worker gets max(1, cores // N) threads",
    )
    parser.add_argument(
        "--executor",
        default="local",
        help="where cells run: 'local' (spawned processes on this machine, the default) or 'ray' (one Ray task "
        "per cell, on a local Ray instance or the cluster --address names; pip install 'rl-coordconv[ray]')",
    )
    ray = parser.add_argument_group("Ray executor (--executor ray)")
    ray.add_argument(
        "--address",
        default=None,
        metavar="ADDR",
        help="Ray cluster to join: 'auto' (the cluster started on this machine with `ray start`), HOST:6379 or "
        "ray://HOST:10001; without it a local Ray instance is started. DIR must be on storage every node sees",
    )
    ray.add_argument(
        "--cpus-per-run",
        type=_positive_int,
        default=None,
        metavar="K",
        help="CPUs each cell's Ray task asks for; its torch/BLAS/OpenCV threads are bounded to K (default 1)",
    )
    ray.add_argument(
        "--gpus-per-run",
        type=_non_negative_float,
        default=None,
        metavar="G",
        help="GPUs each cell's Ray task asks for; fractions share a GPU (default 0: the task sees no GPU)",
    )
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

    spec = load_spec(args.spec)
    out = args.out if args.out is not None else os.path.join("runs", spec.name)
    options = {"address": args.address, "cpus_per_run": args.cpus_per_run, "gpus_per_run": args.gpus_per_run}
    executor = get_executor(args.executor, args.workers, cells=len(spec.cells()), **options)
    if args.dry_run:
        print(dry_run_text(spec, out, executor.workers, executor=executor))
        return 0
    command = ["rl-coordconv", "sweep", args.spec, "--out", out]
    if executor.workers is not None:
        command += ["--workers", str(executor.workers)]
    if executor.name != "local":
        command += ["--executor", executor.name]
    for flag, value in options.items():
        if value is not None:
            command += ["--" + flag.replace("_", "-"), f"{value:g}" if isinstance(value, float) else str(value)]
    if args.device != "auto":
        command += ["--device", args.device]
    try:
        result = run_sweep(
            spec,
            out,
            executor=executor,
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
