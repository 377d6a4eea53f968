"""Write the report's figures from computed results (:class:`~rl_coordconv.analysis.compute.AlgoResult`).

Each function draws one PNG with :mod:`~rl_coordconv.analysis.plots` on a figure of its own (no pyplot
state, Agg-safe), saves it through a temporary name and returns the file name, or None when there is
nothing to draw.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from rl_coordconv.analysis import plots
from rl_coordconv.analysis.load import BASELINE
from rl_coordconv.analysis.markdown import slug
from rl_coordconv.analysis.results import AlgoResult
from rl_coordconv.analysis.stats import METRIC_NAMES

__all__ = [
    "learning_curves",
    "aggregates",
    "effects",
    "improvement",
    "per_game",
    "sample_efficiency",
    "profiles",
]


def _save(fig: Any, path: Path) -> None:
    """Save a figure through a temporary name (PNG, fixed metadata) and rename it."""
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=100, bbox_inches="tight", metadata={"Software": None})
    os.replace(tmp, path)


def _figure(figsize: tuple[float, float], ncols: int = 1) -> tuple[Any, list[Any]]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    axes = fig.subplots(1, ncols)
    return fig, list(np.atleast_1d(axes))


def _colors(res: AlgoResult) -> dict[str, str]:
    return plots.method_colors(list(res.runset.extractors))


def learning_curves(res: AlgoResult, game: str, out: Path) -> str | None:
    """Training (and evaluation) curves of one game: each seed thin, the mean thick, a t-interval band.

    :param res: the algorithm's results
    :param game: the game
    :param out: the report folder
    :return: the file name
    """
    curves = [c for c in res.curves if c.game == game]
    if not curves:
        return None
    kinds = [k for k in ("train", "eval") if any(c.kind == k for c in curves)]
    fig, axes = _figure((13.0 if len(kinds) == 2 else 7.0, 4.5), len(kinds))
    for kind, ax in zip(kinds, axes):
        mine = [c for c in curves if c.kind == kind]
        plots.plot_learning_curves(
            {c.extractor: c.x for c in mine},
            {c.extractor: c.mean for c in mine},
            {c.extractor: c.interval for c in mine},
            ax=ax,
            colors=_colors(res),
            labels={c.extractor: c.label for c in mine},
            xlabel="agent steps" + res.frames_note,
            ylabel="score, training games" if kind == "train" else "score, evaluation mean",
            title=f"{game} ({res.algo}): " + ("training games" if kind == "train" else "evaluations"),
            runs={c.extractor: c.values for c in mine},
        )
    name = f"curves_{slug(res.algo)}_{slug(game)}.png"
    _save(fig, out / name)
    return name


def aggregates(res: AlgoResult, out: Path) -> str | None:
    """IQM, median, mean and optimality gap per extractor with their intervals.

    :param res: the algorithm's results
    :param out: the report folder
    :return: the file name, or None when no aggregate was computed
    """
    if not res.points:
        return None
    fig, axes = _figure((3.2 * len(METRIC_NAMES), 0.9 + 0.55 * len(res.points)), len(METRIC_NAMES))
    plots.plot_aggregate_intervals(res.points, res.intervals, axes=axes, colors=_colors(res))
    name = f"aggregates_{slug(res.algo)}.png"
    _save(fig, out / name)
    return name


def effects(res: AlgoResult, out: Path) -> str | None:
    """IQM(variant) - IQM(nature) with its interval.

    :param res: the algorithm's results
    :param out: the report folder
    :return: the file name, or None when no effect was computed
    """
    if res.effects.empty:
        return None
    rows = res.effects.to_dict("records")
    fig, axes = _figure((6.0, 1.2 + 0.6 * len(rows)))
    plots.plot_effects(
        {r["x"]: r["difference"] for r in rows},
        {r["x"]: np.array([r["ci_low"], r["ci_high"]]) for r in rows},
        BASELINE,
        ax=axes[0],
        colors=_colors(res),
    )
    name = f"effect_{slug(res.algo)}.png"
    _save(fig, out / name)
    return name


def improvement(res: AlgoResult, out: Path) -> str | None:
    """Aggregate probability of improvement of each variant over nature.

    :param res: the algorithm's results
    :param out: the report folder
    :return: the file name, or None when not computed
    """
    if res.improvement.empty:
        return None
    rows = res.improvement.to_dict("records")
    fig, axes = _figure((6.0, 1.0 + 0.6 * len(rows)))
    plots.plot_probability_of_improvement(
        {r["x"]: r["probability"] for r in rows},
        {r["x"]: np.array([r["ci_low"], r["ci_high"]]) for r in rows},
        BASELINE,
        ax=axes[0],
        colors=_colors(res),
    )
    name = f"probability_of_improvement_{slug(res.algo)}.png"
    _save(fig, out / name)
    return name


def per_game(res: AlgoResult, out: Path) -> str | None:
    """Per game: difference of means with its interval and P(X > nature).

    Differences are human-normalised where every game has reference scores (so games share one axis),
    raw otherwise.

    :param res: the algorithm's results
    :param out: the report folder
    :return: the file name, or None when no game has runs of both sides
    """
    table = res.per_game
    if table.empty:
        return None
    games = sorted(set(table["game"]))
    normalised = bool(np.isfinite(table["hns_difference"]).all())
    prefix = "hns_" if normalised else ""
    diffs, bands, probs = {}, {}, {}
    for ext in dict.fromkeys(table["x"]):
        mine = table[table["x"] == ext].set_index("game").reindex(games)
        diffs[ext] = mine[f"{prefix}difference"].to_numpy(dtype=float)
        bands[ext] = mine[[f"{prefix}ci_low", f"{prefix}ci_high"]].to_numpy(dtype=float).T
        probs[ext] = mine["probability"].to_numpy(dtype=float)
    fig, axes = _figure((11.0, 1.4 + 0.45 * len(games)), 2)
    label = "difference of means (human-normalised)" if normalised else "difference of means (raw score)"
    plots.plot_per_game_comparison(games, diffs, bands, probs, BASELINE, axes=axes, colors=_colors(res), xlabel=label)
    name = f"per_game_{slug(res.algo)}.png"
    _save(fig, out / name)
    return name


def sample_efficiency(res: AlgoResult, out: Path) -> str | None:
    """IQM human-normalised score against agent steps with bands.

    :param res: the algorithm's results
    :param out: the report folder
    :return: the file name, or None when not computed
    """
    table = res.efficiency
    if table.empty:
        return None
    steps = np.array(sorted(set(table["agent_steps"])), dtype=float)
    points, bands = {}, {}
    for ext in dict.fromkeys(table["extractor"]):
        mine = table[table["extractor"] == ext].sort_values("agent_steps")
        points[ext] = mine["iqm"].to_numpy(dtype=float)
        bands[ext] = mine[["ci_low", "ci_high"]].to_numpy(dtype=float).T
    fig, axes = _figure((7.0, 4.5))
    plots.plot_sample_efficiency(
        steps,
        points,
        bands,
        ax=axes[0],
        colors=_colors(res),
        xlabel="agent steps" + res.frames_note,
        ylabel=f"IQM human-normalised score ({res.efficiency_source})",
    )
    axes[0].set_title(f"sample efficiency ({res.algo})")
    name = f"sample_efficiency_{slug(res.algo)}.png"
    _save(fig, out / name)
    return name


def profiles(res: AlgoResult, out: Path) -> str | None:
    """Performance profiles with bands.

    :param res: the algorithm's results
    :param out: the report folder
    :return: the file name, or None when not computed
    """
    if not res.profiles:
        return None
    fig, axes = _figure((7.0, 4.5))
    plots.plot_performance_profiles(res.profiles, res.profile_bands, res.taus, ax=axes[0], colors=_colors(res))
    axes[0].set_title(f"performance profiles ({res.algo})")
    name = f"performance_profiles_{slug(res.algo)}.png"
    _save(fig, out / name)
    return name
