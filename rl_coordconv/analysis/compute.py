"""Compute every number of the report from the runs, before anything is written.

:func:`compute` turns run folders (read by :mod:`~rl_coordconv.analysis.load`) into an :class:`Analysis`:
plain tables (pandas DataFrames, one row per number the report shows) and the arrays the figures
need. Nothing here writes a file or draws; :mod:`~rl_coordconv.analysis.report` renders the result.
The statistics themselves are the pure functions of :mod:`~rl_coordconv.analysis.stats`; which runs
enter which statistic is :mod:`~rl_coordconv.analysis.runset`'s job. The records it fills are
:mod:`~rl_coordconv.analysis.results`'s (and importable from here); the curves over agent steps are
:mod:`~rl_coordconv.analysis.curves`'s, the comparisons between extractors :mod:`~rl_coordconv.analysis.effects`'s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rl_coordconv.analysis import stats
from rl_coordconv.analysis.atari5 import atari5_estimates
from rl_coordconv.analysis.baselines import matching_published
from rl_coordconv.analysis.curves import learning_curves, sample_efficiency
from rl_coordconv.analysis.effects import aggregates_and_effects, paired_rows, per_game_comparison
from rl_coordconv.analysis.learning import learning_summary, learning_table, own_normalised
from rl_coordconv.analysis.load import BASELINE, Run
from rl_coordconv.analysis.noise import noise_table
from rl_coordconv.analysis.normalize import canonical_game, human_normalized_score, reference_scores
from rl_coordconv.analysis.results import LIGHT_REPS, SECONDARY_LAST_N, AlgoResult, Analysis, Curve, Settings
from rl_coordconv.analysis.runset import AlgoRunSet, build_algo_runset, deduplicate
from rl_coordconv.errors import UserError
from rl_coordconv.scores import Score

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


def _frames_note(runs: Sequence[Run]) -> str:
    ratios = sorted({r.frames_per_agent_step for r in runs if r.frames_per_agent_step})
    return f" (1 agent step = {ratios[0]:g} frames)" if len(ratios) == 1 else ""


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


def _with_own_atari5(aggregate: pd.DataFrame, rs: AlgoRunSet, s: Settings) -> pd.DataFrame:
    """The Atari-5 rows, with an estimate for each extractor that has the five games but is not in them.

    The aggregates hold only the games every extractor has reached, so while a study runs an extractor
    may have all five Atari-5 games and still no estimate; its own runs on them give it one (as the
    learning check's level, :func:`~rl_coordconv.analysis.learning.learning_summary`). A difference needs
    both extractors on the five games, so it comes only from the aggregates.
    """
    have = set(aggregate.loc[aggregate["kind"] == "estimate", "extractor"]) if not aggregate.empty else set()
    own = []
    for ext in rs.extractors:
        if ext in have:
            continue
        games, matrix = own_normalised(rs, ext)
        if not games:
            continue
        rows = atari5_estimates({ext: matrix}, games, s.light_reps, s.seed, s.confidence)
        if not rows.empty:
            own.append(rows)
    if not own:
        return aggregate
    frames = [f for f in (aggregate, *own) if not f.empty]
    rows = pd.concat(frames, ignore_index=True)
    order = {e: i for i, e in enumerate(rs.extractors)}
    rows["_order"] = [(r["kind"] != "estimate", order.get(r["x"], len(order))) for r in rows.to_dict("records")]
    return rows.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)


def _algo(algo: str, runs: list[Run], s: Settings) -> AlgoResult:
    rs = build_algo_runset(algo, runs, s.score, _has_reference)
    res = AlgoResult(algo=algo, runset=rs, frames_note=_frames_note(runs))
    for game in rs.games:
        res.curves.extend(learning_curves(game, [r for r in runs if r.game == game], rs.extractors, s))
    res.final_scores = _final_scores(algo, runs, rs, s)
    aggregates_and_effects(algo, res, s)
    per_game_comparison(algo, res, s)
    sample_efficiency(algo, res, s)
    _baselines(algo, runs, res, s)
    res.learning = learning_table(rs, s.confidence)
    if not res.learning.empty:
        res.learning_summary = learning_summary(res.learning, res.aggregates, rs)
    res.noise = noise_table(rs, s.score)
    if res.normalised:
        paired = {e: BASELINE in res.normalised and paired_rows(res, e) for e in res.normalised if e != BASELINE}
        res.atari5 = atari5_estimates(res.normalised, rs.aggregate_games, s.light_reps, s.seed, s.confidence,
                                      paired=paired)  # fmt: skip
    res.atari5 = _with_own_atari5(res.atari5, rs, s)
    if not res.atari5.empty:
        res.atari5.insert(0, "algo", algo)
    root = s.root
    if rs.unscored:
        res.notes.append(
            f"{algo}: {len(rs.unscored)} run(s) have {s.score.missing} and are left out of every statistic "
            f"that uses the headline score ({s.score.name}): {_names(rs.unscored, root)}"
        )
    if not res.learning_summary.empty:
        own = {
            r["extractor"]: r["level_games"] for r in res.learning_summary.to_dict("records")
            if r["level_games"] != len(rs.aggregate_games)
        }  # fmt: skip
        if own:
            res.notes.append(
                f"{algo}: the learning check's IQM and median cover each extractor's own games ("
                + ", ".join(f"{e}: {n}" for e, n in own.items())
                + f"), the aggregates and comparisons only the {len(rs.aggregate_games)} game(s) every extractor has reached"
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
