"""``rl-coordconv analyze --inspect``: the inspections of a sweep side by side, per game, one row per extractor.

Every complete run folder under the sweep folder gets an inspection (:func:`~rl_coordconv.inspection.inspect_run`)
unless it has an up-to-date one; then, for each (algorithm, game), each extractor's numbers are the
medians over its seeds of the per-run numbers in ``inspect/summary.json``: the median coordinate-to-image
ratio over the CoordConv filters, and the translation probe's mean total-variation distance and mean
absolute value change at each shift. Each run is probed on frames of its own games.

Where the inspections hold the untrained reference (:mod:`~rl_coordconv.inspection.untrained`: each run's
network as training built it, measured on the same frames), ``inspect_comparison.csv`` gains
:data:`UNTRAINED_COLUMNS` (medians over seeds of the same numbers) and every cell of the section reads
"trained (untrained)"; inspections made before the reference existed leave those columns out (when none
has it) or empty.

Written into the report folder: ``inspect_comparison.csv`` (long format), one probe figure per
(algorithm, game) unless figures are off, and a section of ``report.md``: first, how many of
the complete runs have an inspection (naming those without one); then, per algorithm, each extractor's
medians over the games and in how many games an extractor's policy moves more than ``nature``'s under a
shift; then one table per game (:class:`InspectSection` makes it when the report is written,
:func:`add_inspect_section` adds it to a written one). A folder of exported records (``rl-coordconv
export``: the inspection's numbers, no weights) gives the same section.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rl_coordconv import runfolder
from rl_coordconv.analysis.markdown import ReportSection
from rl_coordconv.inspection.figures import ProbePoint
from rl_coordconv.inspection.markdown import fmt, table
from rl_coordconv.inspection.run import INSPECT_DIR, SUMMARY, inspect_run
from rl_coordconv.tables import csv_text, shortest

__all__ = [
    "COMPARISON_COLUMNS",
    "UNTRAINED_COLUMNS",
    "ensure_inspections",
    "read_summaries",
    "comparison_table",
    "over_games",
    "inspect_section",
    "InspectSection",
    "add_inspect_section",
    "COMPARISON_CSV",
]

#: Columns of ``inspect_comparison.csv``: one row per (algo, game, extractor, axis, shift).
COMPARISON_COLUMNS: tuple[str, ...] = (
    "algo",
    "game",
    "extractor",
    "seeds",
    "median_ratio",
    "axis",
    "shift",
    "tv_mean",
    "value_change_mean",
)

#: Columns added to :data:`COMPARISON_COLUMNS` when some inspection has the untrained reference.
UNTRAINED_COLUMNS: tuple[str, ...] = ("untrained_median_ratio", "untrained_tv_mean", "untrained_value_change_mean")

#: The file of the comparison's numbers, in the report folder.
COMPARISON_CSV = "inspect_comparison.csv"

_HEADING = "## Inside the agents (`--inspect`)"


def _run_dirs(root: Path) -> list[Path]:
    from rl_coordconv.analysis.load import find_run_dirs

    return find_run_dirs(root)


def _extractor_order(names: Sequence[str]) -> list[str]:
    from rl_coordconv.analysis.load import extractor_order

    return extractor_order(names)


def _baseline() -> str:
    from rl_coordconv.analysis.load import BASELINE

    return BASELINE


def _summary_path(run_dir: Path) -> Path:
    return run_dir / INSPECT_DIR / SUMMARY


def _read_summary(run_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(_summary_path(run_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and {"algo", "game", "extractor", "seed", "probe"} <= set(data) else None


def _up_to_date(run_dir: Path) -> bool:
    """An inspection newer than the run's weights, readable, and with the untrained reference (an older one,
    made before the reference existed, is redone where the weights are there to redo it)."""
    summary = _summary_path(run_dir)
    model = run_dir / runfolder.MODEL
    fresh = summary.is_file() and summary.stat().st_mtime >= model.stat().st_mtime
    data = _read_summary(run_dir) if fresh else None
    return data is not None and "untrained" in data


def ensure_inspections(
    root: str | os.PathLike[str],
    games: int = 1,
    *,
    max_frames: int = 256,
    gif: bool = True,
    device: str = "cpu",
    progress: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Inspect every run folder under ``root`` that has a final model but no up-to-date inspection.

    An inspection older than the run's ``model.zip``, one whose ``summary.json`` does not read, or one
    without the untrained reference (made before it existed) is redone; runs not complete, or without a
    model (exported records), are skipped. Each inspection replaces its folder whole, so an interrupted call
    loses at most the run in progress and the next call goes on.

    :param root: a sweep folder (or any folder of run folders)
    :param games: whole games per inspection (as ``rl-coordconv inspect --games``)
    :param max_frames: frames kept per inspection (``--frames``)
    :param gif: record one game per run as ``game.gif``
    :param device: torch device
    :param progress: called with each run folder once it is inspected
    :return: the run folders inspected now
    """
    done = []
    for run_dir in _run_dirs(Path(root)):
        trained = runfolder.is_complete(run_dir) and (run_dir / runfolder.MODEL).is_file()
        if trained and not _up_to_date(run_dir):
            inspect_run(run_dir, games, max_frames=max_frames, gif=gif, device=device)
            done.append(run_dir)
            if progress is not None:
                progress(run_dir)
    return done


