"""Compute every number of the report from the runs, before anything is written.

:func:`compute` turns run folders (read by :mod:`~rl_coordconv.analysis.load`) into an :class:`Analysis`:
plain tables (pandas DataFrames, one row per number the report shows) and the arrays the figures
need. Nothing here writes a file or draws; :mod:`~rl_coordconv.analysis.report` renders the result.
The statistics themselves are the pure functions of :mod:`~rl_coordconv.analysis.stats`; which runs
enter which statistic is :mod:`~rl_coordconv.analysis.runset`'s job.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rl_coordconv.analysis import inference, load, stats
from rl_coordconv.analysis.atari5 import atari5_estimates
from rl_coordconv.analysis.baselines import matching_published
from rl_coordconv.analysis.learning import learning_summary, learning_table
from rl_coordconv.analysis.load import BASELINE, Run
from rl_coordconv.analysis.noise import noise_table
from rl_coordconv.analysis.normalize import canonical_game, human_normalize, human_normalized_score, reference_scores
from rl_coordconv.analysis.runset import AlgoRunSet, build_algo_runset, deduplicate
from rl_coordconv.analysis.scores import Score
from rl_coordconv.errors import UserError

__all__ = [
    "Settings",
    "Curve",
    "AlgoResult",
    "Analysis",
    "compute",
    "protocol_name",
    "run_state",
    "LIGHT_REPS",
    "SECONDARY_LAST_N",
]

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


# --------------------------------------------------------------------------- helpers


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        return path.as_posix()


def _names(runs: Sequence[Run], root: Path) -> str:
    return ", ".join(_relative(r.path, root) for r in runs)


def protocol_name(run: Run) -> str | None:
    """The protocol name recorded in a run's config (a mapping with ``name``, or a plain name).

    :param run: the run
    :return: the name, or None when unrecorded
    """
    proto = run.config.get("protocol")
    if isinstance(proto, dict):
        proto = proto.get("name")
    return str(proto) if proto else None


def _has_reference(game: str) -> bool:
    return canonical_game(game) is not None


def _label(extractor: str, runs: Sequence[Run]) -> str:
    n_incomplete = sum(not r.complete for r in runs)
    label = f"{extractor} (n={len(runs)})"
    return label[:-1] + f", {n_incomplete} incomplete)" if n_incomplete else label


def _frames_note(runs: Sequence[Run]) -> str:
    ratios = sorted({r.frames_per_agent_step for r in runs if r.frames_per_agent_step})
    return f" (1 agent step = {ratios[0]:g} frames)" if len(ratios) == 1 else ""


def _edges(runs: Sequence[Run], bins: int) -> np.ndarray:
    budget = max([r.timesteps or 0 for r in runs] + [r.agent_steps for r in runs] + [1])
    return np.linspace(0.0, float(budget), bins + 1)


# --------------------------------------------------------------------------- per algorithm


def _curves(game: str, runs: Sequence[Run], extractors: Sequence[str], s: Settings) -> list[Curve]:
    edges = _edges(runs, s.bins)
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


def _final_scores(algo: str, runs: Sequence[Run], rs: AlgoRunSet, s: Settings) -> pd.DataFrame:
    train_score = Score("train", s.train_n)
    rows: list[dict[str, Any]] = []
    for game in rs.games:
        for ext in rs.extractors:
            group = [r for r in runs if r.extractor == ext and r.game == game]
            if not group:
                continue
            train = [train_score.of(r) for r in group]
            evals = [Score("eval").of(r) for r in group]
            values = np.array([[t[0] for t in train], [e[0] for e in evals]], dtype=float).T
            means, intervals, counts = stats.mean_t_intervals(values, s.confidence)
            train_games = [t[1] for t in train if t[1] > 0]
            eval_games = [e[1] for e in evals if e[1] > 0]
            rows.append(
                {
                    "algo": algo,
                    "game": game,
                    "extractor": ext,
                    "n_runs": len(group),
                    "n_incomplete": sum(not r.complete for r in group),
                    "train_last_n": s.train_n,
                    "train_n_runs": int(counts[0]),
                    "train_mean": float(means[0]),
                    "train_ci_low": float(intervals[0, 0]),
                    "train_ci_high": float(intervals[1, 0]),
                    "train_games_min": min(train_games, default=0),
                    "train_games_max": max(train_games, default=0),
                    "eval_n_runs": int(counts[1]),
                    "eval_mean": float(means[1]),
                    "eval_ci_low": float(intervals[0, 1]),
                    "eval_ci_high": float(intervals[1, 1]),
                    "eval_games_min": min(eval_games, default=0),
                    "eval_games_max": max(eval_games, default=0),
                }
            )
    return pd.DataFrame(rows)


def _aggregates(algo: str, res: AlgoResult, s: Settings) -> None:
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


def _paired_rows(res: AlgoResult, ext: str) -> bool:
    """Whether ``ext``'s and the baseline's aggregate matrices hold the same seeds, row by row, in every game."""
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
    paired = _paired_rows(res, ext)
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


def _per_game(algo: str, res: AlgoResult, s: Settings) -> None:
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


def _efficiency(algo: str, res: AlgoResult, s: Settings) -> None:
    """IQM of human-normalised scores against agent steps, over the runs and games of the aggregates."""
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
        edges = _edges(all_runs, s.bins)
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


def _baselines(algo: str, runs: Sequence[Run], res: AlgoResult, s: Settings) -> None:
    rs = res.runset
    rows = []
    for game in rs.games:
        cell = rs.cells.get((BASELINE, game), ())
        if not cell:
            continue
        protocols = {protocol_name(x.run) for x in cell}
        budgets = {x.run.timesteps for x in cell}
        if len(protocols) != 1 or len(budgets) != 1:
            continue
        protocol, budget = protocols.pop(), budgets.pop()
        published = matching_published(algo, game, protocol, budget, s.published)
        if published.empty:
            continue
        values = np.array([x.score for x in cell], dtype=float).reshape(-1, 1)
        mean, band, _ = stats.mean_t_intervals(values, s.confidence)
        for _, pub in published.iterrows():
            rows.append(
                {
                    "algo": algo, "game": game, "protocol": protocol, "agent_steps": budget, "score": s.score.name,
                    "nature_mean": float(mean[0]), "nature_ci_low": float(band[0, 0]), "nature_ci_high": float(band[1, 0]),
                    "nature_n_runs": len(cell), "published": float(pub["score"]), "published_seeds": int(pub["seeds"]),
                    "published_score_kind": pub["score_kind"], "source": pub["source"],
                    "file": pub["file"], "differences": pub["differences"],
                    "published_hns": human_normalized_score(float(pub["score"]), game) if _has_reference(game)
                    else math.nan,
                }
            )  # fmt: skip
    res.baselines = pd.DataFrame(rows)


def _algo(algo: str, runs: list[Run], s: Settings) -> AlgoResult:
    rs = build_algo_runset(algo, runs, s.score, _has_reference)
    res = AlgoResult(algo=algo, runset=rs, frames_note=_frames_note(runs))
    for game in rs.games:
        res.curves.extend(_curves(game, [r for r in runs if r.game == game], rs.extractors, s))
    res.final_scores = _final_scores(algo, runs, rs, s)
    _aggregates(algo, res, s)
    _per_game(algo, res, s)
    _efficiency(algo, res, s)
    _baselines(algo, runs, res, s)
    res.learning = learning_table(rs, s.confidence)
    if not res.learning.empty:
        res.learning_summary = learning_summary(res.learning, res.aggregates)
    res.noise = noise_table(rs, s.score)
    if res.normalised:
        paired = {e: BASELINE in res.normalised and _paired_rows(res, e) for e in res.normalised if e != BASELINE}
        res.atari5 = atari5_estimates(res.normalised, rs.aggregate_games, s.light_reps, s.seed, s.confidence,
                                      paired=paired)  # fmt: skip
        if not res.atari5.empty:
            res.atari5.insert(0, "algo", algo)
    root = s.root
    if rs.unscored:
        res.notes.append(
            f"{algo}: {len(rs.unscored)} run(s) have {s.score.missing} and are left out of every statistic "
            f"that uses the headline score ({s.score.name}): {_names(rs.unscored, root)}"
        )
    for game, reason in rs.dropped_games.items():
        res.notes.append(f"{algo}: {game} is left out of the aggregates ({reason}); its per-game numbers remain")
    for ext in rs.extractors:
        if ext not in rs.matrices and rs.aggregate_games:
            res.notes.append(
                f"{algo}/{ext}: no run with the headline score on the aggregates' games: not in the aggregates"
            )
    for ext, cut in rs.left_out_of_matrices.items():
        res.notes.append(
            f"{algo}/{ext}: games hold different numbers of scored runs; the aggregates take "
            f"{rs.matrices[ext].shape[0]} per game (rliable needs a runs x games matrix), leaving out "
            f"{_names(cut, root)} (still in the per-game tables, curves and comparisons)"
        )
    if s.score.kind == "train":
        short = [x.run for cell in rs.cells.values() for x in cell if x.games < s.score.last_n]
        if short:
            res.notes.append(
                f"{algo}: {len(short)} run(s) finished fewer than {s.score.last_n} training games, so their score "
                f"averages all of their games, early play included: {_names(short, root)}"
            )
    return res


# --------------------------------------------------------------------------- the whole


def _run_scores(
    runs: Sequence[Run], used: Sequence[Run], duplicates: Sequence[tuple[Run, Run]], s: Settings
) -> pd.DataFrame:
    used_ids = {id(r) for r in used}
    duplicate_of = {id(dropped): kept for kept, dropped in duplicates}
    train_score = Score("train", s.train_n)
    table = reference_scores()
    rows = []
    for run in runs:
        score, games = s.score.of(run)
        canon = canonical_game(run.game)
        hns = math.nan
        if canon is not None and math.isfinite(score):
            random_score, human = table[canon]
            hns = (score - random_score) / (human - random_score)
        if id(run) in duplicate_of:
            note = "duplicate of " + _relative(duplicate_of[id(run)].path, s.root)
        elif id(run) not in used_ids:
            note = "incomplete"
        elif not math.isfinite(score):
            note = s.score.missing
        else:
            note = ""
        rows.append(
            {
                "algo": run.algo, "game": run.game, "extractor": run.extractor,
                "seed": "" if run.seed is None else run.seed, "state": run_state(run),
                "in_statistics": "yes" if id(run) in used_ids else "no", "note": note,
                "agent_steps": run.agent_steps, "budget_agent_steps": "" if run.timesteps is None else run.timesteps,
                "training_games": int(run.episode_returns.size),
                "train_score": train_score.of(run)[0], "eval_score": Score("eval").of(run)[0],
                "score": score, "score_games": games,
                "human_normalised": hns, "path": _relative(run.path, s.root),
            }
        )  # fmt: skip
    return pd.DataFrame(rows)


def run_state(run: Run) -> str:
    """``complete``, ``failed`` (an ``error.txt``) or ``incomplete``.

    :param run: the run
    :return: the state
    """
    if run.complete:
        return "complete"
    return "failed" if run.error else "incomplete"


def compute(runs: Sequence[Run], settings: Settings) -> Analysis:
    """Compute the analysis of a set of runs.

    :param runs: every run found (:func:`~rl_coordconv.analysis.load.load_runs`)
    :param settings: the headline score and the statistics' settings
    :return: the analysis, ready to render
    :raises UserError: when runs are in the statistics but none of them has the headline score
    """
    s = settings
    runs = list(runs)
    incomplete = [r for r in runs if not r.complete]
    candidates = list(runs) if s.include_incomplete else [r for r in runs if r.complete]
    used, duplicates = deduplicate(candidates)
    warnings: list[str] = []
    if incomplete and not s.include_incomplete:
        warnings.append(
            f"{len(incomplete)} incomplete run(s) left out of the statistics (listed in report.md; "
            f"--include-incomplete uses them): {_names(incomplete, s.root)}"
        )
    elif incomplete:
        warnings.append(
            f"{len(incomplete)} incomplete run(s) INCLUDED in the statistics and labelled: {_names(incomplete, s.root)}"
        )
    for kept, dropped in duplicates:
        warnings.append(
            f"duplicate cell {dropped.algo}/{dropped.game}/{dropped.extractor}/seed {dropped.seed}: "
            f"{_relative(dropped.path, s.root)} is the same cell as {_relative(kept.path, s.root)}; counted once (the latter)"
        )
    if not used:
        warnings.append("no complete run yet: no statistics computed (finish the sweep or use --include-incomplete)")
    elif not any(np.isfinite(s.score.of(r)[0]) for r in used):
        other, lacking = (
            ("train_last_100", "an evaluation") if s.score.kind == "eval" else ("eval", "a finished training game")
        )
        raise UserError(
            f"the headline score is {s.score.name} ({s.score.source}), but none of the {len(used)} runs in the "
            f"statistics has {lacking}; choose another with --score {other}"
        )
    algos = [_algo(algo, [r for r in used if r.algo == algo], s) for algo in sorted({r.algo for r in used})]
    for res in algos:
        warnings.extend(res.notes)
    return Analysis(
        settings=s,
        runs=runs,
        used=used,
        left_out=[] if s.include_incomplete else incomplete,
        duplicates=list(duplicates),
        algos=algos,
        run_scores=_run_scores(runs, used, duplicates, s),
        warnings=warnings,
    )
