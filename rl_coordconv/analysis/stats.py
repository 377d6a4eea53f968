"""Statistics on score arrays: pure functions, arrays in, numbers out.

Everything here follows Agarwal, Schwarzer, Castro, Courville and Bellemare, "Deep Reinforcement
Learning at the Edge of the Statistical Precipice" (NeurIPS 2021) and uses its library, rliable:

* seeds (runs) are the unit of replication: score arrays are ``(num_runs, num_games)``, one score per
  run per game, never one per evaluation episode;
* aggregates are the interquartile mean (IQM), median, mean and optimality gap of human-normalised
  scores, each with a percentile confidence interval from the *stratified* bootstrap (runs are resampled
  within each game);
* the probability of improvement P(X > Y) is the Mann-Whitney U statistic per game, averaged over
  games (games pair the two algorithms; their runs need not);
* performance profiles give the fraction of runs scoring above each threshold tau (rliable's
  ``score_distributions``);
* the effect of a variant is IQM(variant) - IQM(baseline), with its own stratified-bootstrap interval
  (two overlapping intervals say little about their difference);
* sample-efficiency curves are the IQM at each point in agent steps, with stratified-bootstrap bands
  (rliable's ``plot_utils.plot_sample_efficiency_curve`` draws them).

Stratified-bootstrap intervals are *expanded percentile* intervals (Hesterberg 2015, "What Teachers
Should Know About the Bootstrap", The American Statistician 69(4), arXiv:1411.5279; ``ExpandProbs`` in
his R package resample): a bootstrap resamples each game's n runs from their empirical distribution,
whose variance is (n - 1) / n of the runs' unbiased variance, so with 3 runs per game its plain
percentile interval is about 18% too narrow. rliable computes the interval; :func:`bootstrap_level`
only chooses the percentiles, at the level whose normal quantile is sqrt(n / (n - 1)) t_{df}, with df =
games x (n - 1) (Hesterberg's rule, whose df is n - 1 for one sample, with the degrees of freedom of a
variance pooled over games). On real Atari 100k runs (DrQ(eps) and SPR, 100 runs per game, Agarwal et
al.'s data) rliable's plain 95% interval of an IQM difference covered 88% with 3 runs per game, the
expanded one 95%. The probability of improvement, a rank statistic, keeps the plain percentile interval,
which covered 92-95% there (expanded, it over-covered). ``experiments/coverage/README.md`` holds every
measured figure, including one algorithm's own aggregates (its IQM about 90% with 3 runs per game and
93-94% with 5, its median far less) and its performance-profile bands (91-96% at thresholds a third to a
half of the scores exceed, less in the tail).

Intervals over the few seeds of ONE game (per-game means, learning-curve bins, per-game differences)
are Student t-intervals (Welch's for differences, scipy): a percentile bootstrap over 2-5 seeds covers
far less than its nominal 95% (it cannot reach beyond the seeds' range), while the t-interval is exact
for normal scores and close to nominal for moderately skewed ones. The stratified bootstrap is what
Agarwal et al. argue for with many games, so it is kept for aggregates over games.

rliable resamples with NumPy's *global* random generator. Every function that bootstraps takes a
``seed``, seeds the global generator with it for the duration of the call and restores the caller's
state afterwards, so the same inputs always give the same intervals.

A confidence interval from a single run is not defined: where a column (or an algorithm) has fewer
than two runs, its interval is NaN and callers should say "n/a".
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from rliable import metrics

__all__ = [
    "METRIC_NAMES",
    "seeded_global_rng",
    "bootstrap_level",
    "iqm",
    "aggregate_metrics",
    "aggregate_interval_estimates",
    "mean_t_intervals",
    "difference_t_intervals",
    "probability_of_improvement",
    "probability_of_improvement_estimates",
    "probability_of_improvement_per_game",
    "iqm_difference_estimates",
    "sample_efficiency_estimates",
    "default_taus",
    "performance_profile_estimates",
]

#: The aggregate metrics, in the order :func:`aggregate_metrics` returns them.
METRIC_NAMES: tuple[str, ...] = ("IQM", "Median", "Mean", "Optimality Gap")


def _library() -> Any:
    """Import ``rliable.library`` (which needs the ``arch`` package) with a useful message on failure."""
    try:
        from rliable import library
    except Exception as err:  # arch 7 fails to import under pandas 3; arch 8 drops rliable's random_state
        raise ImportError(
            "rliable's bootstrap needs the 'arch' package to import: install 'arch<8' with 'pandas<3' "
            f"(pip install 'arch<8' 'pandas<3'); the import failed with: {err}"
        ) from err
    return library


@contextlib.contextmanager
def seeded_global_rng(seed: int) -> Iterator[None]:
    """Seed NumPy's global generator (which rliable resamples with) and restore it afterwards.

    :param seed: the seed used inside the ``with`` block
    """
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


#: The highest level asked of the percentile bootstrap (which needs a level below 1).
_MAX_LEVEL = 1.0 - 1e-9


def bootstrap_level(confidence: float, runs: int, games: int) -> float:
    """The percentile level at which a stratified bootstrap over ``runs`` runs per game gives an interval
    of coverage ``confidence``: the expanded percentile interval (Hesterberg 2015, arXiv:1411.5279).

    The level's normal quantile is ``sqrt(runs / (runs - 1)) * t_{(1 + confidence) / 2, df}`` with
    ``df = games * (runs - 1)``: the first factor undoes the bootstrap's (n - 1) / n variance, the t
    quantile the estimation of that variance. 95% becomes 98.6% with 3 runs per game on 26 games, 97.3%
    with 5, and tends to 95% as runs grow. With very few runs and games (2 runs of 1 game: a quantile of
    18) the level is capped just below 1, where the interval is the whole range of the resamples.

    :param confidence: the coverage wanted, in (0, 1)
    :param runs: runs per game (the fewest of any side resampled)
    :param games: games (strata)
    :return: the level to ask the percentile bootstrap for
    :raises ValueError: with fewer than 2 runs or no game
    """
    if runs < 2 or games < 1:
        raise ValueError(f"an expanded interval needs at least 2 runs per game and 1 game; got {runs} and {games}")
    from scipy import stats as sps

    quantile = math.sqrt(runs / (runs - 1)) * float(sps.t.ppf((1.0 + confidence) / 2.0, games * (runs - 1)))
    return min(float(2.0 * sps.norm.cdf(quantile) - 1.0), _MAX_LEVEL)


def _level(confidence: float, *sides: np.ndarray) -> float:
    """:func:`bootstrap_level` for score arrays ``(num_runs, num_games, ...)`` resampled together."""
    return bootstrap_level(confidence, min(s.shape[0] for s in sides), sides[0].shape[1])


def _check_matrix(scores: np.ndarray, name: str = "scores") -> np.ndarray:
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2 or scores.shape[0] < 1 or scores.shape[1] < 1:
        raise ValueError(f"{name} must have shape (num_runs, num_games) with both >= 1; got {scores.shape}")
    return scores


def iqm(scores: np.ndarray) -> float:
    """Interquartile mean: the mean of the middle 50% of all run x game scores (rliable's ``aggregate_iqm``).

    :param scores: shape ``(num_runs, num_games)``
    :return: the 25%-trimmed mean over all entries
    """
    return float(metrics.aggregate_iqm(_check_matrix(scores)))


def aggregate_metrics(scores: np.ndarray) -> np.ndarray:
    """IQM, median, mean and optimality gap (gamma = 1) of a score matrix.

    Median and mean are taken over the per-game means (rliable's definitions); IQM and optimality gap
    over all run x game scores.

    :param scores: human-normalised scores, shape ``(num_runs, num_games)``
    :return: shape ``(4,)`` in the order of :data:`METRIC_NAMES`
    """
    scores = _check_matrix(scores)
    return np.array(
        [
            metrics.aggregate_iqm(scores),
            metrics.aggregate_median(scores),
            metrics.aggregate_mean(scores),
            metrics.aggregate_optimality_gap(scores),
        ],
        dtype=float,
    )


def aggregate_interval_estimates(
    score_dict: Mapping[str, np.ndarray],
    reps: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Aggregate metrics with stratified-bootstrap confidence intervals (rliable; expanded percentile,
    :func:`bootstrap_level`).

    :param score_dict: algorithm -> human-normalised scores, shape ``(num_runs, num_games)``
    :param reps: bootstrap resamples
    :param seed: seed of the resampling
    :param confidence: coverage of the intervals
    :return: ``(points, intervals)``: algorithm -> shape ``(4,)`` (order of :data:`METRIC_NAMES`), and
        algorithm -> shape ``(2, 4)`` (lower row, upper row); NaN intervals for an algorithm with one run
    """
    library = _library()
    points: dict[str, np.ndarray] = {}
    intervals: dict[str, np.ndarray] = {}
    for key, scores in score_dict.items():
        scores = _check_matrix(scores, f"scores of {key!r}")
        points[key] = aggregate_metrics(scores)
        if scores.shape[0] < 2:
            intervals[key] = np.full((2, len(METRIC_NAMES)), np.nan)
            continue
        with seeded_global_rng(seed):
            _, ci = library.get_interval_estimates(
                {key: scores}, aggregate_metrics, reps=reps, confidence_interval_size=_level(confidence, scores)
            )
        intervals[key] = np.asarray(ci[key], dtype=float)
    return points, intervals


def mean_t_intervals(values: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over runs of each column, with a Student t-interval per column.

    Used for per-game final scores (columns are games) and learning curves (columns are points in
    agent steps). NaN marks a missing value: each column uses its finite entries only, so columns may
    hold different numbers of runs. The interval is ``mean +- t_{(1+confidence)/2, n-1} * s / sqrt(n)``
    with ``s`` the sample standard deviation (``scipy.stats.t``).

    :param values: shape ``(num_runs, num_columns)``, NaN where a run has no value
    :param confidence: coverage of the intervals
    :return: ``(means, intervals, counts)``: shape ``(num_columns,)`` (NaN for an empty column),
        shape ``(2, num_columns)`` (NaN where a column has fewer than two runs), and the number of runs
        behind each column, shape ``(num_columns,)``
    """
    from scipy import stats as sps

    values = _check_matrix(values, "values")
    finite = np.isfinite(values)
    counts = finite.sum(axis=0)
    filled = np.where(finite, values, 0.0)
    n = np.maximum(counts, 1)
    means = np.where(counts > 0, filled.sum(axis=0) / n, np.nan)
    squares = np.where(finite, (values - means) ** 2, 0.0).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        sem = np.sqrt(squares / np.maximum(counts - 1, 1) / n)
        low, high = sps.t.interval(confidence, np.maximum(counts - 1, 1), loc=means, scale=sem)
    intervals = np.where(counts >= 2, np.stack([low, high]), np.nan)
    # a column of identical values has a zero-width interval at its mean (scipy gives NaN for scale 0)
    same = (counts >= 2) & (sem == 0)
    intervals[:, same] = means[same]
    return means, intervals, counts


def difference_t_intervals(
    scores_x: np.ndarray, scores_y: np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Difference of means ``mean(X) - mean(Y)`` per column, with Welch's t-interval (``scipy.stats.ttest_ind``
    with ``equal_var=False``: the two sides may have different numbers of runs and variances).

    :param scores_x: shape ``(num_runs_x, num_columns)``
    :param scores_y: shape ``(num_runs_y, num_columns)``, the same columns
    :param confidence: coverage of the intervals
    :return: ``(differences, intervals)``: shape ``(num_columns,)`` and ``(2, num_columns)``; the interval
        is NaN where a side has fewer than two runs, and zero-width when both sides are constant
    """
    from scipy import stats as sps

    x = _check_matrix(scores_x, "scores_x")
    y = _check_matrix(scores_y, "scores_y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"scores_x and scores_y must have the same columns; got {x.shape[1]} and {y.shape[1]}")
    diff = x.mean(axis=0) - y.mean(axis=0)
    intervals = np.full((2, x.shape[1]), np.nan)
    if min(x.shape[0], y.shape[0]) < 2:
        return diff, intervals
    constant = (np.ptp(x, axis=0) == 0) & (np.ptp(y, axis=0) == 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = sps.ttest_ind(x, y, axis=0, equal_var=False).confidence_interval(confidence)
    intervals[0], intervals[1] = ci.low, ci.high
    intervals[:, constant] = diff[constant]
    return diff, intervals


def _improvement(scores_x: np.ndarray, scores_y: np.ndarray) -> float:
    """rliable's ``metrics.probability_of_improvement``, vectorised over games and pairs of runs.

    Per game, the Mann-Whitney U of X against Y (pairs with x > y, plus one half per tie) over
    ``n_X * n_Y``, then the mean over games: the same numbers rliable computes with ``scipy.stats``
    game by game (U is a multiple of one half, exact in floating point), about 50x faster, which matters
    inside a bootstrap of thousands of resamples over 26 games.
    """
    pairs = scores_x.shape[0] * scores_y.shape[0]
    greater = (scores_x[:, None, :] > scores_y[None, :, :]).sum(axis=(0, 1))
    ties = (scores_x[:, None, :] == scores_y[None, :, :]).sum(axis=(0, 1))
    return float(np.mean((greater + 0.5 * ties) / pairs))


def probability_of_improvement(scores_x: np.ndarray, scores_y: np.ndarray) -> float:
    """P(X > Y): per game, the Mann-Whitney U of X's runs against Y's runs divided by the number of pairs
    (ties count one half), averaged over games (rliable's ``probability_of_improvement``).

    :param scores_x: shape ``(num_runs_x, num_games)``
    :param scores_y: shape ``(num_runs_y, num_games)``, the same games in the same column order
    :return: a probability in [0, 1]; 0.5 means no difference
    """
    scores_x = _check_matrix(scores_x, "scores_x")
    scores_y = _check_matrix(scores_y, "scores_y")
    if scores_x.shape[1] != scores_y.shape[1]:
        raise ValueError(
            f"scores_x and scores_y must hold the same games; got {scores_x.shape[1]} and {scores_y.shape[1]} columns"
        )
    return _improvement(scores_x, scores_y)


def probability_of_improvement_estimates(
    scores_x: np.ndarray,
    scores_y: np.ndarray,
    reps: int = 2_000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, np.ndarray]:
    """P(X > Y) with a stratified independent bootstrap interval (rliable; X's and Y's runs resampled apart).

    The plain percentile interval, not the expanded one of the other aggregates: on real Atari 100k runs
    (``experiments/coverage/``) it covered 92-95% at 95% with 3 and 5 runs per game, where the expanded
    one covered 97-98.5%: this rank statistic does not follow the (n - 1) / n rule of means.

    :param scores_x: shape ``(num_runs_x, num_games)``
    :param scores_y: shape ``(num_runs_y, num_games)``, the same games in the same column order
    :param reps: bootstrap resamples
    :param seed: seed of the resampling
    :param confidence: coverage of the interval
    :return: ``(point, interval)`` with interval shape ``(2,)``; NaN when either side has one run
    """
    point = probability_of_improvement(scores_x, scores_y)
    scores_x = np.asarray(scores_x, dtype=float)
    scores_y = np.asarray(scores_y, dtype=float)
    if min(scores_x.shape[0], scores_y.shape[0]) < 2:
        return point, np.full(2, np.nan)
    library = _library()
    with seeded_global_rng(seed):
        _, ci = library.get_interval_estimates(
            {"x,y": [scores_x, scores_y]},
            _improvement,
            reps=reps,
            confidence_interval_size=confidence,
        )
    return point, np.asarray(ci["x,y"], dtype=float).reshape(2)


def probability_of_improvement_per_game(scores_x: Sequence[np.ndarray], scores_y: Sequence[np.ndarray]) -> np.ndarray:
    """P(X > Y) game by game: a run of X against a run of Y, Mann-Whitney U / (n_X n_Y), ties count one
    half (rliable's ``probability_of_improvement`` on one game at a time, so games may hold any number
    of runs).

    :param scores_x: per game, X's scores, each of shape ``(num_runs_x_g,)``
    :param scores_y: per game, Y's scores, each of shape ``(num_runs_y_g,)``
    :return: shape ``(num_games,)``
    """
    if len(scores_x) != len(scores_y):
        raise ValueError(f"scores_x and scores_y must hold the same games; got {len(scores_x)} and {len(scores_y)}")
    out = [
        _improvement(np.asarray(x, dtype=float).reshape(-1, 1), np.asarray(y, dtype=float).reshape(-1, 1))
        for x, y in zip(scores_x, scores_y)
    ]
    return np.array(out, dtype=float)


def iqm_difference_estimates(
    scores_x: np.ndarray,
    scores_y: np.ndarray,
    reps: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, np.ndarray]:
    """The effect IQM(X) - IQM(Y) with a stratified independent bootstrap interval (rliable: X's and Y's
    runs resampled apart, within each game; expanded percentile, :func:`bootstrap_level`).

    :param scores_x: human-normalised scores of X, shape ``(num_runs_x, num_games)``
    :param scores_y: human-normalised scores of Y, shape ``(num_runs_y, num_games)``, the same games
    :param reps: bootstrap resamples
    :param seed: seed of the resampling
    :param confidence: coverage of the interval
    :return: ``(point, interval)`` with interval shape ``(2,)``; NaN when either side has one run
    """
    x = _check_matrix(scores_x, "scores_x")
    y = _check_matrix(scores_y, "scores_y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"scores_x and scores_y must hold the same games; got {x.shape[1]} and {y.shape[1]}")
    point = iqm(x) - iqm(y)
    if min(x.shape[0], y.shape[0]) < 2:
        return point, np.full(2, np.nan)
    library = _library()
    with seeded_global_rng(seed):
        _, ci = library.get_interval_estimates(
            {"x-y": [x, y]}, _iqm_difference, reps=reps, confidence_interval_size=_level(confidence, x, y)
        )
    return point, np.asarray(ci["x-y"], dtype=float).reshape(2)


def _iqm_difference(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.array([metrics.aggregate_iqm(x) - metrics.aggregate_iqm(y)])


def _iqm_per_point(scores: np.ndarray) -> np.ndarray:
    """rliable's ``aggregate_iqm`` (scipy's 25% ``trim_mean`` over all runs x games) at every point at once."""
    from scipy import stats as sps

    return np.asarray(sps.trim_mean(scores.reshape(-1, scores.shape[-1]), 0.25, axis=0), dtype=float)


def sample_efficiency_estimates(
    score_dict: Mapping[str, np.ndarray],
    reps: int = 2_000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """IQM at each point of training with stratified-bootstrap bands, as in rliable's sample-efficiency
    curves (the bootstrap resamples whole runs, so a run keeps its curve).

    :param score_dict: algorithm -> human-normalised scores, shape ``(num_runs, num_games, num_points)``
    :param reps: bootstrap resamples
    :param seed: seed of the resampling
    :param confidence: coverage of the bands
    :return: ``(points, bands)``: algorithm -> shape ``(num_points,)``, and algorithm -> shape
        ``(2, num_points)`` (NaN for an algorithm with one run)
    """
    points: dict[str, np.ndarray] = {}
    bands: dict[str, np.ndarray] = {}
    for key, scores in score_dict.items():
        scores = np.asarray(scores, dtype=float)
        if scores.ndim != 3 or min(scores.shape) < 1:
            raise ValueError(f"scores of {key!r} must have shape (num_runs, num_games, num_points); got {scores.shape}")
        points[key] = _iqm_per_point(scores)
        if scores.shape[0] < 2:
            bands[key] = np.full((2, scores.shape[-1]), np.nan)
            continue
        library = _library()
        with seeded_global_rng(seed):
            _, ci = library.get_interval_estimates(
                {key: scores}, _iqm_per_point, reps=reps, confidence_interval_size=_level(confidence, scores)
            )
        bands[key] = np.asarray(ci[key], dtype=float).reshape(2, scores.shape[-1])
    return points, bands


def default_taus(score_dict: Mapping[str, np.ndarray], num: int = 51) -> np.ndarray:
    """Thresholds for performance profiles: from min(0, lowest score) to max(1, highest score).

    :param score_dict: algorithm -> scores, shape ``(num_runs, num_games)``
    :param num: number of thresholds
    :return: shape ``(num,)``
    """
    flat = np.concatenate([np.asarray(s, dtype=float).ravel() for s in score_dict.values()] or [np.zeros(1)])
    flat = flat[np.isfinite(flat)]
    low = min(0.0, float(flat.min())) if flat.size else 0.0
    high = max(1.0, float(flat.max())) if flat.size else 1.0
    return np.linspace(low, high, num)


def performance_profile_estimates(
    score_dict: Mapping[str, np.ndarray],
    taus: Sequence[float] | np.ndarray,
    reps: int = 2_000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Run-score performance profiles (rliable's ``score_distributions``: fraction of run x game scores above
    each tau) with stratified-bootstrap bands.

    :param score_dict: algorithm -> human-normalised scores, shape ``(num_runs, num_games)``
    :param taus: thresholds, shape ``(num_taus,)``
    :param reps: bootstrap resamples
    :param seed: seed of the resampling
    :param confidence: coverage of the bands
    :return: ``(profiles, bands)``: algorithm -> shape ``(num_taus,)`` and algorithm -> shape
        ``(2, num_taus)`` (NaN for an algorithm with one run)
    """
    library = _library()
    taus = np.asarray(taus, dtype=float)
    profiles: dict[str, np.ndarray] = {}
    bands: dict[str, np.ndarray] = {}
    for key, scores in score_dict.items():
        scores = _check_matrix(scores, f"scores of {key!r}")
        if scores.shape[0] < 2:
            profiles[key] = np.asarray(library.score_distributions(scores, taus), dtype=float)
            bands[key] = np.full((2, taus.size), np.nan)
            continue
        with seeded_global_rng(seed):
            prof, ci = library.create_performance_profile(
                {key: scores},
                taus,
                use_score_distribution=True,
                reps=reps,
                confidence_interval_size=_level(confidence, scores),
            )
        profiles[key] = np.asarray(prof[key], dtype=float)
        bands[key] = np.asarray(ci[key], dtype=float)
    return profiles, bands
