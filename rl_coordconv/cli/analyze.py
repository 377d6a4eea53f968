"""``rl-coordconv analyze DIR``: statistics and figures of a sweep folder, written to ``DIR/report/``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rl_coordconv.analysis.answer_block import BEGIN, END


def add_parser(subparsers: Any) -> None:
    """Add the ``analyze`` subcommand.

    :param subparsers: the top-level parser's subparsers
    """
    parser = subparsers.add_parser(
        "analyze",
        help="statistics (rliable) and figures of a sweep folder -> DIR/report/",
        description=(
            "Read every run folder under DIR (folders holding config.yaml) and write DIR/report/: the effect "
            "IQM(variant) - IQM(nature), human-normalised IQM/median/mean/optimality gap with 95% "
            "stratified-bootstrap CIs, probability of improvement over 'nature', per-game comparisons, "
            "sample-efficiency curves, performance profiles (Agarwal et al. 2021), learning curves and per-game "
            "final scores with t-intervals over seeds, tied together in report.md. One headline score per run "
            "(the spec's 'score', else the protocol's default); runs without it, incomplete runs and duplicate "
            "cells are listed and left out."
        ),
    )
    parser.add_argument("dir", metavar="DIR", help="the sweep folder (the --out of `rl-coordconv sweep`)")
    parser.add_argument("--out", metavar="FOLDER", default=None, help="report folder (default: DIR/report)")
    parser.add_argument(
        "--score",
        default=None,
        metavar="SCORE",
        help="the headline score of every run: 'eval' (mean of the last evaluation) or 'train_last_N' such as "
        "train_last_100 (mean of the last N training games); default: the spec's 'score', else the protocol's "
        "default (standard: eval, machado: train_last_100)",
    )
    parser.add_argument(
        "--reps",
        type=int,
        default=10_000,
        metavar="N",
        help="bootstrap resamples for aggregates and effects; sample efficiency, probability of improvement and "
        "profiles use at most 2000 (default 10000)",
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument(
        "--bins", type=int, default=20, metavar="N", help="learning-curve bins over the budget (default 20)"
    )
    parser.add_argument(
        "--include-incomplete",
        action="store_true",
        help="use runs without a complete status.json in the statistics too, labelled as incomplete",
    )
    parser.add_argument(
        "--published",
        action="append",
        default=[],
        metavar="CSV",
        help="more comparator scores for the baseline table (repeatable), in the columns of the packaged table: "
        "algo,game,protocol,agent_steps,score,seeds,score_kind,source; e.g. "
        "experiments/published_100k/published_100k.csv",
    )
    parser.add_argument(
        "--smallest-effect",
        type=float,
        default=None,
        metavar="DELTA",
        help="smallest effect of interest in human-normalised IQM points, for the equivalence reading (two "
        "one-sided tests); default: the spec's 'smallest_effect' (declare it there, before the first run)",
    )
    parser.add_argument(
        "--no-figures",
        action="store_true",
        help="write the tables, CSV files and report.md without drawing the figures (same numbers, about half the "
        "time on a large sweep)",
    )
    parser.add_argument(
        "--inspect",
        action="store_true",
        help="also inspect every run (rl-coordconv inspect, where not done yet) and add a section comparing the "
        "extractors per game: coordinate terms and translation probe, medians over seeds",
    )
    parser.add_argument(
        "--answer-into",
        action="append",
        default=[],
        metavar="FILE",
        help="also write the answer in brief (report/answer.md: IQMs, their difference and the probability of "
        "improvement with CIs, and what they say) into FILE, between its two marker lines "
        f"'{BEGIN}' and '{END}' (repeatable; e.g. a study's README)",
    )
    parser.add_argument(
        "--answer-block",
        default=None,
        metavar="NAME",
        help="write into the block named NAME ('<!-- rl-coordconv answer NAME: begin ...' and "
        "'<!-- rl-coordconv answer NAME: end -->') instead of the unnamed one, so one file can quote several "
        "studies (e.g. --answer-block a2c-atari5)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Analyse ``args.dir`` and print where the report is.

    :param args: the parsed arguments
    :return: the exit status (0)
    """
    import matplotlib

    matplotlib.use("Agg")
    from rl_coordconv.analysis.answer_block import check_markers, splice_answer
    from rl_coordconv.analysis.report import analyze
    from rl_coordconv.inspection.compare import InspectSection
    from rl_coordconv.sweep.spec import planned_cells

    for path in args.answer_into:  # refuse a file without markers before the minutes of analysis
        check_markers(path, args.answer_block)
    extra = [InspectSection(Path(args.dir))] if args.inspect else []
    report = analyze(
        args.dir,
        out=args.out,
        score=args.score,
        reps=args.reps,
        seed=args.seed,
        bins=args.bins,
        include_incomplete=args.include_incomplete,
        published=args.published,
        planned=planned_cells(args.dir),
        figures=not args.no_figures,
        smallest_effect=args.smallest_effect,
        extra_sections=extra,
    )
    for warning in report.warnings:
        print(f"rl-coordconv analyze: warning: {warning}", file=sys.stderr)
    print(f"headline score: {report.score.name} ({report.score.label}; {report.score.source})")
    print(f"report: {report.markdown}")
    answer = (report.out / "answer.md").read_text(encoding="utf-8")
    for path in args.answer_into:
        splice_answer(path, answer, args.answer_block)
        print(f"answer written into {path}")
    return 0
