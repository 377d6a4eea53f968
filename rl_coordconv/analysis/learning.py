"""The learning check: how far the agents got, before any comparison between them.

A comparison between two agents that barely play says little about either. So every answer opens with,
per algorithm and extractor:

* the IQM and median of human-normalised headline scores (0 = random play, 1 = the human reference),
  over the extractor's own games: those of the aggregates when they are the same games (a complete
  study), else every game where it has scored runs (a study still running, where the aggregates wait
  for the other extractor's runs), so that the level and the counts below describe the same games;
* the games whose mean headline score is below the random score;
* the games where the final score beats the run's own start, paired over seeds: per seed, the headline
  score minus the mean of that run's first ``k`` training games (``k`` = :data:`START_GAMES`, or half of
  the run's games when it played fewer than twice that, so the two never use the same games when the
  headline is its last training games), then the mean of those differences with a 95% Student
  t-interval over seeds (``scipy.stats.ttest_1samp``); "improves" is a positive mean, "clearly improves"
  an interval above 0;
* per run, its own test: the last ``k`` training games against its first ``k`` (Welch's standard error
  of the difference of the two means): "clearly improves" when the difference exceeds two standard errors.
  With one seed per game (a pilot) this is the only test there is.

A baseline whose IQM is below :data:`NEAR_RANDOM_IQM` (5% of the way from random to human), or fewer
than half of whose runs clearly beat their own start (the per-run test, which needs no particular number
of seeds), is called near random in plain words.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rl_coordconv.analysis import stats
from rl_coordconv.analysis.inference import paired_t_interval
from rl_coordconv.analysis.load import Run
from rl_coordconv.analysis.normalize import canonical_game, human_normalize, reference_scores
from rl_coordconv.analysis.runset import AlgoRunSet, extractor_matrix

__all__ = [
    "START_GAMES",
    "NEAR_RANDOM_IQM",
    "RunLearning",
    "run_learning",
    "learning_table",
    "learning_summary",
    "own_normalised",
    "pass_rule",
]

#: Training games at a run's start (and end) that its own learning test compares.
START_GAMES = 100
#: Below this IQM of human-normalised scores a baseline is "near random" (5% of the way to human).
NEAR_RANDOM_IQM = 0.05


@dataclass(frozen=True)
class RunLearning:
    """One run against its own start.

    :param games: training games the run finished
    :param k: games in each window (first ``k``, last ``k``)
    :param first: mean whole-game score of the first ``k`` training games
    :param last: mean of the last ``k``
    :param se: Welch's standard error of ``last - first``
    """

    games: int
    k: int
    first: float
    last: float
    se: float

    @property
    def difference(self) -> float:
        """``last - first``."""
        return self.last - self.first

    @property
    def clearly_improves(self) -> bool:
        """The last games beat the first by more than two standard errors."""
        return math.isfinite(self.se) and self.difference > 2.0 * self.se


def _window(games: int, k: int = START_GAMES) -> int:
    return max(1, min(k, games // 2))


def run_learning(run: Run, k: int = START_GAMES) -> RunLearning:
    """Compare a run's last ``k`` training games with its first ``k`` (fewer, half its games each, when it
    played fewer than ``2 k``).

    :param run: the run
    :param k: games per window
    :return: the comparison; NaN means and standard error when the run finished fewer than 2 games
    """
    returns = np.asarray(run.episode_returns, dtype=float)
    n = int(returns.size)
    if n < 2:
        return RunLearning(n, n, math.nan, math.nan, math.nan)
    w = _window(n, k)
    first, last = returns[:w], returns[-w:]
    if w < 2:
        se = math.nan
    else:
        se = math.sqrt(first.var(ddof=1) / w + last.var(ddof=1) / w)
    return RunLearning(n, w, float(first.mean()), float(last.mean()), se)


def _start(run: Run) -> float:
    """Mean of the run's first training games (:func:`run_learning`'s window)."""
    n = int(run.episode_returns.size)
    if n == 0:
        return math.nan
    return float(np.mean(run.episode_returns[: _window(n)]))


def learning_table(rs: AlgoRunSet, confidence: float = 0.95) -> pd.DataFrame:
    """Per extractor and game: how far the runs got and whether they beat their own start.

    :param rs: one algorithm's runs, scored by the headline score
    :param confidence: coverage of the paired t-interval over seeds
    :return: one row per (extractor, game) with scored runs
    """
    table = reference_scores()
    rows = []
    for ext in rs.extractors:
        for game in rs.games:
            cell = rs.cells.get((ext, game), ())
            if not cell:
                continue
            final = np.array([s.score for s in cell], dtype=float)
            start = np.array([_start(s.run) for s in cell], dtype=float)
            mean, low, high, p = paired_t_interval(final - start, confidence)
            own = [run_learning(s.run) for s in cell]
            canon = canonical_game(game)
            random_score, human = table[canon] if canon else (math.nan, math.nan)
            final_mean = float(final.mean())
            rows.append(
                {
                    "algo": rs.algo, "game": game, "extractor": ext, "n_runs": len(cell),
                    "random": random_score, "human": human, "final_mean": final_mean,
                    "final_hns": (final_mean - random_score) / (human - random_score) if canon else math.nan,
                    "below_random": bool(canon and final_mean < random_score),
                    "start_mean": float(np.nanmean(start)) if np.isfinite(start).any() else math.nan,
                    "gain": mean, "gain_ci_low": low, "gain_ci_high": high, "gain_p": p,
                    "runs_clearly_improving": sum(r.clearly_improves for r in own),
                }
            )  # fmt: skip
    return pd.DataFrame(rows)


def own_normalised(rs: AlgoRunSet, extractor: str) -> tuple[list[str], np.ndarray]:
    """One extractor's human-normalised scores on all of its own games with reference scores.

    :param rs: one algorithm's runs
    :param extractor: the extractor
    :return: ``(games, scores)``, scores of shape ``(num_runs, len(games))`` evened as the aggregates' are
        (:func:`~rl_coordconv.analysis.runset.extractor_matrix`); no games, an empty matrix
    """
    games = [g for g in rs.games if (extractor, g) in rs.cells and canonical_game(g)]
    if not games:
        return games, np.empty((0, 0))
    return games, human_normalize(extractor_matrix(rs, extractor, games), games)


def _own_level(rs: AlgoRunSet, extractor: str) -> tuple[float, float]:
    """IQM and median of one extractor's human-normalised scores on its own games."""
    games, scores = own_normalised(rs, extractor)
    if not games:
        return math.nan, math.nan
    values = stats.aggregate_metrics(scores)
    return float(values[stats.METRIC_NAMES.index("IQM")]), float(values[stats.METRIC_NAMES.index("Median")])


