"""What happens inside a worker: run one cell, record a failure in its run folder, bound the threads.

Every executor (the local process pool, Ray tasks) runs a cell through :func:`run_task` and reads
the result back with :func:`outcome_of`, so the run folders and the resume semantics are the same
whatever runs them:

- a cell whose run folder is complete (``status.json``) is never started;
- a cell whose run folder exists but is incomplete is resumed (``train(..., resume=True)``);
- a cell that raises gets ``error.txt`` (the error and its traceback) in its run folder, and a stale
  ``error.txt`` is removed when the cell is tried again;
- the user's extractors and backends the spec names are registered in the worker first, from their
  import paths (:mod:`rl_coordconv.plugins`), so a worker knows every name its driver knows.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rl_coordconv.checks import set_torch_threads
from rl_coordconv.plugins import Plugins, install_plugins
from rl_coordconv.process_env import process_defaults
from rl_coordconv.runfolder import ErrorRecord, is_complete
from rl_coordconv.settings import RunSettings
from rl_coordconv.sweep.spec import Cell

__all__ = [
    "CellTask",
    "task_settings",
    "CellOutcome",
    "RunFn",
    "WorkerStopped",
    "THREAD_ENV_VARS",
    "thread_env",
    "run_task",
    "train_cell",
    "outcome_of",
    "record_failure",
]

#: Environment variables that bound the BLAS/OpenMP thread pools; set before torch is imported.
THREAD_ENV_VARS: tuple[str, ...] = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)


@dataclass(frozen=True)
class CellTask:
    """Everything a worker needs to run one cell (picklable, plain data).

    The run itself travels as its :class:`~rl_coordconv.settings.RunSettings`: the cell's game, algorithm,
    extractor and seed over the spec's defaults (:meth:`rl_coordconv.sweep.spec.Spec.defaults`, filled in
    by :func:`task_settings`).

    :param cell: the (game, algo, extractor, seed) to run
    :param run_dir: the cell's run folder
    :param log_path: where the worker's stdout and stderr go
    :param threads: torch/BLAS threads the worker may use (the settings' ``threads`` unless they name theirs)
    :param plugins: the user's extractors and backends to register in the worker before the cell runs
    :param settings: the run's settings; their game, algorithm, extractor and seed are the cell's (None:
        the training defaults for the cell)
    :param command: the command line each run records in its ``config.yaml`` (None: the Python call)
    :raises ValueError: when ``settings`` describe another cell
    """

    cell: Cell
    run_dir: str
    log_path: str
    threads: int = 1
    plugins: Plugins = field(default_factory=Plugins)
    settings: RunSettings | None = None
    command: str | None = None

    def __post_init__(self) -> None:
        if self.settings is None:
            object.__setattr__(self, "settings", task_settings(self.cell, self.threads, None))
        elif _cell_of(self.settings) != (self.cell.game, self.cell.algo, self.cell.extractor, self.cell.seed):
            raise ValueError(f"the settings of {self.cell} describe another cell: {_cell_of(self.settings)}")

    @property
    def run_settings(self) -> RunSettings:
        """The run's settings (always set once the task is made)."""
        assert self.settings is not None  # set by __post_init__
        return self.settings


def _cell_of(settings: RunSettings) -> tuple[str, str, str, int]:
    return settings.game, settings.algo, settings.extractor, settings.seed


def task_settings(cell: Cell, threads: int, defaults: RunSettings | None) -> RunSettings:
    """A cell's run settings: the cell's game, algorithm, extractor and seed over the spec's other values.

    :param cell: the cell
    :param threads: the worker's threads (the settings' ``threads`` unless they name theirs)
    :param defaults: the spec's settings for every cell of the cell's algorithm
        (:meth:`rl_coordconv.sweep.spec.Spec.defaults`), whose game, algorithm, extractor and seed are
        replaced by the cell's; None: the training defaults
    :return: the settings
    :raises UserError: for a number out of its range
    """
    if defaults is None:
        defaults = RunSettings(algo=cell.algo, game=cell.game)
    return dataclasses.replace(
        defaults,
        algo=cell.algo,
        game=cell.game,
        extractor=cell.extractor,
        seed=cell.seed,
        threads=defaults.threads if defaults.threads is not None else threads,
    )


@dataclass(frozen=True)
class CellOutcome:
    """How one cell ended in this sweep.

    :param cell: the cell
    :param run_dir: its run folder
    :param status: ``complete``, ``failed`` or ``interrupted`` (stopped by the sweep; resumable)
    :param message: for a failure, the error's last line
    :param seconds: wall-clock seconds the worker ran
    """

    cell: Cell
    run_dir: Path
    status: Literal["complete", "failed", "interrupted"]
    message: str = ""
    seconds: float = 0.0


#: A function that runs one cell to completion (writing its run folder) or raises.
RunFn = Callable[[CellTask], None]


class WorkerStopped(KeyboardInterrupt):
    """Raised inside a worker when the sweep stops it (SIGTERM): not a failure, the cell stays resumable.

    A KeyboardInterrupt, so that training treats it as an interruption (no ``error.txt``).
    """


def thread_env(threads: int) -> dict[str, str]:
    """The environment variables a worker starts with: its BLAS/OpenMP thread bounds, and the package's
    process defaults (:func:`rl_coordconv.process_env.process_defaults`: OpenMP threads wait passively).

    :param threads: threads per worker (at least 1)
    :return: variable -> value
    """
    return {**{name: str(max(1, int(threads))) for name in THREAD_ENV_VARS}, **process_defaults()}


def train_cell(task: CellTask) -> None:
    """The default run function: one :func:`rl_coordconv.training.train` call for the cell.

    An existing (incomplete) run folder is resumed from its last checkpoint.

    :param task: the cell and its run's settings
    """
    from rl_coordconv.training import train

    run_dir = Path(task.run_dir)
    train(
        task.run_settings,
        out=str(run_dir.parent),
        run_dir=run_dir,
        resume=run_dir.exists(),
        progress_bar=False,
        command=task.command,
    )


def record_failure(run_dir: str | os.PathLike[str], text: str) -> None:
    """Write a failed cell's ``error.txt`` (atomically).

    :param run_dir: the run folder (created if missing)
    :param text: the error and its traceback
    """
    ErrorRecord(text).write(run_dir)


def run_task(task: CellTask, run_fn: RunFn | None = None) -> bool:
    """Run one cell in this process, recording a failure in its run folder.

    :param task: the cell to run
    :param run_fn: the run function (default :func:`train_cell`)
    :return: True when ``run_fn`` returned, False when it raised (and ``error.txt`` was written)
    :raises WorkerStopped: when the sweep stopped this worker; the run folder is left resumable
    """
    run_fn = run_fn or train_cell
    run_dir = Path(task.run_dir)
    ErrorRecord.remove(run_dir)
    if run_dir.is_dir() and not any(run_dir.iterdir()):
        run_dir.rmdir()  # only a stale error.txt was there: start afresh rather than "resume" nothing
    set_torch_threads(max(1, int(task.threads)))
    try:
        install_plugins(task.plugins)
        run_fn(task)
    except (WorkerStopped, KeyboardInterrupt):
        raise
    except BaseException as err:  # noqa: BLE001 - any failure of a cell is recorded, the sweep goes on
        if not ErrorRecord.exists(run_dir):  # keep the run's own error.txt if it wrote one
            ErrorRecord.from_exception(err, prefix=f"{task.cell} failed: ").write(run_dir)
        return False
    return True


def _first_line(run_dir: Path) -> str:
    record = ErrorRecord.read(run_dir)
    return record.summary if record is not None and record.text.strip() else ""


def outcome_of(
    task: CellTask, finished_ok: bool, seconds: float = 0.0, stopped: bool = False, exitcode: int | None = None
) -> CellOutcome:
    """Decide how a cell ended from its run folder and how its worker ended.

    :param task: the cell's task
    :param finished_ok: whether the run function returned without raising
    :param seconds: how long the worker ran
    :param stopped: whether the sweep stopped the worker (Ctrl-C, SIGTERM)
    :param exitcode: the worker process's exit status, when it was a process (negative: killed by a signal)
    :return: complete when the run folder says so; interrupted when stopped; failed otherwise (with an
        ``error.txt`` written if the worker could not write one, e.g. when it was killed)
    """
    run_dir = Path(task.run_dir)
    if is_complete(run_dir):
        return CellOutcome(task.cell, run_dir, "complete", seconds=seconds)
    if stopped:
        return CellOutcome(task.cell, run_dir, "interrupted", seconds=seconds)
    message = _first_line(run_dir)
    if not message:
        if finished_ok:
            message = f"{task.cell} failed: the run returned but its folder has no complete status.json"
        else:
            how = (
                f"was killed by signal {-exitcode}"
                if exitcode is not None and exitcode < 0
                else (f"exited with status {exitcode}" if exitcode is not None else "died")
            )
            message = (
                f"{task.cell} failed: its worker process {how} without an error message "
                f"(killed? out of memory? see {task.log_path})"
            )
        record_failure(run_dir, message)
    return CellOutcome(task.cell, run_dir, "failed", message=message, seconds=seconds)
