"""Run a sweep: every cell of a spec into ``DIR/runs/<run name>``, resumable, failures recorded.

The sweep folder::

    DIR/spec.yaml          the spec, copied on the first run; a different spec into DIR is refused
    DIR/runs/<run name>/   one run folder per cell (rl_coordconv.runfolder)
    DIR/logs/<run name>.log   each worker's stdout/stderr
    DIR/.sweep.lock        held while a sweep runs, so two sweeps never write the same folders

Running the same command again continues where it stopped: complete cells are skipped, incomplete
ones resume from their last checkpoint, failed ones are tried again.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from rl_coordconv.errors import UserError
from rl_coordconv.runfolder import ErrorRecord, atomic_write_text, is_complete
from rl_coordconv.sweep.estimate import Estimate, available_cores, estimate_sweep
from rl_coordconv.sweep.executors import Executor, get_executor
from rl_coordconv.sweep.progress import format_duration, make_progress
from rl_coordconv.sweep.spec import Cell, Spec, load_spec, parse_spec
from rl_coordconv.sweep.worker import CellTask, RunFn, task_settings
from rl_coordconv.sweepfolder import LOCK, LOGS, RUNS, SPEC_FILE, SweepFolder

__all__ = [
    "SPEC_FILE",
    "RUNS",
    "LOGS",
    "SweepResult",
    "SweepInterrupted",
    "cell_dirs",
    "check_out",
    "prepare_out",
    "plan_tasks",
    "threads_per_worker",
    "dry_run_text",
    "run_sweep",
]


@dataclass
class SweepResult:
    """What a sweep did.

    :param spec: the spec
    :param out: the sweep folder
    :param complete: cells whose run folder is complete at the end (including skipped ones)
    :param skipped: cells that were already complete when the sweep started
    :param failed: failed cell -> its error's first line (the whole error is in its ``error.txt``)
    :param interrupted: cells stopped by Ctrl-C/SIGTERM (resumable)
    :param seconds: wall-clock seconds
    """

    spec: Spec
    out: Path
    complete: list[Cell] = field(default_factory=list)
    skipped: list[Cell] = field(default_factory=list)
    failed: dict[Cell, str] = field(default_factory=dict)
    interrupted: list[Cell] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every cell of the spec is complete."""
        return len(self.complete) == len(self.spec.cells())

    def run_dir(self, cell: Cell) -> Path:
        """The run folder of ``cell``.

        :param cell: a cell of the spec
        :return: ``out/runs/<run name>``
        """
        return SweepFolder(self.out).run_dir(cell.run_name)


class SweepInterrupted(KeyboardInterrupt):
    """The sweep was stopped (Ctrl-C or SIGTERM); finished cells are on disk, the rest resumable.

    :param result: what was done before the stop
    """

    def __init__(self, result: SweepResult) -> None:
        super().__init__("sweep interrupted")
        self.result = result


def cell_dirs(spec: Spec, out: str | os.PathLike[str]) -> list[tuple[Cell, Path]]:
    """Every cell of ``spec`` with its run folder under ``out``.

    :param spec: the spec
    :param out: the sweep folder
    :return: (cell, run folder) pairs in the spec's cell order
    """
    runs = SweepFolder.at(out).runs
    pairs = [(cell, runs / cell.run_name) for cell in spec.cells()]
    names = [d.name for _, d in pairs]
    if len(set(names)) != len(names):  # pragma: no cover - run_name is injective for canonical names
        raise RuntimeError("two cells map to the same run folder; run_name must name game, algo, extractor, seed")
    return pairs


def prepare_out(spec: Spec, out: str | os.PathLike[str]) -> Path:
    """Create the sweep folder and copy the spec there, or check that it holds the same spec.

    :param spec: the spec to run
    :param out: the sweep folder
    :return: the sweep folder
    :raises UserError: when ``out`` is a file, a non-empty folder that is not a sweep folder, or a
        sweep folder of a different spec (compared by resolved content: names canonical, comments and
        formatting ignored)
    """
    out = Path(out)
    if check_out(spec, out):
        return out
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(SweepFolder(out).spec, spec.to_yaml())
    return out


