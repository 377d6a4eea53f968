"""Plots: each function draws on ``ax`` (a new figure when None) and returns the axes.

Estimates come in computed (see :mod:`rl_coordconv.analysis.stats`); nothing here resamples. Aggregate
bars, probability-of-improvement bars, performance profiles and sample-efficiency curves follow
rliable's figures (Agarwal et al. 2021); the last three use ``rliable.plot_utils`` directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from rl_coordconv.analysis.stats import METRIC_NAMES

__all__ = [
    "method_colors",
    "plot_learning_curves",
    "plot_aggregate_intervals",
    "plot_probability_of_improvement",
    "plot_performance_profiles",
    "plot_sample_efficiency",
    "plot_effects",
    "plot_per_game_comparison",
]

# The colour-blind-safe palette seaborn calls "colorblind" (Okabe-Ito-like), fixed here so the same
# extractor keeps its colour in every figure.
_PALETTE: tuple[str, ...] = (
    "#0173b2",
    "#de8f05",
    "#029e73",
    "#d55e00",
    "#cc78bc",
    "#ca9161",
    "#fbafe4",
    "#949494",
    "#ece133",
    "#56b4e9",
)


def _new_axes(figsize: tuple[float, float]) -> Axes:
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


def method_colors(names: Sequence[str]) -> dict[str, str]:
    """A fixed colour per name, in the order given (cycling after ten).

    :param names: the methods (extractors), in display order
    :return: name -> hex colour
    """
    return {name: _PALETTE[i % len(_PALETTE)] for i, name in enumerate(names)}


def plot_learning_curves(
    steps: Mapping[str, np.ndarray],
    means: Mapping[str, np.ndarray],
    intervals: Mapping[str, np.ndarray],
    ax: Axes | None = None,
    colors: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    xlabel: str = "agent steps",
    ylabel: str = "score (whole game)",
    title: str | None = None,
    runs: Mapping[str, np.ndarray] | None = None,
) -> Axes:
    """One line per method (the mean over runs) with a shaded confidence band, each run's own curve thin
    underneath (so the spread between seeds shows).

    :param steps: method -> x values (agent steps), shape ``(num_points,)``
    :param means: method -> mean over runs, shape ``(num_points,)`` (NaN points are not drawn)
    :param intervals: method -> band, shape ``(2, num_points)`` (lower row, upper row; NaN: no band)
    :param ax: axes to draw on; a new figure when None
    :param colors: method -> colour; :func:`method_colors` when None
    :param labels: method -> legend label; the method name when None
    :param xlabel: x-axis label
    :param ylabel: y-axis label
    :param title: axes title
    :param runs: method -> each run's curve, shape ``(num_runs, num_points)`` (NaN points not drawn)
    :return: the axes
    """
    ax = ax if ax is not None else _new_axes((7.0, 4.5))
    colors = colors or method_colors(list(means))
    for name, values in (runs or {}).items():
        x = np.asarray(steps[name], dtype=float)
        for row in np.atleast_2d(np.asarray(values, dtype=float)):
            lone = np.count_nonzero(np.isfinite(row)) <= 1  # a lone point needs a marker to show
            ax.plot(x, row, color=colors[name], linewidth=0.8, alpha=0.45, marker="_" if lone else None, markersize=12)
    for name, mean in means.items():
        x = np.asarray(steps[name], dtype=float)
        # markers when there are few points, so a single evaluation still shows
        marker = "o" if np.count_nonzero(np.isfinite(mean)) <= 12 else None
        ax.plot(x, mean, color=colors[name], linewidth=2, marker=marker, label=(labels or {}).get(name, name))
        band = np.asarray(intervals[name], dtype=float)
        if np.count_nonzero(np.isfinite(mean)) == 1 and np.isfinite(band).all(axis=0).any():
            # a single point (one evaluation) has no band to shade: draw its interval as an error bar
            k = int(np.flatnonzero(np.isfinite(band).all(axis=0))[0])
            err = [[mean[k] - band[0, k]], [band[1, k] - mean[k]]]
            ax.errorbar(x[k], mean[k], yerr=err, color=colors[name], capsize=4, linewidth=1.5)
        elif np.isfinite(band).any():
            ax.fill_between(x, band[0], band[1], color=colors[name], alpha=0.2, linewidth=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.25)
    ax.spines["right"].set_visible(False)
    ax.spines["top"].set_visible(False)
    if means:
        ax.legend(frameon=False)
    return ax


def plot_aggregate_intervals(
    points: Mapping[str, np.ndarray],
    intervals: Mapping[str, np.ndarray],
    axes: Sequence[Axes] | None = None,
    metric_names: Sequence[str] = METRIC_NAMES,
    colors: Mapping[str, str] | None = None,
    xlabel: str = "human-normalised score",
) -> list[Axes]:
    """rliable-style interval plot: one panel per metric, one bar (the interval) and tick (the point) per method.

    :param points: method -> point estimates, shape ``(num_metrics,)``
    :param intervals: method -> intervals, shape ``(2, num_metrics)`` (NaN: tick only)
    :param axes: one axes per metric; a new row of panels when None
    :param metric_names: panel titles, ``len == num_metrics``
    :param colors: method -> colour; :func:`method_colors` when None
    :param xlabel: label under the panels
    :return: the axes, one per metric
    """
    methods = list(points)
    if axes is None:
        import matplotlib.pyplot as plt

        _, made = plt.subplots(1, len(metric_names), figsize=(3.2 * len(metric_names), 0.6 + 0.5 * len(methods)))
        axes = list(np.atleast_1d(made))
    axes = list(axes)
    colors = colors or method_colors(methods)
    for m, (ax, metric) in enumerate(zip(axes, metric_names)):
        for i, method in enumerate(methods):
            low, high = np.asarray(intervals[method], dtype=float)[:, m]
            point = float(np.asarray(points[method])[m])
            if np.isfinite(low) and np.isfinite(high):
                ax.barh(y=i, width=high - low, left=low, height=0.6, color=colors[method], alpha=0.75)
            ax.vlines(point, i - 0.3, i + 0.3, color="k", alpha=0.7)
        ax.set_yticks(range(len(methods)))
        ax.set_yticklabels(methods if m == 0 else [""] * len(methods))
        ax.set_ylim(-0.6, len(methods) - 0.4)
        ax.tick_params(axis="y", length=0)
        ax.set_title(metric)
        ax.grid(True, axis="x", alpha=0.25)
        for side in ("right", "top", "left"):
            ax.spines[side].set_visible(False)
        ax.set_xlabel(xlabel if m == 0 else "")
    return axes


def plot_probability_of_improvement(
    estimates: Mapping[str, float],
    intervals: Mapping[str, np.ndarray],
    baseline: str,
    ax: Axes | None = None,
    colors: Mapping[str, str] | None = None,
) -> Axes:
    """P(X > baseline) for each method X, with intervals (``rliable.plot_utils.plot_probability_of_improvement``).

    :param estimates: method X -> P(X > baseline)
    :param intervals: method X -> interval, shape ``(2,)`` (NaN: tick only)
    :param baseline: the method Y every X is compared with
    :param ax: axes to draw on; a new figure when None
    :param colors: method -> colour; :func:`method_colors` when None
    :return: the axes
    """
    from rliable import plot_utils

    ax = ax if ax is not None else _new_axes((5.0, 0.8 + 0.6 * max(1, len(estimates))))
    colors = colors or method_colors(list(estimates))
    pairs: dict[str, float] = {}
    pair_intervals: dict[str, np.ndarray] = {}
    for method, point in estimates.items():
        key = f"{method};{baseline}"
        pairs[key] = float(point)
        band = np.asarray(intervals[method], dtype=float)
        pair_intervals[key] = band if np.isfinite(band).all() else np.array([point, point], dtype=float)
    kwargs: dict[str, Any] = {"ticklabelsize": "medium", "labelsize": "medium"}
    plot_utils.plot_probability_of_improvement(
        pairs,
        pair_intervals,
        pair_separator=";",
        ax=ax,
        colors=[colors[m] for m in estimates],
        xticks=[0.0, 0.25, 0.5, 0.75, 1.0],
        xlabel=f"P(X > {baseline})",
        left_ylabel="X",
        right_ylabel="Y",
        **kwargs,
    )
    ax.set_xlim(0.0, 1.0)
    ax.axvline(0.5, color="k", linestyle=":", alpha=0.5)
    return ax


def plot_performance_profiles(
    profiles: Mapping[str, np.ndarray],
    bands: Mapping[str, np.ndarray],
    taus: np.ndarray,
    ax: Axes | None = None,
    colors: Mapping[str, str] | None = None,
) -> Axes:
    """Run-score performance profiles with bands (``rliable.plot_utils.plot_performance_profiles``).

    :param profiles: method -> fraction of runs above each tau, shape ``(num_taus,)``
    :param bands: method -> band, shape ``(2, num_taus)`` (NaN: no band)
    :param taus: thresholds (human-normalised scores), shape ``(num_taus,)``
    :param ax: axes to draw on; a new figure when None
    :param colors: method -> colour; :func:`method_colors` when None
    :return: the axes
    """
    from rliable import plot_utils

    ax = ax if ax is not None else _new_axes((7.0, 4.5))
    colors = colors or method_colors(list(profiles))
    finite = {k: v for k, v in bands.items() if np.isfinite(np.asarray(v)).all()}
    plot_utils.plot_performance_profiles(
        dict(profiles),
        np.asarray(taus),
        performance_profile_cis=finite or None,
        ax=ax,
        colors=dict(colors),
        xlabel=r"human-normalised score ($\tau$)",
        ylabel=r"fraction of runs with score $> \tau$",
        legend=True,
        legendsize="medium",
        labelsize="medium",
        ticklabelsize="medium",
    )
    return ax


def plot_sample_efficiency(
    steps: np.ndarray,
    points: Mapping[str, np.ndarray],
    bands: Mapping[str, np.ndarray],
    ax: Axes | None = None,
    colors: Mapping[str, str] | None = None,
    xlabel: str = "agent steps",
    ylabel: str = "IQM human-normalised score",
) -> Axes:
    """Aggregate score against agent steps with bands (``rliable.plot_utils.plot_sample_efficiency_curve``).

    :param steps: x values in agent steps, shape ``(num_points,)``
    :param points: method -> IQM at each point, shape ``(num_points,)``
    :param bands: method -> band, shape ``(2, num_points)`` (NaN: no band)
    :param ax: axes to draw on; a new figure when None
    :param colors: method -> colour; :func:`method_colors` when None
    :param xlabel: x-axis label
    :param ylabel: y-axis label
    :return: the axes
    """
    from rliable import plot_utils

    ax = ax if ax is not None else _new_axes((7.0, 4.5))
    colors = colors or method_colors(list(points))
    plot_utils.plot_sample_efficiency_curve(
        np.asarray(steps, dtype=float),
        {k: np.asarray(v, dtype=float) for k, v in points.items()},
        {k: np.asarray(v, dtype=float) for k, v in bands.items()},
        algorithms=list(points),
        colors=dict(colors),
        ax=ax,
        xlabel=xlabel,
        ylabel=ylabel,
        labelsize="medium",
        ticklabelsize="medium",
    )
    ax.legend(frameon=False)
    return ax


def plot_effects(
    differences: Mapping[str, float],
    intervals: Mapping[str, np.ndarray],
    baseline: str,
    ax: Axes | None = None,
    colors: Mapping[str, str] | None = None,
) -> Axes:
    """The effect of each method against the baseline, IQM(X) - IQM(baseline), with its interval.

    :param differences: method X -> IQM(X) - IQM(baseline)
    :param intervals: method X -> interval, shape ``(2,)`` (NaN: tick only)
    :param baseline: the method every X is compared with
    :param ax: axes to draw on; a new figure when None
    :param colors: method -> colour; :func:`method_colors` when None
    :return: the axes
    """
    ax = ax if ax is not None else _new_axes((6.0, 1.0 + 0.6 * max(1, len(differences))))
    colors = colors or method_colors(list(differences))
    points = {m: np.array([d]) for m, d in differences.items()}
    bands = {m: np.asarray(intervals[m], dtype=float).reshape(2, 1) for m in differences}
    label = f"IQM(X) - IQM({baseline})"
    plot_aggregate_intervals(points, bands, axes=[ax], metric_names=[label], colors=colors, xlabel=label)
    ax.axvline(0.0, color="k", linestyle=":", alpha=0.6)
    ax.set_title(f"effect over {baseline} (human-normalised)")
    return ax


def plot_per_game_comparison(
    games: Sequence[str],
    differences: Mapping[str, np.ndarray],
    intervals: Mapping[str, np.ndarray],
    probabilities: Mapping[str, np.ndarray],
    baseline: str,
    axes: Sequence[Axes] | None = None,
    colors: Mapping[str, str] | None = None,
    xlabel: str = "difference of means (human-normalised)",
) -> list[Axes]:
    """Per game: the difference of means X - baseline with its interval (left) and P(X > baseline) (right).

    :param games: the rows, top to bottom
    :param differences: method X -> difference per game, shape ``(num_games,)`` (NaN: not shown)
    :param intervals: method X -> intervals, shape ``(2, num_games)`` (NaN: point only)
    :param probabilities: method X -> P(X > baseline) per game, shape ``(num_games,)``
    :param baseline: the method every X is compared with
    :param axes: two axes; a new row of two when None
    :param colors: method -> colour; :func:`method_colors` when None
    :param xlabel: label of the left panel
    :return: the two axes
    """
    if axes is None:
        import matplotlib.pyplot as plt

        _, made = plt.subplots(1, 2, figsize=(11.0, 1.2 + 0.45 * len(games)))
        axes = list(made)
    left, right = list(axes)
    colors = colors or method_colors(list(differences))
    methods = list(differences)
    offsets = np.linspace(-0.2, 0.2, len(methods)) if len(methods) > 1 else np.zeros(1)
    y = np.arange(len(games))[::-1].astype(float)
    for off, method in zip(offsets, methods):
        diff = np.asarray(differences[method], dtype=float)
        band = np.asarray(intervals[method], dtype=float)
        err = np.abs(np.stack([diff - band[0], band[1] - diff]))
        err = np.where(np.isfinite(err), err, 0.0)
        left.errorbar(diff, y + off, xerr=err, fmt="o", color=colors[method], capsize=3, label=method)
        right.plot(np.asarray(probabilities[method], dtype=float), y + off, "o", color=colors[method], label=method)
    for ax in (left, right):
        ax.set_yticks(y)
        ax.set_yticklabels(list(games))
        ax.grid(True, axis="x", alpha=0.25)
        for side in ("right", "top"):
            ax.spines[side].set_visible(False)
    left.axvline(0.0, color="k", linestyle=":", alpha=0.6)
    left.set_xlabel(xlabel)
    left.set_title(f"X - {baseline}")
    right.axvline(0.5, color="k", linestyle=":", alpha=0.6)
    right.set_xlim(-0.02, 1.02)
    right.set_xlabel(f"P(X > {baseline}) per game")
    right.set_yticklabels([])
    if len(methods) > 1:
        left.legend(frameon=False)
    return [left, right]
