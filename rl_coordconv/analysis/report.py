"""The report: read a sweep folder, compute the statistics, write ``DIR/report/``.

Files written (``<algo>`` is each algorithm found, e.g. ``a2c``; ``<game>`` each game)::

    report.md                          the report, readable on its own; links everything below
    curves_<algo>_<game>.png           learning curves: mean over seeds with a 95% bootstrap band
    curves.csv                         the numbers behind those curves
    final_scores.csv / .md             per game and extractor: last-N training games and last evaluation,
                                       mean and 95% CI over seeds
    run_scores.csv                     one row per run folder (incomplete ones too), raw and human-normalised
    aggregates.csv / .md               IQM, median, mean, optimality gap of human-normalised scores, 95% CIs
    aggregates_<algo>.png
    probability_of_improvement.csv / .md, probability_of_improvement_<algo>.png
    performance_profiles_<algo>.png

Statistics follow Agarwal et al. 2021 (rliable); see :mod:`rl_coordconv.analysis.stats`. All
resampling is seeded, so the same folder gives byte-identical tables every time.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rl_coordconv import runfolder
from rl_coordconv.analysis import load, stats
from rl_coordconv.analysis.load import BASELINE, Run, extractor_order
from rl_coordconv.analysis.markdown import (
    csv_text,
    describe_runs,
    interval_text,
    md_table,
    relative,
    run_state,
    slug,
)
from rl_coordconv.analysis.normalize import canonical_game, human_normalize, reference_scores

__all__ = ["BASELINE", "Report", "analyze", "extractor_order"]

#: Resamples for curves, probability of improvement and profiles (rliable's default for profiles).
_LIGHT_REPS = 2_000


@dataclass
class Report:
    """What :func:`analyze` computed and wrote.

    :param out: the report folder
    :param runs: every run folder found
    :param used: the runs in the statistics
    :param left_out: incomplete runs left out of the statistics
    :param score_kind: ``"eval"`` or ``"train"``: the one score per run behind the aggregates
    :param warnings: what the user should know (incomplete runs, statistics that could not be computed)
    :param final_scores: rows of ``final_scores.csv``
    :param aggregates: rows of ``aggregates.csv``
    :param improvement: rows of ``probability_of_improvement.csv``
    :param run_scores: rows of ``run_scores.csv``
    :param curves: rows of ``curves.csv``
    :param tables_md: markdown tables per file name, as (algo, table) pairs
    :param files: every file written, relative to ``out``
    """

    out: Path
    runs: list[Run]
    used: list[Run]
    left_out: list[Run]
    score_kind: str
    warnings: list[str] = field(default_factory=list)
    final_scores: list[dict[str, Any]] = field(default_factory=list)
    aggregates: list[dict[str, Any]] = field(default_factory=list)
    improvement: list[dict[str, Any]] = field(default_factory=list)
    run_scores: list[dict[str, Any]] = field(default_factory=list)
    curves: list[dict[str, Any]] = field(default_factory=list)
    tables_md: dict[str, list[tuple[str, str]]] = field(default_factory=dict, repr=False)
    files: list[str] = field(default_factory=list)

    @property
    def markdown(self) -> Path:
        """The path of ``report.md``."""
        return self.out / "report.md"


# --------------------------------------------------------------------------- figures


def _save(fig: Any, path: Path) -> None:
    """Save a figure through a temporary name (PNG, Agg, fixed metadata) and rename it."""
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight", metadata={"Software": None})
    os.replace(tmp, path)


def _figure(figsize: tuple[float, float], ncols: int = 1) -> tuple[Any, list[Any]]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    axes = fig.subplots(1, ncols)
    return fig, list(np.atleast_1d(axes))


# --------------------------------------------------------------------------- the analysis


@dataclass
class _Settings:
    root: Path
    out: Path
    score_kind: str
    last_n: int
    reps: int
    seed: int
    confidence: float
    bins: int
    include_incomplete: bool


def analyze(
    root: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    score: str = "auto",
    last_n: int = 100,
    reps: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
    bins: int = 20,
    include_incomplete: bool = False,
) -> Report:
    """Analyse every run folder under ``root`` and write the report.

    :param root: the sweep folder (``root/spec.yaml``, ``root/runs/*``) or any folder of run folders
    :param out: the report folder; ``root/report`` when None
    :param score: the one score per run behind the aggregates: ``"eval"`` (mean of the last
        evaluation), ``"train"`` (mean of the last ``last_n`` training games) or ``"auto"`` (``"eval"``
        when every run in the statistics has an evaluation, else ``"train"``)
    :param last_n: training games averaged for the final training score (CleanRL's habit: 100)
    :param reps: bootstrap resamples for aggregates and per-game intervals (curves, probability of
        improvement and profiles use at most 2,000)
    :param seed: seed of every bootstrap
    :param confidence: coverage of every interval
    :param bins: learning-curve bins over the budget in agent steps
    :param include_incomplete: use incomplete runs in the statistics too (labelled as such)
    :return: what was computed and written
    :raises UserError: when ``root`` is not a folder or holds no run folder, or an argument is out of range
    """
    from rl_coordconv.errors import UserError

    if last_n < 1 or reps < 1 or bins < 1:
        raise UserError(f"last_n, reps and bins must be positive; got {last_n}, {reps}, {bins}")
    if not 0.0 < confidence < 1.0:
        raise UserError(f"confidence must be between 0 and 1; got {confidence}")
    root = Path(root)
    runs = load.load_runs(root)
    out_dir = Path(out) if out is not None else root / "report"
    out_dir.mkdir(parents=True, exist_ok=True)

    incomplete = [r for r in runs if not r.complete]
    used = list(runs) if include_incomplete else [r for r in runs if r.complete]
    left_out = [] if include_incomplete else incomplete
    report = Report(out=out_dir, runs=list(runs), used=used, left_out=left_out, score_kind="train")
    if incomplete and not include_incomplete:
        report.warnings.append(
            f"{len(incomplete)} incomplete run(s) left out of the statistics (listed in report.md; "
            "--include-incomplete uses them): " + ", ".join(relative(r.path, root) for r in incomplete)
        )
    elif incomplete:
        report.warnings.append(
            f"{len(incomplete)} incomplete run(s) INCLUDED in the statistics and labelled: "
            + ", ".join(relative(r.path, root) for r in incomplete)
        )
    if not used:
        report.warnings.append(
            "no complete run yet: no statistics computed (finish the sweep or use --include-incomplete)"
        )
    report.score_kind = load.choose_score_kind(used, score)
    settings = _Settings(
        root, out_dir, report.score_kind, last_n, reps, seed, confidence, bins, include_incomplete
    )

    sections: list[str] = []
    for algo in sorted({r.algo for r in used}):
        algo_runs = [r for r in used if r.algo == algo]
        sections.append(_analyze_algo(algo, algo_runs, settings, report))

    report.run_scores = _run_score_rows(runs, used, settings)
    _write_tables(report, settings)
    text = _markdown(report, settings, sections)
    runfolder.atomic_write_text(out_dir / "report.md", text)
    report.files.append("report.md")
    report.files = sorted(set(report.files))
    return report


def _analyze_algo(algo: str, runs: list[Run], s: _Settings, report: Report) -> str:
    """Curves, tables, aggregates, improvement and profiles for one algorithm; returns its markdown section."""
    extractors = extractor_order([r.extractor for r in runs])
    games = sorted({r.game for r in runs})
    colors = _colors(extractors)
    md: list[str] = [f"## {algo.upper()}\n"]

    md.append("### Learning curves\n")
    md.append(
        f"Each line is the mean over seeds; the band is a {s.confidence:.0%} percentile bootstrap interval "
        "over seeds "
        f"(rliable, {min(s.reps, _LIGHT_REPS)} resamples; no band where fewer than two seeds have a value). "
        "Training curves bin the whole-game scores of finished training games by agent steps "
        f"({s.bins} bins over the budget; a bin without a finished game carries the previous value). "
        "Evaluation curves, where present, show each evaluation's mean score.\n"
    )
    for game in games:
        md.append(_curves(algo, game, [r for r in runs if r.game == game], extractors, colors, s, report))

    md.append(_final_scores(algo, runs, games, extractors, s, report))
    md.append(_aggregate_section(algo, runs, games, extractors, colors, s, report))
    return "\n".join(md)


def _colors(extractors: Sequence[str]) -> dict[str, str]:
    from rl_coordconv.analysis.plots import method_colors

    return method_colors(list(extractors))


def _label(extractor: str, runs: Sequence[Run]) -> str:
    n_incomplete = sum(not r.complete for r in runs)
    label = f"{extractor} (n={len(runs)})"
    return label[:-1] + f", {n_incomplete} incomplete)" if n_incomplete else label


def _frames_note(runs: Sequence[Run]) -> str:
    ratios = sorted({r.frames_per_agent_step for r in runs if r.frames_per_agent_step})
    if len(ratios) == 1:
        return f" (1 agent step = {ratios[0]:g} frames)"
    return ""


def _curves(
    algo: str,
    game: str,
    runs: list[Run],
    extractors: list[str],
    colors: dict[str, str],
    s: _Settings,
    report: Report,
) -> str:
    """Training (and evaluation) learning curves of one game; returns the markdown image line."""
    from rl_coordconv.analysis.plots import plot_learning_curves

    budget = max([r.timesteps or 0 for r in runs] + [r.agent_steps for r in runs] + [1])
    edges = np.linspace(0.0, float(budget), s.bins + 1)
    has_eval = any(r.eval_steps.size for r in runs)
    fig, axes = _figure((13.0 if has_eval else 7.0, 4.5), 2 if has_eval else 1)
    xlabel = "agent steps" + _frames_note(runs)
    panels = [("train", axes[0])] + ([("eval", axes[1])] if has_eval else [])
    for kind, ax in panels:
        xs: dict[str, np.ndarray] = {}
        means: dict[str, np.ndarray] = {}
        bands: dict[str, np.ndarray] = {}
        labels: dict[str, str] = {}
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
            mean, band, counts = stats.column_mean_estimates(
                values, reps=min(s.reps, _LIGHT_REPS), seed=s.seed, confidence=s.confidence
            )
            xs[ext], means[ext], bands[ext], labels[ext] = x, mean, band, _label(ext, group)
            report.curves.extend(
                {
                    "algo": algo,
                    "game": game,
                    "extractor": ext,
                    "curve": kind,
                    "agent_steps": int(round(x[k])),
                    "mean": float(mean[k]),
                    "ci_low": float(band[0, k]),
                    "ci_high": float(band[1, k]),
                    "n_runs": int(counts[k]),
                }
                for k in range(x.size)
            )
        ylabel = "score, training games" if kind == "train" else "score, evaluation mean"
        title = f"{game} ({algo}): " + ("training games" if kind == "train" else "evaluations")
        plot_learning_curves(
            xs, means, bands, ax=ax, colors=colors, labels=labels, xlabel=xlabel, ylabel=ylabel, title=title
        )
    name = f"curves_{slug(algo)}_{slug(game)}.png"
    _save(fig, s.out / name)
    report.files.append(name)
    return f"![{game} learning curves ({algo})]({name})\n"


def _final_scores(
    algo: str, runs: list[Run], games: list[str], extractors: list[str], s: _Settings, report: Report
) -> str:
    rows_md: list[list[str]] = []
    for ext in extractors:
        per_game = {g: [r for r in runs if r.extractor == ext and r.game == g] for g in games}
        depth = max(len(v) for v in per_game.values())
        if depth == 0:
            continue
        train = np.full((depth, len(games)), np.nan)
        evals = np.full((depth, len(games)), np.nan)
        for j, g in enumerate(games):
            for i, run in enumerate(per_game[g]):
                train[i, j] = load.final_train_score(run, s.last_n)
                evals[i, j] = load.final_eval_score(run)
        t_mean, t_ci, t_n = stats.column_mean_estimates(train, s.reps, s.seed, s.confidence)
        e_mean, e_ci, e_n = stats.column_mean_estimates(evals, s.reps, s.seed, s.confidence)
        for j, g in enumerate(games):
            if not per_game[g]:
                continue
            row = {
                "algo": algo,
                "game": g,
                "extractor": ext,
                "n_runs": len(per_game[g]),
                "n_incomplete": sum(not r.complete for r in per_game[g]),
                "train_n_runs": int(t_n[j]),
                "train_mean": float(t_mean[j]),
                "train_ci_low": float(t_ci[0, j]),
                "train_ci_high": float(t_ci[1, j]),
                "eval_n_runs": int(e_n[j]),
                "eval_mean": float(e_mean[j]),
                "eval_ci_low": float(e_ci[0, j]),
                "eval_ci_high": float(e_ci[1, j]),
            }
            report.final_scores.append(row)
    mine = [r for r in report.final_scores if r["algo"] == algo]
    for row in sorted(mine, key=lambda r: (r["game"], extractors.index(r["extractor"]))):
        seeds = str(row["n_runs"]) + (f" ({row['n_incomplete']} incomplete)" if row["n_incomplete"] else "")

        def cell(kind: str, row: dict[str, Any] = row) -> str:
            n = row[f"{kind}_n_runs"]
            if n == 0:
                return "no evaluation" if kind == "eval" else "no finished game"
            text = interval_text(row[f"{kind}_mean"], row[f"{kind}_ci_low"], row[f"{kind}_ci_high"])
            return text + (f" ({n} of {row['n_runs']} runs)" if n != row["n_runs"] else "")

        rows_md.append([row["game"], row["extractor"], seeds, cell("train"), cell("eval")])
    header = ["game", "extractor", "seeds", f"last {s.last_n} training games", "last evaluation"]
    table = md_table(header, rows_md)
    report.tables_md.setdefault("final_scores.md", []).append((algo, table))
    return (
        "### Final scores per game\n\n"
        f"Raw whole-game scores: mean over seeds [{s.confidence:.0%} bootstrap CI over seeds, rliable, "
        f"{s.reps} resamples]. "
        f"'last {s.last_n} training games' is each run's mean over its last {s.last_n} finished training games "
        "(all of them when fewer); 'last evaluation' is the mean score of each run's last evaluation. "
        "Also in `final_scores.csv` and `final_scores.md`.\n\n" + table
    )


def _normalised_matrices(
    algo: str, runs: list[Run], games: list[str], extractors: list[str], s: _Settings, report: Report
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Human-normalised ``(num_runs, num_games)`` matrices per extractor, on the games all extractors share."""
    unknown = [g for g in games if canonical_game(g) is None]
    if unknown:
        report.warnings.append(
            f"{algo}: no human/random reference score for {', '.join(unknown)}: left out of normalised statistics"
        )
    known = [g for g in games if canonical_game(g) is not None]
    shared = [g for g in known if all(any(r.game == g and r.extractor == e for r in runs) for e in extractors)]
    missing = [g for g in known if g not in shared]
    if missing:
        report.warnings.append(
            f"{algo}: {', '.join(missing)} lack runs for some extractor: left out of the aggregates so that "
            "every extractor is scored on the same games"
        )
    matrices: dict[str, np.ndarray] = {}
    for ext in extractors:
        ext_runs = [r for r in runs if r.extractor == ext]
        raw, _, dropped = load.score_matrix(ext_runs, shared, s.score_kind, s.last_n)
        dropped = [r for r in dropped if r.game in shared]
        if dropped:
            report.warnings.append(
                f"{algo}/{ext}: {len(dropped)} run(s) left out of the aggregates (no {s.score_kind} score, or cut "
                "so that every game has as many runs): " + ", ".join(relative(r.path, s.root) for r in dropped)
            )
        if raw.shape[0] > 0 and shared:
            matrices[ext] = human_normalize(raw, shared)
    return matrices, shared


def _aggregate_section(
    algo: str,
    runs: list[Run],
    games: list[str],
    extractors: list[str],
    colors: dict[str, str],
    s: _Settings,
    report: Report,
) -> str:
    """Aggregates, probability of improvement and profiles of one algorithm; returns their markdown."""
    from rl_coordconv.analysis.plots import plot_aggregate_intervals

    score_name = (
        "last evaluation mean" if s.score_kind == "eval" else f"mean of the last {s.last_n} training games"
    )
    md = [
        "### Human-normalised aggregates\n",
        f"One score per run ({score_name}), human-normalised: (score - random) / (human - random), with the "
        f"random and human scores of the DeepMind table. Aggregates over runs and games with {s.confidence:.0%} "
        f"stratified-bootstrap percentile CIs (rliable, {s.reps} resamples; Agarwal et al. 2021). "
        "IQM is the mean of the middle 50% of run x game scores; median and mean are over per-game means; "
        "optimality gap is 1 minus the mean of scores clipped at 1 (lower is better).\n",
    ]
    matrices, shared = _normalised_matrices(algo, runs, games, extractors, s, report)
    if not matrices:
        md.append("Not computed: no game with a reference score has a scored run for every extractor.\n")
        return "\n".join(md)

    points, intervals = stats.aggregate_interval_estimates(matrices, s.reps, s.seed, s.confidence)
    rows_md = []
    for ext, matrix in matrices.items():
        for m, metric in enumerate(stats.METRIC_NAMES):
            report.aggregates.append(
                {
                    "algo": algo,
                    "extractor": ext,
                    "metric": metric,
                    "point": float(points[ext][m]),
                    "ci_low": float(intervals[ext][0, m]),
                    "ci_high": float(intervals[ext][1, m]),
                    "n_runs_per_game": int(matrix.shape[0]),
                    "n_games": int(matrix.shape[1]),
                }
            )
        cells = [interval_text(points[ext][m], *intervals[ext][:, m], 3) for m in range(len(stats.METRIC_NAMES))]
        rows_md.append([ext, f"{matrix.shape[0]} x {matrix.shape[1]}", *cells])
    table = md_table(["extractor", "runs per game x games", *stats.METRIC_NAMES], rows_md)
    report.tables_md.setdefault("aggregates.md", []).append((algo, table))
    md.append(table)
    if any(m.shape[0] < 2 for m in matrices.values()):
        md.append("CIs marked n/a: a bootstrap over seeds needs at least two runs per game.\n")
    fig, axes = _figure((3.2 * len(stats.METRIC_NAMES), 0.9 + 0.55 * len(matrices)), len(stats.METRIC_NAMES))
    plot_aggregate_intervals(points, intervals, axes=axes, colors=colors)
    name = f"aggregates_{slug(algo)}.png"
    _save(fig, s.out / name)
    report.files.append(name)
    md.append(f"![aggregate metrics ({algo})]({name})\n")
    md.append(_improvement_section(algo, matrices, len(shared), colors, s, report))
    md.append(_profile_section(algo, matrices, colors, s, report))
    return "\n".join(md)


def _improvement_section(
    algo: str, matrices: dict[str, np.ndarray], n_games: int, colors: dict[str, str], s: _Settings, report: Report
) -> str:
    """Probability of improvement of each extractor over the baseline; returns its markdown."""
    from rl_coordconv.analysis.plots import plot_probability_of_improvement

    md = [f"### Probability of improvement over `{BASELINE}`\n"]
    variants = [e for e in matrices if e != BASELINE]
    if BASELINE not in matrices or not variants:
        reason = f"no '{BASELINE}' runs to compare with" if BASELINE not in matrices else "no other extractor"
        report.warnings.append(f"{algo}: probability of improvement not computed: {reason}")
        md.append(f"Not computed: {reason}.\n")
        return "\n".join(md)
    reps = min(s.reps, _LIGHT_REPS)
    md.append(
        f"P(X > {BASELINE}): for each game, the probability that a run of X scores higher than a run of "
        f"{BASELINE} (Mann-Whitney U / (n_X n_Y), ties count 1/2), averaged over the {n_games} game(s); "
        f"{s.confidence:.0%} CI from rliable's stratified independent bootstrap ({reps} resamples). "
        "0.5 means no difference.\n"
    )
    estimates: dict[str, float] = {}
    bands: dict[str, np.ndarray] = {}
    rows_md = []
    for ext in variants:
        p, band = stats.probability_of_improvement_estimates(
            matrices[ext], matrices[BASELINE], reps, s.seed, s.confidence
        )
        estimates[ext], bands[ext] = p, band
        report.improvement.append(
            {
                "algo": algo,
                "x": ext,
                "y": BASELINE,
                "probability": p,
                "ci_low": float(band[0]),
                "ci_high": float(band[1]),
                "n_runs_x": int(matrices[ext].shape[0]),
                "n_runs_y": int(matrices[BASELINE].shape[0]),
                "n_games": n_games,
            }
        )
        rows_md.append([ext, BASELINE, interval_text(p, band[0], band[1], 3)])
    table = md_table(["X", "Y", f"P(X > Y) [{s.confidence:.0%} CI]"], rows_md)
    report.tables_md.setdefault("probability_of_improvement.md", []).append((algo, table))
    md.append(table)
    fig, axes = _figure((6.0, 1.0 + 0.6 * len(estimates)))
    plot_probability_of_improvement(estimates, bands, BASELINE, ax=axes[0], colors=colors)
    name = f"probability_of_improvement_{slug(algo)}.png"
    _save(fig, s.out / name)
    report.files.append(name)
    md.append(f"![probability of improvement ({algo})]({name})\n")
    return "\n".join(md)


def _profile_section(
    algo: str, matrices: dict[str, np.ndarray], colors: dict[str, str], s: _Settings, report: Report
) -> str:
    """Performance profiles of one algorithm's extractors; returns their markdown."""
    from rl_coordconv.analysis.plots import plot_performance_profiles

    reps = min(s.reps, _LIGHT_REPS)
    taus = stats.default_taus(matrices)
    profiles, bands = stats.performance_profile_estimates(matrices, taus, reps, s.seed, s.confidence)
    fig, axes = _figure((7.0, 4.5))
    plot_performance_profiles(profiles, bands, taus, ax=axes[0], colors=colors)
    axes[0].set_title(f"performance profiles ({algo})")
    name = f"performance_profiles_{slug(algo)}.png"
    _save(fig, s.out / name)
    report.files.append(name)
    return (
        "### Performance profiles\n\n"
        f"Fraction of run x game human-normalised scores above each threshold tau, with {s.confidence:.0%} "
        f"bootstrap bands (rliable, {reps} resamples). A curve that lies above another everywhere is better "
        "at every threshold.\n\n"
        f"![performance profiles ({algo})]({name})\n"
    )


def _run_score_rows(runs: Sequence[Run], used: Sequence[Run], s: _Settings) -> list[dict[str, Any]]:
    used_ids = {id(r) for r in used}
    table = reference_scores()
    rows = []
    for run in runs:
        score = load.run_score(run, s.score_kind, s.last_n)
        canon = canonical_game(run.game)
        hns = math.nan
        if canon is not None and math.isfinite(score):
            random_score, human = table[canon]
            hns = (score - random_score) / (human - random_score)
        rows.append(
            {
                "algo": run.algo,
                "game": run.game,
                "extractor": run.extractor,
                "seed": "" if run.seed is None else run.seed,
                "state": run_state(run),
                "in_statistics": "yes" if id(run) in used_ids else "no",
                "agent_steps": run.agent_steps,
                "budget_agent_steps": "" if run.timesteps is None else run.timesteps,
                "training_games": int(run.episode_returns.size),
                "train_score": load.final_train_score(run, s.last_n),
                "eval_score": load.final_eval_score(run),
                "score": score,
                "human_normalised": hns,
                "path": relative(run.path, s.root),
            }
        )
    return rows


_FINAL_COLUMNS = (
    "algo", "game", "extractor", "n_runs", "n_incomplete",
    "train_n_runs", "train_mean", "train_ci_low", "train_ci_high",
    "eval_n_runs", "eval_mean", "eval_ci_low", "eval_ci_high",
)
_AGGREGATE_COLUMNS = ("algo", "extractor", "metric", "point", "ci_low", "ci_high", "n_runs_per_game", "n_games")
_POI_COLUMNS = ("algo", "x", "y", "probability", "ci_low", "ci_high", "n_runs_x", "n_runs_y", "n_games")
_RUN_COLUMNS = (
    "algo", "game", "extractor", "seed", "state", "in_statistics", "agent_steps", "budget_agent_steps",
    "training_games", "train_score", "eval_score", "score", "human_normalised", "path",
)
_CURVE_COLUMNS = ("algo", "game", "extractor", "curve", "agent_steps", "mean", "ci_low", "ci_high", "n_runs")


def _write_tables(report: Report, s: _Settings) -> None:
    def write(name: str, text: str) -> None:
        runfolder.atomic_write_text(s.out / name, text)
        report.files.append(name)

    write("final_scores.csv", csv_text(report.final_scores, _FINAL_COLUMNS))
    write("aggregates.csv", csv_text(report.aggregates, _AGGREGATE_COLUMNS))
    write("probability_of_improvement.csv", csv_text(report.improvement, _POI_COLUMNS))
    write("run_scores.csv", csv_text(report.run_scores, _RUN_COLUMNS))
    write("curves.csv", csv_text(report.curves, _CURVE_COLUMNS))
    for name, title in (
        ("final_scores.md", "Final scores per game"),
        ("aggregates.md", "Human-normalised aggregates"),
        ("probability_of_improvement.md", "Probability of improvement"),
    ):
        parts = [f"# {title}\n"]
        for algo, table in report.tables_md.get(name, []):
            parts.append(f"\n## {algo.upper()}\n\n{table}")
        if len(parts) == 1:
            parts.append("\nNot computed (see report.md).\n")
        write(name, "".join(parts))


# --------------------------------------------------------------------------- report.md


def _markdown(report: Report, s: _Settings, sections: list[str]) -> str:
    lines, warnings = describe_runs(report.runs, report.used, s.root, s.include_incomplete)
    report.warnings.extend(warnings)
    lines.append("\n## How the numbers were made\n")
    score_text = (
        "the mean score of each run's **last evaluation**"
        if report.score_kind == "eval"
        else f"the mean of each run's **last {s.last_n} training games** (all of them when fewer)"
    )
    lines.append(
        f"- Score per run for aggregates, probability of improvement and profiles: {score_text}. "
        "`--score eval|train` chooses; the default takes the last evaluation when every run has one.\n"
        "- Scores are whole-game, unclipped Atari scores; "
        "human-normalised = (score - random) / (human - random).\n"
        f"- Intervals: {s.confidence:.0%} percentile bootstrap; {s.reps} resamples for aggregates and final "
        f"scores, {min(s.reps, _LIGHT_REPS)} for curves, probability of improvement and profiles; "
        f"bootstrap seed {s.seed} (running analyze again gives identical tables).\n"
        "- With one seed per game no interval can be computed: such intervals read n/a.\n"
        "- Per-run numbers: `run_scores.csv`; curve numbers: `curves.csv`.\n"
    )

    lines.extend(sections)
    if report.warnings:
        lines.append("\n## Warnings\n")
        lines.append("".join(f"- {w}\n" for w in report.warnings))
    lines.append(
        "## Reference\n\nR. Agarwal, M. Schwarzer, P. S. Castro, A. Courville, M. G. Bellemare. Deep "
        "Reinforcement Learning at the Edge of the Statistical Precipice. NeurIPS 2021. "
        "https://github.com/google-research/rliable\n"
    )
    blocks = [line.strip("\n") for line in lines]
    return "\n\n".join(b for b in blocks if b) + "\n"
