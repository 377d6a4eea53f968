"""The whole 2 x 2 x 2 grid of the coordinate tasks: task x split x model (Liu et al. 2018, arXiv:1807.03247).

:func:`run_grid` trains every cell with one root seed and the budgets of :data:`GRID_EPOCHS`, and
:func:`~rl_coordconv.toy.report.write_report` turns the results into a table and a figure.

The budget is a fixed number of epochs per model family, the same on both splits and both tasks:
the convolution baselines get nearly seven times the CoordConv models' epochs (20 against 3, and
so far more training time, since each of their epochs is also slower), so their failure on the
quadrant split cannot be blamed on a short budget. A time budget (:data:`GRID_TIME_BUDGET` from the
command line) caps every run so that the grid fits 15 minutes on a 2-core CPU; a capped run stops
at the end of the epoch that passes it, and the results record how many epochs each run did.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from rl_coordconv.errors import UserError
from rl_coordconv.toy.data import CANVAS
from rl_coordconv.toy.models import MODEL_NAMES, TASKS
from rl_coordconv.toy.train import DEFAULTS, CurvePoint, ToyResult, run_toy, settings_for

__all__ = ["GRID_EPOCHS", "GRID_TIME_BUDGET", "GRID_ORDER", "grid_cells", "run_grid"]

#: Epochs per (task, model) in :func:`run_grid`: those of :data:`~rl_coordconv.toy.train.DEFAULTS`.
GRID_EPOCHS: dict[tuple[str, str], int] = {key: value.epochs for key, value in DEFAULTS.items()}

#: Seconds of training after which a run of ``rl-coordconv toy all`` stops at the end of its epoch,
#: so the grid fits 15 minutes on a 2-core CPU; only the conv baselines ever reach it.
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
