"""The report's tables as files: the columns of every CSV file, and the CSV and per-table markdown files
written from a computed :class:`~rl_coordconv.analysis.results.Analysis` (through the one CSV writer,
:func:`rl_coordconv.tables.csv_text`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from rl_coordconv import runfolder
from rl_coordconv.analysis.atari5 import ESTIMATE_COLUMNS
from rl_coordconv.analysis.results import AlgoResult, Analysis
from rl_coordconv.tables import csv_text

__all__ = ["COLUMNS", "ALGO_TABLES", "MD_TITLES", "curve_rows", "records", "write_file", "write_tables"]

Tables = dict[str, list[tuple[str, str]]]


def records(frames: Sequence[pd.DataFrame]) -> list[dict[str, Any]]:
    """The rows of several tables, one after another, skipping empty ones.

    :param frames: the tables (e.g. one per algorithm)
    :return: one mapping per row
    """
    return [row for frame in frames if not frame.empty for row in frame.to_dict("records")]


#: The columns of every CSV file of the report, in order.
COLUMNS: dict[str, tuple[str, ...]] = {
    "final_scores.csv": (
        "algo", "game", "extractor", "n_runs", "n_incomplete", "train_last_n", "train_n_runs", "train_mean",
        "train_ci_low", "train_ci_high", "train_games_min", "train_games_max", "eval_n_runs", "eval_mean",
        "eval_ci_low", "eval_ci_high", "eval_games_min", "eval_games_max",
    ),
    "aggregates.csv": ("algo", "extractor", "metric", "point", "ci_low", "ci_high", "n_runs_per_game", "n_games"),
    "effect.csv": (
        "algo", "x", "y", "iqm_x", "iqm_y", "difference", "ci_low", "ci_high", "n_runs_x", "n_runs_y", "n_games",
        "paired", "paired_ci_low", "paired_ci_high", "tost_ci_low", "tost_ci_high", "smallest_effect", "reading",
        "within_smallest_effect", "mean_x", "mean_y", "mean_difference",
    ),
    "probability_of_improvement.csv": (
        "algo", "x", "y", "probability", "ci_low", "ci_high", "n_runs_x", "n_runs_y", "n_games",
    ),
    "per_game.csv": (
        "algo", "game", "x", "y", "n_runs_x", "n_runs_y", "mean_x", "mean_y", "difference", "ci_low", "ci_high",
        "hns_difference", "hns_ci_low", "hns_ci_high", "probability", "p_value", "q_value",
    ),
    "sample_efficiency.csv": (
        "algo", "extractor", "source", "agent_steps", "iqm", "ci_low", "ci_high", "n_runs_per_game", "n_games",
    ),
    "baselines.csv": (
        "algo", "game", "protocol", "agent_steps", "score", "nature_mean", "nature_ci_low", "nature_ci_high",
        "nature_n_runs", "published", "published_seeds", "published_score_kind", "source", "file", "differences",
        "published_hns",
    ),
    "learning.csv": (
        "algo", "game", "extractor", "n_runs", "random", "human", "final_mean", "final_hns", "below_random",
        "start_mean", "gain", "gain_ci_low", "gain_ci_high", "gain_p", "runs_clearly_improving",
    ),
    "learning_summary.csv": (
        "algo", "extractor", "n_games", "iqm", "median", "games_below_random", "games_improving",
        "games_clearly_improving", "games_with_interval", "runs", "runs_clearly_improving", "near_random",
    ),
    "atari5.csv": ("algo", *ESTIMATE_COLUMNS),
    "noise.csv": (
        "algo", "game", "extractor", "n_runs", "games_per_score", "noise_variance", "between_seed_variance", "ratio",
    ),
    "run_scores.csv": (
        "algo", "game", "extractor", "seed", "state", "in_statistics", "note", "agent_steps", "budget_agent_steps",
        "training_games", "train_score", "eval_score", "score", "score_games", "human_normalised", "path",
    ),
    "curves.csv": ("algo", "game", "extractor", "curve", "agent_steps", "mean", "ci_low", "ci_high", "n_runs"),
    "curves_per_seed.csv": ("algo", "game", "extractor", "curve", "seed", "agent_steps", "score"),
}  # fmt: skip

#: CSV files made of one table per algorithm: file -> the :class:`~rl_coordconv.analysis.results.AlgoResult` field.
ALGO_TABLES: dict[str, str] = {
    "final_scores.csv": "final_scores",
    "aggregates.csv": "aggregates",
    "effect.csv": "effects",
    "probability_of_improvement.csv": "improvement",
    "per_game.csv": "per_game",
    "sample_efficiency.csv": "efficiency",
    "baselines.csv": "baselines",
    "learning.csv": "learning",
    "learning_summary.csv": "learning_summary",
    "noise.csv": "noise",
    "atari5.csv": "atari5",
}

#: The per-table markdown files and their titles.
MD_TITLES: dict[str, str] = {
    "effect.md": "Effect: IQM(variant) - IQM(nature)",
    "aggregates.md": "Human-normalised aggregates",
    "probability_of_improvement.md": "Probability of improvement",
    "per_game.md": "Per-game comparison",
    "final_scores.md": "Final scores per game",
    "baselines.md": "The baseline beside published scores",
    "learning.md": "Learning check: how far the agents got",
    "noise.md": "Noise budget: measurement noise against between-seed variance",
    "atari5.md": "Atari-5 estimate of the 57-game median",
}


def curve_rows(res: AlgoResult) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows of ``curves.csv`` and ``curves_per_seed.csv`` for one algorithm.

    :param res: the algorithm's results
    :return: (rows of the means with their intervals, rows of each seed's curve)
    """
    means: list[dict[str, Any]] = []
    seeds: list[dict[str, Any]] = []
    for c in res.curves:
        common = {"algo": res.algo, "game": c.game, "extractor": c.extractor, "curve": c.kind}
        for k in range(c.x.size):
            steps = round(float(c.x[k]))
            means.append({**common, "agent_steps": steps, "mean": float(c.mean[k]), "ci_low": float(c.interval[0, k]),
                          "ci_high": float(c.interval[1, k]), "n_runs": int(c.counts[k])})  # fmt: skip
            for i, seed in enumerate(c.seeds):
                seeds.append({**common, "seed": "" if seed is None else seed, "agent_steps": steps,
                              "score": float(c.values[i, k])})  # fmt: skip
    return means, seeds


