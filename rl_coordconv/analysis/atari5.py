"""Atari-5: the 57-game median human-normalised score estimated from five games.

Aitchison, Sweetser & Hutter, "Atari-5: Distilling the Arcade Learning Environment down to Five Games"
(ICML 2023, PMLR 202:421-438; arXiv:2210.02019) fit, over published agents, a linear regression without
intercept from the log scores of BattleZone, DoubleDunk, NameThisGame, Phoenix and Qbert to the log of
the 57-game median::

    log10(1 + median_57) = sum_g c_g * log10(1 + max(0, hns_g))        (scores in percent: 100 = human)

The coefficients ship with the package (``rl_coordconv/data/atari5.json``), refitted by
``experiments/atari5/fit_atari5.py`` from the paper's released data and method (https://github.com/maitchison/Atari-5
at commit 118cad542c94bc6e57181bb259a17d020e0a330f: ``atari5.py``'s ``run_init`` and ``fit_model``), with
the commit, the number of algorithms fitted, the fit's R^2 and log-MSE, the paper's error measure and the
first author's own published coefficients beside them (:func:`atari5_model`).

The regression was fitted on fully trained agents (57-game medians above 40% of human). Applied to agents
trained for a few million frames it is an extrapolation (:data:`CAVEAT`); the interval of
:func:`atari5_estimates` covers the seeds' noise, not the regression's error (about 10% relative on the
agents it was fitted on).

This package's human-normalised scores are fractions (1.0 = human) against its own random and human
scores (``rl_coordconv/data/atari_scores.csv``); the functions here take and return such fractions, and
inside re-normalise each score against the random and human scores the regression was fitted with (the
repository's ``Atari-Human.csv``, packaged in the record: its random scores for DoubleDunk, NameThisGame
and Qbert differ from this package's in the second decimal) and convert to the paper's percent.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from rl_coordconv.analysis import stats
from rl_coordconv.analysis.normalize import canonical_game, reference_scores
from rl_coordconv.errors import UserError

__all__ = [
    "ATARI5_GAMES",
    "CAVEAT",
    "ESTIMATE_COLUMNS",
    "PACKAGED",
    "Atari5Model",
    "atari5_model",
    "atari5_coefficients",
    "atari5_median",
    "atari5_estimates",
]

#: The Atari-5 games, in the packaged record's order (this package's canonical names).
ATARI5_GAMES: tuple[str, ...] = ("BattleZone", "DoubleDunk", "NameThisGame", "Phoenix", "Qbert")
#: The packaged record's name in reports.
PACKAGED = "rl_coordconv/data/atari5.json"
#: The baseline the differences of :func:`atari5_estimates` are taken against.
BASELINE = "nature"
#: The columns of :func:`atari5_estimates`, in order (``mean_<game>`` for each of :data:`ATARI5_GAMES`).
ESTIMATE_COLUMNS: tuple[str, ...] = (
    "kind", "extractor", "x", "y", "n_runs_x", "n_runs_y", "n_games", "estimate", "ci_low", "ci_high",
    "confidence", "level", "reps", "paired", *(f"mean_{g}" for g in ATARI5_GAMES),
)  # fmt: skip


@functools.lru_cache(maxsize=1)
def _record() -> dict[str, Any]:
    text = resources.files("rl_coordconv.data").joinpath("atari5.json").read_text(encoding="utf-8")
    record: dict[str, Any] = json.loads(text)
    return record


#: What an Atari-5 estimate of an agent far below the fitted agents' range cannot say (the packaged record's).
CAVEAT: str = _record()["caveat"]


@dataclass(frozen=True)
class Atari5Model:
    """The packaged Atari-5 regression and where it came from.

    :param coefficients: game -> coefficient on ``log10(1 + HNS in percent)``; no intercept
    :param repository: the repository the data and method came from
    :param commit: the repository commit fitted
    :param algorithms_fitted: published algorithms with all five games in the fit
    :param r2: R^2 of the fit on the log10 scale (against the mean, as the repository computes it)
    :param log_mse: mean squared error of the fit on the log10 scale
    :param relative_error_percent: the paper's error measure: 10-fold cross-validated log10 MAE x ln 10 x 100
    :param author_coefficients: the first author's own published coefficients (his training code), for comparison
    :param caveat: what the estimate cannot say for agents unlike the fitted ones
    :param reference_scores: game -> (random, human) scores the regression's inputs were normalised with
    """

    coefficients: dict[str, float]
    repository: str
    commit: str
    algorithms_fitted: int
    r2: float
    log_mse: float
    relative_error_percent: float
    author_coefficients: dict[str, float]
    caveat: str
    reference_scores: dict[str, tuple[float, float]]


def atari5_model() -> Atari5Model:
    """The packaged Atari-5 regression (``rl_coordconv/data/atari5.json``) with its provenance and fit statistics.

    :return: the model; see ``experiments/atari5/README.md`` for how it was fitted
    """
    r = _record()
    return Atari5Model(
        coefficients={g: float(r["coefficients"][g]) for g in ATARI5_GAMES},
        repository=str(r["repository"]),
        commit=str(r["commit"]),
        algorithms_fitted=int(r["fit"]["algorithms_fitted"]),
        r2=float(r["fit"]["r2"]),
        log_mse=float(r["fit"]["log_mse"]),
        relative_error_percent=float(r["fit"]["relative_error_percent"]),
        author_coefficients={g: float(v) for g, v in r["published"]["author_code"]["coefficients"].items()},
        caveat=str(r["caveat"]),
        reference_scores={
            g: (float(r["reference_scores"][g]["random"]), float(r["reference_scores"][g]["human"]))
            for g in ATARI5_GAMES
        },
    )


def atari5_coefficients() -> dict[str, float]:
    """The Atari-5 regression coefficients, refitted from the paper's data (maitchison/Atari-5 @ 118cad54).

    :return: game (canonical name) -> coefficient on ``log10(1 + max(0, HNS in percent))``, in the order
        of :data:`ATARI5_GAMES`; the model has no intercept
    """
    return dict(atari5_model().coefficients)


@functools.lru_cache(maxsize=1)
def _linear_model() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(scale, offset, coefficients)``, each shape ``(5,)``: the paper's percent score of a game is
    ``scale * hns + offset`` for this package's fraction ``hns`` (the same raw score, normalised against
    the repository's random and human scores instead of the package's, times 100)."""
    model = atari5_model()
    package = reference_scores()
    scale, offset = [], []
    for game in ATARI5_GAMES:
        random, human = package[game]
        paper_random, paper_human = model.reference_scores[game]
        scale.append(100.0 * (human - random) / (paper_human - paper_random))
        offset.append(100.0 * (random - paper_random) / (paper_human - paper_random))
    coefficients = np.array([model.coefficients[g] for g in ATARI5_GAMES], dtype=float)
    return np.array(scale), np.array(offset), coefficients


