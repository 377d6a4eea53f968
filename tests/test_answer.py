"""The answer in brief (issue 15, item 3): what a README quotes is the report's own numbers and one
rule's reading of them, written between marker lines without touching the rest of the file."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest
from test_analysis import REPS, make_run, make_sweep

from rl_coordconv import runfolder
from rl_coordconv.analysis.answer import reading
from rl_coordconv.analysis.answer_block import BEGIN, END, splice_answer
from rl_coordconv.analysis.report import analyze
from rl_coordconv.cli import main
from rl_coordconv.errors import UserError
from rl_coordconv.sweep.spec import planned_cells

NAN = math.nan


@pytest.mark.parametrize(
    ("difference", "low", "high", "expected"),
    [
        (0.4, 0.2, 0.6, "`coordconv` scores higher than `nature`: the 95% interval of the IQM difference, [0.200, 0.600], excludes 0."),
        (-0.4, -0.6, -0.2, "`coordconv` scores lower than `nature`: the 95% interval of the IQM difference, [-0.600, -0.200], excludes 0."),
        (0.01, -0.03, 0.05, "No difference these runs resolve: the 95% interval of the IQM difference, [-0.030, 0.050], spans 0."),
        (0.01, NAN, NAN, "No answer yet: with one run per game, a bootstrap over seeds gives no interval."),
        (NAN, NAN, NAN, "No answer: no IQM difference could be computed."),
    ],
)  # fmt: skip
def test_the_reading_follows_the_interval_of_the_difference(
    difference: float, low: float, high: float, expected: str
) -> None:
    text = reading("coordconv", difference, low, high)
    assert text.startswith(expected)
    if low < 0 < high:  # a null result bounds the effect; it does not claim there is none
        assert "between -0.030 and 0.050 human-normalised points" in text
    scaled = reading("coordconv", difference, low, high, baseline_iqm=0.2)
    if math.isfinite(low):  # the ends beside the baseline's IQM, for scale
        assert scaled == text + (
            f" For scale, `nature`'s own IQM is 0.200: the interval's ends are {low / 0.2:+.0%} and {high / 0.2:+.0%} of it."
        )
    else:
        assert scaled == text
    assert reading("coordconv", difference, low, high, baseline_iqm=0.0) == text  # no scale against 0


def test_the_scale_is_the_ends_over_the_baseline_iqm() -> None:
    text = reading("coordconv", 0.001, -0.006, 0.008, baseline_iqm=0.023)
    assert text.endswith("For scale, `nature`'s own IQM is 0.023: the interval's ends are -26% and +35% of it.")


def make_planned_sweep(root: Path) -> Path:
    """:func:`make_sweep` (coordconv 0.6 vs nature 0.2 on both games, 3 seeds each, one incomplete run) under
    a valid spec that plans 4 seeds: 16 runs."""
    make_sweep(root)
    runfolder.write_yaml(
        root / "spec.yaml",
        {"name": "synthetic", "games": ["Pong", "Breakout"], "algos": ["a2c"], "extractors": ["nature", "coordconv"],
         "seeds": 4, "agent_steps": 10_000},
    )  # fmt: skip
    return root


def test_the_answer_quotes_the_reports_numbers(tmp_path: Path) -> None:
    root = make_planned_sweep(tmp_path / "sweep")
    report = analyze(root, reps=REPS, planned=planned_cells(root))
    answer = (report.out / "answer.md").read_text()
    (effect,) = report.effects
    (improvement,) = report.improvement
    assert effect["difference"] == pytest.approx(0.4) and effect["ci_low"] > 0
    assert answer.startswith("*12 complete runs of the 16 the spec plans (partial")  # the incomplete run is not
    assert "**A2C, `coordconv` vs `nature`: 2 games, 3 run(s) per game and extractor.**" in answer
    assert "`nature` 0.200 [" in answer and "`coordconv` 0.600 [" in answer
    assert f"0.400 [{effect['ci_low']:.3f}, {effect['ci_high']:.3f}]" in answer
    assert f"P(`coordconv` > `nature`): 1.000 [{improvement['ci_low']:.3f}, {improvement['ci_high']:.3f}]" in answer
    assert "`coordconv` higher in 2, lower in 0 of 2 games" in answer
    assert (
        "excludes 0 in 2 game(s) for `coordconv` and 0 for `nature` (with no effect in any game, about 0.1 of the 2 would by chance)"
        in answer
    )
    expected = reading("coordconv", effect["difference"], effect["ci_low"], effect["ci_high"], baseline_iqm=0.2)
    assert f"**Reading:** {expected}" in answer
    assert "For scale, `nature`'s own IQM is 0.200: the interval's ends are +" in answer
    text = report.markdown.read_text()
    assert answer in text  # report.md opens with it
    # the report names the percentiles it read: 3 runs per game on 2 games, 95% -> 99.9% (Hesterberg)
    assert "a2c, 3 runs per game on 2 games: the 95% interval takes the 99.9% percentiles" in text


def test_one_seed_is_no_answer_yet(tmp_path: Path) -> None:
    root = tmp_path / "one"
    for game, (nature, coord) in {"Pong": (-20.0, -15.0), "Breakout": (3.0, 3.0)}.items():
        make_run(root, game, "nature", 0, [nature] * 3, [nature])
        make_run(root, game, "coordconv", 0, [coord] * 3, [coord])
    report = analyze(root, reps=REPS)
    answer = (report.out / "answer.md").read_text()
    assert "a2c, 1 run per game on 2 games: no interval" in report.markdown.read_text()
    assert answer.startswith("*4 complete runs;")  # nothing planned to compare with
    assert "higher in 1, lower in 0, equal in 1 of 2 games; no per-game interval (one run a side)" in answer
    assert "No answer yet" in answer and "(CI n/a)" in answer


README = f"# A study\n\nIntro.\n\n{BEGIN}\nold text\n{END}\n\n## Rest\n\nkept\n"


def test_the_answer_goes_between_the_markers_and_nowhere_else(tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    path.write_text(README)
    splice_answer(path, "new answer\n")
    expected = f"# A study\n\nIntro.\n\n{BEGIN}\n\nnew answer\n\n{END}\n\n## Rest\n\nkept\n"
    assert path.read_text() == expected
    splice_answer(path, "new answer\n")  # again: the same file, no block added
    assert path.read_text() == expected


@pytest.mark.parametrize(
    "text",
    ["# no markers\n", f"{END}\n{BEGIN}\n", f"{BEGIN}\n{END}\n{BEGIN}\n{END}\n"],
    ids=["none", "reversed", "two"],
)
def test_a_file_without_one_pair_of_markers_is_refused_untouched(tmp_path: Path, text: str) -> None:
    path = tmp_path / "README.md"
    path.write_text(text)
    with pytest.raises(UserError, match="needs one line"):
        splice_answer(path, "answer\n")
    assert path.read_text() == text


def test_cli_answer_into(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_planned_sweep(tmp_path / "sweep")
    readme = tmp_path / "README.md"
    readme.write_text(README)
    bad = tmp_path / "NOTES.md"
    bad.write_text("no markers\n")
    # a file that cannot take the answer is refused before any analysis: one sentence, exit 2, nothing written
    assert (
        main(["analyze", str(root), "--reps", str(REPS), "--answer-into", str(readme), "--answer-into", str(bad)]) == 2
    )
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "NOTES.md needs one line" in err
    assert not (root / "report").exists() and readme.read_text() == README

    assert main(["analyze", str(root), "--reps", str(REPS), "--answer-into", str(readme)]) == 0
    assert f"answer written into {readme}" in capsys.readouterr().out
    text = readme.read_text()
    assert (root / "report" / "answer.md").read_text() in text
    assert "12 complete runs of the 16 the spec plans" in text  # the command reads the plan from spec.yaml
    assert text.startswith("# A study\n\nIntro.\n\n") and text.endswith(f"{END}\n\n## Rest\n\nkept\n")


def test_the_plan_comes_from_a_valid_spec_only(tmp_path: Path) -> None:
    assert planned_cells(tmp_path) is None  # no spec.yaml
    runfolder.write_yaml(tmp_path / "spec.yaml", {"name": "hand-gathered", "games": ["Pong"]})
    assert planned_cells(tmp_path) is None  # a spec that does not validate plans nothing
    assert planned_cells(make_planned_sweep(tmp_path / "sweep")) == 16  # 2 games x 1 algo x 2 extractors x 4 seeds


def test_named_blocks_let_one_file_quote_several_studies(tmp_path: Path) -> None:
    from rl_coordconv.analysis.answer_block import markers

    readme = tmp_path / "README.md"
    (b1, e1), (b2, e2) = markers("one"), markers("two")
    readme.write_text(
        f"# Top\n{b1}\nold 1\n{e1}\nmiddle\n{b2}\nold 2\n{e2}\nend\n{BEGIN}\nx\n{END}\n", encoding="utf-8"
    )
    splice_answer(readme, "first answer\n", "one")
    splice_answer(readme, "second answer\n", "two")
    assert readme.read_text() == (
        f"# Top\n{b1}\n\nfirst answer\n\n{e1}\nmiddle\n{b2}\n\nsecond answer\n\n{e2}\nend\n{BEGIN}\nx\n{END}\n"
    )
    with pytest.raises(UserError, match="answer three: begin"):
        splice_answer(readme, "third\n", "three")
