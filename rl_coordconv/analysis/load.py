"""Read run folders (see :mod:`rl_coordconv.runfolder`) into arrays for :mod:`rl_coordconv.analysis.stats`.

A run folder is any folder holding a ``config.yaml``; a sweep folder holds them under ``runs/``, but any
depth works. A run is *complete* when its ``status.json`` says so; the others are kept (and reported)
but left out of statistics unless asked for.

Units: ``agent_steps`` are environment steps summed over the parallel environments; scores are
whole-game, unclipped Atari scores.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rl_coordconv import runfolder, sweepfolder
from rl_coordconv.errors import UserError

__all__ = [
    "BASELINE",
    "extractor_order",
    "Run",
    "find_run_dirs",
    "load_run",
    "load_runs",
    "final_train_score",
    "final_eval_score",
    "bin_returns",
    "curve_matrix",
    "eval_curve_matrix",
]

#: The extractor every CoordConv variant is compared with.
BASELINE = "nature"


@dataclass(frozen=True)
class Run:
    """One run folder, read.

    :param path: the run folder
    :param config: its ``config.yaml`` (empty mapping if unreadable)
    :param algo: ``config["algo"]`` or ``"unknown"``
    :param game: ``config["game"]`` or ``"unknown"``
    :param extractor: ``config["extractor"]`` or ``"unknown"``
    :param seed: ``config["seed"]`` or None
    :param timesteps: the budget in agent steps (``config["timesteps"]``) or None
    :param complete: whether ``status.json`` says complete
    :param error: the first line of ``error.txt`` when the run failed, else None
    :param agent_steps: agent steps reached (``progress.json``, else the last logged row)
    :param frames_per_agent_step: frames / agent steps as logged (4 with frameskip 4), or None
    :param episode_steps: agent steps at which each training game finished, shape ``(num_games_played,)``
    :param episode_returns: whole-game score of each training game, shape ``(num_games_played,)``
    :param eval_steps: agent steps of each evaluation, shape ``(num_evaluations,)``
    :param eval_means: mean whole-game score of each evaluation, shape ``(num_evaluations,)``
    :param eval_games: evaluation games behind each mean, shape ``(num_evaluations,)``
    :param commits: the rl-coordconv commits that trained it (``status.json``'s ``commits``, else
        ``config.yaml``'s ``commit``); empty when the run records none
    :param machines: the computers that trained it (``status.json``'s ``machines``, else ``config.yaml``'s
        ``machine``); empty when the run records none
    :param wall_seconds: wall-clock seconds of training over all sessions (``status.json``), None when
        the run is not complete or does not say
    :param eval_returns: the whole-game scores of the last evaluation's games, shape ``(num_games,)``
        (empty without an evaluation, or when its ``returns`` column does not parse)
    """

    path: Path
    config: Mapping[str, Any]
    algo: str
    game: str
    extractor: str
    seed: int | None
    timesteps: int | None
    complete: bool
    error: str | None
    agent_steps: int
    frames_per_agent_step: float | None
    episode_steps: np.ndarray = field(repr=False)
    episode_returns: np.ndarray = field(repr=False)
    eval_steps: np.ndarray = field(repr=False)
    eval_means: np.ndarray = field(repr=False)
    eval_games: np.ndarray = field(repr=False)
    commits: tuple[str, ...] = ()
    machines: tuple[str, ...] = ()
    wall_seconds: float | None = None
    eval_returns: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    @property
    def name(self) -> str:
        """A short label: ``algo/game/extractor/seed``."""
        return f"{self.algo}/{self.game}/{self.extractor}/seed {self.seed if self.seed is not None else '?'}"


def extractor_order(names: Sequence[str]) -> list[str]:
    """Display order: the baseline ``nature`` first, then the others sorted.

    :param names: extractor names (repeats allowed)
    :return: distinct names in display order
    """
    distinct = sorted(set(names))
    return ([BASELINE] if BASELINE in distinct else []) + [n for n in distinct if n != BASELINE]


def find_run_dirs(root: str | os.PathLike[str]) -> list[Path]:
    """Every run folder under ``root`` (folders holding a ``config.yaml``), sorted; a run folder's own
    subfolders are not searched, nor ``root/report``. In a sweep folder (a ``spec.yaml`` beside ``runs/``)
    only ``runs/`` is searched, so that a study's folder may keep its pilots' sweep folders beside its own
    runs (``results/a2c-atari5/pilot-3m``) without their runs counting as the study's.

    :param root: a sweep folder, a folder of runs, or one run folder
    :return: the run folders
    """
    root = Path(root)
    if (root / runfolder.CONFIG).is_file():
        return [root]
    sweep = sweepfolder.SweepFolder(root)
    if sweep.has_spec() and sweep.runs.is_dir():
        root = sweep.runs  # a sweep folder's runs are its runs/, not other sweeps kept beside it
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here != root and runfolder.CONFIG in filenames:
            found.append(here)
            dirnames[:] = []
            continue
        dirnames[:] = sorted(d for d in dirnames if not (here == root and d == sweepfolder.REPORT))
    return sorted(found)


def _floats(rows: Iterable[Mapping[str, str]], *columns: str) -> list[tuple[float, ...]]:
    """Parse the given columns of each row, skipping rows that do not parse (a half-written last line)."""
    out = []
    for row in rows:
        try:
            out.append(tuple(float(row[c]) for c in columns))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def load_run(path: str | os.PathLike[str]) -> Run:
    """Read one run folder.

    :param path: the run folder
    :return: the run
    """
    path = Path(path)
    config = runfolder.read_config_data(path)  # an unreadable config still shows up in the report, as unknown
    episodes = _floats(runfolder.read_rows(path / runfolder.EPISODES), "agent_steps", "frames", "return")
    eval_rows = [
        row
        for row in runfolder.read_rows(path / runfolder.EVALUATIONS)
        if _floats([row], "agent_steps", "frames", "mean_return")
    ]
    evals = _floats(eval_rows, "agent_steps", "frames", "mean_return")
    eval_games = [_as_int(row.get("n_games")) or 0 for row in eval_rows]
    ep = np.array(episodes, dtype=float).reshape(-1, 3)
    ev = np.array(evals, dtype=float).reshape(-1, 3)
    logged = np.concatenate([ep[:, :2], ev[:, :2]])
    agent_steps = int(logged[:, 0].max()) if logged.size else 0
    progress = runfolder.Progress.peek(path)
    if progress is not None:
        agent_steps = max(agent_steps, progress.agent_steps)
    positive = logged[logged[:, 0] > 0]
    frames_per_step = float(positive[-1, 1] / positive[-1, 0]) if positive.size else None
    record = runfolder.ErrorRecord.read(path)
    error = record.summary if record is not None else None
    try:
        status = runfolder.RunStatus.read(path)
    except runfolder.RunFolderError:  # a damaged status.json: the run shows up, as incomplete
        status = None
    return Run(
        path=path,
        config=config,
        algo=str(config.get("algo", "unknown")),
        game=str(config.get("game", "unknown")),
        extractor=str(config.get("extractor", "unknown")),
        seed=_as_int(config.get("seed")),
        timesteps=_as_int(config.get("timesteps")),
        complete=bool(status and status.complete),  # runfolder.is_complete, on the status read above
        error=error,
        agent_steps=agent_steps,
        frames_per_agent_step=frames_per_step,
        episode_steps=ep[:, 0].copy(),
        episode_returns=ep[:, 2].copy(),
        eval_steps=ev[:, 0].copy(),
        eval_means=ev[:, 2].copy(),
        eval_games=np.array(eval_games, dtype=int),
        commits=tuple(str(c) for c in status.commits) if status and status.commits else _one(config, "commit"),
        machines=tuple(str(m) for m in status.machines) if status and status.machines else _one(config, "machine"),
        wall_seconds=status.wall_seconds if status else None,
        eval_returns=_last_returns(eval_rows),
    )


def _last_returns(rows: Sequence[Mapping[str, str]]) -> np.ndarray:
    """The ';'-separated ``returns`` of the last evaluation row (empty when absent or unparsable)."""
    if not rows:
        return np.zeros(0)
    try:
        return np.array([float(v) for v in str(rows[-1].get("returns") or "").split(";") if v != ""], dtype=float)
    except ValueError:
        return np.zeros(0)


def _one(config: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = config.get(key)
    return (str(value),) if value else ()


def _seed_key(run: Run) -> tuple[int, str]:
    return (run.seed if run.seed is not None else -1, str(run.path))


def load_runs(root: str | os.PathLike[str]) -> list[Run]:
    """Read every run folder under ``root``.

    :param root: a sweep folder (``root/runs/*``), any folder of run folders, or one run folder
    :return: the runs, sorted by (algo, game, extractor, seed, path)
    :raises UserError: when ``root`` is not a folder or holds no run folder
    """
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{str(root)!r} is not a folder; give the sweep's output folder (the --out of `sweep`).")
    dirs = find_run_dirs(root)
    if not dirs:
        raise UserError(
            f"no run folders (folders holding {runfolder.CONFIG}) under {str(root)!r}; "
            "give the sweep's output folder (the --out of `sweep`)."
        )
    runs = [load_run(d) for d in dirs]
    return sorted(runs, key=lambda r: (r.algo, r.game, r.extractor, *_seed_key(r)))


def final_train_score(run: Run, last_n: int = 100) -> float:
    """Mean whole-game score of the run's last ``last_n`` training games (all of them if fewer).

    :param run: the run
    :param last_n: how many games, counted back from the last one
    :return: the mean, NaN when the run finished no game
    """
    if run.episode_returns.size == 0:
        return math.nan
    return float(np.mean(run.episode_returns[-last_n:]))


def final_eval_score(run: Run) -> float:
    """Mean whole-game score of the run's last evaluation.

    :param run: the run
    :return: the mean, NaN when the run has no evaluation
    """
    if run.eval_means.size == 0:
        return math.nan
    return float(run.eval_means[-1])


def bin_returns(steps: np.ndarray, returns: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Mean score of the games that finished in each agent-step bin ``(edges[k], edges[k + 1]]``.

    A bin in which no game finished carries the previous bin's value (the last known score), but only
    up to the run's last finished game; bins before the first game and after the last one are NaN.

    :param steps: agent steps at which each game finished, shape ``(num_games_played,)``
    :param returns: each game's score, shape ``(num_games_played,)``
    :param edges: bin edges in agent steps, increasing, shape ``(num_bins + 1,)``
    :return: shape ``(num_bins,)``
    """
    steps = np.asarray(steps, dtype=float)
    returns = np.asarray(returns, dtype=float)
    num_bins = len(edges) - 1
    out = np.full(num_bins, np.nan)
    if steps.size == 0 or num_bins < 1:
        return out
    index = np.searchsorted(edges, steps, side="left") - 1
    index = np.clip(index, 0, num_bins - 1)
    sums = np.bincount(index, weights=returns, minlength=num_bins)
    counts = np.bincount(index, minlength=num_bins)
    have = counts > 0
    out[have] = sums[have] / counts[have]
    last = int(np.flatnonzero(have)[-1])
    for k in range(1, last + 1):
        if not have[k] and not np.isnan(out[k - 1]):
            out[k] = out[k - 1]
    return out


def curve_matrix(runs: Sequence[Run], edges: np.ndarray) -> np.ndarray:
    """Training learning curves of several runs, binned by agent steps (see :func:`bin_returns`).

    :param runs: the runs
    :param edges: bin edges in agent steps, shape ``(num_bins + 1,)``
    :return: shape ``(len(runs), num_bins)``, NaN where a run has no value
    """
    rows = [bin_returns(r.episode_steps, r.episode_returns, edges) for r in runs]
    return np.array(rows, dtype=float).reshape(len(runs), len(edges) - 1)


def eval_curve_matrix(runs: Sequence[Run]) -> tuple[np.ndarray, np.ndarray]:
    """Evaluation curves of several runs on the union of their evaluation points.

    :param runs: the runs
    :return: ``(steps, means)``: agent steps, shape ``(num_points,)``, and the evaluation means, shape
        ``(len(runs), num_points)``, NaN where a run was not evaluated at that point
    """
    steps = np.unique(np.concatenate([r.eval_steps for r in runs] or [np.zeros(0)]))
    means = np.full((len(runs), steps.size), np.nan)
    for i, run in enumerate(runs):
        cols = np.searchsorted(steps, run.eval_steps)
        means[i, cols] = run.eval_means
    return steps, means