def learning_summary(table: pd.DataFrame, aggregates: pd.DataFrame, rs: AlgoRunSet) -> pd.DataFrame:
    """Per extractor: the level reached and in how many games it beats its start.

    The level (IQM, median) is the aggregates' where the extractor's games with reference scores are the
    aggregates' games, else computed on those games of its own (:func:`_own_level`): while a study runs,
    the aggregates hold only the games every extractor has reached, and the level beside "below random in
    k of n games" must be over the same n games. ``level_games`` says how many games the level covers.

    :param table: :func:`learning_table`'s rows of one algorithm
    :param aggregates: that algorithm's aggregates (IQM and median rows per extractor)
    :param rs: the algorithm's runs, as the table was built from
    :return: one row per extractor
    """
    points = {(r["extractor"], r["metric"]): r["point"] for r in aggregates.to_dict("records")}
    rows = []
    for ext, group in table.groupby("extractor", sort=False):
        g = group.to_dict("records")
        with_interval = [r for r in g if math.isfinite(r["gain_ci_low"])]
        runs = int(group["n_runs"].sum())
        clearly_runs = int(group["runs_clearly_improving"].sum())
        own = [r["game"] for r in g if canonical_game(r["game"])]
        if tuple(own) == rs.aggregate_games and (ext, "IQM") in points:
            iqm, median = points[(ext, "IQM")], points[(ext, "Median")]
        else:
            iqm, median = _own_level(rs, str(ext))
        rows.append(
            {
                "algo": g[0]["algo"], "extractor": ext, "n_games": len(g), "level_games": len(own),
                "iqm": iqm, "median": median,
                "games_below_random": sum(bool(r["below_random"]) for r in g),
                "games_improving": sum(math.isfinite(r["gain"]) and r["gain"] > 0 for r in g),
                "games_clearly_improving": sum(r["gain_ci_low"] > 0 for r in with_interval),
                "games_with_interval": len(with_interval),
                "runs": runs, "runs_clearly_improving": clearly_runs,
                "near_random": bool((math.isfinite(iqm) and iqm < NEAR_RANDOM_IQM) or 2 * clearly_runs < runs),
            }
        )  # fmt: skip
    return pd.DataFrame(rows)


def pass_rule(runs: Sequence[Run], k: int = START_GAMES) -> tuple[int, int]:
    """A pilot's pass rule: how many runs clearly beat their own start (:func:`run_learning`).

    :param runs: the pilot's runs (one per game)
    :param k: games per window
    :return: ``(clearly improving, runs)``
    """
    return sum(run_learning(r, k).clearly_improves for r in runs), len(runs)