def write_file(out: Path, name: str, text: str, files: list[str]) -> None:
    """Write one file of the report (whole, or not at all) and note its name.

    :param out: the report folder
    :param name: the file's name
    :param text: its content
    :param files: the names written so far, added to
    """
    runfolder.atomic_write_text(out / name, text)
    files.append(name)


def write_tables(a: Analysis, out: Path, md_tables: Tables, files: list[str]) -> None:
    """Write every CSV file, and every per-table markdown file from the tables the sections rendered.

    :param a: the analysis
    :param out: the report folder
    :param md_tables: per markdown file, ``(algo, table)`` pairs the sections rendered
    :param files: the names written so far, added to
    """
    for name, attr in ALGO_TABLES.items():
        write_file(out, name, csv_text(records([getattr(r, attr) for r in a.algos]), COLUMNS[name]), files)
    write_file(out, "run_scores.csv", csv_text(a.run_scores.to_dict("records"), COLUMNS["run_scores.csv"]), files)
    means, seeds = [], []
    for res in a.algos:
        m, s = curve_rows(res)
        means += m
        seeds += s
    write_file(out, "curves.csv", csv_text(means, COLUMNS["curves.csv"]), files)
    write_file(out, "curves_per_seed.csv", csv_text(seeds, COLUMNS["curves_per_seed.csv"]), files)
    for name, title in MD_TITLES.items():
        parts = [f"# {title}\n", f"\nHeadline score: `{a.settings.score.name}` ({a.settings.score.label}).\n"]
        for algo, table in md_tables.get(name, []):
            parts.append(f"\n## {algo.upper()}\n\n{table}")
        if len(parts) == 2:
            parts.append("\nNot computed (see report.md).\n")
        write_file(out, name, "".join(parts), files)
