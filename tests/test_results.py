"""The study results shipped in results/: their report is what `rl-coordconv analyze` makes of exactly
the committed records (no weights, nothing else), so every reader can check our numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from rl_coordconv import runfolder
from rl_coordconv.analysis.answer_block import BEGIN, END, markers
from rl_coordconv.analysis.report import analyze
from rl_coordconv.export import INSPECTION_FILES, RECORD_FILES
from rl_coordconv.inspection.compare import add_inspect_section
from rl_coordconv.sweep.spec import planned_cells

RESULTS = Path(__file__).resolve().parents[1] / "results"
#: Every committed sweep: the studies and their learning checks (``results/<study>/pilot-*``).
STUDIES = sorted(p for p in [*RESULTS.glob("*"), *RESULTS.glob("*/pilot-*")] if (p / "runs").is_dir())
#: The report files whose numbers are the study's answer.
HEADLINE = (
    "aggregates.csv", "effect.csv", "probability_of_improvement.csv", "final_scores.csv", "per_game.csv", "answer.md",
    "inspect_comparison.csv",
)  # fmt: skip
ROOT_README = RESULTS.parent / "README.md"


@pytest.mark.skipif(not STUDIES, reason="no study records committed under results/ yet")
@pytest.mark.parametrize("study", STUDIES, ids=lambda p: p.name)
def test_only_records_are_shipped(study: Path) -> None:
    for run in (study / "runs").iterdir():
        assert runfolder.is_complete(run), f"{run.name} is not complete"
        records = sorted(p.name for p in run.iterdir() if p.name != runfolder.INSPECT_DIR)
        assert records == sorted(n for n in RECORD_FILES if (run / n).exists())
        assert {runfolder.CONFIG, runfolder.EPISODES, runfolder.STATUS} <= {p.name for p in run.iterdir()}
        if (run / runfolder.INSPECT_DIR).exists():  # an inspection's numbers, never its figures or arrays
            inspection = {f"{runfolder.INSPECT_DIR}/{p.name}" for p in (run / runfolder.INSPECT_DIR).iterdir()}
            assert f"{runfolder.INSPECT_DIR}/{runfolder.INSPECT_SUMMARY}" in inspection <= set(INSPECTION_FILES)


@pytest.mark.skipif(not STUDIES, reason="no study records committed under results/ yet")
@pytest.mark.parametrize("study", STUDIES, ids=lambda p: p.name)
def test_report_is_reproduced_from_the_records(study: Path, tmp_path: Path) -> None:
    # as `rl-coordconv analyze` does (figures aside: they hold no number the tables lack, and cost half the time)
    analyze(study, out=tmp_path, planned=planned_cells(study), figures=False)
    if (study / "report" / "inspect_comparison.csv").exists():  # shipped by `analyze --inspect`
        add_inspect_section(study, tmp_path / "report.md", figures=False)
    for name in HEADLINE:
        shipped = study / "report" / name
        if shipped.exists() or (tmp_path / name).exists():
            assert (tmp_path / name).read_text() == shipped.read_text(), name


@pytest.mark.skipif(not STUDIES, reason="no study records committed under results/ yet")
@pytest.mark.parametrize("study", [s for s in STUDIES if (s / "README.md").exists()], ids=lambda p: p.name)
def test_the_readmes_state_the_reports_answer(study: Path) -> None:
    """The study's README, and the project's README for the atari100k study, quote the shipped answer
    (which the test above reproduces from the records) between their markers, word for word."""
    block = f"{BEGIN}\n\n{(study / 'report' / 'answer.md').read_text()}\n{END}\n"
    begin, end = markers(study.name)  # a study the project's README quotes beside another has a named block
    if begin in (study / "README.md").read_text():
        block = f"{begin}\n\n{(study / 'report' / 'answer.md').read_text()}\n{end}\n"
        assert block in ROOT_README.read_text()
    assert block in (study / "README.md").read_text()
    if study.name == "atari100k":
        assert block in ROOT_README.read_text()
