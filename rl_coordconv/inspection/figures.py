"""Figures of an inspection (matplotlib, no pyplot state): each function takes results and returns a Figure.

Save them with :func:`save_figure`, which writes through a temporary name and leaves out the metadata
that would change from one save to the next, so the same results give the same file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

from rl_coordconv.inspection.coord_terms import CoordTerm
from rl_coordconv.inspection.probe import AXES, ProbeRow

__all__ = [
    "ProbePoint",
    "save_figure",
    "coord_maps_figure",
    "ratio_histogram",
    "probe_points",
    "probe_figure",
    "saliency_figure",
]


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: int = 110) -> Path:
    """Save ``fig`` as PNG through a temporary name, without a software/date stamp.

    :param fig: the figure
    :param path: the ``.png`` to write
    :param dpi: resolution
    :return: the path
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    os.replace(tmp, path)
    return path


def coord_maps_figure(term: CoordTerm, title: str) -> Figure:
    """A grid of heat maps of one layer's coordinate term, one per filter, on one shared colour scale.

    The scale is symmetric around 0 (blue negative, red positive), from -m to m where m is the largest
    absolute value over all the layer's filters.

    :param term: the layer's coordinate term (:attr:`CoordTerm.maps`: ``(filters, H_out, W_out)``)
    :param title: the figure's title
    :return: the figure
    """
    filters = term.maps.shape[0]
    cols = 8
    rows = math.ceil(filters / cols)
    fig = Figure(figsize=(cols * 1.1 + 0.8, rows * 1.1 + 0.6), layout="constrained")
    axes = np.atleast_2d(fig.subplots(rows, cols, squeeze=False))
    limit = float(np.abs(term.maps).max()) or 1.0
    image = None
    for index, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if index >= filters:
            ax.set_axis_off()
            continue
        image = ax.imshow(term.maps[index], cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_title(f"{index}", fontsize=7, pad=2)
    fig.suptitle(title, fontsize=9)
    if image is not None:
        bar = fig.colorbar(image, ax=axes.ravel().tolist(), fraction=0.03)
        bar.set_label("conv(coords, W_c) + b", fontsize=8)
    return fig


def _positive(terms: Sequence[CoordTerm]) -> list[np.ndarray]:
    return [t.ratio[np.isfinite(t.ratio) & (t.ratio > 0)] for t in terms]


def ratio_histogram(terms: Sequence[CoordTerm], title: str, untrained: Sequence[CoordTerm] | None = None) -> Figure:
    """Histogram of every filter's coordinate-to-image ratio, one colour per layer, log-scaled ratios.

    :param terms: the policy's CoordConv layers
    :param title: the figure's title
    :param untrained: the same layers of the untrained network of the same seed, drawn as one black
        outline over all layers (a legend entry says so when all of its ratios are 0: a log axis has no 0)
    :return: the figure
    """
    fig = Figure(figsize=(5.5, 3.2))
    ax = fig.subplots()
    ratios = _positive(terms)
    fresh = np.concatenate(_positive(untrained)) if untrained else np.array([])
    pooled = np.concatenate([*ratios, fresh]) if ratios else fresh
    if pooled.size:
        low, high = np.log10(pooled.min()), np.log10(pooled.max())
        edges = np.logspace(low - 0.05, high + 0.05, 25)
        ax.hist(ratios, bins=edges.tolist(), stacked=True, label=[t.layer for t in terms])
        if fresh.size:
            ax.hist(fresh, bins=edges.tolist(), histtype="step", color="black", label="untrained, same seed")
        elif untrained:
            ax.plot([], [], color="black", label="untrained, same seed: every ratio 0")
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.legend(fontsize=7)
    ax.set_xlabel("RMS of conv(coords, W_c) / RMS of conv(frames, W_x), per filter")
    ax.set_ylabel("filters")
    ax.set_title(title, fontsize=9)
    return fig


#: One point of a probe curve: (axis, shift k, total-variation distance, absolute value change).
ProbePoint = tuple[str, int, float, float]


def probe_points(rows: Sequence[ProbeRow]) -> list[ProbePoint]:
    """A policy's probe rows as points for :func:`probe_figure` (means over frames).

    :param rows: the probe's rows
    :return: the points
    """
    return [(r.axis, r.shift, r.tv_mean, r.value_change_mean) for r in rows]


def probe_figure(curves: Mapping[str, Sequence[ProbePoint]], title: str, statistic: str = "mean over frames") -> Figure:
    """The translation probe against k: total-variation distance (left) and value change (right).

    Solid lines are horizontal shifts, dashed lines vertical ones; one colour per policy.

    :param curves: label (e.g. ``"coordconv (this run)"``) -> that policy's points (:func:`probe_points`)
    :param title: the figure's title
    :param statistic: what the values are, added to the title ("mean over frames")
    :return: the figure
    """
    fig = Figure(figsize=(9.0, 3.4))
    ax_tv, ax_v = fig.subplots(1, 2)
    for index, (label, points) in enumerate(curves.items()):
        color = f"C{index % 10}"
        for axis, style in zip(AXES, ("-", "--")):
            own = sorted((p for p in points if p[0] == axis), key=lambda p: p[1])
            ks = [p[1] for p in own]
            ax_tv.plot(ks, [p[2] for p in own], style, marker="o", color=color, label=f"{label}, {axis}")
            ax_v.plot(ks, [p[3] for p in own], style, marker="o", color=color)
    for ax, label in ((ax_tv, "total-variation distance"), (ax_v, "|value change|")):
        ax.set_xlabel("shift k (pixels)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    ax_tv.legend(fontsize=7)
    fig.suptitle(f"{title}; {statistic}", fontsize=9)
    return fig


def saliency_figure(frames: np.ndarray, saliency: np.ndarray, labels: Sequence[str], title: str) -> Figure:
    """Each frame beside itself with its saliency laid over it.

    :param frames: the newest image of each observation's stack, ``(N, H, W)`` uint8
    :param saliency: ``(N, H, W)``
    :param labels: one caption per frame
    :param title: the figure's title
    :return: the figure
    """
    n = len(frames)
    fig = Figure(figsize=(4.4, 2.3 * n + 0.4), layout="constrained")
    axes = np.atleast_2d(fig.subplots(n, 2, squeeze=False))
    for i in range(n):
        left, right = axes[i]
        left.imshow(frames[i], cmap="gray", vmin=0, vmax=255)
        left.set_title(labels[i], fontsize=7)
        right.imshow(frames[i], cmap="gray", vmin=0, vmax=255)
        peak = float(saliency[i].max()) or 1.0
        right.imshow(saliency[i] / peak, cmap="inferno", alpha=0.6, vmin=0, vmax=1)
        right.set_title(f"saliency (peak {peak:.3g})", fontsize=7)
        for ax in (left, right):
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(title, fontsize=9)
    return fig
