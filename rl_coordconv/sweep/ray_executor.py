"""The Ray executor: each cell of a sweep is one Ray task, on a local Ray instance or on a cluster.

Ray (Moritz et al., "Ray: A Distributed Framework for Emerging AI Applications", OSDI 2018;
https://docs.ray.io) is an optional extra: ``pip install 'rl-coordconv[ray]'``. This module imports no
Ray at module level, so the package works without it; :func:`require_ray` turns a missing Ray into one
line saying how to install it.

What a cell's task does, and why:

- **Resources.** Each task asks Ray for ``cpus_per_run`` CPUs and ``gpus_per_run`` GPUs, and bounds its
  torch/BLAS/OpenMP threads and OpenCV's pool to its CPUs (the environment variables go in through the
  task's ``runtime_env``, so they hold before the worker imports torch; Ray only sets
  ``OMP_NUM_THREADS`` in some cases and OpenCV keeps its own pool). A task asking for no GPU sees none
  (``CUDA_VISIBLE_DEVICES`` empty). Each task runs in a fresh worker process (``max_calls=1``), like
  the local executor's fresh process per cell.
- **Where results live: on storage every node sees.** ``DIR`` (``--out``) must be the same path on
  every node (NFS, a cluster file system, or the one machine of a local instance). Tasks write their
  run folders there directly, so a task retried on another node resumes from the last checkpoint the
  lost worker wrote. A task that cannot see ``DIR/spec.yaml`` fails at once with an ``error.txt``
  saying so (written by the driver, which does see ``DIR``) instead of training into a folder nobody
  reads.
- **Killed workers.** A worker process that dies (killed, out of memory, its node lost) is retried by
  Ray (``max_retries``); the retry resumes the run folder from its last checkpoint, and training cuts
  any rows logged past that checkpoint, so nothing is duplicated or lost. When the retries are used
  up the cell gets an ``error.txt`` and the sweep goes on.
- **Ctrl-C / SIGTERM.** The driver cancels the running tasks (Ray raises KeyboardInterrupt in them:
  training stops without writing ``error.txt``), waits ``grace_seconds``, force-cancels what is left,
  and re-raises: every cell stays resumable. A driver killed outright takes its tasks with it (Ray
  sends SIGTERM to the workers of a job whose driver died); a task turns that SIGTERM into a stop, as
  on Ctrl-C, so its folder is left resumable rather than failed, then exits the way Ray's own SIGTERM
  handler does (a system failure: a worker sent SIGTERM while its driver lives is retried, from its
  checkpoint).
- **Progress.** The display reads each running cell's ``progress.json`` from ``DIR`` as for the
  local executor; a cell counts as running once its task has written the first line of its log
  (``DIR/logs/<run name>.log``), not while it waits in Ray's queue for resources.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rl_coordconv.checks import number, whole
from rl_coordconv.errors import UserError
from rl_coordconv.sweep.executors import (
    EXECUTORS,
    Executor,
    Monitor,
    Placement,
    bound_opencv_threads,
    redirect_output,
)
from rl_coordconv.sweep.worker import (
    CellOutcome,
    CellTask,
    RunFn,
    WorkerStopped,
    outcome_of,
    record_failure,
    run_task,
    thread_env,
)
from rl_coordconv.sweepfolder import SweepFolder

__all__ = ["RayExecutor", "RAY_INSTALL_HINT", "require_ray", "run_cell_task"]

#: The one line a user without Ray gets.
RAY_INSTALL_HINT = (
    "--executor ray needs Ray, which is not installed here; install it with: pip install 'rl-coordconv[ray]'"
)


def require_ray() -> Any:
    """Import Ray, or say in one line how to install it.

    :return: the ``ray`` module
    :raises UserError: when Ray cannot be imported
    """
    try:
        import ray
    except ImportError:
        raise UserError(RAY_INSTALL_HINT) from None
    return ray


class _Terminated(WorkerStopped):
    """SIGTERM reached a Ray worker (its driver died, its node is shutting down): stop like Ctrl-C."""


def _stop_on_sigterm() -> Any:
    """Turn SIGTERM into :class:`_Terminated` while a cell runs; return Ray's own handler.

    Ray answers SIGTERM with ``SystemExit``, which training would record as a failure (``error.txt``);
    raised as a KeyboardInterrupt instead, training stops as on Ctrl-C and the folder stays resumable.
    """
    if threading.current_thread() is not threading.main_thread():  # pragma: no cover - tasks run on main
        return None

    def handler(signum: int, frame: object) -> None:
        raise _Terminated(f"stopped by signal {signum}")

    return signal.signal(signal.SIGTERM, handler)


def run_cell_task(task: CellTask, run_fn: RunFn, sweep_dir: str) -> dict[str, Any]:
    """The body of one Ray task: run one cell into the shared sweep folder.

    :param task: the cell (absolute paths)
    :param run_fn: runs the cell (:func:`~rl_coordconv.sweep.worker.train_cell` by default)
    :param sweep_dir: the sweep folder, as the driver sees it
    :return: ``{"status": "ok" | "failed" | "unshared", "node": hostname, "pid": worker pid}``
    :raises KeyboardInterrupt: when the sweep cancelled the task (the run folder stays resumable)
    """
    node = socket.gethostname()
    if not SweepFolder.at(sweep_dir).has_spec():  # the driver writes it before any task starts
        return {"status": "unshared", "node": node, "pid": os.getpid()}
    redirect_output(task.log_path)
    bound_opencv_threads(task.threads)
    print(
        f"== {time.strftime('%Y-%m-%d %H:%M:%S')} worker {os.getpid()} on {node} (Ray task) starts {task.cell}",
        flush=True,
    )
    ray_handler = _stop_on_sigterm()
    try:
        ok = run_task(task, run_fn)
    except KeyboardInterrupt as stop:
        why = str(stop) or "cancelled by the sweep"
        print(f"== worker {os.getpid()} stopped ({why}); {task.cell} is resumable", flush=True)
        if isinstance(stop, _Terminated) and callable(ray_handler):
            signal.signal(signal.SIGTERM, ray_handler)
            ray_handler(signal.SIGTERM, None)  # exit as Ray does on SIGTERM: a system failure, which Ray retries
        raise
    finally:
        if ray_handler is not None:  # the cell is over: SIGTERM is Ray's business again
            signal.signal(signal.SIGTERM, ray_handler)
        sys.stdout.flush()
        sys.stderr.flush()
    print(f"== {time.strftime('%Y-%m-%d %H:%M:%S')} worker {os.getpid()} ends {task.cell}: {'ok' if ok else 'failed'}")
    sys.stdout.flush()
    return {"status": "ok" if ok else "failed", "node": node, "pid": os.getpid()}


@dataclass
class _Running:
    """A submitted task as the driver tracks it."""

    task: CellTask
    submitted: float
    log_size: int
    started: bool = False


def _log_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return -1


def _error_line(err: BaseException) -> str:
    """One line for an error that came back from Ray (its cause's, when Ray wrapped one)."""
    cause = getattr(err, "cause", None)
    shown = cause if isinstance(cause, BaseException) else err
    lines = [line for line in str(shown).strip().splitlines() if line.strip()]
    return f"{type(shown).__name__}: {lines[-1].strip() if lines else ''}".rstrip(": ")


class RayExecutor(Executor):
    """Run each cell as one Ray task, on a local Ray instance or on a cluster.

    :param workers: cells submitted at once; None: as many as the cluster has resources for (its CPUs
        divided by ``cpus_per_run``, and its GPUs by ``gpus_per_run`` when that is above 0), at most the
        number of cells
    :param address: the cluster to join (``auto``, ``ray://host:10001``, ``host:6379``); None starts a
        new local Ray instance on this machine (or joins the cluster ``RAY_ADDRESS`` names, as ``ray.init``
        does), stopped at the end. An already initialised Ray (``ray.init`` called before) is used as it is.
    :param cpus_per_run: CPUs each cell's task asks for; its torch/BLAS/OpenCV threads are bounded to it
    :param gpus_per_run: GPUs each cell's task asks for (fractions share a GPU); 0 hides every GPU
    :param max_retries: how many times Ray retries a cell whose worker process died; each retry resumes
        from the run folder's last checkpoint
    :param poll_seconds: how often the monitor's ``tick`` is called
    :param grace_seconds: how long cancelled tasks get to stop before they are force-cancelled
    :param init_options: extra keyword arguments for ``ray.init`` (e.g. ``num_cpus`` of a local instance)
    :raises UserError: when Ray is not installed, or for resources that are not positive
    """

    name = "ray"

    def __init__(
        self,
        workers: int | None = None,
        address: str | None = None,
        cpus_per_run: int = 1,
        gpus_per_run: float = 0.0,
        max_retries: int = 3,
        poll_seconds: float = 1.0,
        grace_seconds: float = 20.0,
        init_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(workers)
        cpus_per_run = whole(cpus_per_run, "--cpus-per-run", 1)
        gpus_per_run = number(gpus_per_run, "--gpus-per-run", low=0)
        if max_retries < 0:
            raise ValueError(f"max_retries must be at least 0, got {max_retries}")
        require_ray()
        self.address = address or None
        self.cpus_per_run = int(cpus_per_run)
        self.gpus_per_run = float(gpus_per_run)
        self.max_retries = int(max_retries)
        self.poll_seconds = poll_seconds
        self.grace_seconds = grace_seconds
        self.init_options = dict(init_options or {})

    # -- what a cell asks for --------------------------------------------------------------------------

    def resources(self) -> dict[str, float]:
        """The Ray resources one cell's task asks for.

        :return: ``{"CPU": cpus_per_run, "GPU": gpus_per_run}``
        """
        return {"CPU": self.cpus_per_run, "GPU": self.gpus_per_run}

    def task_threads(self, cores: int | None = None) -> int:
        """A task's torch/BLAS/OpenCV threads: its CPUs.

        :param cores: unused (a task's threads follow its CPUs, not this machine's cores)
        :return: ``cpus_per_run``
        """
        return self.cpus_per_run

    def task_env(self) -> dict[str, str]:
        """Environment variables of a cell's worker process (thread bounds; no GPU unless asked for).

        :return: variable -> value
        """
        env = thread_env(self.cpus_per_run)
        if self.gpus_per_run == 0:
            env["CUDA_VISIBLE_DEVICES"] = ""
        return env

    def _slots(self, totals: dict[str, float]) -> int:
        slots = int(totals.get("CPU", 0) // self.cpus_per_run)
        if self.gpus_per_run > 0:
            slots = min(slots, int(totals.get("GPU", 0) // self.gpus_per_run))
        return slots

    def _where(self) -> str | None:
        return self.address or os.environ.get("RAY_ADDRESS") or None

    def placement(self, cells: int, cores: int | None = None) -> Placement:
        """How the cells would run. Joins the cluster to read its size when an address is known (starts
        no local instance: one would get this machine's cores).

        :param cells: cells still to run
        :param cores: CPU cores of this machine (detected when None)
        :return: the placement
        """
        from rl_coordconv.sweep.estimate import available_cores

        ray = require_ray()
        if ray.is_initialized() or self._where():
            started = self._connect()
            try:
                totals = dict(ray.cluster_resources())
            finally:
                if started:
                    ray.shutdown()
            name = f"the Ray cluster at {self._where()}" if self._where() else "the Ray instance this process uses"
            where = f"{name} ({self._describe(totals)})"
        else:
            totals = {"CPU": float(cores or available_cores()), "GPU": 0.0}
            where = f"a local Ray instance started on this machine ({self._describe(totals)})"
        slots = self._slots(totals)
        workers = self.workers or max(1, min(max(cells, 1), max(slots, 1)))
        if slots >= 1:
            workers = min(workers, slots)  # more tasks than the cluster holds wait in Ray's queue
        asks = ", ".join(f"{key} {value:g}" for key, value in self.resources().items())
        plural = "" if self.cpus_per_run == 1 else "s"
        return Placement(
            workers=workers,
            threads=self.cpus_per_run,
            cores=workers * self.cpus_per_run,
            resources=(
                f"each cell: one Ray task asking for {asks}, {self.cpus_per_run} torch/BLAS/OpenCV thread{plural}, "
                f"retried up to {self.max_retries} times from its last checkpoint if its worker dies; "
                f"on {where}" + ("" if slots >= 1 else " (NOT ENOUGH RESOURCES there for one cell)")
            ),
        )

    @staticmethod
    def _describe(totals: dict[str, float]) -> str:
        return f"{totals.get('CPU', 0):g} CPUs, {totals.get('GPU', 0):g} GPUs"

    # -- running -------------------------------------------------------------------------------------

    def _connect(self) -> bool:
        """Initialise Ray unless it already is.

        :return: True when this call initialised it (the caller shuts it down)
        :raises UserError: when the cluster cannot be reached
        """
        ray = require_ray()
        if ray.is_initialized():
            return False
        options: dict[str, Any] = {"log_to_driver": False, "logging_level": "warning"}
        options.update(self.init_options)
        # No address: a new local instance, even when a `ray start` cluster runs here (ray.init would join
        # it); RAY_ADDRESS, when set, is honoured as ray.init honours it.
        address = self._where() or "local"
        try:
            ray.init(address=address, **options)
        except (ConnectionError, RuntimeError, ValueError) as err:
            where = self._where()
            if where is None:
                raise UserError(f"could not start a local Ray instance: {err}") from None
            raise UserError(
                f"could not join the Ray cluster at {where!r} ({str(err).strip().splitlines()[0]}); start one with "
                "`ray start --head` (and `ray start --address=HEAD:6379` on the workers), or leave out --address; "
                "a cluster with token authentication also needs RAY_AUTH_MODE=token and its token on this machine"
            ) from None
        return True

    def run(self, tasks: Sequence[CellTask], run_fn: RunFn, monitor: Monitor) -> list[CellOutcome]:
        """Submit every task to Ray, up to ``workers`` at a time, and report as they start and end.

        :param tasks: the cells to run, in order
        :param run_fn: runs one cell (importable on every node: a module-level function)
        :param monitor: told when cells start and finish
        :return: one outcome per task that ended, in the order they ended
        :raises UserError: when Ray cannot start or join, or the cluster cannot hold one cell
        """
        ray = require_ray()
        started_ray = self._connect()
        try:
            return self._run(ray, tasks, run_fn, monitor)
        finally:
            if started_ray:
                ray.shutdown()

    def _run(self, ray: Any, tasks: Sequence[CellTask], run_fn: RunFn, monitor: Monitor) -> list[CellOutcome]:
        totals = dict(ray.cluster_resources())
        slots = self._slots(totals)
        if slots < 1 and self.workers is None:
            asks = ", ".join(f"{key} {value:g}" for key, value in self.resources().items())
            raise UserError(
                f"each cell asks Ray for {asks}, but the cluster has {self._describe(totals)}; "
                "lower --cpus-per-run/--gpus-per-run or add nodes (on an autoscaling cluster, give --workers N "
                "to submit the cells anyway)"
            )
        workers = self.workers or max(1, min(len(tasks), slots))
        remote = ray.remote(max_calls=1)(run_cell_task)
        options = {
            "num_cpus": self.cpus_per_run,
            "num_gpus": self.gpus_per_run,
            "max_retries": self.max_retries,
            "retry_exceptions": False,
            "runtime_env": {"env_vars": self.task_env()},
        }
        sweep_dir = ""
        pending = deque(tasks)
        running: dict[Any, _Running] = {}
        outcomes: list[CellOutcome] = []
        try:
            while pending or running:
                while pending and len(running) < workers:
                    task = pending.popleft()
                    shipped = _absolute(task)
                    sweep_dir = str(Path(shipped.run_dir).parent.parent)
                    ref = remote.options(name=f"sweep cell {task.cell}", **options).remote(shipped, run_fn, sweep_dir)
                    running[ref] = _Running(task, time.monotonic(), _log_size(shipped.log_path))
                ready, _ = ray.wait(list(running), num_returns=1, timeout=self.poll_seconds)
                if ready and len(running) > 1:
                    rest = [ref for ref in running if ref not in ready]
                    more, _ = ray.wait(rest, num_returns=len(rest), timeout=0)
                    ready += more
                for ref in ready:
                    entry = running.pop(ref)
                    self._mark_started(entry, monitor)
                    outcome = self._outcome(ray, ref, entry, stopped=False)
                    outcomes.append(outcome)
                    monitor.finished(outcome)
                for entry in running.values():
                    if not entry.started and _log_size(entry.task.log_path) > entry.log_size:
                        self._mark_started(entry, monitor)
                monitor.tick()
        except BaseException:
            outcomes.extend(self._stop(ray, running, monitor))
            raise
        return outcomes

    @staticmethod
    def _mark_started(entry: _Running, monitor: Monitor) -> None:
        if not entry.started:
            entry.started = True
            monitor.started(entry.task)

    def _outcome(self, ray: Any, ref: Any, entry: _Running, stopped: bool) -> CellOutcome:
        """How a finished (or cancelled) task ended, recorded in its run folder like the local executor's."""
        from ray.exceptions import GetTimeoutError, TaskCancelledError, WorkerCrashedError

        task, seconds = entry.task, time.monotonic() - entry.submitted
        try:
            info = ray.get(ref, timeout=0)
        except TaskCancelledError:
            return outcome_of(task, False, seconds, stopped=True)
        except GetTimeoutError:  # still running after a force-cancel: its folder is as resumable as any
            return outcome_of(task, False, seconds, stopped=True)
        except WorkerCrashedError as err:
            if stopped:  # force-cancelled by the sweep: not a failure
                return outcome_of(task, False, seconds, stopped=True)
            tries = self.max_retries + 1
            self._record(
                task,
                f"{task.cell} failed: its Ray worker died {tries} time{'s' if tries > 1 else ''} (killed? out of "
                f"memory? node lost?), so Ray's task retries are used up ({_error_line(err)}); see {task.log_path}",
            )
            return outcome_of(task, False, seconds)
        except Exception as err:  # noqa: BLE001 - a task that could not run (import, pickling, node) is a failure
            self._record(task, f"{task.cell} failed: its Ray task could not run: {_error_line(err)}\n\n{err}")
            return outcome_of(task, False, seconds)
        if info.get("status") == "unshared":
            self._record(
                task,
                f"{task.cell} failed: the sweep folder {Path(task.run_dir).parent.parent.resolve()} is not visible on "
                f"Ray node {info.get('node')}; --out must be on storage every node sees, at the same path "
                "(see docs/sweeps.md, 'On a Ray cluster')",
            )
            return outcome_of(task, False, seconds)
        return outcome_of(task, info.get("status") == "ok", seconds)

    @staticmethod
    def _record(task: CellTask, text: str) -> None:
        from rl_coordconv.runfolder import ERROR

        if not (Path(task.run_dir) / ERROR).is_file():
            record_failure(task.run_dir, text)

    def _stop(self, ray: Any, running: dict[Any, _Running], monitor: Monitor) -> list[CellOutcome]:
        """Cancel every running task (KeyboardInterrupt in it), wait ``grace_seconds``, force the rest."""
        refs = list(running)
        for entry in running.values():  # a task that started since the last tick is paused, not unseen
            if not entry.started and _log_size(entry.task.log_path) > entry.log_size:
                self._mark_started(entry, monitor)
        for ref in refs:
            try:
                ray.cancel(ref, force=False)
            except Exception:  # noqa: BLE001 - finished meanwhile, or Ray is going down: nothing to cancel
                pass
        not_ready = refs
        deadline = time.monotonic() + self.grace_seconds
        while not_ready and time.monotonic() < deadline:
            try:
                _, not_ready = ray.wait(not_ready, num_returns=len(not_ready), timeout=0.5)
            except KeyboardInterrupt:  # a second Ctrl-C: stop waiting
                break
            except Exception:  # noqa: BLE001
                break
        for ref in not_ready:
            try:
                ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001
                pass
        outcomes = []
        for ref in refs:
            entry = running[ref]
            if not_ready:
                try:
                    ray.wait([ref], timeout=2.0)
                except Exception:  # noqa: BLE001
                    pass
            outcome = self._outcome(ray, ref, entry, stopped=True)
            outcomes.append(outcome)
            try:
                if entry.started:
                    monitor.finished(outcome)
            except Exception:  # noqa: BLE001 - the display must not block the shutdown
                pass
        running.clear()
        return outcomes


def _absolute(task: CellTask) -> CellTask:
    """The task with absolute paths: a Ray worker's working directory is not the driver's."""
    return replace(task, run_dir=os.path.abspath(task.run_dir), log_path=os.path.abspath(task.log_path))


EXECUTORS.register(RayExecutor.name, RayExecutor)
