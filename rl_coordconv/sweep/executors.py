"""Executors: the swappable part of a sweep that runs cells somewhere.

An :class:`Executor` takes the cells' tasks and a run function, runs up to ``workers`` of them at a
time, and reports to a :class:`Monitor` as cells start and finish. It never decides what a cell's
outcome is by itself: that comes from the run folder (:func:`~rl_coordconv.sweep.worker.outcome_of`),
so every executor keeps the same run folders and resume semantics. Two are built in:
:class:`LocalExecutor` (below) and :class:`~rl_coordconv.sweep.ray_executor.RayExecutor` (one Ray task
per cell, on a local Ray instance or a cluster; ``pip install 'rl-coordconv[ray]'``).

:class:`LocalExecutor` runs each cell in a fresh ``spawn``-ed process on this machine:

- each worker's torch/BLAS threads are bounded (``OMP_NUM_THREADS`` and friends set in the child's
  environment before it imports torch, then ``torch.set_num_threads``) so N workers do not
  oversubscribe the cores;
- workers ignore SIGINT: Ctrl-C reaches the sweep process, which stops the workers with SIGTERM (they
  unwind and exit without writing ``error.txt``), waits ``grace_seconds``, then kills what is left.
  The cells' folders stay resumable;
- a worker whose sweep process disappears (``kill -9``) stops itself, so no orphan keeps writing
  into a folder that a restarted sweep is resuming;
- each worker's stdout and stderr go to its log file (``DIR/logs/<run name>.log``).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import wait as wait_for
from multiprocessing.context import SpawnContext
from pathlib import Path
from typing import Any, ClassVar, Protocol, cast

from rl_coordconv.errors import UserError
from rl_coordconv.registry import Registry
from rl_coordconv.sweep.worker import (
    CellOutcome,
    CellTask,
    RunFn,
    WorkerStopped,
    outcome_of,
    run_task,
    thread_env,
)

__all__ = [
    "Monitor",
    "Placement",
    "Executor",
    "LocalExecutor",
    "EXECUTORS",
    "get_executor",
    "default_local_workers",
    "STOPPED_EXIT",
]

#: Exit status of a worker stopped by the sweep (128 + SIGTERM).
STOPPED_EXIT = 128 + signal.SIGTERM


class Monitor(Protocol):
    """What an executor reports to (the progress display, or a test's recorder)."""

    def started(self, task: CellTask) -> None:
        """A cell's worker has started.

        :param task: the cell's task
        """

    def finished(self, outcome: CellOutcome) -> None:
        """A cell has ended (complete, failed or interrupted).

        :param outcome: how it ended
        """

    def tick(self) -> None:
        """Called every poll interval while cells run (refresh a display)."""


@dataclass(frozen=True)
class Placement:
    """Where and how a sweep's cells would run: what ``--dry-run`` shows and the estimate uses.

    :param workers: cells running at once
    :param threads: torch/BLAS/OpenCV threads of each cell
    :param cores: CPU cores the cells share (for the time estimate)
    :param resources: one line saying what each cell asks for and where it runs
    """

    workers: int
    threads: int
    cores: int
    resources: str


class Executor(ABC):
    """Runs the cells of a sweep, up to ``workers`` at a time.

    :param workers: how many cells may run at once; None lets the executor decide when it runs (the Ray
        executor: as many as the cluster has CPUs for)
    """

    #: The name ``--executor`` selects this executor by.
    name: ClassVar[str] = ""

    def __init__(self, workers: int | None) -> None:
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = None if workers is None else int(workers)

    @abstractmethod
    def task_threads(self, cores: int | None = None) -> int:
        """Torch/BLAS/OpenCV threads each cell may use.

        :param cores: CPU cores of this machine (detected when None)
        :return: at least 1
        """

    @abstractmethod
    def placement(self, cells: int, cores: int | None = None) -> Placement:
        """How ``cells`` cells would run (for ``--dry-run`` and the estimate); starts nothing.

        :param cells: cells still to run
        :param cores: CPU cores of this machine (detected when None)
        :return: the :class:`Placement`
        """

    @abstractmethod
    def run(self, tasks: Sequence[CellTask], run_fn: RunFn, monitor: Monitor) -> list[CellOutcome]:
        """Run every task and return how each ended.

        On KeyboardInterrupt (Ctrl-C, or SIGTERM turned into one by the sweep) the executor stops its
        workers, leaves their run folders resumable, and re-raises.

        :param tasks: the cells to run, in order
        :param run_fn: runs one cell (must be picklable for executors that use other processes)
        :param monitor: told when cells start and finish
        :return: one outcome per task that ended, in the order they ended
        """


# -- the local process pool --------------------------------------------------------------------------


def _watch_parent(parent_pid: int, period: float = 1.0) -> None:
    """Stop this worker (SIGTERM to itself) when the process that started it is gone."""

    def loop() -> None:
        while True:
            time.sleep(period)
            if os.getppid() != parent_pid:
                os.kill(os.getpid(), signal.SIGTERM)
                return

    threading.Thread(target=loop, name="watch-sweep", daemon=True).start()


def _raise_stopped(signum: int, frame: object) -> None:
    raise WorkerStopped(f"stopped by signal {signum}")


def bound_opencv_threads(threads: int) -> None:
    """Bound OpenCV's own thread pool (frame resizing), which ignores ``OMP_NUM_THREADS``.

    :param threads: threads this worker may use (at least 1)
    """
    import cv2

    cv2.setNumThreads(max(1, int(threads)))


def redirect_output(log_path: str) -> None:
    """Send this process's stdout and stderr (file descriptors 1 and 2) to the end of ``log_path``.

    :param log_path: the worker's log file (its folder is created)
    """
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _process_main(task: CellTask, run_fn: RunFn, parent_pid: int) -> None:
    """Entry point of a local worker process (spawned): run one cell, exit 0 / 1 / STOPPED_EXIT."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _raise_stopped)
    _watch_parent(parent_pid)
    redirect_output(task.log_path)
    bound_opencv_threads(task.threads)
    print(f"== {time.strftime('%Y-%m-%d %H:%M:%S')} worker {os.getpid()} starts {task.cell}", flush=True)
    try:
        ok = run_task(task, run_fn)
    except (WorkerStopped, KeyboardInterrupt):
        print(f"== worker {os.getpid()} stopped by the sweep; {task.cell} is resumable", flush=True)
        sys.stdout.flush()
        os._exit(STOPPED_EXIT)
    print(f"== {time.strftime('%Y-%m-%d %H:%M:%S')} worker {os.getpid()} ends {task.cell}: {'ok' if ok else 'failed'}")
    sys.stdout.flush()
    sys.stderr.flush()
    # os._exit: skip interpreter teardown (slow with torch loaded; nothing is left to flush).
    os._exit(0 if ok else 1)


@contextmanager
def _spawn_settings(threads: int) -> Iterator[None]:
    """Around ``Process.start``: the child's thread-bounding environment, and SIGINT ignored.

    A spawned child inherits both: the environment bounds BLAS/OpenMP before the child imports torch,
    and an ignored SIGINT stays ignored in the new interpreter, so a Ctrl-C while it starts up does not
    kill it half-way (the sweep stops it with SIGTERM instead).
    """
    saved_env = {name: os.environ.get(name) for name in thread_env(threads)}
    os.environ.update(thread_env(threads))
    in_main = threading.current_thread() is threading.main_thread()
    saved_sigint = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
    try:
        yield
    finally:
        if in_main:
            signal.signal(signal.SIGINT, saved_sigint)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class LocalExecutor(Executor):
    """Run cells in ``workers`` spawned processes on this machine, one fresh process per cell.

    A fresh process per cell costs a few seconds of imports and gives each run a clean interpreter
    (no memory or thread-pool state carried from one run to the next).

    :param workers: how many cells run at once
    :param poll_seconds: how often the monitor's ``tick`` is called
    :param grace_seconds: how long stopped workers get to exit before they are killed
    :param start_method: ``spawn`` (default) or ``forkserver``; never ``fork`` (torch's threads)
    """

    name = "local"

    def __init__(
        self, workers: int, poll_seconds: float = 1.0, grace_seconds: float = 20.0, start_method: str = "spawn"
    ) -> None:
        super().__init__(workers)
        if start_method not in ("spawn", "forkserver"):
            raise ValueError(f"start_method must be 'spawn' or 'forkserver', got {start_method!r}")
        self.poll_seconds = poll_seconds
        self.grace_seconds = grace_seconds
        # forkserver's context has the same Process API as spawn's (the stubs type get_context loosely)
        self.context = cast(SpawnContext, mp.get_context(start_method))

    def _workers(self) -> int:
        if self.workers is None:  # pragma: no cover - get_executor always gives the local executor a number
            raise ValueError("the local executor needs a number of workers")
        return self.workers

    def task_threads(self, cores: int | None = None) -> int:
        """``max(1, cores // workers)``: the workers share this machine's cores without oversubscribing.

        :param cores: CPU cores (this machine's when None)
        :return: threads per worker
        """
        from rl_coordconv.sweep.estimate import available_cores

        return max(1, (cores or available_cores()) // self._workers())

    def placement(self, cells: int, cores: int | None = None) -> Placement:
        """``workers`` spawned processes on this machine.

        :param cells: cells still to run
        :param cores: CPU cores (this machine's when None)
        :return: the placement
        """
        from rl_coordconv.sweep.estimate import available_cores

        cores = cores or available_cores()
        threads = self.task_threads(cores)
        plural = "" if threads == 1 else "s"
        return Placement(
            workers=self._workers(),
            threads=threads,
            cores=cores,
            resources=f"each cell: one spawned process on this machine, {threads} torch/BLAS/OpenCV thread{plural}",
        )

    def run(self, tasks: Sequence[CellTask], run_fn: RunFn, monitor: Monitor) -> list[CellOutcome]:
        pending = deque(tasks)
        running: dict[int, tuple[mp.process.BaseProcess, CellTask, float]] = {}
        outcomes: list[CellOutcome] = []
        workers = self._workers()
        try:
            while pending or running:
                while pending and len(running) < workers:
                    task = pending.popleft()
                    proc = self.context.Process(
                        target=_process_main,
                        args=(task, run_fn, os.getpid()),
                        name=f"sweep-worker {task.cell}",
                    )
                    with _spawn_settings(task.threads):
                        proc.start()
                    running[proc.sentinel] = (proc, task, time.monotonic())
                    monitor.started(task)
                for sentinel in wait_for(list(running), timeout=self.poll_seconds):
                    ended, task, start = running.pop(cast(int, sentinel))  # process sentinels are ints
                    ended.join()
                    outcome = outcome_of(task, ended.exitcode == 0, time.monotonic() - start, exitcode=ended.exitcode)
                    outcomes.append(outcome)
                    monitor.finished(outcome)
                monitor.tick()
        except BaseException:
            outcomes.extend(self._stop(running, monitor))
            raise
        return outcomes

    def _stop(
        self, running: dict[int, tuple[mp.process.BaseProcess, CellTask, float]], monitor: Monitor
    ) -> list[CellOutcome]:
        """Stop every running worker: SIGTERM, wait ``grace_seconds``, then SIGKILL."""
        for proc, _, _ in running.values():
            if proc.is_alive():
                try:
                    os.kill(proc.pid, signal.SIGTERM)  # type: ignore[arg-type]
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + self.grace_seconds
        for proc, _, _ in running.values():
            proc.join(max(0.0, deadline - time.monotonic()))
        outcomes = []
        for proc, task, start in running.values():
            if proc.is_alive():
                proc.kill()
                proc.join()
            # 0: finished before the stop arrived; 1: failed by itself (error.txt written); else stopped.
            stopped = proc.exitcode not in (0, 1)
            outcome = outcome_of(task, proc.exitcode == 0, time.monotonic() - start, stopped=stopped)
            outcomes.append(outcome)
            try:
                monitor.finished(outcome)
            except Exception:  # noqa: BLE001 - the display must not block the shutdown
                pass
        running.clear()
        return outcomes


#: name -> executor class, for ``--executor``. ``ray`` is registered by
#: :mod:`rl_coordconv.sweep.ray_executor` (imported by the package :mod:`rl_coordconv.sweep`, so before this module is used).
EXECUTORS: Registry[type[Executor]] = Registry("executor")
EXECUTORS.register(LocalExecutor.name, LocalExecutor)


def default_local_workers(cells: int, cores: int | None = None) -> int:
    """The local executor's default: one worker per core, no more than there are cells.

    :param cells: cells in the sweep
    :param cores: CPU cores (this machine's when None)
    :return: at least 1
    """
    from rl_coordconv.sweep.estimate import available_cores

    return max(1, min(cores or available_cores(), cells))


def get_executor(name: str, workers: int | None, cells: int | None = None, **options: Any) -> Executor:
    """Build an executor by name.

    :param name: a key of :data:`EXECUTORS`: ``local`` or ``ray``
    :param workers: how many cells may run at once; None: the executor's default (local: one per core
        and at most ``cells``; Ray: as many as the cluster has resources for)
    :param cells: cells in the sweep (bounds the local default)
    :param options: the executor's own options, e.g. ``address``, ``cpus_per_run``, ``gpus_per_run`` for
        Ray; options given as None are left out
    :return: the executor
    :raises UserError: for an unknown name (with the closest names), for options the executor does not
        take, and for ``ray`` when Ray is not installed (with the command that installs it)
    """
    # "ray" is registered by rl_coordconv.sweep.ray_executor, which the package imports before this module.
    executor = EXECUTORS.lookup(name)
    options = {k: v for k, v in options.items() if v is not None}
    if executor is LocalExecutor:
        if options:
            flags = ", ".join("--" + k.replace("_", "-") for k in options)
            verb = "applies" if len(options) == 1 else "apply"
            raise UserError(f"{flags} {verb} only to --executor ray; the local executor runs on this machine")
        return LocalExecutor(workers if workers is not None else default_local_workers(cells or 1))
    return executor(workers, **options)
