"""Comparisons, computed: the human-normalised aggregates with their profiles, the effect IQM(X) -
IQM(nature) with its paired and equivalence readings, the probability of improvement, and every game on
its own (Welch t-intervals, p- and q-values). Pure numbers into an :class:`~.results.AlgoResult`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from rl_coordconv.analysis import inference, stats
from rl_coordconv.analysis.load import BASELINE
from rl_coordconv.analysis.normalize import canonical_game, human_normalize, reference_scores
from rl_coordconv.analysis.results import AlgoResult, Settings

__all__ = ["aggregates_and_effects", "paired_rows", "per_game_comparison"]


def aggregates_and_effects(algo: str, res: AlgoResult, s: Settings) -> None:
    """Human-normalise the aggregate matrices and set ``res``'s aggregates, profiles, effects and probability
    of improvement (a note in ``res.notes`` where no comparison can be made).

    :param algo: the algorithm
    :param res: its results, with the run set arranged
    :param s: the settings
    """
    rs = res.runset
    games = list(rs.aggregate_games)
    res.normalised = {ext: human_normalize(m, games) for ext, m in rs.matrices.items()}
    if not res.normalised:
        return
    res.points, res.intervals = stats.aggregate_interval_estimates(res.normalised, s.reps, s.seed, s.confidence)
    res.aggregates = pd.DataFrame(
        [
            {
                "algo": algo,
                "extractor": ext,
                "metric": metric,
                "point": float(res.points[ext][m]),
                "ci_low": float(res.intervals[ext][0, m]),
                "ci_high": float(res.intervals[ext][1, m]),
                "n_runs_per_game": int(matrix.shape[0]),
                "n_games": int(matrix.shape[1]),
            }
            for ext, matrix in res.normalised.items()
            for m, metric in enumerate(stats.METRIC_NAMES)
        ]
    )
    res.taus = stats.default_taus(res.normalised)
    res.profiles, res.profile_bands = stats.performance_profile_estimates(
        res.normalised, res.taus, s.light_reps, s.seed, s.confidence
    )
    variants = [e for e in res.normalised if e != BASELINE]
    if BASELINE not in res.normalised or not variants:
        reason = (
            f"no scored '{BASELINE}' runs to compare with"
            if BASELINE not in res.normalised
            else "no other extractor with scored runs on these games"
        )
        res.notes.append(f"{algo}: effect size and probability of improvement not computed: {reason}")
        return
    base = res.normalised[BASELINE]
    effects, improvement = [], []
    for ext in variants:
        x = res.normalised[ext]
        point, band = stats.iqm_difference_estimates(x, base, s.reps, s.seed, s.confidence)
        p, p_band = stats.probability_of_improvement_estimates(x, base, s.light_reps, s.seed, s.confidence)
        common = {
            "algo": algo,
            "x": ext,
            "y": BASELINE,
            "n_runs_x": x.shape[0],
            "n_runs_y": base.shape[0],
            "n_games": len(games),
        }
        effects.append({**common, "iqm_x": stats.iqm(x), "iqm_y": stats.iqm(base), "difference": point,
                        "ci_low": float(band[0]), "ci_high": float(band[1]), **_effect_readings(res, ext, s, band)})  # fmt: skip
        improvement.append({**common, "probability": p, "ci_low": float(p_band[0]), "ci_high": float(p_band[1])})
    res.effects = pd.DataFrame(effects)
    res.improvement = pd.DataFrame(improvement)


def paired_rows(res: AlgoResult, ext: str) -> bool:
    """Whether ``ext``'s and the baseline's aggregate matrices hold the same seeds, row by row, in every game.

    :param res: one algorithm's results
    :param ext: a variant with an aggregate matrix
    :return: True when every game pairs the same seeds on both sides
    """
    cols_x, cols_y = res.runset.matrix_runs[ext], res.runset.matrix_runs[BASELINE]
    return all(
        [r.seed for r in cx] == [r.seed for r in cy] and None not in [r.seed for r in cx]
        for cx, cy in zip(cols_x, cols_y)
    )


def _effect_readings(res: AlgoResult, ext: str, s: Settings, band: np.ndarray) -> dict[str, Any]:
    """The seed-paired interval, the two one-sided tests' interval, the mean difference and the reading,
    beside the independent interval ``band`` of the IQM difference."""
    x, base = res.normalised[ext], res.normalised[BASELINE]
    _, tost = stats.iqm_difference_estimates(x, base, s.reps, s.seed, s.tost_confidence)
    paired = paired_rows(res, ext)
    p_band = (
        inference.paired_iqm_difference_estimates(x, base, s.reps, s.seed, s.confidence)[1]
        if paired
        else np.full(2, np.nan)
    )
    read = inference.equivalence_reading(
        float(band[0]), float(band[1]), float(tost[0]), float(tost[1]), s.smallest_effect, 1.0 - s.confidence
    )
    mean_x, mean_y = float(np.mean(x.mean(axis=0))), float(np.mean(base.mean(axis=0)))
    return {
        "paired": "yes" if paired else "no", "paired_ci_low": float(p_band[0]), "paired_ci_high": float(p_band[1]),
        "tost_ci_low": float(tost[0]), "tost_ci_high": float(tost[1]),
        "smallest_effect": read.delta, "reading": read.reading, "within_smallest_effect": "yes" if read.within else "no",
        "mean_x": mean_x, "mean_y": mean_y, "mean_difference": mean_x - mean_y,
    }  # fmt: skip


def per_game_comparison(algo: str, res: AlgoResult, s: Settings) -> None:
    """Set ``res.per_game``: per game and variant, the difference of means with Welch's t-interval (raw and
    human-normalised), P(X > nature), the Welch p-value and its Benjamini-Hochberg q-value.

    :param algo: the algorithm
    :param res: its results, with the run set arranged
    :param s: the settings
    """
    rs = res.runset
    table = reference_scores()
    rows: list[dict[str, Any]] = []
    for ext in rs.extractors:
        if ext == BASELINE:
            continue
        for game in rs.games:
            x, y = rs.scores(ext, game), rs.scores(BASELINE, game)
            if x.size == 0 or y.size == 0:
                continue
            diff, band = stats.difference_t_intervals(x.reshape(-1, 1), y.reshape(-1, 1), s.confidence)
            (p,) = stats.probability_of_improvement_per_game([x], [y])
            canon = canonical_game(game)
            scale = (table[canon][1] - table[canon][0]) if canon else math.nan
            rows.append(
                {
                    "algo": algo, "game": game, "x": ext, "y": BASELINE, "n_runs_x": x.size, "n_runs_y": y.size,
                    "mean_x": float(x.mean()), "mean_y": float(y.mean()), "difference": float(diff[0]),
                    "ci_low": float(band[0, 0]), "ci_high": float(band[1, 0]),
                    "hns_difference": float(diff[0]) / scale, "hns_ci_low": float(band[0, 0]) / scale,
                    "hns_ci_high": float(band[1, 0]) / scale, "probability": float(p),
                }
            )  # fmt: skip
    if rows:
        p = inference.welch_p_values(
            [rs.scores(r["x"], r["game"]) for r in rows], [rs.scores(BASELINE, r["game"]) for r in rows]
        )
        for ext in {r["x"] for r in rows}:  # the false-discovery rate over one variant's games
            idx = [i for i, r in enumerate(rows) if r["x"] == ext]
            q = inference.bh_q_values(p[idx])
            for i, qi in zip(idx, q):
                rows[i]["p_value"], rows[i]["q_value"] = float(p[i]), float(qi)
    res.per_game = pd.DataFrame(rows)
