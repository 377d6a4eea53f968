"""Tables, files and figures for the coordinate-task results (Liu et al. 2018, arXiv:1807.03247).

Pure functions of a list of :class:`~rl_coordconv.toy.train.ToyResult`: :func:`markdown_table`,
:func:`csv_text`, the plot functions (each takes ``ax=None`` and returns the axes) and
:func:`write_report`, which writes every file atomically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rl_coordconv import tables
from rl_coordconv.runfolder import atomic_write_text
from rl_coordconv.toy.train import ToyResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "CSV_COLUMNS",
    "markdown_table",
    "csv_text",
    "results_json",
    "plot_curves",
    "plot_quadrant",
    "plot_figure",
    "write_report",
]

#: Columns of ``results.csv``, in order; they never change.
CSV_COLUMNS: tuple[str, ...] = (
    "task",
    "split",
    "model",
    "variant",
    "shape",
    "canvas",
    "seed",
    "params",
    "epochs",
    "lr",
    "batch_size",
    "time_budget",
    "n_train",
    "n_test",
    "train_accuracy",
    "test_accuracy",
    "mean_pixel_error",
    "train_mean_pixel_error",
    "seconds",
    "train_seconds",
    "seconds_to_99",
)

_COLORS = {"conv": "tab:red", "coordconv": "tab:blue"}
_STYLES = {"uniform": "-", "quadrant": "--"}


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _maybe(value: float | None, fmt: str) -> str:
    return "never" if value is None else format(value, fmt)


def markdown_table(results: Sequence[ToyResult]) -> str:
    """One markdown row per result.

    Columns: task, split, model, parameters, epochs, wall seconds of the whole run (with every
    evaluation), seconds of training updates, training seconds until the test accuracy first
    reached 99% ("never" if it did not), train and test accuracy, and for regression the mean test
    error in pixels.

    :param results: the results, in the order to print
    :return: the table, ending with a newline
    """
    head = (
        "| task | split | model | params | epochs | wall s | train s | s to 99% test | train acc | test acc "
        "| test px error |\n"
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = []
    for r in results:
        model = r.model + (f" ({r.variant})" if r.variant else "")
        error = "" if r.mean_pixel_error is None else f"{r.mean_pixel_error:.2f}"
        rows.append(
            f"| {r.task} | {r.split} | {model} | {r.params:,} | {r.epochs} | {r.seconds:.1f} | {r.train_seconds:.1f} | "
            f"{_maybe(r.seconds_to_99, '.1f')} | {_pct(r.train_accuracy)} | {_pct(r.test_accuracy)} | {error} |"
        )
    return head + "\n".join(rows) + "\n"


def csv_text(results: Sequence[ToyResult]) -> str:
    """The results as CSV with the fixed :data:`CSV_COLUMNS` (empty cells for None).

    :param results: the results
    :return: the CSV text with a header line
    """
    return tables.csv_text((r.summary() for r in results), CSV_COLUMNS)


def results_json(results: Sequence[ToyResult], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """The results with their learning curves, as one JSON-ready dict.

    :param results: the results
    :param meta: extra information to store under "meta" (command, budgets, machine)
    :return: {"meta": ..., "results": [summary + "curve": [per-epoch dicts]]}
    """
    rows = []
    for r in results:
        row = r.summary()
        row["curve"] = [vars(p) for p in r.curve]
        rows.append(row)
    return {"meta": dict(meta or {}), "results": rows}


def plot_curves(results: Sequence[ToyResult], task: str, ax: Axes | None = None) -> Axes:
    """Test accuracy against training seconds for every result of one task.

    Colour = model (conv red, CoordConv blue), line style = split (uniform solid, quadrant dashed).

    :param results: the results (those of other tasks are skipped)
    :param task: "classification" or "regression"
    :param ax: matplotlib axes; a new figure's when None
    :return: the axes
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    for r in results:
        if r.task != task or not r.curve:
            continue
        xs = [p.train_seconds for p in r.curve]
        ys = [100 * p.test_accuracy for p in r.curve]
        label = f"{r.model}, {r.split} ({r.params:,} params)"
        ax.plot(xs, ys, _STYLES.get(r.split, "-"), color=_COLORS.get(r.model, "k"), marker=".", label=label)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(-3, 103)
    ax.set_xlabel("training time (s, log scale)")
    ax.set_ylabel("test accuracy (%)")
    what = "(x, y) -> one-hot pixel" if task == "classification" else "image -> (x, y), within 0.5 px"
    ax.set_title(f"{task}: {what}", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    return ax


def plot_quadrant(results: Sequence[ToyResult], task: str, ax: Axes | None = None) -> Axes:
    """Predicted positions of the held-out quadrant's test examples, for each model of one task.

    The held-out quadrant is shaded; a model that generalises puts its predictions inside it, on the
    grid of true positions. Classification predictions are the argmax pixel.

    :param results: the results (only the quadrant split of ``task`` is drawn)
    :param task: "classification" or "regression"
    :param ax: matplotlib axes; a new figure's when None
    :return: the axes
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    shaded = False
    canvas = 64
    # CoordConv first, so that the conv model's misplaced predictions are drawn on top
    for r in sorted(results, key=lambda r: r.model != "coordconv"):
        if r.task != task or r.split != "quadrant" or r.test_predictions is None or r.test_positions is None:
            continue
        canvas = r.canvas
        if not shaded:
            lo = r.test_positions.min(axis=0) - 0.5
            hi = r.test_positions.max(axis=0) + 0.5
            ax.add_patch(Rectangle(lo, *(hi - lo), color="0.85", zorder=0, label="held-out quadrant"))
            shaded = True
        pred = r.test_predictions
        ax.scatter(
            pred[:, 0],
            pred[:, 1],
            s=3,
            color=_COLORS.get(r.model, "k"),
            alpha=0.5,
            label=f"{r.model}: test acc {_pct(r.test_accuracy)}",
        )
    ax.set_xlim(-1, canvas)
    ax.set_ylim(canvas, -1)  # image convention: y grows downwards
    ax.set_aspect("equal")
    ax.set_xlabel("predicted x (pixels)")
    ax.set_ylabel("predicted y (pixels)")
    ax.set_title(f"{task}, quadrant split: predictions on held-out positions", fontsize=9)
    if shaded:
        ax.legend(fontsize=7, loc="upper left", markerscale=3)
    return ax


def plot_figure(results: Sequence[ToyResult], path: str | os.PathLike[str], title: str = "") -> None:
    """Write the 2x2 summary figure: learning curves (top) and held-out-quadrant predictions (bottom).

    Uses the Agg backend, so it works without a display. Written to a temporary name, then renamed.

    :param results: the results of the grid
    :param path: the PNG to write
    :param title: figure title
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 10))
    for col, task in enumerate(("classification", "regression")):
        plot_curves(results, task, ax=axes[0, col])
        plot_quadrant(results, task, ax=axes[1, col])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)


def write_report(
    results: Sequence[ToyResult], out_dir: str | os.PathLike[str], meta: dict[str, Any] | None = None
) -> dict[str, Path]:
    """Write ``table.md``, ``results.csv``, ``results.json`` and ``figure.png`` into ``out_dir``.

    :param results: the results of the grid
    :param out_dir: the folder (created if missing)
    :param meta: information stored in results.json and printed above the table (budgets, command)
    :return: the paths written, by kind ("table", "csv", "json", "figure")
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = dict(meta or {})
    lines = [f"- {k}: {v}" for k, v in meta.items()]
    table = markdown_table(results)
    paths = {
        "table": out / "table.md",
        "csv": out / "results.csv",
        "json": out / "results.json",
        "figure": out / "figure.png",
    }
    atomic_write_text(paths["table"], ("\n".join(lines) + "\n\n" if lines else "") + table)
    atomic_write_text(paths["csv"], csv_text(results))
    atomic_write_text(paths["json"], json.dumps(results_json(results, meta), indent=2) + "\n")
    plot_figure(results, paths["figure"], title="Not-so-Clevr coordinate tasks: conv vs CoordConv (Liu et al. 2018)")
    return paths