def _predict(hns: np.ndarray) -> np.ndarray:
    """The estimate (fraction) from this package's human-normalised fractions, shape ``(..., 5)`` in
    :data:`ATARI5_GAMES` order."""
    scale, offset, coefficients = _linear_model()
    percent = scale * np.asarray(hns, dtype=float) + offset
    log_scores = np.log10(1.0 + np.clip(percent, 0.0, None))
    return np.asarray((10.0 ** (log_scores @ coefficients) - 1.0) / 100.0)


def atari5_median(hns_by_game: Mapping[str, float]) -> float:
    """Estimate one agent's 57-game median human-normalised score from its five Atari-5 scores.

    The paper's model works in percent of the repository's random-to-human range: each score is
    re-normalised against the random and human scores the regression was fitted with (``Atari-Human.csv``;
    this package's table rounds the random scores of DoubleDunk, -18.6 against -18.55, NameThisGame and
    Qbert, which matters for DoubleDunk near random, where its range is 2.2 points), clipped at 0 (a score
    below random counts as random) and log-transformed, ``log10(1 + x)``; the weighted sum of the five (no
    intercept) is the log of ``1 +`` the median in percent, which is turned back into a fraction. Five
    scores at or below random therefore give 0, and five human scores give 0.85 (the coefficients sum to
    0.965).

    :param hns_by_game: game -> human-normalised score as a fraction (1.0 = human) against this
        package's random and human scores (:func:`~rl_coordconv.analysis.normalize.human_normalize`), for at least the five
        Atari-5 games (other games are ignored; names as :func:`~rl_coordconv.analysis.normalize.canonical_game`
        reads them)
    :return: the estimated 57-game median human-normalised score, a fraction; NaN when a score is NaN
    :raises UserError: when one of the five games is missing
    """
    by_game: dict[str, float] = {}
    for name, value in hns_by_game.items():
        game = canonical_game(name) or name
        if game in ATARI5_GAMES:
            if game in by_game:
                raise UserError(f"{game} is given twice (as {name!r} and another spelling): give each game once")
            by_game[game] = float(value)
    missing = [g for g in ATARI5_GAMES if g not in by_game]
    if missing:
        raise UserError(
            f"the Atari-5 estimate needs all five games ({', '.join(ATARI5_GAMES)}); missing: {', '.join(missing)}"
        )
    return float(_predict(np.array([by_game[g] for g in ATARI5_GAMES])))


