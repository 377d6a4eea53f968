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

The report is a list of sections assembled once and written once: the overview
(:mod:`~rl_coordconv.analysis.overview`), one section per algorithm (:mod:`~rl_coordconv.analysis.sections`,
:mod:`~rl_coordconv.analysis.comparison_sections`), the warnings and references, then any section made
outside the analysis (:class:`~rl_coordconv.analysis.markdown.ReportSection`, e.g. ``analyze --inspect``'s);
the tables' files are :mod:`~rl_coordconv.analysis.report_tables`'.

Statistics follow Agarwal et al. 2021 (rliable); see :mod:`rl_coordconv.analysis.stats`. All
resampling is seeded, so the same folder gives byte-identical tables every time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from rl_coordconv import runfolder
from rl_coordconv.analysis import comparison_sections as compare
from rl_coordconv.analysis import figures, load, overview, sections
from rl_coordconv.analysis.answer import answer_markdown
from rl_coordconv.analysis.baselines import read_published
from rl_coordconv.analysis.compute import compute, protocol_name
from rl_coordconv.analysis.load import BASELINE, Run, extractor_order
from rl_coordconv.analysis.markdown import ReportSection, SectionMaker, describe_runs
from rl_coordconv.analysis.report_tables import Tables, records, write_file, write_tables
from rl_coordconv.analysis.results import AlgoResult, Analysis, Settings
from rl_coordconv.errors import UserError
from rl_coordconv.scores import Score, resolve_score
from rl_coordconv.sweepfolder import SweepFolder

__all__ = ["BASELINE", "Report", "ReportSection", "SectionMaker", "analyze", "extractor_order", "write_report"]


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
        return records([a.aggregates for a in self.analysis.algos])

    @property
    def improvement(self) -> list[dict[str, Any]]:
        """Rows of ``probability_of_improvement.csv``."""
        return records([a.improvement for a in self.analysis.algos])

    @property
    def effects(self) -> list[dict[str, Any]]:
        """Rows of ``effect.csv``."""
        return records([a.effects for a in self.analysis.algos])


def _spec_score(root: Path, key: str = "score") -> Any:
    """The ``score`` key (or another) of ``root/spec.yaml`` (None when there is no spec or no key)."""
    path = SweepFolder.at(root).spec
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
        raise UserError(
            f"{SweepFolder.at(root).spec}: 'smallest_effect' must be a number between 0 and 1; got {value!r}"
        )
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
    extra_sections: Sequence[SectionMaker] = (),
) -> Report:
    """Analyse every run folder under ``root`` and write the report.

    :param root: the sweep folder (``root/spec.yaml``, ``root/runs/*``) or any folder of run folders
    :param out: the report folder; ``root/report`` when None
    :param score: the headline score, ``"eval"`` or ``"train_last_N"`` (see
        :mod:`~rl_coordconv.scores`); None takes the spec's ``score``, else the protocol's default
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
    :param extra_sections: sections made outside the analysis, appended in order after the references
        (e.g. :class:`~rl_coordconv.inspection.compare.InspectSection`, ``analyze --inspect``)
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
    out_dir = Path(out) if out is not None else SweepFolder.at(root).report
    files = write_report(analysis, out_dir, figures=figures, extra_sections=extra_sections)
    return Report(out=out_dir, analysis=analysis, files=tuple(files))


def _scored_runs(res: AlgoResult) -> list[Run]:
    """The scored runs of one algorithm.

    :param res: the algorithm's results
    :return: the runs behind its cells
    """
    return [x.run for cell in res.runset.cells.values() for x in cell]


def _algo_section(res: AlgoResult, s: Settings, out: Path, md: Tables, files: list[str], draw: bool) -> str:
    """``## <ALGO>``: its sections in order, drawing each figure (when ``draw``) before the text citing it."""

    def fig(make: Callable[..., str | None], *args: Any) -> str | None:
        name = make(res, *args, out) if draw else None
        if name:
            files.append(name)
        return name

    curve_figs = [(g, f) for g in res.runset.games if (f := fig(figures.learning_curves, g))]
    parts = [
        f"## {res.algo.upper()}\n",
        sections.learning_section(res, s, md),
        compare.effect_section(res, s, md, fig(figures.effects)),
        compare.aggregate_section(res, s, md, fig(figures.aggregates)),
        compare.improvement_section(res, s, md, fig(figures.improvement)),
        compare.per_game_section(res, s, md, fig(figures.per_game)),
        compare.efficiency_section(res, s, fig(figures.sample_efficiency)),
        compare.curves_section(res, s, curve_figs),
        compare.final_section(res, s, md),
        sections.noise_section(res, s, md),
        sections.atari5_section(res, s, md),
        sections.baseline_section(res, s, md, sorted({r.timesteps for r in _scored_runs(res) if r.timesteps})),
        compare.profiles_section(res, s, fig(figures.profiles)),
    ]
    return "\n".join(p for p in parts if p)


def write_report(
    a: Analysis, out: Path, figures: bool = True, extra_sections: Sequence[SectionMaker] = ()
) -> list[str]:
    """Write ``report.md``, the CSV and markdown tables and the figures of a computed analysis.

    ``report.md`` is assembled once from its sections, in order, and written once: the headline score and
    the answer, what was run, the run set, how the numbers were made, one section per algorithm, the
    warnings, the references, then each of ``extra_sections``.

    :param a: the analysis (:func:`~rl_coordconv.analysis.compute.compute`)
    :param out: the report folder (created when missing)
    :param figures: draw the figures (False: ``report.md`` says they were not drawn)
    :param extra_sections: sections made outside the analysis, each given ``out`` and ``figures``
    :return: the files written, relative to ``out``, sorted
    """
    out.mkdir(parents=True, exist_ok=True)
    files: list[str] = []
    md: Tables = {}
    algo_sections = [_algo_section(res, a.settings, out, md, files, figures) for res in a.algos]
    write_tables(a, out, md, files)
    answer = answer_markdown(a)
    write_file(out, "answer.md", answer, files)
    headline = [*overview.headline(a), "## The answer in brief", answer]
    blocks, warnings = describe_runs(a.runs, a.used, a.settings.root, a.settings.include_incomplete, headline)
    a.warnings.extend(w for w in warnings if w not in a.warnings)
    blocks += overview.run_set_section(a)
    blocks.append(overview.how_section(a))
    if not figures:
        blocks.append("*Figures not drawn (`analyze --no-figures`); the tables and CSV files hold every number.*")
    blocks += algo_sections
    if a.warnings:
        blocks.append("## Warnings\n")
        blocks.append("".join(f"- {w}\n" for w in a.warnings))
    blocks.append(overview.REFERENCES)
    for make in extra_sections:
        section: ReportSection = make(out, figures)
        blocks.append(section.text)
        files.extend(section.files)
    text = "\n\n".join(b for b in (block.strip("\n") for block in blocks) if b) + "\n"
    write_file(out, "report.md", text, files)
    return sorted(set(files))
