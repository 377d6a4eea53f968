"""The report is assembled once from its sections: ``analyze --inspect``'s section, made while the report
is written, gives the same ``report.md`` as adding it to a written report, and ``report.md`` is written
once."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_analysis import make_sweep

from rl_coordconv.analysis.markdown import ReportSection
from rl_coordconv.analysis.report import analyze
from rl_coordconv.inspection.compare import InspectSection, add_inspect_section

STUDY = Path(__file__).resolve().parents[1] / "results" / "atari100k"


@pytest.mark.skipif(not (STUDY / "report" / "inspect_comparison.csv").is_file(), reason="no inspected study shipped")
def test_the_inspect_section_is_part_of_the_one_write(tmp_path: Path) -> None:
    once = analyze(STUDY, out=tmp_path / "once", reps=200, figures=False, extra_sections=[InspectSection(STUDY)])
    analyze(STUDY, out=tmp_path / "after", reps=200, figures=False)
    add_inspect_section(STUDY, tmp_path / "after" / "report.md", figures=False)
    assert (tmp_path / "once" / "report.md").read_bytes() == (tmp_path / "after" / "report.md").read_bytes()
    assert "inspect_comparison.csv" in once.files
    for name in ("inspect_comparison.csv", "answer.md"):
        assert (tmp_path / "once" / name).read_bytes() == (tmp_path / "after" / name).read_bytes()


def test_extra_sections_come_last_in_order_and_name_their_files(tmp_path: Path) -> None:
    root = make_sweep(tmp_path / "sweep")
    calls: list[tuple[Path, bool]] = []

    def section(name: str) -> ReportSection:
        def make(out: Path, figures: bool) -> ReportSection:
            calls.append((out, figures))
            (out / f"{name}.txt").write_text(name)
            return ReportSection(f"\n## {name}\n\ntext of {name}\n", (f"{name}.txt",))

        return make

    report = analyze(root, out=tmp_path / "report", reps=50, figures=False, extra_sections=[section("A"), section("B")])
    text = report.markdown.read_text(encoding="utf-8")
    assert text.endswith("## A\n\ntext of A\n\n## B\n\ntext of B\n")
    assert text.index("## References") < text.index("\n## A\n")
    assert calls == [(tmp_path / "report", False), (tmp_path / "report", False)]
    assert {"A.txt", "B.txt"} <= set(report.files)
