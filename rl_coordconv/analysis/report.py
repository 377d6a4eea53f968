"""The report: read a sweep folder, compute every number (:mod:`~rl_coordconv.analysis.compute`), then
write ``DIR/report/`` from the results.

Files written (``<algo>`` is each algorithm found, e.g. ``a2c``; ``<game>`` each game)::

    report.md                          the report, readable on its own; links everything below; its first
                                       lines say which headline score every aggregate uses, then the answer
    answer.md                          the answer in brief (:mod:`~rl_coordconv.analysis.answer`): IQMs,
                                       their difference and P(improvement) with CIs, and their reading
    effect.csv / .md, effect_<algo>.png
                                       IQM(variant) - IQM(nature), human-normalised, 95% stratified-bootstrap CI
    aggregates.csv / .md, aggregates_<algo>.png
                                       IQM, median, mean, optimality gap of human-normalised scores, 95% CIs
    probability_of_improvement.csv / .md, probability_of_improvement_<algo>.png
    per_game.csv / .md, per_game_<algo>.png
                                       per game: difference of means (Welch t-interval), P(X > nature)
    sample_efficiency.csv, sample_efficiency_<algo>.png
                                       IQM against agent steps with stratified-bootstrap bands
    performance_profiles_<algo>.png
    curves_<algo>_<game>.png           learning curves: each seed thin, mean over seeds, 95% t-interval band
    curves.csv, curves_per_seed.csv    the numbers behind those curves
    final_scores.csv / .md             per game and extractor: last-N training games (and how many games each
                                       mean averaged) and last evaluation, mean and 95% t-interval over seeds
    baselines.csv / .md                nature beside published scores at the same budget and protocol
    run_scores.csv                     one row per run folder (incomplete and duplicate ones too)

Statistics follow Agarwal et al. 2021 (rliable); see :mod:`rl_coordconv.analysis.stats`. All
resampling is seeded, so the same folder gives byte-identical tables every time.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from rl_coordconv import runfolder
from rl_coordconv.analysis import figures, load, sections, stats
from rl_coordconv.analysis.answer import answer_markdown
from rl_coordconv.analysis.atari5 import ESTIMATE_COLUMNS
from rl_coordconv.analysis.baselines import read_published
from rl_coordconv.analysis.compute import BASELINE, AlgoResult, Analysis, Settings, compute, protocol_name
from rl_coordconv.analysis.load import Run, extractor_order
from rl_coordconv.analysis.markdown import csv_text, describe_runs, interval_text, md_table, number, relative
from rl_coordconv.analysis.scores import Score, resolve_score
from rl_coordconv.errors import UserError

__all__ = ["BASELINE", "Report", "analyze", "extractor_order", "write_report"]


@dataclass(frozen=True)
class Report:
    """What :func:`analyze` computed and wrote.

    :param out: the report folder
    :param analysis: every number computed
    :param files: every file written, relative to ``out``
    """

    out: Path
    analysis: Analysis
    files: tuple[str, ...]

    @property
    def markdown(self) -> Path:
        """The path of ``report.md``."""
        return self.out / "report.md"

    @property
    def runs(self) -> list[Run]:
        """Every run folder found."""
        return self.analysis.runs

    @property
    def used(self) -> list[Run]:
        """The runs in the statistics."""
        return self.analysis.used

    @property
    def left_out(self) -> list[Run]:
        """Incomplete runs left out of the statistics."""
        return self.analysis.left_out

    @property
    def score(self) -> Score:
        """The headline score."""
        return self.analysis.settings.score

    @property
    def score_kind(self) -> str:
        """``"eval"`` or ``"train"``."""
        return self.score.kind

    @property
    def warnings(self) -> list[str]:
        """What the user should know, one sentence each."""
        return self.analysis.warnings

    @property
    def aggregates(self) -> list[dict[str, Any]]:
        """Rows of ``aggregates.csv``."""
        return _records([a.aggregates for a in self.analysis.algos])

    @property
    def improvement(self) -> list[dict[str, Any]]:
        """Rows of ``probability_of_improvement.csv``."""
        return _records([a.improvement for a in self.analysis.algos])

    @property
    def effects(self) -> list[dict[str, Any]]:
        """Rows of ``effect.csv``."""
        return _records([a.effects for a in self.analysis.algos])


def _records(frames: Sequence[pd.DataFrame]) -> list[dict[str, Any]]:
    return [row for frame in frames if not frame.empty for row in frame.to_dict("records")]


def _spec_score(root: Path, key: str = "score") -> Any:
    """The ``score`` key (or another) of ``root/spec.yaml`` (None when there is no spec or no key)."""
    path = root / "spec.yaml"
    if not path.is_file():
        return None
    try:
        data = runfolder.read_yaml(path)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:  # a hand-edited spec may break
        raise UserError(f"cannot read {path}: {err}") from None
    return data.get(key) if isinstance(data, dict) else None


def _smallest_effect(root: Path, given: float | None) -> tuple[float | None, str]:
    """The smallest effect of interest: the one given, else the spec's ``smallest_effect``, with its source."""
    if given is not None:
        if not 0.0 < given < 1.0:
            raise UserError(f"the smallest effect of interest must be between 0 and 1 HNS IQM points; got {given}")
        declared = _spec_score(root, "smallest_effect")
        return float(given), "--smallest-effect" + (
            f" (the spec declares {declared})" if declared is not None else " (not declared in the spec)"
        )
    value = _spec_score(root, "smallest_effect")
    if value is None:
        return None, ""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise UserError(f"{root / 'spec.yaml'}: 'smallest_effect' must be a number between 0 and 1; got {value!r}")
    return float(value), "spec.yaml, declared before the first run"