def check_out(spec: Spec, out: str | os.PathLike[str]) -> bool:
    """Check, without writing anything, that ``out`` can take a sweep of ``spec``.

    :param spec: the spec to run
    :param out: the sweep folder
    :return: True when ``out`` already is this spec's sweep folder, False when it is new or empty
    :raises UserError: when ``out`` is a file, a non-empty folder that is not a sweep folder, or the
        sweep folder of a different spec
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {str(out)!r} is a file; give a folder for the sweep")
    copy = SweepFolder(out).spec
    if copy.is_file():
        try:
            existing = parse_spec(copy.read_text(encoding="utf-8"), source=str(copy))
        except UserError as err:
            raise UserError(f"{out} holds a spec.yaml that no longer loads ({err}); use a new --out folder") from None
        if existing.resolved() != spec.resolved():
            diff = _first_difference(existing.resolved(), spec.resolved())
            raise UserError(
                f"{out} is the sweep folder of a different spec ({diff}); "
                f"use a new --out folder, or run the spec in {copy} to continue that sweep"
            )
        return True
    if out.is_dir() and any(p.name != LOCK for p in out.iterdir()):
        raise UserError(f"--out {str(out)!r} is not empty and holds no {SPEC_FILE}; give a new or empty folder")
    return False


def _first_difference(old: dict[str, Any], new: dict[str, Any]) -> str:
    for key in old:
        if old[key] != new.get(key):
            return f"{key}: {old[key]!r} there, {new.get(key)!r} in this spec"
    return "their contents differ"  # pragma: no cover


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """Torch/BLAS threads of each worker so that ``workers`` workers do not oversubscribe the cores.

    :param workers: workers running at once
    :param cores: CPU cores (this machine's when None)
    :return: ``max(1, cores // workers)``
    """
    cores = cores or available_cores()
    return max(1, cores // max(1, workers))


def plan_tasks(
    spec: Spec,
    out: str | os.PathLike[str],
    workers: int,
    device: str = "auto",
    command: str | None = None,
    cores: int | None = None,
    threads: int | None = None,
) -> tuple[list[CellTask], list[Cell]]:
    """Split the cells into those still to run (as tasks) and those already complete.

    :param spec: the spec
    :param out: the sweep folder
    :param workers: workers running at once (bounds each worker's threads)
    :param device: torch device for training
    :param command: the command line recorded in each run's config
    :param cores: CPU cores (this machine's when None)
    :param threads: each cell's threads, when the executor decides them (a Ray task's CPUs); else
        :func:`threads_per_worker`
    :return: (tasks to run in order, cells already complete)
    :raises UserError: when the spec uses an extractor whose class worker processes could not import
    """
    from rl_coordconv.plugins import plugins_for

    out = Path(out)
    threads = threads if threads is not None else threads_per_worker(workers, cores)
    plugins = plugins_for(spec.extractors, spec.backend)  # the user's own, by import path, for every worker
    defaults = {algo: dataclasses.replace(spec.defaults(algo), device=device) for algo in spec.algos}
    tasks, done = [], []
    for cell, run_dir in cell_dirs(spec, out):
        if is_complete(run_dir):
            done.append(cell)
            continue
        tasks.append(
            CellTask(
                cell=cell,
                run_dir=str(run_dir),
                log_path=str(SweepFolder(out).log(run_dir.name)),
                threads=threads,
                plugins=plugins,
                settings=task_settings(cell, threads, defaults[cell.algo]),
                command=command,
            )
        )
    return tasks, done


def dry_run_text(
    spec: Spec,
    out: str | os.PathLike[str],
    workers: int | None,
    cores: int | None = None,
    executor: Executor | None = None,
) -> str:
    """What ``sweep --dry-run`` prints: every cell with its state, the resources asked, the estimated time.

    :param spec: the spec
    :param out: the sweep folder (read only; nothing is written)
    :param workers: workers running at once (None: the executor's default)
    :param cores: CPU cores (this machine's when None)
    :param executor: the executor that would run the cells (the local one when None)
    :return: the listing
    """
    check_out(spec, out)
    pairs = cell_dirs(spec, out)
    todo = [cell for cell, d in pairs if not is_complete(d)]
    lines = [
        f"sweep {spec.name!r}: {len(pairs)} cells = {_count(spec.games, 'game')} x {_count(spec.algos, 'algo')} x "
        f"{_count(spec.extractors, 'extractor')} x {_count(spec.seeds, 'seed')}, {spec.agent_steps:,} agent steps "
        f"each ({4 * spec.agent_steps:,} frames), protocol {spec.protocol}",
        f"run folders: {SweepFolder.at(out).runs}/<run name>",
        "",
    ]
    for i, (_, run_dir) in enumerate(pairs, 1):
        if is_complete(run_dir):
            state = "complete (skipped)"
        elif ErrorRecord.exists(run_dir):
            state = "failed before (will retry)"
        elif run_dir.exists():
            state = "incomplete (will resume)"
        else:
            state = "to run"
        lines.append(f"{i:4d}  {run_dir.name:<48s} {state}")
    executor = executor or get_executor("local", workers, cells=len(pairs))
    place = executor.placement(len(todo), cores)
    est: Estimate = estimate_sweep(todo, spec.agent_steps, place.workers, place.cores)
    rates = ", ".join(f"{algo} {rate:,.0f} agent steps/s per worker" for algo, rate in est.rates.items())
    lines += [
        "",
        f"{len(todo)} of {len(pairs)} cells to run, {est.agent_steps:,} agent steps, "
        f"{_count(range(place.workers), 'worker')} x {_count(range(place.threads), 'thread')} "
        f"on {_count(range(est.cores), 'core')}.",
        f"executor {executor.name}: {place.resources}.",
        f"ESTIMATED time: about {format_duration(est.seconds)} of training"
        + (
            f" (assuming {rates}, from throughput measured on a 2-core CPU; evaluation games are extra)" if todo else ""
        ),
    ]
    return "\n".join(lines)


def _count(items: Sequence[Any], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While the sweep runs, SIGTERM stops it the way Ctrl-C does (workers stopped, folders resumable)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _sweep_lock(out: Path) -> Iterator[None]:
    """Hold ``out/.sweep.lock`` so that two sweeps never run into the same folder at once."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        yield
        return
    path = SweepFolder(out).lock
    handle = open(path, "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise UserError(f"another sweep ({holder}) is running into {out}; wait for it or stop it first") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()


def run_sweep(
    spec: Spec | str | os.PathLike[str],
    out: str | os.PathLike[str],
    workers: int | None = None,
    executor: str | Executor = "local",
    run_fn: RunFn | None = None,
    device: str = "auto",
    progress: str = "auto",
    stream: TextIO | None = None,
    command: str | None = None,
) -> SweepResult:
    """Run every cell of a spec that is not complete yet, up to ``workers`` at a time.

    :param spec: a :class:`Spec` or the path of a spec file
    :param out: the sweep folder (created; the spec is copied there)
    :param workers: cells run at once; None means the executor's default (local: as many as there are
        cores and cells; Ray: as many as the cluster has resources for)
    :param executor: an executor name (``local`` or ``ray``, see :func:`get_executor`) or an
        :class:`Executor` (e.g. ``RayExecutor(address="auto", cpus_per_run=2)``)
    :param run_fn: runs one cell (default: :func:`rl_coordconv.training.train`); must be importable by the
        workers (a module-level function of an importable module). The local executor spawns its workers,
        so a script calling ``run_sweep`` needs the usual ``if __name__ == "__main__":`` guard
    :param device: torch device for training (``auto``, ``cpu``, ``cuda``)
    :param progress: ``auto`` (rich on a terminal, plain lines otherwise), ``rich``, ``plain`` or ``quiet``
    :param stream: where the progress goes (stdout when None)
    :param command: the command line recorded in each run's config
    :return: the :class:`SweepResult`; ``result.ok`` says whether every cell is complete
    :raises UserError: for a bad spec, a bad ``out``, a different spec already in ``out``, or an extractor
        whose class the workers could not import (:mod:`rl_coordconv.plugins`)
    :raises SweepInterrupted: on Ctrl-C or SIGTERM, after the workers stopped (folders resumable)
    """
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    if workers is not None and workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    if isinstance(executor, str):  # before anything is written: an unknown executor or missing Ray is bad input
        executor = get_executor(executor, workers, cells=len(spec.cells()))
    elif workers is not None:
        executor.workers = workers
    from rl_coordconv.plugins import plugins_for

    plugins_for(spec.extractors, spec.backend)  # before anything is written: a class workers cannot import
    start = time.monotonic()
    out = prepare_out(spec, out)
    result = SweepResult(spec=spec, out=out)
    with _sweep_lock(out):
        command = command or " ".join(shlex.quote(a) for a in [Path(sys.argv[0]).name, *sys.argv[1:]])
        tasks, done = plan_tasks(
            spec, out, executor.workers or 1, device=device, command=command, threads=executor.task_threads()
        )
        result.skipped = list(done)
        monitor = make_progress(progress, spec.cells(), done, spec.agent_steps, stream)
        outcomes = []
        try:
            with _sigterm_as_interrupt():
                if tasks:
                    from rl_coordconv.sweep.worker import train_cell

                    outcomes = executor.run(tasks, run_fn or train_cell, monitor)
        except KeyboardInterrupt:
            monitor.close()
            _collect(result, spec, out, start)
            raise SweepInterrupted(result) from None
        monitor.close()
        _collect(result, spec, out, start, outcomes)
    return result


def _collect(result: SweepResult, spec: Spec, out: Path, start: float, outcomes: Sequence[Any] = ()) -> None:
    """Fill ``result`` from the run folders (the truth) and this sweep's outcomes."""
    result.complete = [cell for cell, d in cell_dirs(spec, out) if is_complete(d)]
    done = set(result.complete)
    for cell, run_dir in cell_dirs(spec, out):
        if cell in done:
            continue
        error = ErrorRecord.read(run_dir)
        if error is not None:
            result.failed[cell] = error.summary if error.text.strip() else "failed"
        elif run_dir.exists():
            result.interrupted.append(cell)
    result.seconds = time.monotonic() - start
