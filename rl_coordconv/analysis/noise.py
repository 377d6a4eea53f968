"""The noise budget: how much of the spread between seeds is the score's own measurement noise.

A run's headline score is a mean over games (its last evaluation's games, or its last N training
games), so it carries measurement noise of variance ``s^2 / n`` (``s`` the standard deviation of those
games, ``n`` their number). The variance of the headline score between seeds holds that noise plus the
seeds' own spread. Per game and extractor this module sets the two side by side: the mean noise
variance over the runs, against the between-seed variance of their scores. Where the ratio is above 1/2,
noise is more than half of what separates seeds (more games per evaluation would narrow the
intervals); below 1/2, seeds dominate (more seeds would).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from rl_coordconv.analysis.runset import AlgoRunSet
from rl_coordconv.scores import Score

__all__ = ["noise_table", "noise_summary"]


def _games(run_scores: np.ndarray, returns: np.ndarray, score: Score) -> np.ndarray:
    return returns if score.kind == "eval" else run_scores[-score.last_n :]


def noise_table(rs: AlgoRunSet, score: Score) -> pd.DataFrame:
    """Per extractor and game: measurement-noise variance of the headline score against its between-seed variance.

    :param rs: one algorithm's runs, scored by the headline score
    :param score: the headline score (``eval``: the last evaluation's games; ``train_last_N``: the last N
        training games)
    :return: one row per (extractor, game) with at least two scored runs
    """
    rows = []
    for (ext, game), cell in rs.cells.items():
        if len(cell) < 2:
            continue
        noise = []
        for s in cell:
            games = _games(s.run.episode_returns, s.run.eval_returns, score)
            noise.append(float(np.var(games, ddof=1)) / games.size if games.size >= 2 else math.nan)
        between = float(np.var([s.score for s in cell], ddof=1))
        mean_noise = float(np.nanmean(noise)) if np.isfinite(noise).any() else math.nan
        rows.append(
            {
                "algo": rs.algo, "game": game, "extractor": ext, "n_runs": len(cell),
                "games_per_score": int(np.median([s.games for s in cell])), "noise_variance": mean_noise,
                "between_seed_variance": between,
                "ratio": mean_noise / between if between > 0 else math.nan,
            }
        )  # fmt: skip
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    order = {e: i for i, e in enumerate(rs.extractors)}
    return table.sort_values(["game", "extractor"], key=lambda c: c.map(order) if c.name == "extractor" else c)


def noise_summary(table: pd.DataFrame) -> str:
    """One sentence: the median ratio and where noise dominates.

    :param table: :func:`noise_table`'s rows of one algorithm
    :return: the sentence ("" without rows)
    """
    ratios = table["ratio"].to_numpy(dtype=float) if not table.empty else np.zeros(0)
    ratios = ratios[np.isfinite(ratios)]
    if ratios.size == 0:
        return ""
    worst = table.loc[table["ratio"].idxmax()]
    noisy = int((ratios > 0.5).sum())
    dominant = "seeds dominate" if np.median(ratios) <= 0.5 else "measurement noise dominates"
    return (
        f"The score's measurement noise is a median {np.median(ratios):.0%} of the between-seed variance "
        f"({dominant}); it is more than half of it in {noisy} of {ratios.size} game-extractor cells, most in "
        f"{worst['game']} ({worst['extractor']}: {worst['ratio']:.0%})."
    )