def analyze(
    root: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    score: str | None = None,
    reps: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
    bins: int = 20,
    include_incomplete: bool = False,
    published: Sequence[str | os.PathLike[str]] = (),
    planned: int | None = None,
    figures: bool = True,
    smallest_effect: float | None = None,
) -> Report:
    """Analyse every run folder under ``root`` and write the report.

    :param root: the sweep folder (``root/spec.yaml``, ``root/runs/*``) or any folder of run folders
    :param out: the report folder; ``root/report`` when None
    :param score: the headline score, ``"eval"`` or ``"train_last_N"`` (see
        :mod:`~rl_coordconv.analysis.scores`); None takes the spec's ``score``, else the protocol's default
    :param reps: bootstrap resamples for aggregates and effects (curves' sample efficiency, probability
        of improvement and profiles use at most 2,000)
    :param seed: seed of every bootstrap
    :param confidence: coverage of every interval
    :param bins: learning-curve bins over the budget in agent steps
    :param include_incomplete: use incomplete runs in the statistics too (labelled as such)
    :param published: extra CSV tables of comparator scores for the baseline table, in the columns of
        the packaged one (:func:`~rl_coordconv.analysis.baselines.read_published`)
    :param planned: how many runs the experiment plans, stated beside the complete ones in the answer
        (``rl-coordconv analyze`` reads it from ``root/spec.yaml``:
        :func:`~rl_coordconv.sweep.spec.planned_cells`); None leaves it out
    :param figures: draw the figures (False: the tables, CSV files and ``report.md`` only, in about half
        the time on a large sweep; the numbers are the same)
    :param smallest_effect: the smallest effect of interest in human-normalised IQM points, for the
        equivalence reading; None takes the spec's ``smallest_effect`` (none declared: no equivalence)
    :return: what was computed and written
    :raises UserError: when ``root`` holds no run folder, an argument is out of range, a published-scores
        table cannot be read, or no run in the statistics has the headline score
    """
    if reps < 1 or bins < 1:
        raise UserError(f"reps and bins must be positive; got {reps} and {bins}")
    if not 0.0 < confidence < 1.0:
        raise UserError(f"confidence must be between 0 and 1; got {confidence}")
    root = Path(root)
    runs = load.load_runs(root)
    chosen = resolve_score(score, _spec_score(root), [protocol_name(r) for r in runs])
    extra = [read_published(p) for p in published]
    delta, delta_source = _smallest_effect(root, smallest_effect)
    settings = Settings(
        root,
        chosen,
        reps,
        seed,
        confidence,
        bins,
        include_incomplete,
        pd.concat(extra, ignore_index=True) if extra else None,
        planned,
        delta,
        delta_source,
    )
    analysis = compute(runs, settings)
    out_dir = Path(out) if out is not None else root / "report"
    files = write_report(analysis, out_dir, figures=figures)
    return Report(out=out_dir, analysis=analysis, files=tuple(files))


# --------------------------------------------------------------------------- tables