def _five_columns(games: Sequence[str]) -> list[int] | None:
    """The column of each Atari-5 game in ``games``, or None when one is missing."""
    names = [canonical_game(g) or g for g in games]
    if any(g not in names for g in ATARI5_GAMES):
        return None
    return [names.index(g) for g in ATARI5_GAMES]


def _resampled_means(
    matrix: np.ndarray, reps: int, rng: np.random.Generator, idx: np.ndarray | None = None
) -> np.ndarray:
    """Per-game means of ``reps`` stratified resamples (seeds drawn with replacement within each game).

    :param matrix: shape ``(num_runs, 5)``
    :param idx: row indices to use, shape ``(reps, num_runs, 5)``; drawn from ``rng`` when None
    :return: shape ``(reps, 5)``
    """
    runs, games = matrix.shape
    if idx is None:
        idx = rng.integers(0, runs, size=(reps, runs, games))
    return np.asarray(matrix[idx, np.arange(games)].mean(axis=1))


def _interval(values: np.ndarray, level: float) -> tuple[float, float]:
    low, high = np.percentile(values, [50.0 * (1.0 - level), 50.0 * (1.0 + level)])
    return float(low), float(high)


def atari5_estimates(
    normalised: Mapping[str, np.ndarray],
    games: Sequence[str],
    reps: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
    *,
    baseline: str = BASELINE,
    paired: bool | Mapping[str, bool] = False,
) -> pd.DataFrame:
    """Atari-5 estimates of the 57-game median per extractor, and each variant's difference from the baseline.

    The point estimate of an extractor is :func:`atari5_median` of its per-game means over seeds. Its
    interval comes from a stratified bootstrap over seeds, as rliable's: each resample draws, within each
    of the five games, as many seeds as there are with replacement, and the estimate is taken of the
    resample's per-game means. The interval is the *expanded percentile* interval the package uses for
    aggregates over games (:func:`~rl_coordconv.analysis.stats.bootstrap_level`, Hesterberg 2015): the
    percentiles of the resampled estimates at the level whose normal quantile is
    ``sqrt(n / (n - 1)) t_{df}``, ``df = 5 (n - 1)`` (reported in ``level``), which with 3-5 seeds is wider
    than the plain percentile interval at ``confidence``. It covers the seeds' noise only, not the
    regression's error (:data:`CAVEAT`).

    For every extractor other than ``baseline``, when the baseline is present, a row ``kind="difference"``
    holds estimate(x) - estimate(baseline) (for this study: ``coordconv - nature``). Its interval resamples
    the two sides independently (each side's seeds within each game), unless ``paired`` says that x's rows
    are the baseline's seeds, row by row in every game: then each resample draws the same rows from both
    sides, so paired seeds stay paired (rliable's ``StratifiedBootstrap`` over both arrays). The level is
    read at the fewer runs of the two sides.

    Every bootstrap starts its own generator from ``seed`` (``numpy.random.default_rng``), so the same
    inputs give the same intervals whatever else is in ``normalised``. An interval needs two runs per
    game on every side resampled; with one it is NaN.

    :param normalised: extractor -> human-normalised scores (fractions, 1.0 = human), shape
        ``(num_runs, len(games))`` with columns in ``games`` order (the analysis's ``AlgoResult.normalised``)
    :param games: the columns' games (``AlgoRunSet.aggregate_games``); must hold the five Atari-5 games,
        other games are ignored
    :param reps: bootstrap resamples
    :param seed: seed of the resampling
    :param confidence: coverage wanted, in (0, 1)
    :param baseline: the extractor differences are taken against
    :param paired: whether each variant's rows are the baseline's seeds (True for all variants, or
        variant -> bool); unpaired (independent) resampling otherwise
    :return: one row per extractor (``kind="estimate"``, in ``normalised``'s order), then one per variant
        (``kind="difference"``, ``extractor="<x> - <baseline>"``), in the columns of
        :data:`ESTIMATE_COLUMNS`: ``estimate``, ``ci_low``, ``ci_high`` are fractions of human;
        ``mean_<game>`` the per-game means of an estimate row (NaN on difference rows); an empty frame
        with those columns when a game of Atari-5 is missing from ``games`` or ``normalised`` is empty
    :raises ValueError: when a matrix is not ``(num_runs >= 1, len(games))``, or ``reps < 1``
    """
    columns = _five_columns(games)
    if columns is None or not normalised:
        return pd.DataFrame(columns=list(ESTIMATE_COLUMNS))
    if reps < 1:
        raise ValueError(f"reps must be at least 1; got {reps}")
    five: dict[str, np.ndarray] = {}
    for ext, matrix in normalised.items():
        m = np.asarray(matrix, dtype=float)
        if m.ndim != 2 or m.shape[0] < 1 or m.shape[1] != len(games):
            raise ValueError(f"scores of {ext!r} must have shape (num_runs >= 1, {len(games)}); got {m.shape}")
        five[ext] = m[:, columns]

    common = {"n_games": len(ATARI5_GAMES), "confidence": confidence, "reps": reps}
    rows: list[dict[str, Any]] = []
    for ext, m in five.items():
        means = m.mean(axis=0)
        low = high = level = float("nan")
        if m.shape[0] >= 2:
            level = stats.bootstrap_level(confidence, m.shape[0], len(ATARI5_GAMES))
            low, high = _interval(_predict(_resampled_means(m, reps, np.random.default_rng(seed))), level)
        rows.append({
            "kind": "estimate", "extractor": ext, "x": ext, "y": "", "n_runs_x": m.shape[0], "n_runs_y": 0,
            "estimate": float(_predict(means)), "ci_low": low, "ci_high": high, "level": level, "paired": "",
            **common, **{f"mean_{g}": float(v) for g, v in zip(ATARI5_GAMES, means)},
        })  # fmt: skip

    if baseline in five:
        y = five[baseline]
        for ext, x in five.items():
            if ext == baseline:
                continue
            is_paired = bool(paired.get(ext, False) if isinstance(paired, Mapping) else paired)
            if is_paired and x.shape != y.shape:
                raise ValueError(f"paired scores of {ext!r} and {baseline!r} need the same shape; got {x.shape} and {y.shape}")  # fmt: skip
            point = float(_predict(x.mean(axis=0)) - _predict(y.mean(axis=0)))
            low = high = level = float("nan")
            if min(x.shape[0], y.shape[0]) >= 2:
                level = stats.bootstrap_level(confidence, min(x.shape[0], y.shape[0]), len(ATARI5_GAMES))
                rng = np.random.default_rng(seed)
                if is_paired:
                    idx = rng.integers(0, x.shape[0], size=(reps, *x.shape))
                    boot_x, boot_y = _resampled_means(x, reps, rng, idx), _resampled_means(y, reps, rng, idx)
                else:
                    boot_x, boot_y = _resampled_means(x, reps, rng), _resampled_means(y, reps, rng)
                low, high = _interval(_predict(boot_x) - _predict(boot_y), level)
            rows.append({
                "kind": "difference", "extractor": f"{ext} - {baseline}", "x": ext, "y": baseline,
                "n_runs_x": x.shape[0], "n_runs_y": y.shape[0], "estimate": point, "ci_low": low, "ci_high": high,
                "level": level, "paired": "yes" if is_paired else "no", **common,
                **{f"mean_{g}": float("nan") for g in ATARI5_GAMES},
            })  # fmt: skip
    return pd.DataFrame(rows, columns=list(ESTIMATE_COLUMNS))
