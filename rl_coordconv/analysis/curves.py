"""Numbers over agent steps, computed: each extractor's learning curves per game (t-intervals over seeds)
and the sample-efficiency curve (the IQM against agent steps, rliable's stratified bootstrap).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from rl_coordconv.analysis import load, stats
from rl_coordconv.analysis.load import Run
from rl_coordconv.analysis.normalize import human_normalize
from rl_coordconv.analysis.results import AlgoResult, Curve, Settings

__all__ = ["budget_edges", "learning_curves", "sample_efficiency"]


def _label(extractor: str, runs: Sequence[Run]) -> str:
    n_incomplete = sum(not r.complete for r in runs)
    label = f"{extractor} (n={len(runs)})"
    return label[:-1] + f", {n_incomplete} incomplete)" if n_incomplete else label


def budget_edges(runs: Sequence[Run], bins: int) -> np.ndarray:
    """Bin edges in agent steps, evenly over the largest budget (or progress) of the runs.

    :param runs: the runs
    :param bins: the number of bins
    :return: the edges, shape ``(bins + 1,)``, from 0
    """
    budget = max([r.timesteps or 0 for r in runs] + [r.agent_steps for r in runs] + [1])
    return np.linspace(0.0, float(budget), bins + 1)


def learning_curves(game: str, runs: Sequence[Run], extractors: Sequence[str], s: Settings) -> list[Curve]:
    """Each extractor's training curve (binned training games) and, where runs evaluated, evaluation curve.

    :param game: the game
    :param runs: the runs of that game (one algorithm)
    :param extractors: the extractors, in report order
    :param s: the settings (bins, confidence)
    :return: one curve per kind and extractor with runs
    """
    edges = budget_edges(runs, s.bins)
    has_eval = any(r.eval_steps.size for r in runs)
    out: list[Curve] = []
    for kind in ("train", "eval") if has_eval else ("train",):
        for ext in extractors:
            group = [r for r in runs if r.extractor == ext]
            if not group:
                continue
            if kind == "train":
                x, values = edges[1:], load.curve_matrix(group, edges)
            else:
                x, values = load.eval_curve_matrix(group)
            if values.shape[1] == 0:
                continue
            mean, interval, counts = stats.mean_t_intervals(values, s.confidence)
            seeds = tuple(r.seed for r in group)
            out.append(Curve(game, kind, ext, _label(ext, group), x, values, seeds, mean, interval, counts))
    return out


def sample_efficiency(algo: str, res: AlgoResult, s: Settings) -> None:
    """IQM of human-normalised scores against agent steps, over the runs and games of the aggregates: sets
    ``res.efficiency`` and ``res.efficiency_source`` (a note in ``res.notes`` where points are left out).

    :param algo: the algorithm
    :param res: its results, with the run set arranged
    :param s: the settings
    """
    rs = res.runset
    games = list(rs.aggregate_games)
    if not rs.matrix_runs:
        return
    all_runs = [r for cols in rs.matrix_runs.values() for col in cols for r in col]
    grids = {tuple(r.eval_steps.tolist()) for r in all_runs}
    use_eval = len(grids) == 1 and len(next(iter(grids))) >= 2
    if use_eval:
        x = np.asarray(next(iter(grids)), dtype=float)
        source = "evaluations"
    else:
        edges = budget_edges(all_runs, s.bins)
        x = edges[1:]
        source = "training games"
    cubes: dict[str, np.ndarray] = {}
    for ext, columns in rs.matrix_runs.items():
        k = len(columns[0])
        cube = np.full((k, len(games), x.size), np.nan)
        for j, col in enumerate(columns):
            for i, run in enumerate(col):
                cube[i, j] = (
                    run.eval_means if use_eval else load.bin_returns(run.episode_steps, run.episode_returns, edges)
                )
        cubes[ext] = cube
    keep = np.all([np.isfinite(c).all(axis=(0, 1)) for c in cubes.values()], axis=0)
    if not keep.any():
        res.notes.append(
            f"{algo}: sample-efficiency curve not computed: no point in agent steps where every run has a score"
        )
        return
    if not keep.all():
        res.notes.append(
            f"{algo}: sample-efficiency curve: {int((~keep).sum())} of {keep.size} points left out, where some run "
            "has no score (no game finished by then, or the run did not get that far)"
        )
    x = x[keep]
    normalised = {
        ext: np.stack([human_normalize(c[:, :, k], games) for k in np.flatnonzero(keep)], axis=-1)
        for ext, c in cubes.items()
    }
    points, bands = stats.sample_efficiency_estimates(normalised, s.light_reps, s.seed, s.confidence)
    res.efficiency_source = source
    res.efficiency = pd.DataFrame(
        [
            {
                "algo": algo, "extractor": ext, "source": source, "agent_steps": round(float(x[k])),
                "iqm": float(points[ext][k]), "ci_low": float(bands[ext][0, k]), "ci_high": float(bands[ext][1, k]),
                "n_runs_per_game": normalised[ext].shape[0], "n_games": len(games),
            }
            for ext in normalised
            for k in range(x.size)
        ]
    )  # fmt: skip