_COLUMNS: dict[str, tuple[str, ...]] = {
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

_ALGO_TABLES: dict[str, str] = {
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


def _curve_rows(res: AlgoResult) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
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


def _write(out: Path, name: str, text: str, files: list[str]) -> None:
    runfolder.atomic_write_text(out / name, text)
    files.append(name)


def _write_tables(a: Analysis, out: Path, md_tables: dict[str, list[tuple[str, str]]], files: list[str]) -> None:
    for name, attr in _ALGO_TABLES.items():
        _write(out, name, csv_text(_records([getattr(r, attr) for r in a.algos]), _COLUMNS[name]), files)
    _write(out, "run_scores.csv", csv_text(a.run_scores.to_dict("records"), _COLUMNS["run_scores.csv"]), files)
    means, seeds = [], []
    for res in a.algos:
        m, s = _curve_rows(res)
        means += m
        seeds += s
    _write(out, "curves.csv", csv_text(means, _COLUMNS["curves.csv"]), files)
    _write(out, "curves_per_seed.csv", csv_text(seeds, _COLUMNS["curves_per_seed.csv"]), files)
    titles = {
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
    for name, title in titles.items():
        parts = [f"# {title}\n", f"\nHeadline score: `{a.settings.score.name}` ({a.settings.score.label}).\n"]
        for algo, table in md_tables.get(name, []):
            parts.append(f"\n## {algo.upper()}\n\n{table}")
        if len(parts) == 2:
            parts.append("\nNot computed (see report.md).\n")
        _write(out, name, "".join(parts), files)


# --------------------------------------------------------------------------- report.md sections


def _pct(s: Settings) -> str:
    return f"{s.confidence:.0%}"


def _effect_section(res: AlgoResult, s: Settings, md: dict[str, list[tuple[str, str]]], fig: str | None) -> str:
    head = f"### Effect: IQM(X) - IQM({BASELINE})\n"
    if res.effects.empty:
        return head + "\nNot computed: " + _why_no_comparison(res) + "\n"
    tost = f"{s.tost_confidence:.0%}"
    rows = [
        [r["x"], BASELINE, number(r["iqm_x"], 3), number(r["iqm_y"], 3), interval_text(r["difference"], r["ci_low"], r["ci_high"], 3),
         f"[{number(r['paired_ci_low'], 3)}, {number(r['paired_ci_high'], 3)}]" if r["paired"] == "yes" else "not paired",
         f"[{number(r['tost_ci_low'], 3)}, {number(r['tost_ci_high'], 3)}]",
         r["reading"] + (f" (+/-{number(r['smallest_effect'], 3)})" if math.isfinite(r["smallest_effect"]) else " (no delta)"),
         f"{r['mean_difference']:+.3f}", f"{r['n_runs_x']} / {r['n_runs_y']} x {r['n_games']}"]
        for r in res.effects.to_dict("records")
    ]  # fmt: skip
    header = ["X", "Y", "IQM(X)", "IQM(Y)", f"IQM(X) - IQM(Y) [{_pct(s)} CI]", f"seed-paired [{_pct(s)} CI]",
              f"[{tost} CI] (TOST)", "reading", "mean(X) - mean(Y)", "runs per game X / Y x games"]  # fmt: skip
    table = md_table(header, rows)
    md.setdefault("effect.md", []).append((res.algo, table))
    delta = (
        f"The smallest effect of interest is +/-{number(s.smallest_effect, 3)} HNS IQM points ({s.smallest_effect_source})"
        if s.smallest_effect is not None
        else "No smallest effect of interest was declared (a spec's `smallest_effect`), so no interval here can show "
        "equivalence"
    )
    text = (
        f"{head}\nThe effect of each variant on the headline score, human-normalised: the difference of the two "
        f"IQMs, with a {_pct(s)} stratified independent bootstrap interval (rliable, {s.reps} resamples; each "
        "side's runs resampled within each game), the headline. An interval that excludes 0 is an effect these "
        "seeds resolve; one that spans 0 is not. Beside it: the seed-paired interval, where every game holds the "
        "same seeds on both sides (the same seed indices resampled on both sides, so what a seed fixes, its "
        "environment seeds and, with equal initialisation, its initial weights, stays out of the difference); the "
        "headline keeps the independent one (rliable's resampling, read at the expanded level), whose coverage "
        "`experiments/coverage/` measured, "
        "and the table shows both so a reader sees whether pairing changes the reading. The "
        f"{tost} interval is the two one-sided tests' (Schuirmann 1987; Lakens 2017): inside (-delta, +delta) it "
        f"reads as equivalent within delta at {1 - s.confidence:.0%}. {delta}. The reading is `better` or `worse` "
        f"(the {_pct(s)} interval excludes 0), `equivalent` (not that, and the {tost} interval lies inside "
        "+/-delta) or `inconclusive`. mean(X) - mean(Y) is the difference of the mean human-normalised scores, "
        "shown because a few outlying games can move it against the IQM's sign.\n\n" + table
    )
    return text + (f"\n![effect ({res.algo})]({fig})\n" if fig else "")


def _why_no_comparison(res: AlgoResult) -> str:
    if not res.normalised:
        return "no game has a reference score and a scored run of every extractor."
    if BASELINE not in res.normalised:
        return f"no scored '{BASELINE}' runs to compare with."
    return "no other extractor with scored runs on these games."


def _aggregate_section(res: AlgoResult, s: Settings, md: dict[str, list[tuple[str, str]]], fig: str | None) -> str:
    head = "### Human-normalised aggregates\n"
    rs = res.runset
    if res.aggregates.empty:
        return head + "\nNot computed: no game with a reference score has a scored run of every extractor.\n"
    rows = []
    for ext, matrix in res.normalised.items():
        low, high = res.intervals[ext]
        cells = [interval_text(res.points[ext][m], low[m], high[m], 3) for m in range(len(res.points[ext]))]
        rows.append([ext, f"{matrix.shape[0]} x {matrix.shape[1]}", *cells])
    table = md_table(["extractor", "runs per game x games", "IQM", "Median", "Mean", "Optimality Gap"], rows)
    md.setdefault("aggregates.md", []).append((res.algo, table))
    text = [
        head,
        (
            f"One score per run ({s.score.label}), human-normalised: (score - random) / (human - random), with the "
            "random and human scores of the DeepMind table. Aggregates over runs and games with "
            f"{_pct(s)} stratified-bootstrap CIs (rliable, {s.reps} resamples, expanded percentile; Agarwal et al. "
            "2021; Hesterberg 2015). "
            "IQM is the mean of the middle 50% of run x game scores; median and mean are over per-game means; "
            "optimality gap is 1 minus the mean of scores clipped at 1 (lower is better). "
            f"Games: {', '.join(rs.aggregate_games)}.\n"
        ),
        table,
    ]
    if any(m.shape[0] < 2 for m in res.normalised.values()):
        text.append("CIs marked n/a: a bootstrap over seeds needs at least two runs per game.\n")
    if fig:
        text.append(f"![aggregate metrics ({res.algo})]({fig})\n")
    return "\n".join(text)


def _improvement_section(res: AlgoResult, s: Settings, md: dict[str, list[tuple[str, str]]], fig: str | None) -> str:
    head = f"### Probability of improvement over `{BASELINE}`\n"
    if res.improvement.empty:
        return head + "\nNot computed: " + _why_no_comparison(res) + "\n"
    rows = [
        [r["x"], BASELINE, interval_text(r["probability"], r["ci_low"], r["ci_high"], 3)]
        for r in res.improvement.to_dict("records")
    ]
    table = md_table(["X", "Y", f"P(X > Y) [{_pct(s)} CI]"], rows)
    md.setdefault("probability_of_improvement.md", []).append((res.algo, table))
    text = (
        f"{head}\nP(X > {BASELINE}): for each game, the probability that a run of X scores higher than a run of "
        f"{BASELINE} (Mann-Whitney U / (n_X n_Y), ties count 1/2), averaged over the "
        f"{len(res.runset.aggregate_games)} game(s) of the aggregates; {_pct(s)} CI from rliable's stratified "
        f"independent bootstrap ({s.light_reps} resamples). 0.5 means no difference.\n\n" + table
    )
    return text + (f"\n![probability of improvement ({res.algo})]({fig})\n" if fig else "")


def _per_game_section(res: AlgoResult, s: Settings, md: dict[str, list[tuple[str, str]]], fig: str | None) -> str:
    head = "### Per-game comparison\n"
    if res.per_game.empty:
        return head + f"\nNot computed: no game has scored runs of both `{BASELINE}` and another extractor.\n"
    rows = [
        [r["game"], r["x"], f"{r['n_runs_x']} / {r['n_runs_y']}", number(r["mean_x"]), number(r["mean_y"]),
         interval_text(r["difference"], r["ci_low"], r["ci_high"]),
         interval_text(r["hns_difference"], r["hns_ci_low"], r["hns_ci_high"], 3), number(r["probability"], 2),
         number(r.get("p_value", math.nan), 3), number(r.get("q_value", math.nan), 3)]
        for r in res.per_game.to_dict("records")
    ]  # fmt: skip
    header = ["game", "X", "runs X / Y", "mean X", f"mean {BASELINE}", f"X - {BASELINE} [{_pct(s)} Welch t]",
              "human-normalised", f"P(X > {BASELINE})", "p (Welch)", "q (BH)"]  # fmt: skip
    table = md_table(header, rows)
    md.setdefault("per_game.md", []).append((res.algo, table))
    text = (
        f"{head}\nEvery game on its own, with all of its scored runs: the difference of the mean headline scores "
        f"with Welch's {_pct(s)} t-interval (scipy; n/a with fewer than two runs a side), the same difference "
        f"human-normalised, and the per-game probability that a run of X beats a run of {BASELINE}. With a "
        "handful of seeds a per-game interval is wide; it says how much one game alone can tell. p is the Welch "
        "t-test's two-sided p-value; q the Benjamini-Hochberg adjusted one over this variant's games (the false "
        "discovery rate: with many games, some p-values fall below 0.05 by chance; read q).\n\n" + table
    )
    return text + (f"\n![per-game comparison ({res.algo})]({fig})\n" if fig else "")


def _efficiency_section(res: AlgoResult, s: Settings, fig: str | None) -> str:
    head = "### Sample efficiency\n"
    if res.efficiency.empty:
        return head + "\nNot computed: no run set for the aggregates (see above and the warnings).\n"
    source = (
        "each evaluation's mean score"
        if res.efficiency_source == "evaluations"
        else f"training games binned by agent steps ({s.bins} bins over the budget; the runs do not all have "
        "evaluations at the same two or more points)"
    )
    text = (
        f"{head}\nIQM of human-normalised scores against agent steps, from {source}, over the runs and games of "
        f"the aggregates; bands are {_pct(s)} stratified-bootstrap CIs (rliable's sample-efficiency curves, "
        f"{s.light_reps} resamples). Numbers: `sample_efficiency.csv`.\n"
    )
    return text + (f"\n![sample efficiency ({res.algo})]({fig})\n" if fig else "")


def _final_section(res: AlgoResult, s: Settings, md: dict[str, list[tuple[str, str]]]) -> str:
    n = s.train_n
    rows = []
    order = list(res.runset.extractors)
    for r in sorted(res.final_scores.to_dict("records"), key=lambda r: (r["game"], order.index(r["extractor"]))):
        seeds = str(r["n_runs"]) + (f" ({r['n_incomplete']} incomplete)" if r["n_incomplete"] else "")
        rows.append([r["game"], r["extractor"], seeds, _final_cell(r, "train", n), _final_cell(r, "eval", n)])
    headline = {
        "train": " (headline)" if s.score.kind == "train" else "",
        "eval": " (headline)" if s.score.kind == "eval" else "",
    }
    header = [
        "game",
        "extractor",
        "seeds",
        f"last {n} training games{headline['train']}",
        f"last evaluation{headline['eval']}",
    ]
    table = md_table(header, rows)
    md.setdefault("final_scores.md", []).append((res.algo, table))
    return (
        "### Final scores per game\n\n"
        f"Raw whole-game scores: mean over seeds [{_pct(s)} t-interval over seeds; n/a with one seed]. "
        f"'last {n} training games' is each run's mean over its last {n} finished training games, or over all "
        "of them when it finished fewer (early play included); the cell says how many games each mean "
        "averaged. 'last evaluation' is the mean score of each run's last evaluation, over the games stated. "
        "Also in `final_scores.csv` and `final_scores.md`.\n\n" + table
    )


def _final_cell(r: dict[str, Any], kind: str, n: int) -> str:
    runs = r[f"{kind}_n_runs"]
    if runs == 0:
        return "no evaluation" if kind == "eval" else "no finished game"
    text = interval_text(r[f"{kind}_mean"], r[f"{kind}_ci_low"], r[f"{kind}_ci_high"])
    low, high = r[f"{kind}_games_min"], r[f"{kind}_games_max"]
    games = f"{low}" if low == high else f"{low}-{high}"
    if kind == "train":
        text += f"; {games} games each" + (f" (fewer than {n})" if low < n else "")
    else:
        text += f"; {games} games each"
    return text + (f" ({runs} of {r['n_runs']} runs)" if runs != r["n_runs"] else "")


def _scored_runs(res: AlgoResult) -> list[Run]:
    """The scored runs of one algorithm.

    :param res: the algorithm's results
    :return: the runs behind its cells
    """
    return [x.run for cell in res.runset.cells.values() for x in cell]


def _curves_section(res: AlgoResult, s: Settings, figs: list[tuple[str, str]]) -> str:
    text = [
        "### Learning curves\n",
        (
            "Each thin line is one seed; the thick line is the mean over seeds and the band its "
            f"{_pct(s)} t-interval (no band where fewer than two seeds have a value). Training curves bin the "
            f"whole-game scores of finished training games by agent steps ({s.bins} bins over the budget; a bin "
            "without a finished game carries the previous value). Evaluation curves, where present, show each "
            "evaluation's mean score.\n"
        ),
    ]
    if not figs:
        return ""
    text += [f"![{game} learning curves ({res.algo})]({name})\n" for game, name in figs]
    return "\n".join(text)


def _profiles_section(res: AlgoResult, s: Settings, fig: str | None) -> str:
    if not fig:
        return ""
    return (
        "### Performance profiles\n\n"
        f"Fraction of run x game human-normalised scores above each threshold tau (rliable's score "
        f"distributions), with {_pct(s)} bootstrap bands ({s.light_reps} resamples). A curve that lies above "
        f"another everywhere is better at every threshold.\n\n![performance profiles ({res.algo})]({fig})\n"
    )


def _algo_section(
    res: AlgoResult, s: Settings, out: Path, md: dict[str, list[tuple[str, str]]], files: list[str], draw: bool
) -> str:
    def fig(make: Callable[..., str | None], *args: Any) -> str | None:
        name = make(res, *args, out) if draw else None
        if name:
            files.append(name)
        return name

    curve_figs = [(g, f) for g in res.runset.games if (f := fig(figures.learning_curves, g))]
    parts = [
        f"## {res.algo.upper()}\n",
        sections.learning_section(res, s, md),
        _effect_section(res, s, md, fig(figures.effects)),
        _aggregate_section(res, s, md, fig(figures.aggregates)),
        _improvement_section(res, s, md, fig(figures.improvement)),
        _per_game_section(res, s, md, fig(figures.per_game)),
        _efficiency_section(res, s, fig(figures.sample_efficiency)),
        _curves_section(res, s, curve_figs),
        _final_section(res, s, md),
        sections.noise_section(res, s, md),
        sections.atari5_section(res, s, md),
        sections.baseline_section(res, s, md, sorted({r.timesteps for r in _scored_runs(res) if r.timesteps})),
        _profiles_section(res, s, fig(figures.profiles)),
    ]
    return "\n".join(p for p in parts if p)


def _headline(a: Analysis) -> list[str]:
    s = a.settings
    score = s.score
    what = (
        "the mean score of each run's **last evaluation**"
        if score.kind == "eval"
        else f"the mean of each run's **last {score.last_n} training games** (all of them when it finished fewer)"
    )
    lines = [
        (
            f"**Headline score: `{score.name}`** ({score.source}): {what}. Every aggregate, effect, probability of "
            "improvement, per-game comparison, performance profile and baseline check below uses it; runs "
            "without it are listed, never scored another way. `analyze --score eval|train_last_N` chooses another."
        )
    ]
    unscored = [r for res in a.algos for r in res.runset.unscored]
    if unscored:
        rows = [[relative(r.path, s.root), r.algo, r.game, r.extractor, str(r.seed), score.missing] for r in unscored]
        lines.append(f"**{len(unscored)} run(s) lack the headline score** and are left out of those statistics:")
        lines.append(md_table(["run folder", "algo", "game", "extractor", "seed", "lacks"], rows))
    return lines


def _run_set_section(a: Analysis) -> list[str]:
    s = a.settings
    blocks = ["## The run set"]
    items = []
    if a.duplicates:
        items += [
            f"- duplicate cell {d.algo}/{d.game}/{d.extractor}/seed {d.seed}: `{relative(d.path, s.root)}` "
            f"counted once, as `{relative(k.path, s.root)}`"
            for k, d in a.duplicates
        ]
    for res in a.algos:
        rs = res.runset
        items += [f"- {res.algo}: **{g}** left out of the aggregates ({why})" for g, why in rs.dropped_games.items()]
        for ext, cut in rs.left_out_of_matrices.items():
            items.append(
                f"- {res.algo}/{ext}: the aggregates take {rs.matrices[ext].shape[0]} run(s) per game, leaving out "
                + ", ".join(f"`{relative(r.path, s.root)}`" for r in cut)
                + " (used everywhere else)"
            )
        counts = {ext: sorted({len(rs.cells.get((ext, g), ())) for g in rs.games}) for ext in rs.extractors}
        uneven = {e: c for e, c in counts.items() if len(c) > 1}
        if uneven:
            items.append(f"- {res.algo}: scored runs per game differ: " + "; ".join(
                f"{e}: {min(c)}-{max(c)}" for e, c in uneven.items()) + " (per-game statistics use them all)")  # fmt: skip
    blocks.append(
        "".join(f"{i}\n" for i in items)
        if items
        else "Every cell appears once, every run in the statistics has the headline score, and every game "
        "with runs is in the aggregates."
    )
    return blocks


def _levels_used(a: Analysis) -> str:
    """Which percentiles this report's stratified bootstraps were read at, per algorithm and matrix shape."""
    parts = []
    for res in a.algos:
        for runs, games in sorted({m.shape for m in res.normalised.values()}):
            shape = f"{runs} run{'s' if runs != 1 else ''} per game on {games} game{'s' if games != 1 else ''}"
            if runs < 2:
                parts.append(f"{res.algo}, {shape}: no interval")
            else:
                level = stats.bootstrap_level(a.settings.confidence, runs, games)
                read = f"the {level:.1%} percentiles" if level < 0.9995 else "the whole range of the resamples"
                parts.append(f"{res.algo}, {shape}: the {_pct(a.settings)} interval takes {read}")
    return "; ".join(parts) if parts else "no aggregate was computed"


def _how_section(a: Analysis) -> str:
    s = a.settings
    return (
        "## How the numbers were made\n\n"
        f"- Headline score: `{s.score.name}` ({s.score.label}; chosen by {s.score.source}).\n"
        "- Scores are whole-game, unclipped Atari scores; human-normalised = (score - random) / (human - random).\n"
        f"- Aggregates over games (IQM, median, mean, optimality gap, the effect IQM(X) - IQM({BASELINE}), "
        f"probability of improvement, profiles, sample efficiency): {_pct(s)} stratified-bootstrap intervals "
        f"(rliable); {s.reps} resamples for aggregates and effects, {s.light_reps} for the others; bootstrap seed "
        f"{s.seed} (running analyze again gives identical tables). They are *expanded* percentile intervals "
        "(Hesterberg 2015): a bootstrap over n runs per game spreads like (n - 1) / n of the runs' variance, so "
        "the percentiles are read at the level whose normal quantile is sqrt(n / (n - 1)) t_{games (n - 1)} "
        f"({_levels_used(a)}). On real "
        "Atari 100k runs (DrQ(eps) and SPR, IQM about 0.28) the plain percentile interval of an IQM difference "
        "covered 88% with 3 runs per game, the expanded one 95%; on resamples of the atari100k study's own "
        "near-random runs (IQM about 0.025, ties at the random score) the expanded one covered 90-95% and "
        "rliable's default 85-91%. The probability of improvement keeps the plain percentile interval, which "
        "covered 92-95% there. One extractor's own IQM interval covered about 90% with 3 runs per game and "
        "92-94% with 5, and its median's far less: read the median as descriptive. Performance-profile bands "
        "covered 91-96% where a third to a half of the scores lie above the threshold, and less in the tail "
        "(73% where 12% do, with 3 runs per game). Every measured figure: `experiments/coverage/README.md`.\n"
        f"- Numbers of one game (final scores, learning-curve bins, per-game differences): {_pct(s)} Student "
        "t-intervals over seeds (Welch's for differences). A percentile bootstrap over 2-5 seeds covers far "
        "less than 95%; the t-interval stays close to nominal, and is as wide as few seeds warrant (with 2 seeds "
        "a 95% interval is the mean +- 12.7 standard errors, with 3 seeds +- 4.3, with 5 seeds +- 2.8). On real "
        "Atari 100k scores the Welch interval of a per-game difference covered 96.5-97% where nothing differs "
        "and 94% on average where games differ, but under 70% in the most skewed game: read one game's "
        "interval as a guide.\n"
        "- Learning check first: per extractor, the IQM and median of human-normalised scores, the games below "
        "random, and whether each run's final score beats its own first training games (paired over seeds, "
        "Student t; and each run's own last-vs-first test, two Welch standard errors).\n"
        f"- Equivalence: {_delta_text(s)} The two one-sided tests (Schuirmann 1987; Lakens 2017) are read from "
        f"the {s.tost_confidence:.0%} interval of the IQM difference (the same expanded bootstrap): inside "
        "(-delta, +delta) is equivalence at "
        f"{1 - s.confidence:.0%}. The seed-paired interval resamples the same seeds on both sides (rliable's "
        "`StratifiedBootstrap` over both arrays); the headline keeps the independent one. On resamples of the "
        "atari100k study's own near-random runs, an equivalence reading at a true difference of +/-delta was "
        "wrong in up to 8% of simulated studies (nominal 5%).\n"
        "- Per-game p-values are Welch t-tests; q-values their Benjamini-Hochberg adjustment over one variant's "
        "games (scipy's `false_discovery_control`).\n"
        "- With one seed no interval can be computed: such intervals read n/a.\n"
        "- Per-run numbers: `run_scores.csv`; curve numbers: `curves.csv` and `curves_per_seed.csv`.\n"
    )


def _delta_text(s: Settings) -> str:
    if s.smallest_effect is None:
        return "no smallest effect of interest was declared, so no interval here can show equivalence."
    return f"the smallest effect of interest is +/-{number(s.smallest_effect, 3)} HNS IQM points ({s.smallest_effect_source})."


def write_report(a: Analysis, out: Path, figures: bool = True) -> list[str]:
    """Write ``report.md``, the CSV and markdown tables and the figures of a computed analysis.

    :param a: the analysis (:func:`~rl_coordconv.analysis.compute.compute`)
    :param out: the report folder (created when missing)
    :param figures: draw the figures (False: ``report.md`` says they were not drawn)
    :return: the files written, relative to ``out``, sorted
    """
    out.mkdir(parents=True, exist_ok=True)
    files: list[str] = []
    md: dict[str, list[tuple[str, str]]] = {}
    sections = [_algo_section(res, a.settings, out, md, files, figures) for res in a.algos]
    _write_tables(a, out, md, files)
    answer = answer_markdown(a)
    _write(out, "answer.md", answer, files)
    headline = [*_headline(a), "## The answer in brief", answer]
    lines, warnings = describe_runs(a.runs, a.used, a.settings.root, a.settings.include_incomplete, headline)
    a.warnings.extend(w for w in warnings if w not in a.warnings)
    lines += _run_set_section(a)
    lines.append(_how_section(a))
    if not figures:
        lines.append("*Figures not drawn (`analyze --no-figures`); the tables and CSV files hold every number.*")
    lines += sections
    if a.warnings:
        lines.append("## Warnings\n")
        lines.append("".join(f"- {w}\n" for w in a.warnings))
    lines.append(
        "## References\n\nR. Agarwal, M. Schwarzer, P. S. Castro, A. Courville, M. G. Bellemare. Deep "
        "Reinforcement Learning at the Edge of the Statistical Precipice. NeurIPS 2021. "
        "https://github.com/google-research/rliable\n\nM. C. Machado, M. G. Bellemare, E. Talvitie, J. Veness, "
        "M. Hausknecht, M. Bowling. Revisiting the Arcade Learning Environment. JAIR 2018.\n\nT. C. Hesterberg. "
        "What Teachers Should Know About the Bootstrap: Resampling in the Undergraduate Statistics Curriculum. "
        "The American Statistician 69(4), 2015. arXiv:1411.5279 (the expanded percentile interval).\n"
    )
    blocks = [line.strip("\n") for line in lines]
    _write(out, "report.md", "\n\n".join(b for b in blocks if b) + "\n", files)
    return sorted(set(files))
