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
from typing import Any

__all__ = ["add_parser", "handler"]

_TASKS = ("classification", "regression", "all")


def add_parser(subparsers: Any) -> None:
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


def _check_name(kind: str, value: str, choices: tuple[str, ...]) -> str:
    from rl_coordconv.errors import check_name

    return check_name(kind, value, choices)


def _progress(quiet: bool, prefix: str = "") -> Any:
    def report(point: Any) -> None:
        if not quiet:
            print(
                f"{prefix}epoch {point.epoch}: {point.train_seconds:.1f} s, "
                f"train acc {100 * point.train_accuracy:.1f}%, test acc {100 * point.test_accuracy:.1f}%, "
                f"loss {point.loss:.4g}",
                file=sys.stderr,
                flush=True,
            )

    return report


def _print_result(result: Any) -> None:
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
        f"  time:            {result.seconds:.1f} s wall "
        f"({result.train_seconds:.1f} s training; 99% test after {to99})"
    )


def handler(args: argparse.Namespace) -> int:
    """Run ``rl-coordconv toy``.

    :param args: the parsed arguments
    :return: the exit status
    """
    import os
    import platform
    import time

    from rl_coordconv.errors import UserError
    from rl_coordconv.toy.data import SHAPES, SPLITS
    from rl_coordconv.toy.models import MODEL_NAMES

    task = _check_name("task", args.task, _TASKS)
    split = _check_name("split", args.split, SPLITS)
    model = _check_name("model", args.model, MODEL_NAMES)
    shape = _check_name("shape", args.shape, SHAPES)
    threads = 1 if args.threads is None else args.threads
    if threads < 1:
        raise UserError(f"--threads must be at least 1, got {threads}")
    canvas = args.canvas
    if canvas < 2 or canvas & (canvas - 1) or canvas > 1024:
        raise UserError(f"--canvas must be a power of two between 2 and 1024, got {canvas}")

    import torch

    from rl_coordconv.toy.train import run_toy, settings_for

    torch.set_num_threads(threads)

    if task != "all":
        settings = settings_for(task, model, args.epochs, args.lr, args.batch_size, args.time_budget)
        result = run_toy(
            task, split, model, shape=shape, seed=args.seed, settings=settings, relu=args.relu, init=args.init,
            canvas=canvas, progress=_progress(args.quiet or args.json),
        )
        if args.json:
            print(json.dumps(result.summary(), sort_keys=True))
        else:
            _print_result(result)
        return 0

    from rl_coordconv.toy.report import markdown_table, write_report
    from rl_coordconv.toy.suite import GRID_EPOCHS, GRID_TIME_BUDGET, run_grid

    if any(value is not None for value in (args.relu, args.init, args.lr, args.batch_size)):
        raise UserError(
            "`toy all` runs the default models and settings; --relu, --init, --lr and --batch-size are for one run"
        )
    epochs = {key: args.epochs for key in GRID_EPOCHS} if args.epochs is not None else None
    time_budget = GRID_TIME_BUDGET if args.time_budget is None else args.time_budget
    if not time_budget > 0:
        raise UserError(f"the time budget must be a positive number of seconds, got {time_budget}")
    started = time.perf_counter()

    def on_epoch(task: str, split: str, model: str, point: Any) -> None:
        _progress(args.quiet or args.json, f"{task}/{split}/{model} ")(point)

    def on_result(result: Any) -> None:
        if not (args.quiet or args.json):
            print(
                f"{result.task}/{result.split}/{result.model}: test acc {100 * result.test_accuracy:.1f}% "
                f"after {result.epochs} epochs, {result.seconds:.1f} s",
                file=sys.stderr,
                flush=True,
            )

    results = run_grid(
        seed=args.seed,
        shape=shape,
        epochs=epochs,
        time_budget=time_budget,
        canvas=canvas,
        on_result=on_result,
        on_epoch=on_epoch,
    )
    total = time.perf_counter() - started
    budget = epochs or GRID_EPOCHS
    meta = {
        "command": "rl-coordconv " + " ".join(sys.argv[1:]) if sys.argv[1:] else "rl-coordconv toy all",
        "budget (epochs)": ", ".join(f"{t}/{m}: {n}" for (t, m), n in budget.items()),
        "time budget per run (s of training; a run stops after the epoch that passes it)": time_budget,
        "seed": args.seed,
        "shape": shape,
        "canvas": canvas,
        "torch threads": threads,
        "total wall time (s)": round(total, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}",
    }
    paths = write_report(results, args.out, meta)
    if args.json:
        files = {k: str(v) for k, v in paths.items()}
        print(json.dumps({"results": [r.summary() for r in results], "files": files, "seconds": total}, sort_keys=True))
    else:
        print(markdown_table(results), end="")
        print(f"\n{len(results)} runs in {total:.1f} s; wrote " + ", ".join(str(p) for p in paths.values()))
    return 0
