"""What a difference may be read as: seed-paired intervals, equivalence, per-game tests and their FDR.

Pure functions on score arrays, beside :mod:`~rl_coordconv.analysis.stats` (which holds rliable's
aggregates and their intervals):

* :func:`paired_iqm_difference_estimates`: IQM(X) - IQM(Y) with a stratified bootstrap that resamples
  *seeds*, the same seed indices on both sides within each game, so that a run of X and the run of Y
  with the same seed stay together (rliable's ``StratifiedBootstrap`` given both arrays: arch resamples
  every positional array with the same indices). Where seeds share everything but the extractor (the
  same environment seeds and, with ``coord_init="zeros"``, the same initial weights) this keeps whatever
  the seed explains out of the difference; where they share little it gives about the independent
  interval.
* :func:`equivalence_reading`: the two one-sided tests (Schuirmann 1987; Lakens 2017, "Equivalence
  Tests", Social Psychological and Personality Science 8(4)) read through intervals: at level alpha, the
  difference is *equivalent within +/-delta* when the (1 - 2 alpha) interval lies inside (-delta, +delta),
  and *better* or *worse* when the (1 - alpha) interval excludes 0; otherwise the runs are *inconclusive*.
* :func:`welch_p_values` and :func:`bh_q_values`: per-game Welch t-tests (scipy) and the
  Benjamini-Hochberg false-discovery-rate adjustment over games (Benjamini & Hochberg 1995, JRSS B
  57(1); ``scipy.stats.false_discovery_control``).
* :func:`paired_t_interval`: a one-sample t-interval of paired differences (scipy), for "did the final
  score beat the run's own start" over seeds.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rliable import metrics

from rl_coordconv.analysis.stats import bootstrap_level, seeded_global_rng

__all__ = [
    "READINGS",
    "Equivalence",
    "paired_iqm_difference_estimates",
    "equivalence_reading",
    "welch_p_values",
    "bh_q_values",
    "paired_t_interval",
]

#: The four readings of a difference, in the words the report uses.
READINGS: tuple[str, ...] = ("better", "worse", "equivalent", "inconclusive")


def _iqm_difference(x: np.ndarray, y: np.ndarray) -> float:
    return float(metrics.aggregate_iqm(x) - metrics.aggregate_iqm(y))


def paired_iqm_difference_estimates(
    scores_x: np.ndarray,
    scores_y: np.ndarray,
    reps: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, np.ndarray]:
    """IQM(X) - IQM(Y) with a seed-paired stratified bootstrap interval (expanded percentile).

    Row ``i`` of both arrays must be the same seed in every game. Each resample draws, per game, ``n``
    row indices with replacement and takes those rows from X *and* Y (rliable's ``StratifiedBootstrap``
    over both arrays), so paired runs stay paired. The percentiles are read at
    :func:`~rl_coordconv.analysis.stats.bootstrap_level` (Hesterberg 2015), as for the independent one.

    :param scores_x: shape ``(num_seeds, num_games)``
    :param scores_y: shape ``(num_seeds, num_games)``, the same seeds (rows) and games (columns)
    :param reps: bootstrap resamples
    :param seed: seed of the resampling
    :param confidence: coverage of the interval
    :return: ``(point, interval)`` with interval shape ``(2,)``; NaN interval with one seed
    :raises ValueError: when the shapes differ
    """
    x = np.asarray(scores_x, dtype=float)
    y = np.asarray(scores_y, dtype=float)
    if x.ndim != 2 or x.shape != y.shape or min(x.shape) < 1:
        raise ValueError(f"paired scores need the same (num_seeds, num_games) shape; got {x.shape} and {y.shape}")
    point = _iqm_difference(x, y)
    if x.shape[0] < 2:
        return point, np.full(2, np.nan)
    from rliable import library

    level = bootstrap_level(confidence, x.shape[0], x.shape[1])
    with seeded_global_rng(seed):
        bs = library.StratifiedBootstrap(x, y)
        ci = bs.conf_int(lambda a, b: np.array([_iqm_difference(a, b)]), reps=reps, size=level, method="percentile")
    return point, np.asarray(ci, dtype=float).reshape(2)


@dataclass(frozen=True)
class Equivalence:
    """The reading of one difference against a smallest effect of interest.

    :param reading: ``better``, ``worse``, ``equivalent`` or ``inconclusive`` (:data:`READINGS`)
    :param delta: the smallest effect of interest (NaN when none was declared)
    :param within: whether the (1 - 2 alpha) interval lies inside (-delta, +delta) (False without delta)
    :param alpha: the level of each one-sided test
    """

    reading: str
    delta: float
    within: bool
    alpha: float

    @property
    def declared(self) -> bool:
        """Whether a smallest effect of interest was declared."""
        return math.isfinite(self.delta)


def equivalence_reading(
    low: float, high: float, low_tost: float, high_tost: float, delta: float | None, alpha: float = 0.05
) -> Equivalence:
    """Read a difference's intervals as better, worse, equivalent within +/-delta, or inconclusive.

    The difference test uses the (1 - alpha) interval ``[low, high]``: excluding 0 reads as better
    (above) or worse (below). The two one-sided tests of equivalence at level alpha each (TOST;
    Schuirmann 1987, Lakens 2017) reject both "difference <= -delta" and "difference >= +delta" exactly
    when the (1 - 2 alpha) interval ``[low_tost, high_tost]`` lies inside (-delta, +delta). A difference can be
    both (resolved, but smaller than delta): the reading is then better or worse with ``within`` True.
    Without a declared delta nothing reads as equivalent.

    :param low: lower end of the (1 - alpha) interval
    :param high: upper end of the (1 - alpha) interval
    :param low_tost: lower end of the (1 - 2 alpha) interval
    :param high_tost: upper end of the (1 - 2 alpha) interval
    :param delta: the smallest effect of interest (> 0), None when not declared
    :param alpha: the level of the difference test and of each one-sided test
    :return: the reading
    :raises ValueError: when delta is not positive
    """
    if delta is not None and not delta > 0:
        raise ValueError(f"the smallest effect of interest must be positive; got {delta}")
    d = math.nan if delta is None else float(delta)
    finite = all(math.isfinite(v) for v in (low, high))
    within = bool(delta is not None and math.isfinite(low_tost) and math.isfinite(high_tost))
    within = within and -d < low_tost and high_tost < d
    if finite and low > 0:
        return Equivalence("better", d, within, alpha)
    if finite and high < 0:
        return Equivalence("worse", d, within, alpha)
    return Equivalence("equivalent" if within else "inconclusive", d, within, alpha)


def welch_p_values(scores_x: Sequence[np.ndarray], scores_y: Sequence[np.ndarray]) -> np.ndarray:
    """Two-sided Welch t-test p-value per game (``scipy.stats.ttest_ind(equal_var=False)``).

    :param scores_x: per game, X's scores
    :param scores_y: per game, Y's scores, the same games
    :return: shape ``(num_games,)``; NaN where a side has fewer than two runs; where both sides are
        constant, 1 when their values are equal and 0 when not (no variance to test against)
    """
    from scipy import stats as sps

    if len(scores_x) != len(scores_y):
        raise ValueError(f"scores_x and scores_y must hold the same games; got {len(scores_x)} and {len(scores_y)}")
    out = np.full(len(scores_x), np.nan)
    for g, (x, y) in enumerate(zip(scores_x, scores_y)):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if min(x.size, y.size) < 2:
            continue
        if np.ptp(x) == 0 and np.ptp(y) == 0:
            out[g] = 1.0 if x[0] == y[0] else 0.0
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out[g] = float(sps.ttest_ind(x, y, equal_var=False).pvalue)
    return out


def bh_q_values(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) over the finite p-values; NaN stays NaN.

    :param p_values: shape ``(num_tests,)``
    :return: shape ``(num_tests,)``: ``scipy.stats.false_discovery_control(p, method="bh")`` on the
        finite entries
    """
    from scipy import stats as sps

    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    if finite.any():
        q[finite] = sps.false_discovery_control(p[finite], method="bh")
    return q


def paired_t_interval(differences: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Mean of paired differences with its Student t-interval and two-sided p-value (``scipy.stats.ttest_1samp``).

    :param differences: one difference per pair (e.g. per seed: final score - start score)
    :param confidence: coverage of the interval
    :return: ``(mean, low, high, p)``; the interval and p are NaN with fewer than two pairs; a constant,
        non-zero set of differences gives a zero-width interval and p = 0 (1 when all are 0)
    """
    from scipy import stats as sps

    d = np.asarray(differences, dtype=float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return math.nan, math.nan, math.nan, math.nan
    mean = float(d.mean())
    if d.size < 2:
        return mean, math.nan, math.nan, math.nan
    if np.ptp(d) == 0:
        return mean, mean, mean, 1.0 if mean == 0 else 0.0
    result = sps.ttest_1samp(d, 0.0)
    ci = result.confidence_interval(confidence)
    return mean, float(ci.low), float(ci.high), float(result.pvalue)
