"""How long a sweep should take: an ESTIMATE from a table of agent steps/s.

The table (:data:`STEPS_PER_SECOND`) holds end-to-end training throughput (environment + learning,
start-up included) of one ``rl-coordconv train`` run with the zoo presets on Breakout, by algorithm and
by torch threads of that run, as ``rl-coordconv bench`` measures it (the README lists the figures).
Single-threaded runs side by side use a small machine better than one run with many threads, which is
why the sweep runs one worker per core and bounds every worker's threads.

The sweep's time is estimated by placing the cells, in order, on the earliest free worker (what the
local executor does) and adding a fixed start-up cost per cell. Evaluation games are extra and not
estimated here (their length depends on how well the agent plays); your machine will differ too: the
numbers are a guide for planning, not a promise.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rl_coordconv.algorithms import ALGORITHMS
from rl_coordconv.checks import available_cpus
from rl_coordconv.sweep.spec import Cell

__all__ = ["STEPS_PER_SECOND", "STARTUP_SECONDS", "Estimate", "available_cores", "worker_rate", "estimate_sweep"]

#: Agent steps/s of ONE run on a 2-core x86 CPU: algo -> {torch threads: agent steps/s} (1 thread: each
#: of two runs side by side, the sweep's way; 2 threads: one run alone), every registered algorithm's
#: :attr:`~rl_coordconv.algorithms.Algorithm.steps_per_second`. Planning figures, not a promise.
STEPS_PER_SECOND: dict[str, dict[int, float]] = {a.name: dict(a.steps_per_second) for a in ALGORITHMS.values()}
#: Seconds a worker spends before its first agent step (spawn, imports, env and model construction).
STARTUP_SECONDS: float = 10.0


def available_cores() -> int:
    """CPU cores this process may run on (respects taskset/cgroup affinity where the OS tells).

    :return: at least 1
    """
    return available_cpus()


def worker_rate(
    algo: str, workers: int, cores: int, table: Mapping[str, Mapping[int, float]] = STEPS_PER_SECOND
) -> float:
    """Estimated agent steps/s of one worker when ``workers`` run side by side on ``cores`` cores.

    Each worker gets ``max(1, cores // workers)`` threads; more workers than cores share them.

    :param algo: a registered algorithm (``a2c``, ``ppo``)
    :param workers: workers running at once
    :param cores: CPU cores
    :param table: algo -> {threads: agent steps/s of one run}
    :return: agent steps per second
    """
    rates = table[algo]
    threads = max(1, cores // max(1, workers))
    best = max(t for t in rates if t <= threads) if any(t <= threads for t in rates) else min(rates)
    share = min(1.0, cores / max(1, workers))
    return rates[best] * share


@dataclass(frozen=True)
class Estimate:
    """A sweep's estimated wall-clock time.

    :param seconds: estimated wall-clock seconds for the cells still to run
    :param cells: cells still to run
    :param agent_steps: agent steps still to run
    :param workers: workers
    :param cores: cores assumed
    :param rates: algo -> estimated agent steps/s of one worker
    """

    seconds: float
    cells: int
    agent_steps: int
    workers: int
    cores: int
    rates: Mapping[str, float]


def estimate_sweep(cells: Sequence[Cell], agent_steps: int, workers: int, cores: int | None = None) -> Estimate:
    """Estimate the wall-clock time of running ``cells`` with ``workers`` workers.

    :param cells: the cells still to run, in the order they will start
    :param agent_steps: one cell's budget in agent steps
    :param workers: workers running at once
    :param cores: CPU cores (this machine's when None)
    :return: the :class:`Estimate` (training only; evaluation games are extra)
    """
    cores = cores or available_cores()
    running = min(workers, max(1, len(cells)))
    rates = {algo: worker_rate(algo, running, cores) for algo in sorted({c.algo for c in cells})}
    free_at = [0.0] * max(1, workers)
    heapq.heapify(free_at)
    for cell in cells:
        start = heapq.heappop(free_at)
        heapq.heappush(free_at, start + STARTUP_SECONDS + agent_steps / rates[cell.algo])
    return Estimate(
        seconds=max(free_at) if cells else 0.0,
        cells=len(cells),
        agent_steps=len(cells) * agent_steps,
        workers=workers,
        cores=cores,
        rates=rates,
    )
