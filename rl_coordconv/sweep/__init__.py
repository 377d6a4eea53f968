"""Sweeps: run every (game, algo, extractor, seed) cell of an experiment spec, resumably, in parallel.

- :func:`load_spec`, :class:`Spec`, :class:`Cell` (:mod:`rl_coordconv.sweep.spec`): the YAML specs of
  ``experiments/``, validated on load;
- :func:`run_sweep`, :class:`SweepResult`, :func:`dry_run_text` (:mod:`rl_coordconv.sweep.runner`):
  the sweep folder, skip/resume/retry, failures recorded in the run folders;
- :class:`Executor`, :class:`LocalExecutor`, :data:`EXECUTORS` (:mod:`rl_coordconv.sweep.executors`):
  the swappable part that runs cells (a local process pool), and :class:`RayExecutor`
  (:mod:`rl_coordconv.sweep.ray_executor`): one Ray task per cell, locally or on a cluster;
- the progress display (:mod:`rl_coordconv.sweep.progress`) and the time estimate
  (:mod:`rl_coordconv.sweep.estimate`).

Nothing here imports torch at module level: a spawned worker sets its thread bounds first.
"""

from __future__ import annotations

from rl_coordconv.sweep.estimate import Estimate, estimate_sweep
from rl_coordconv.sweep.executors import EXECUTORS, Executor, LocalExecutor, Monitor, Placement, get_executor
from rl_coordconv.sweep.ray_executor import RayExecutor
from rl_coordconv.sweep.runner import SweepInterrupted, SweepResult, dry_run_text, run_sweep
from rl_coordconv.sweep.spec import ALGOS, Cell, Spec, load_spec, parse_spec
from rl_coordconv.sweep.worker import CellOutcome, CellTask

__all__ = [
    "ALGOS",
    "Cell",
    "CellOutcome",
    "CellTask",
    "EXECUTORS",
    "Estimate",
    "Executor",
    "LocalExecutor",
    "Monitor",
    "Placement",
    "RayExecutor",
    "Spec",
    "SweepInterrupted",
    "SweepResult",
    "dry_run_text",
    "estimate_sweep",
    "get_executor",
    "load_spec",
    "parse_spec",
    "run_sweep",
]
