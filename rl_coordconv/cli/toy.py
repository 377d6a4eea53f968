"""``rl-coordconv toy``: the paper's supervised coordinate tasks, convolution vs CoordConv.

``rl-coordconv toy TASK --split {uniform,quadrant} --model {conv,coordconv}`` trains one model and
prints its train and test accuracy, wall time and parameter count (``--json``: one JSON object);
``rl-coordconv toy all --out DIR`` runs the 2 x 2 x 2 grid and writes a table, CSV, JSON and a figure.
The work is done by :mod:`rl_coordconv.toy`; nothing here but argument handling and printing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rl_coordconv.toy.train import CurvePoint, ToyResult

__all__ = ["add_parser", "handler"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``toy`` subcommand.

    :param subparsers: the object returned by ``ArgumentParser.add_subparsers``
    """
    parser = subparsers.add_parser(
        "toy",
        help="the CoordConv paper's coordinate tasks (Not-so-Clevr): conv vs CoordConv",
        description=(
            "Train a convolution or CoordConv model on the coordinate tasks of Liu et al. 2018 "
            "(arXiv:1807.03247): classification = (x, y) -> one-hot 64x64 pixel, "
            "regression = image -> (x, y). TASK 'all' runs the whole grid (2 tasks x 2 splits x 2 models) "
            "and writes a table and a figure."
        ),
    )
    add = parser.add_argument
    add("task", metavar="TASK", help="classification, regression or all")
    add("--split", default="uniform", help="uniform (random 80/20, default) or quadrant (bottom-right held out)")
    add("--model", default="coordconv", help="conv or coordconv; default coordconv")
    add("--shape", default="pixel", help="pixel (4096 positions) or square (9x9, 3136 positions); default pixel")
    add("--canvas", type=int, default=64, help="side of the canvas in pixels, a power of two (default 64, the paper's)")
    add("--seed", type=int, default=0, help="root seed of the split, the weights and the batch order")
    add("--epochs", type=int, default=None, help="passes over the training set (default: 20 for conv, 3 for CoordConv)")
    add(
        "--time-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop after the first epoch that ends past this many seconds of training "
        "(default: none for one run, 150 per run for TASK all)",
    )
    add("--lr", type=float, default=None, help="Adam learning rate (default: 1e-3 for conv, 1e-2 for CoordConv)")
    add("--batch-size", type=int, default=None, help="examples per update (default 32)")
    add("--relu", default=None, help="regression CoordConv only: ReLU placement none (default), hidden or all")
    add("--init", default=None, help="regression CoordConv only: initialisation detector (default), positive, pytorch")
    add(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default 1: these small models gain little from more, and lose much on a busy CPU)",
    )
    add("--json", action="store_true", help="print one JSON object instead of text")
    add("--out", default="toy-results", help="TASK all: folder for table.md, results.csv/json, figure.png")
    add("--quiet", action="store_true", help="no per-epoch progress on stderr")
    parser.set_defaults(func=handler)


def _progress(quiet: bool, prefix: str = "") -> Callable[[CurvePoint], None]:
    def report(point: CurvePoint) -> None:
        if not quiet:
            print(
                f"{prefix}epoch {point.epoch}: {point.train_seconds:.1f} s, "
                f"train acc {100 * point.train_accuracy:.1f}%, test acc {100 * point.test_accuracy:.1f}%, "
                f"loss {point.loss:.4g}",
                file=sys.stderr,
                flush=True,
            )

    return report


def _print_result(result: ToyResult) -> None:
    variant = f" ({result.variant})" if result.variant else ""
    print(f"{result.task} / {result.split} / {result.model}{variant}")
    print(f"  parameters:      {result.params:,}")
    print(f"  epochs:          {result.epochs} ({result.n_train} train, {result.n_test} test examples, {result.shape})")
    print(f"  train accuracy:  {100 * result.train_accuracy:.2f}%")
    print(f"  test accuracy:   {100 * result.test_accuracy:.2f}%")
    if result.mean_pixel_error is not None:
        print(f"  test error:      {result.mean_pixel_error:.3f} pixels (mean); accuracy = within 0.5 pixel")
    to99 = "never" if result.seconds_to_99 is None else f"{result.seconds_to_99:.1f} s"
    print(
        f"  time:            {result.seconds:.1f} s wall ({result.train_seconds:.1f} s training; 99% test after {to99})"
    )


def handler(args: argparse.Namespace) -> int:
    """Run ``rl-coordconv toy``: :func:`rl_coordconv.toy.suite.toy_command`, then print what it did.

    :param args: the parsed arguments
    :return: the exit status
    """
    from rl_coordconv.toy.report import markdown_table
    from rl_coordconv.toy.suite import GridRun, toy_command

    quiet = args.quiet or args.json

    def on_epoch(task: str, split: str, model: str, point: CurvePoint) -> None:
        prefix = f"{task}/{split}/{model} " if args.task == "all" else ""
        _progress(quiet, prefix)(point)

    def on_result(result: ToyResult) -> None:
        if not quiet:
            print(
                f"{result.task}/{result.split}/{result.model}: test acc {100 * result.test_accuracy:.1f}% "
                f"after {result.epochs} epochs, {result.seconds:.1f} s",
                file=sys.stderr,
                flush=True,
            )

    done = toy_command(
        args.task, args.split, args.model, shape=args.shape, canvas=args.canvas, seed=args.seed, epochs=args.epochs,
        time_budget=args.time_budget, lr=args.lr, batch_size=args.batch_size, relu=args.relu, init=args.init,
        threads=args.threads, out=args.out, on_epoch=on_epoch, on_result=on_result,
    )  # fmt: skip
    if not isinstance(done, GridRun):
        if args.json:
            print(json.dumps(done.summary(), sort_keys=True))
        else:
            _print_result(done)
        return 0
    if args.json:
        files = {k: str(v) for k, v in done.paths.items()}
        summaries = [r.summary() for r in done.results]
        print(json.dumps({"results": summaries, "files": files, "seconds": done.seconds}, sort_keys=True))
    else:
        print(markdown_table(done.results), end="")
        written = ", ".join(str(p) for p in done.paths.values())
        print(f"\n{len(done.results)} runs in {done.seconds:.1f} s; wrote {written}")
    return 0