def read_summaries(root: str | os.PathLike[str]) -> list[tuple[Path, dict[str, Any]]]:
    """Every readable ``inspect/summary.json`` under ``root``.

    :param root: a sweep folder
    :return: (run folder, summary) pairs, sorted by run folder
    """
    found = []
    for run_dir in _run_dirs(Path(root)):
        summary = _read_summary(run_dir)
        if summary is not None:
            found.append((run_dir, summary))
    return found


def comparison_table(summaries: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Medians over seeds, per (algo, game, extractor, axis, shift).

    :param summaries: parsed ``summary.json`` files (one per run)
    :return: a frame with :data:`COMPARISON_COLUMNS`, and :data:`UNTRAINED_COLUMNS` when some summary has
        the untrained reference (NaN where a run's has none); ``median_ratio`` is NaN for extractors
        without CoordConv layers; ``seeds`` counts the runs behind each median
    """
    with_reference = any(isinstance(s.get("untrained"), dict) for s in summaries)
    columns = list(COMPARISON_COLUMNS) + (list(UNTRAINED_COLUMNS) if with_reference else [])
    rows = []
    for s in summaries:
        ratio = s.get("median_ratio")
        found = s.get("untrained")
        reference: dict[str, Any] = found if isinstance(found, dict) else {}
        fresh_ratio = reference.get("median_ratio")
        fresh_probe = {(p["axis"], int(p["shift"])): p for p in reference.get("probe", [])}
        for p in s.get("probe", []):
            row = {
                "algo": s["algo"],
                "game": s["game"],
                "extractor": s["extractor"],
                "seed": s["seed"],
                "median_ratio": np.nan if ratio is None else float(ratio),
                "axis": p["axis"],
                "shift": int(p["shift"]),
                "tv_mean": float(p["tv_mean"]),
                "value_change_mean": float(p["value_change_mean"]),
            }
            if with_reference:
                fresh = fresh_probe.get((p["axis"], int(p["shift"])), {})
                row["untrained_median_ratio"] = np.nan if fresh_ratio is None else float(fresh_ratio)
                row["untrained_tv_mean"] = float(fresh.get("tv_mean", np.nan))
                row["untrained_value_change_mean"] = float(fresh.get("value_change_mean", np.nan))
            rows.append(row)
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows)
    keys = ["algo", "game", "extractor", "axis", "shift"]
    medians = {c: (c, "median") for c in columns if c not in keys and c != "seeds"}
    out = frame.groupby(keys, sort=True).agg(seeds=("seed", "nunique"), **medians).reset_index()
    return out[columns]


def over_games(table_df: pd.DataFrame, shift: int) -> pd.DataFrame:
    """Each extractor's per-game medians (from :func:`comparison_table`) at one shift, summarised over games.

    :param table_df: :func:`comparison_table`'s frame
    :param shift: the probe's shift k
    :return: one row per (algo, extractor): ``games``; the medians over games of ``median_ratio``,
        ``tv_h``, ``tv_v``, ``dv_h``, ``dv_v`` (and of the untrained reference's, prefixed ``untrained_``,
        when the table has :data:`UNTRAINED_COLUMNS`); and, for an extractor other than ``nature``,
        ``paired_games`` (games where both have the probe) with ``tv_h_above`` and ``tv_v_above``: in how
        many of them its TV exceeds ``nature``'s (NaN for ``nature`` itself)
    """
    prefixes = [""] + (["untrained_"] if set(UNTRAINED_COLUMNS) <= set(table_df.columns) else [])
    measures = [f"{p}{m}" for p in prefixes for m in ("median_ratio", "tv_h", "tv_v", "dv_h", "dv_v")]
    columns = ["algo", "extractor", "games", *measures, "paired_games", "tv_h_above", "tv_v_above"]
    at = table_df[table_df["shift"] == shift]
    if at.empty:
        return pd.DataFrame(columns=columns)
    values = [f"{p}{m}" for p in prefixes for m in ("tv_mean", "value_change_mean", "median_ratio")]
    wide = at.set_index(["algo", "game", "extractor", "axis"])[values].unstack("axis")
    parts = {}
    for p in prefixes:
        # the ratio is the same on both axes (NaN without coordinates)
        parts[f"{p}median_ratio"] = wide[f"{p}median_ratio"].max(axis=1)
        for short, long in (("tv", "tv_mean"), ("dv", "value_change_mean")):
            parts[f"{p}{short}_h"] = wide[f"{p}{long}"].get("horizontal", np.nan)
            parts[f"{p}{short}_v"] = wide[f"{p}{long}"].get("vertical", np.nan)
    per_game = pd.DataFrame(parts).reset_index()
    rows = []
    for algo, block in per_game.groupby("algo", sort=True):
        base = block[block["extractor"] == _baseline()].set_index("game")
        for extractor in _extractor_order(block["extractor"].unique().tolist()):
            own = block[block["extractor"] == extractor].set_index("game")
            row: dict[str, Any] = {"algo": algo, "extractor": extractor, "games": len(own)}
            for key in measures:
                row[key] = float(own[key].median()) if own[key].notna().any() else np.nan
            if extractor == _baseline():
                row.update(paired_games=np.nan, tv_h_above=np.nan, tv_v_above=np.nan)
            else:
                paired = own.index.intersection(base.index)
                row["paired_games"] = len(paired)
                for axis in ("h", "v"):
                    key = f"tv_{axis}"
                    row[f"{key}_above"] = int((own.loc[paired, key] > base.loc[paired, key]).sum())
            rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def _cell(trained: float, untrained: float | None = None) -> str:
    """A number, and the untrained reference's in brackets when the table has one ('-' for NaN)."""
    text = fmt(float(trained))
    return text if untrained is None else f"{text} ({fmt(float(untrained))})"


def _shift_cell(at: pd.DataFrame, column: str, axis: str, fresh: bool) -> str:
    """One extractor's ``column`` on ``axis`` at the section's shift (``at``: rows indexed by axis)."""
    reference = float(at[f"untrained_{column}"].get(axis, np.nan)) if fresh else None
    return _cell(float(at[column].get(axis, np.nan)), reference)


def _over_games_section(table_df: pd.DataFrame, largest: int) -> str:
    summary = over_games(table_df, largest)
    fresh = "untrained_tv_h" in summary.columns
    keys = ("median_ratio", "tv_h", "tv_v", "dv_h", "dv_v")
    parts = []
    for algo, block in summary.groupby("algo", sort=True):
        rows = [
            [
                f"`{r['extractor']}`",
                int(r["games"]),
                *(_cell(r[k], r[f"untrained_{k}"] if fresh else None) for k in keys),
                "-"
                if np.isnan(r["paired_games"])
                else f"{int(r['tv_h_above'])} / {int(r['tv_v_above'])} of {int(r['paired_games'])}",
            ]
            for r in block.to_dict("records")
        ]
        parts.append(f"\n### {algo.upper()}: over the games\n\n")
        parts.append(
            f"Medians over games of the per-game medians below (k = {largest}); the last column counts the games "
            f"where the extractor's TV exceeds `{_baseline()}`'s, horizontally / vertically."
            + (" In brackets: the untrained networks of the same seeds." if fresh else "")
            + "\n\n"
        )
        parts.append(
            table(
                ["extractor", "games", "ratio", "TV h", "TV v", "abs. dV h", "abs. dV v", f"TV above `{_baseline()}`"],
                rows,
            )
        )
    return "".join(parts)


def _figure_name(algo: str, game: str) -> str:
    return f"inspect_probe_{algo}_{game}.png"


def _curves(block: pd.DataFrame) -> dict[str, list[ProbePoint]]:
    return {
        extractor: [
            (str(r.axis), int(r.shift), float(r.tv_mean), float(r.value_change_mean))
            for r in block[block["extractor"] == extractor].itertuples()
        ]
        for extractor in _extractor_order(block["extractor"].tolist())
    }


def _seed_link(seed: int, inspect_md: Path, out: Path) -> str:
    return f"[{seed}]({os.path.relpath(inspect_md, out)})" if inspect_md.is_file() else str(seed)


def _coverage_line(complete: int, missing: Sequence[Path]) -> str:
    """How many complete runs have an inspection the section reads, and which lack one (by folder name)."""
    line = f"\nComplete runs with an inspection: {complete - len(missing)} of {complete}"
    if not missing:
        return line + ".\n"
    names = ", ".join(f"`{run_dir.name}`" for run_dir in missing)
    return (
        line + f"; without one ({len(missing)}, exported with no inspection and no weights to make one: "
        f"`rl-coordconv inspect` in the sweep folder that trained them, then `export`, adds them): {names}.\n"
    )


def _reference_line(table_df: pd.DataFrame) -> str:
    """Whether the cells carry the untrained reference, and what it is."""
    if table_df.empty:
        return ""
    if set(UNTRAINED_COLUMNS) <= set(table_df.columns):
        return (
            "\nIn brackets: the same numbers of each run's *untrained* network, the model as training built it "
            "before the first update (same extractor, hyperparameters, seed and recorded CoordConv initialisation), "
            "on the same frames: the difference is what training changed ('-' where an inspection predates it).\n"
        )
    return (
        "\nThese inspections hold no untrained reference (they predate it): `rl-coordconv inspect` on the runs, "
        "with their weights, adds the untrained network of each seed beside the trained one.\n"
    )


def _section(
    table_df: pd.DataFrame,
    out: Path,
    runs: Sequence[tuple[Path, dict[str, Any]]],
    figures: bool,
    complete: int,
    missing: Sequence[Path],
) -> str:
    from rl_coordconv.inspection.figures import probe_figure, save_figure

    largest = int(table_df["shift"].max()) if len(table_df) else 0
    parts = [
        f"\n{_HEADING}\n\n",
        "Per game, one row per extractor, medians over seeds. *Ratio*: median over the CoordConv filters of the "
        "coordinate term's size relative to the image term on the run's own frames ('-': no coordinate "
        f"channels). *TV* and *|dV|*: the translation probe at a shift of k = {largest} pixels, the mean "
        "total-variation distance of the action distributions and the mean absolute value change when the "
        "frames move horizontally (h) or vertically (v). All shifts: `inspect_comparison.csv`; each run's "
        "own maps, probe, saliency and game: its `inspect/inspect.md` (linked by seed where the run folder "
        "holds it: exported records keep only the numbers).\n",
        _reference_line(table_df),
        _coverage_line(complete, missing),
    ]
    if not figures:
        parts.append("\nFigures were not drawn (`--no-figures`).\n")
    parts.append(_over_games_section(table_df, largest))
    for (algo, game), block in table_df.groupby(["algo", "game"], sort=True):
        figure = _figure_name(algo, game)
        title = f"translation probe, {algo.upper()} on {game}"
        if figures:
            save_figure(probe_figure(_curves(block), title, "mean over frames, median over seeds"), out / figure)
        rows = []
        fresh = set(UNTRAINED_COLUMNS) <= set(block.columns)
        for extractor in _extractor_order(block["extractor"].tolist()):
            own = block[block["extractor"] == extractor]
            at = own[own["shift"] == largest].set_index("axis")

            links = [
                _seed_link(summary["seed"], run_dir / INSPECT_DIR / "inspect.md", out)
                for run_dir, summary in runs
                if summary["algo"] == algo and summary["game"] == game and summary["extractor"] == extractor
            ]
            rows.append(
                [
                    f"`{extractor}`",
                    int(own["seeds"].max()),
                    _cell(own["median_ratio"].iloc[0], own["untrained_median_ratio"].iloc[0] if fresh else None),
                    _shift_cell(at, "tv_mean", "horizontal", fresh),
                    _shift_cell(at, "tv_mean", "vertical", fresh),
                    _shift_cell(at, "value_change_mean", "horizontal", fresh),
                    _shift_cell(at, "value_change_mean", "vertical", fresh),
                    ", ".join(links),
                ]
            )
        parts.append(f"\n### {algo.upper()} on {game}\n\n")
        parts.append(
            table(["extractor", "seeds", "ratio", "TV h", "TV v", "abs. dV h", "abs. dV v", "inspections (seed)"], rows)
        )
        if figures:
            parts.append(f"\n![translation probe, {algo} on {game}]({figure})\n")
    if table_df.empty:
        parts.append("\nNo run folder under this folder has a model to inspect yet.\n")
    return "".join(parts)


def inspect_section(
    root: str | os.PathLike[str], out: str | os.PathLike[str], games: int = 1, figures: bool = True
) -> ReportSection:
    """Inspect the sweep's runs where needed, write ``inspect_comparison.csv`` (and the probe figures) into
    the report folder, and make the side-by-side section of ``report.md``.

    Runs without weights (exported records) are not inspected; the numbers of an inspection exported
    with them are read as they are.

    :param root: the sweep folder that is analysed
    :param out: the report folder (receives the CSV and figures)
    :param games: whole games per inspection
    :param figures: draw one probe figure per (algorithm, game)
    :return: the section, from its ``## Inside the agents`` heading, and the files it wrote
    """
    root, out = Path(root), Path(out)
    ensure_inspections(root, games)
    runs = read_summaries(root)
    read = {run_dir for run_dir, _ in runs}
    complete = [d for d in _run_dirs(root) if runfolder.is_complete(d)]
    missing = [d for d in complete if d not in read]
    table_df = comparison_table([summary for _, summary in runs])
    rows = table_df.to_dict("records")
    runfolder.atomic_write_text(out / COMPARISON_CSV, csv_text(rows, [str(c) for c in table_df.columns], shortest))
    text = _section(table_df, out, runs, figures, len(complete), missing)
    drawn = sorted({_figure_name(a, g) for a, g in zip(table_df["algo"], table_df["game"])}) if figures else []
    return ReportSection(text, (COMPARISON_CSV, *drawn))


@dataclass(frozen=True)
class InspectSection:
    """``analyze --inspect``'s section of the report, made when the report is written
    (a :data:`~rl_coordconv.analysis.markdown.SectionMaker`: called with the report folder and whether
    to draw figures; see :func:`inspect_section`).

    :param root: the sweep folder that is analysed
    :param games: whole games per inspection
    """

    root: Path
    games: int = 1

    def __call__(self, out: Path, figures: bool) -> ReportSection:
        """Make the section (:func:`inspect_section`).

        :param out: the report folder
        :param figures: draw the probe figures
        :return: the section and the files it wrote
        """
        return inspect_section(self.root, out, self.games, figures)


def add_inspect_section(
    root: str | os.PathLike[str], report_md: str | os.PathLike[str], games: int = 1, figures: bool = True
) -> Path:
    """Add the side-by-side section (:func:`inspect_section`) to a ``report.md`` already written, replacing
    one added before. ``rl-coordconv analyze --inspect`` writes it with the report instead
    (:class:`InspectSection`); this gives the same file.

    :param root: the sweep folder that was analysed
    :param report_md: the report's ``report.md`` (its folder receives the CSV and figures)
    :param games: whole games per inspection
    :param figures: draw one probe figure per (algorithm, game)
    :return: the path of ``inspect_comparison.csv``
    """
    report_md = Path(report_md)
    section = inspect_section(root, report_md.parent, games, figures)
    text = report_md.read_text(encoding="utf-8") if report_md.is_file() else ""
    text = text.split(f"\n{_HEADING}\n")[0]  # a section appended before is replaced, not repeated
    runfolder.atomic_write_text(report_md, text.rstrip("\n") + "\n" + section.text)
    return report_md.parent / COMPARISON_CSV
