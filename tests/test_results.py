"""The study results shipped in results/: their report is what `rl-coordconv analyze` makes of exactly
the committed records (no weights, nothing else), so every reader can check our numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from rl_coordconv import runfolder
from rl_coordconv.analysis.report import analyze
from rl_coordconv.export import RECORD_FILES

RESULTS = Path(__file__).resolve().parents[1] / "results"
STUDIES = sorted(p for p in RESULTS.glob("*") if (p / "runs").is_dir()) if RESULTS.is_dir() else []
#: The report files whose numbers are the study's answer.
HEADLINE = ("aggregates.csv", "effect.csv", "probability_of_improvement.csv", "final_scores.csv", "per_game.csv")


@pytest.mark.skipif(not STUDIES, reason="no study records committed under results/ yet")
@pytest.mark.parametrize("study", STUDIES, ids=lambda p: p.name)
def test_only_records_are_shipped(study: Path) -> None:
    for run in (study / "runs").iterdir():
        assert runfolder.is_complete(run), f"{run.name} is not complete"
        assert sorted(p.name for p in run.iterdir()) == sorted(n for n in RECORD_FILES if (run / n).exists())
        assert {runfolder.CONFIG, runfolder.EPISODES, runfolder.STATUS} <= {p.name for p in run.iterdir()}


@pytest.mark.skipif(not STUDIES, reason="no study records committed under results/ yet")
@pytest.mark.parametrize("study", STUDIES, ids=lambda p: p.name)
def test_report_is_reproduced_from_the_records(study: Path, tmp_path: Path) -> None:
    analyze(study, out=tmp_path)
    for name in HEADLINE:
        shipped = study / "report" / name
        if shipped.exists() or (tmp_path / name).exists():
            assert (tmp_path / name).read_text() == shipped.read_text(), name
