"""Export a sweep's records: the files that make its numbers, without weights, checkpoints or logs.

``rl-coordconv export SWEEP_DIR DEST`` copies, for every *complete* run of the sweep, exactly the
records that :mod:`rl_coordconv.analysis` reads (``config.yaml``, ``episodes.csv``, ``evaluations.csv``,
``status.json``), plus the sweep's ``spec.yaml``, into ``DEST`` with the sweep's layout
(``DEST/spec.yaml``, ``DEST/runs/<run name>/...``), so that ``rl-coordconv analyze DEST`` gives the
same numbers as on the sweep folder. Model weights (``model.zip``), checkpoints, TensorBoard files and
worker logs stay behind: the records are small enough to commit or share (a 100k-agent-step Atari run's
records are tens of kilobytes), the weights are not.

A run inspected by ``rl-coordconv inspect`` (or ``analyze --inspect``) also has the numbers of its
inspection copied (``inspect/summary.json``, ``probe.csv``, ``coord_terms.csv``;
:data:`~rl_coordconv.runfolder.INSPECT_RECORDS`), so that ``analyze --inspect DEST`` gives the same
side-by-side section without the weights; the inspection's figures, arrays and GIF stay behind. An
inspection made after the run was exported is added to the copy on the next export (it is derived from
the final weights and seeded, so a newer one replaces the copied one).

Exporting again into the same ``DEST`` adds runs that completed since and leaves runs already there
untouched when their records are the same; a run whose records differ from the copy already in ``DEST``
(another study with the same run names) is refused, never overwritten. Incomplete and failed runs are
listed, not copied: their numbers are not final.
"""

from __future__ import annotations

import filecmp
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from rl_coordconv import runfolder
from rl_coordconv.errors import UserError
from rl_coordconv.sweepfolder import SweepFolder

__all__ = ["RECORD_FILES", "INSPECTION_FILES", "ExportResult", "export_records"]

#: The files of a complete run that carry its numbers and its identity.
RECORD_FILES: tuple[str, ...] = (runfolder.CONFIG, runfolder.EPISODES, runfolder.EVALUATIONS, runfolder.STATUS)
#: The files of a run's inspection that carry its numbers, relative to the run folder.
INSPECTION_FILES: tuple[str, ...] = tuple(f"{runfolder.INSPECT_DIR}/{name}" for name in runfolder.INSPECT_RECORDS)


@dataclass
class ExportResult:
    """What an export did.

    :param dest: the destination folder
    :param copied: runs copied now
    :param unchanged: runs already in ``dest`` with the same records
    :param skipped: runs left out because they are not complete (name -> reason)
    :param inspections: runs whose inspection's numbers were copied or brought up to date now
    """

    dest: Path
    copied: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    inspections: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the terminal.

        :return: the line
        """
        text = f"{self.dest}: {len(self.copied)} run(s) copied, {len(self.unchanged)} already there"
        if self.inspections:
            text += f", {len(self.inspections)} inspection(s) copied"
        if self.skipped:
            text += f", {len(self.skipped)} not complete and left out ({', '.join(sorted(self.skipped)[:3])}"
            text += ", ...)" if len(self.skipped) > 3 else ")"
        return text


def _runs_root(sweep_dir: Path) -> Path:
    if not sweep_dir.is_dir():
        raise UserError(f"{str(sweep_dir)!r} is not a folder; pass a sweep folder (the --out of rl-coordconv sweep)")
    root = SweepFolder(sweep_dir).runs
    if root.is_dir():
        return root
    if (sweep_dir / runfolder.CONFIG).is_file():
        raise UserError(f"{str(sweep_dir)!r} is one run folder; pass the sweep folder that holds runs/")
    raise UserError(f"{str(sweep_dir)!r} holds no runs/ folder; pass the --out folder of rl-coordconv sweep")


def _same_file(src: Path, dst: Path) -> bool:
    return dst.is_file() and filecmp.cmp(src, dst, shallow=False)


def _same_records(src: Path, dst: Path) -> bool:
    return all(
        (src / name).is_file() == (dst / name).is_file()
        and (not (src / name).is_file() or _same_file(src / name, dst / name))
        for name in RECORD_FILES
    )


def _copy_run(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.export-tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in RECORD_FILES:
        if (src / name).is_file():
            shutil.copy2(src / name, tmp / name)
    os.replace(tmp, dst)


def _sync_inspection(src: Path, dst: Path) -> bool:
    """Copy the inspection's numbers of run ``src`` into its exported copy ``dst`` where they are new or
    differ; each file is replaced atomically. True if anything was copied."""
    changed = False
    for name in INSPECTION_FILES:
        if (src / name).is_file() and not _same_file(src / name, dst / name):
            (dst / name).parent.mkdir(exist_ok=True)
            tmp = (dst / name).with_name(f".{(dst / name).name}.export-tmp")
            shutil.copy2(src / name, tmp)
            os.replace(tmp, dst / name)
            changed = True
    return changed


def export_records(sweep_dir: str | os.PathLike[str], dest: str | os.PathLike[str]) -> ExportResult:
    """Copy the records of a sweep's complete runs (and its spec) into ``dest``.

    :param sweep_dir: the sweep folder (``--out`` of ``rl-coordconv sweep``)
    :param dest: where the records go (created); may already hold an earlier export of the same sweep
    :return: what was copied, already there, or left out
    :raises UserError: when ``sweep_dir`` is no sweep folder, ``dest`` is inside it or cannot be written,
        or ``dest`` holds a run of the same name with other records
    """
    sweep = Path(sweep_dir)
    runs = _runs_root(sweep)
    out = Path(dest)
    if out.resolve() == sweep.resolve() or sweep.resolve() in out.resolve().parents:
        raise UserError(f"the destination {str(out)!r} must be outside the sweep folder {str(sweep)!r}")
    if out.exists() and not out.is_dir():
        raise UserError(f"the destination {str(out)!r} is a file; pass a folder")
    result = ExportResult(dest=out)
    plan: list[tuple[Path, Path]] = []
    present: list[tuple[Path, Path]] = []
    for run in sorted(p for p in runs.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not runfolder.is_complete(run):
            why = "failed" if (run / runfolder.ERROR).is_file() else "not finished"
            result.skipped[run.name] = why
            continue
        target = SweepFolder(out).run_dir(run.name)
        if target.exists():
            if _same_records(run, target):
                result.unchanged.append(run.name)
                present.append((run, target))
                continue
            raise UserError(
                f"{str(target)!r} already holds a run {run.name!r} with other records; export into an empty folder"
            )
        plan.append((run, target))
    try:
        SweepFolder(out).runs.mkdir(parents=True, exist_ok=True)
        if SweepFolder(sweep).has_spec():
            runfolder.atomic_write_text(SweepFolder(out).spec, SweepFolder(sweep).spec.read_text(encoding="utf-8"))
        for run, target in plan:
            _copy_run(run, target)
            result.copied.append(run.name)
        for run, target in [*present, *plan]:
            if _sync_inspection(run, target):
                result.inspections.append(run.name)
    except OSError as err:
        raise UserError(f"cannot write into {str(out)!r}: {err.strerror or err}") from None
    return result
