"""The whole 2 x 2 x 2 grid of the coordinate tasks: task x split x model (Liu et al. 2018, arXiv:1807.03247).

:func:`run_grid` trains every cell with one root seed and the budgets of :data:`GRID_EPOCHS`, and
:func:`~rl_coordconv.toy.report.write_report` turns the results into a table and a figure.

The budget is a fixed number of epochs per model family, the same on both splits and both tasks:
the convolution baselines get nearly seven times the CoordConv models' epochs (20 against 3, and
so far more training time, since each of their epochs is also slower), so their failure on the
quadrant split cannot be blamed on a short budget. A time budget (:data:`GRID_TIME_BUDGET` from the
command line) caps every run so that the whole grid stays short on a small CPU; a capped run stops
at the end of the epoch that passes it, and the results record how many epochs each run did.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rl_coordconv.checks import set_torch_threads, whole
from rl_coordconv.errors import UserError, check_name
from rl_coordconv.toy.data import CANVAS, SHAPES, SPLITS, check_canvas
from rl_coordconv.toy.models import MODEL_NAMES, TASKS
from rl_coordconv.toy.train import DEFAULTS, CurvePoint, ToyResult, run_toy, settings_for

__all__ = [
    "GRID_EPOCHS",
    "GRID_TIME_BUDGET",
    "GRID_ORDER",
    "grid_cells",
    "run_grid",
    "GridRun",
    "toy_command",
]

#: Epochs per (task, model) in :func:`run_grid`: those of :data:`~rl_coordconv.toy.train.DEFAULTS`.
GRID_EPOCHS: dict[tuple[str, str], int] = {key: value.epochs for key, value in DEFAULTS.items()}

#: Seconds of training after which a run of ``rl-coordconv toy all`` stops at the end of its epoch,
#: so that the whole grid stays short on a small CPU; only the conv baselines ever reach it.
GRID_TIME_BUDGET: float = 150.0

#: Order of the splits in the grid.
GRID_ORDER: tuple[str, ...] = ("uniform", "quadrant")


def grid_cells() -> list[tuple[str, str, str]]:
    """Every (task, split, model) of the grid, in table order.

    :return: 8 tuples
    """
    return [(task, split, model) for task in TASKS for split in GRID_ORDER for model in MODEL_NAMES]


def run_grid(
    seed: int = 0,
    shape: str = "pixel",
    epochs: Mapping[tuple[str, str], int] | None = None,
    time_budget: float | None = None,
    canvas: int = CANVAS,
    on_result: Callable[[ToyResult], None] | None = None,
    on_epoch: Callable[[str, str, str, CurvePoint], None] | None = None,
) -> list[ToyResult]:
    """Train and measure every cell of the grid, one after the other.

    :param seed: root seed of every run
    :param shape: "pixel" or "square"
    :param epochs: epochs per (task, model); missing keys take :data:`GRID_EPOCHS`
    :param time_budget: seconds of training after which each run stops at the end of its epoch
    :param canvas: side of the canvas in pixels
    :param on_result: called with each finished result
    :param on_epoch: called with (task, split, model, point) after each epoch
    :return: the 8 results in :func:`grid_cells` order
    """
    budget = dict(GRID_EPOCHS)
    for key, value in (epochs or {}).items():
        if key not in budget:
            raise UserError(f"no grid cell {key!r}; the cells are {sorted(budget)}")
        budget[key] = int(value)
    results = []
    for task, split, model in grid_cells():
        settings = settings_for(task, model, epochs=budget[(task, model)], time_budget=time_budget)

        def progress(point: CurvePoint, cell: tuple[str, str, str] = (task, split, model)) -> None:
            if on_epoch is not None:
                on_epoch(*cell, point)

        result = run_toy(
            task, split, model, shape=shape, seed=seed, settings=settings, canvas=canvas, progress=progress
        )
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


@dataclass(frozen=True)
class GridRun:
    """What ``rl-coordconv toy all`` did.

    :param results: the 8 results in :func:`grid_cells` order
    :param paths: the files written, by kind (``table``, ``csv``, ``json``, ``figure``)
    :param seconds: wall-clock seconds of the whole grid
    """

    results: list[ToyResult]
    paths: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0


def toy_command(
    task: str,
    split: str = "uniform",
    model: str = "coordconv",
    *,
    shape: str = "pixel",
    canvas: int = CANVAS,
    seed: int = 0,
    epochs: int | None = None,
    time_budget: float | None = None,
    lr: float | None = None,
    batch_size: int | None = None,
    relu: str | None = None,
    init: str | None = None,
    threads: int | None = None,
    out: str | os.PathLike[str] = "toy-results",
    on_epoch: Callable[[str, str, str, CurvePoint], None] | None = None,
    on_result: Callable[[ToyResult], None] | None = None,
) -> ToyResult | GridRun:
    """What ``rl-coordconv toy`` does: one run (a task), or the whole grid and its report (``all``).

    Every name and number is checked before any training starts.

    :param task: ``classification``, ``regression`` or ``all``
    :param split: one run: ``uniform`` or ``quadrant``
    :param model: one run: ``conv`` or ``coordconv``
    :param shape: ``pixel`` or ``square``
    :param canvas: side of the canvas, a power of two from 2 to 1024
    :param seed: the root seed
    :param epochs: one run: its epochs; ``all``: every cell's epochs (default :data:`GRID_EPOCHS`)
    :param time_budget: seconds of training after which a run stops at the end of its epoch (default: none for
        one run, :data:`GRID_TIME_BUDGET` for ``all``)
    :param lr: one run only: Adam's learning rate
    :param batch_size: one run only: examples per update
    :param relu: one run of the regression CoordConv model only: ReLU placement
    :param init: one run of the regression CoordConv model only: initialisation
    :param threads: torch CPU threads (default 1: these small models gain little from more)
    :param out: ``all``: the folder for ``table.md``, ``results.csv``/``.json`` and ``figure.png``
    :param on_epoch: called with (task, split, model, point) after each epoch
    :param on_result: ``all``: called with each finished result
    :return: the result of one run, or the grid's :class:`GridRun`
    :raises UserError: for an unknown name, a bad number, or an option the chosen form does not take
    """
    task = check_name("task", task, (*TASKS, "all"))
    split, model = check_name("split", split, SPLITS), check_name("model", model, MODEL_NAMES)
    shape, canvas = check_name("shape", shape, SHAPES), check_canvas(canvas)
    set_torch_threads(1 if threads is None else whole(threads, "threads", 1))
    if task != "all":
        settings = settings_for(task, model, epochs, lr, batch_size, time_budget)

        def progress(point: CurvePoint) -> None:
            if on_epoch is not None:
                on_epoch(task, split, model, point)

        return run_toy(
            task, split, model, shape=shape, seed=seed, settings=settings, relu=relu, init=init, canvas=canvas,
            progress=progress,
        )  # fmt: skip
    if any(value is not None for value in (relu, init, lr, batch_size)):
        raise UserError("`toy all` runs the default models and settings; relu, init, lr and batch size are for one run")
    return _grid(shape, canvas, seed, epochs, time_budget, threads or 1, out, on_epoch, on_result)


def _grid(
    shape: str,
    canvas: int,
    seed: int,
    epochs: int | None,
    time_budget: float | None,
    threads: int,
    out: str | os.PathLike[str],
    on_epoch: Callable[[str, str, str, CurvePoint], None] | None,
    on_result: Callable[[ToyResult], None] | None,
) -> GridRun:
    import torch

    from rl_coordconv.toy.report import write_report

    budget = {key: whole(epochs, "epochs", 1) for key in GRID_EPOCHS} if epochs is not None else None
    time_budget = GRID_TIME_BUDGET if time_budget is None else time_budget
    if not time_budget > 0:
        raise UserError(f"the time budget must be a positive number of seconds, got {time_budget}")
    started = time.perf_counter()
    results = run_grid(seed, shape, budget, time_budget, canvas, on_result=on_result, on_epoch=on_epoch)
    seconds = time.perf_counter() - started
    meta = {
        "command": "rl-coordconv " + " ".join(sys.argv[1:]) if sys.argv[1:] else "rl-coordconv toy all",
        "budget (epochs)": ", ".join(f"{t}/{m}: {n}" for (t, m), n in (budget or GRID_EPOCHS).items()),
        "time budget per run (s of training; a run stops after the epoch that passes it)": time_budget,
        "seed": seed,
        "shape": shape,
        "canvas": canvas,
        "torch threads": threads,
        "total wall time (s)": round(seconds, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}",
    }
    return GridRun(results, write_report(results, out, meta), seconds)
