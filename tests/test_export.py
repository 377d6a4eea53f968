"""rl-coordconv export: the records of complete runs, nothing else, and analyze reads them the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from rl_coordconv import runfolder
from rl_coordconv.cli import main
from rl_coordconv.errors import UserError
from rl_coordconv.export import INSPECTION_FILES, RECORD_FILES, export_records


def _run(root: Path, name: str, complete: bool, error: bool = False) -> Path:
    run = root / "runs" / name
    run.mkdir(parents=True)
    for item in RECORD_FILES:
        if item != runfolder.STATUS or complete:
            (run / item).write_text(f"{name} {item}\n")
    (run / runfolder.MODEL).write_bytes(b"weights")
    (run / runfolder.CHECKPOINTS).mkdir()
    (run / runfolder.CHECKPOINTS / "ckpt.zip").write_bytes(b"x")
    (run / runfolder.TENSORBOARD).mkdir()
    if complete:
        runfolder.write_json(run / runfolder.STATUS, {"complete": True})
    if error:
        (run / runfolder.ERROR).write_text("boom")
    return run


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    root = tmp_path / "sweep"
    (root / "logs").mkdir(parents=True)
    (root / "spec.yaml").write_text("name: s\n")
    _run(root, "Pong-ppo-nature-seed0", True)
    _run(root, "Pong-ppo-coordconv-seed0", True)
    _run(root, "Pong-ppo-nature-seed1", False)
    _run(root, "Pong-ppo-coordconv-seed1", False, error=True)
    return root


def test_copies_exactly_the_records_of_complete_runs(sweep: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    result = export_records(sweep, dest)
    assert sorted(result.copied) == ["Pong-ppo-coordconv-seed0", "Pong-ppo-nature-seed0"]
    assert result.skipped == {"Pong-ppo-nature-seed1": "not finished", "Pong-ppo-coordconv-seed1": "failed"}
    assert (dest / "spec.yaml").read_text() == "name: s\n"
    files = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert files == sorted(["spec.yaml"] + [f"runs/{run}/{name}" for run in result.copied for name in RECORD_FILES])
    for name in RECORD_FILES:
        src = sweep / "runs" / "Pong-ppo-nature-seed0" / name
        assert (dest / "runs" / "Pong-ppo-nature-seed0" / name).read_bytes() == src.read_bytes()


def test_again_adds_new_runs_and_refuses_to_overwrite_others(sweep: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    export_records(sweep, dest)
    runfolder.write_json(sweep / "runs" / "Pong-ppo-nature-seed1" / runfolder.STATUS, {"complete": True})
    again = export_records(sweep, dest)
    assert again.copied == ["Pong-ppo-nature-seed1"]
    assert sorted(again.unchanged) == ["Pong-ppo-coordconv-seed0", "Pong-ppo-nature-seed0"]
    (sweep / "runs" / "Pong-ppo-nature-seed0" / runfolder.EPISODES).write_text("other\n")
    with pytest.raises(UserError, match="other records"):
        export_records(sweep, dest)
    assert (dest / "runs" / "Pong-ppo-nature-seed0" / runfolder.EPISODES).read_text().startswith("Pong")


def test_bad_folders_get_one_line(sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(tmp_path / "missing"), str(tmp_path / "out")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert main(["export", str(sweep / "runs" / "Pong-ppo-nature-seed0"), str(tmp_path / "o")]) == 2
    assert "one run folder" in capsys.readouterr().err
    assert main(["export", str(sweep), str(sweep / "inside")]) == 2
    assert "outside" in capsys.readouterr().err
    assert main(["export", str(sweep), str(tmp_path / "ok")]) == 0
    assert "2 run(s) copied" in capsys.readouterr().out


def _inspect(run: Path, text: str) -> None:
    """What `rl-coordconv inspect` leaves: the numbers, and figures, arrays and a GIF that are not records."""
    folder = run / runfolder.INSPECT_DIR
    folder.mkdir(exist_ok=True)
    for name in runfolder.INSPECT_RECORDS:
        (folder / name).write_text(f"{text} {name}\n")
    for name in ("inspect.md", "probe.png", "coord_terms.npz", "saliency.npz", "game.gif"):
        (folder / name).write_bytes(b"view")


def test_an_inspection_travels_as_its_numbers_and_is_added_when_made_later(sweep: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    _inspect(sweep / "runs" / "Pong-ppo-nature-seed0", "first")
    _inspect(sweep / "runs" / "Pong-ppo-nature-seed1", "unfinished")  # not complete: nothing of it travels
    result = export_records(sweep, dest)
    assert result.inspections == ["Pong-ppo-nature-seed0"] and "1 inspection(s) copied" in result.summary()
    copied = dest / "runs" / "Pong-ppo-nature-seed0" / runfolder.INSPECT_DIR
    assert sorted(p.name for p in copied.iterdir()) == sorted(runfolder.INSPECT_RECORDS)
    assert (copied / runfolder.INSPECT_SUMMARY).read_text() == f"first {runfolder.INSPECT_SUMMARY}\n"
    assert not (dest / "runs" / "Pong-ppo-nature-seed1").exists()
    assert INSPECTION_FILES == tuple(f"inspect/{name}" for name in runfolder.INSPECT_RECORDS)

    assert export_records(sweep, dest).inspections == []  # nothing new: nothing copied
    _inspect(sweep / "runs" / "Pong-ppo-coordconv-seed0", "later")  # inspected after its export
    _inspect(sweep / "runs" / "Pong-ppo-nature-seed0", "redone")
    again = export_records(sweep, dest)
    assert again.copied == [] and sorted(again.unchanged) == ["Pong-ppo-coordconv-seed0", "Pong-ppo-nature-seed0"]
    assert sorted(again.inspections) == ["Pong-ppo-coordconv-seed0", "Pong-ppo-nature-seed0"]
    assert (copied / runfolder.INSPECT_PROBE).read_text() == f"redone {runfolder.INSPECT_PROBE}\n"
    later = dest / "runs" / "Pong-ppo-coordconv-seed0" / runfolder.INSPECT_DIR
    assert sorted(p.name for p in later.iterdir()) == sorted(runfolder.INSPECT_RECORDS)  # no temporary file left
