"""The records of a computed analysis: how it was computed (:class:`Settings`) and what came out
(:class:`Curve`, :class:`AlgoResult`, :class:`Analysis`).

:mod:`~rl_coordconv.analysis.compute` fills them from run folders; the report
(:mod:`~rl_coordconv.analysis.report`) renders them. Plain records: nothing here computes or writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rl_coordconv.analysis.load import Run
from rl_coordconv.analysis.runset import AlgoRunSet
from rl_coordconv.scores import Score

__all__ = ["Settings", "Curve", "AlgoResult", "Analysis", "LIGHT_REPS", "SECONDARY_LAST_N"]

#: Resamples for curves, probability of improvement, profiles and sample efficiency (rliable's default
#: for profiles); aggregates and effects use ``Settings.reps``.
LIGHT_REPS = 2_000
#: Training games of the secondary "last N training games" column when the headline score is ``eval``.
SECONDARY_LAST_N = 100


@dataclass(frozen=True)
class Settings:
    """How to compute.

    :param root: the analysed folder
    :param score: the headline score
    :param reps: bootstrap resamples for aggregates and effects
    :param seed: seed of every bootstrap
    :param confidence: coverage of every interval
    :param bins: learning-curve bins over the budget in agent steps
    :param include_incomplete: use incomplete runs too
    :param published: extra comparator scores for the baseline table (:func:`~.baselines.read_published`)
    :param planned: how many runs the experiment plans (stated beside the complete ones), None if unknown
    :param smallest_effect: the smallest effect of interest in human-normalised IQM points, None when
        not declared (then nothing reads as equivalent)
    :param smallest_effect_source: where it was declared (``spec.yaml``, ``--smallest-effect``)
    """

    root: Path
    score: Score
    reps: int = 10_000
    seed: int = 0
    confidence: float = 0.95
    bins: int = 20
    include_incomplete: bool = False
    published: pd.DataFrame | None = field(default=None, compare=False)
    planned: int | None = None
    smallest_effect: float | None = None
    smallest_effect_source: str = ""

    @property
    def tost_confidence(self) -> float:
        """Coverage of the interval the two one-sided tests read: 1 - 2 alpha, alpha = 1 - confidence."""
        return 1.0 - 2.0 * (1.0 - self.confidence)

    @property
    def light_reps(self) -> int:
        """Resamples for the lighter bootstraps."""
        return min(self.reps, LIGHT_REPS)

    @property
    def train_n(self) -> int:
        """Games of the "last N training games" column."""
        return self.score.last_n if self.score.kind == "train" else SECONDARY_LAST_N


@dataclass(frozen=True)
class Curve:
    """One extractor's learning curve on one game.

    :param game: the game
    :param kind: ``"train"`` (binned training games) or ``"eval"`` (evaluations)
    :param extractor: the extractor
    :param label: legend label (extractor, runs, incomplete ones)
    :param x: agent steps, shape ``(num_points,)``
    :param values: each run's curve, shape ``(num_runs, num_points)``, NaN where a run has no value
    :param seeds: the seed of each row
    :param mean: mean over runs, shape ``(num_points,)``
    :param interval: t-interval, shape ``(2, num_points)``
    :param counts: runs behind each point, shape ``(num_points,)``
    """

    game: str
    kind: str
    extractor: str
    label: str
    x: np.ndarray
    values: np.ndarray
    seeds: tuple[int | None, ...]
    mean: np.ndarray
    interval: np.ndarray
    counts: np.ndarray


@dataclass
class AlgoResult:
    """Everything computed for one algorithm.

    :param algo: the algorithm
    :param runset: its runs, arranged (:class:`~rl_coordconv.analysis.runset.AlgoRunSet`)
    :param curves: learning curves per game, kind and extractor
    :param frames_note: `` (1 agent step = 4 frames)`` when all runs agree, else empty
    :param final_scores: per game and extractor: last-N training games and last evaluation, t-intervals
    :param normalised: extractor -> human-normalised aggregate matrix ``(num_runs, num_games)``
    :param aggregates: IQM, median, mean, optimality gap per extractor with stratified-bootstrap CIs
    :param points: extractor -> aggregate points (for the figure)
    :param intervals: extractor -> aggregate intervals ``(2, 4)`` (for the figure)
    :param effects: IQM(variant) - IQM(nature) with its CI, per variant
    :param improvement: aggregate P(variant > nature) with its CI, per variant
    :param per_game: per game and variant: difference of means (Welch t-interval), P(X > Y)
    :param taus: performance-profile thresholds
    :param profiles: extractor -> profile, shape ``(num_taus,)``
    :param profile_bands: extractor -> band, shape ``(2, num_taus)``
    :param efficiency: IQM per point in agent steps with CIs, per extractor (long table)
    :param efficiency_source: ``"evaluations"``, ``"training games"`` or ``""`` (not computed)
    :param baselines: nature scores beside published ones (same algo, game, protocol, budget)
    :param learning: per extractor and game, how far the runs got (:mod:`~rl_coordconv.analysis.learning`)
    :param learning_summary: per extractor, the learning check's summary
    :param noise: per extractor and game, measurement noise against between-seed variance
        (:mod:`~rl_coordconv.analysis.noise`)
    :param atari5: the Atari-5 estimate of the 57-game median per extractor, and the variants' differences
        (:mod:`~rl_coordconv.analysis.atari5`); empty unless the aggregates hold the five Atari-5 games
    :param notes: what the reader should know about this algorithm's statistics
    """

    algo: str
    runset: AlgoRunSet
    curves: list[Curve] = field(default_factory=list)
    frames_note: str = ""
    final_scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    normalised: dict[str, np.ndarray] = field(default_factory=dict)
    aggregates: pd.DataFrame = field(default_factory=pd.DataFrame)
    points: dict[str, np.ndarray] = field(default_factory=dict)
    intervals: dict[str, np.ndarray] = field(default_factory=dict)
    effects: pd.DataFrame = field(default_factory=pd.DataFrame)
    improvement: pd.DataFrame = field(default_factory=pd.DataFrame)
    per_game: pd.DataFrame = field(default_factory=pd.DataFrame)
    taus: np.ndarray = field(default_factory=lambda: np.zeros(0))
    profiles: dict[str, np.ndarray] = field(default_factory=dict)
    profile_bands: dict[str, np.ndarray] = field(default_factory=dict)
    efficiency: pd.DataFrame = field(default_factory=pd.DataFrame)
    efficiency_source: str = ""
    baselines: pd.DataFrame = field(default_factory=pd.DataFrame)
    learning: pd.DataFrame = field(default_factory=pd.DataFrame)
    learning_summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    noise: pd.DataFrame = field(default_factory=pd.DataFrame)
    atari5: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)


@dataclass
class Analysis:
    """The whole analysis, computed.

    :param settings: how it was computed
    :param runs: every run folder found
    :param used: the runs in the statistics (complete unless asked otherwise; duplicates removed)
    :param left_out: incomplete runs left out
    :param duplicates: ``(kept, dropped)`` pairs of duplicate cells
    :param algos: per algorithm, in name order
    :param run_scores: one row per run folder
    :param warnings: what the user should know, one sentence each
    """

    settings: Settings
    runs: list[Run]
    used: list[Run]
    left_out: list[Run]
    duplicates: list[tuple[Run, Run]]
    algos: list[AlgoResult]
    run_scores: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
