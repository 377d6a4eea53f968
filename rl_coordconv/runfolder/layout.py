"""The run folder's layout: the names of its files and folders, spelled here once, and the two operations
on the folder as a whole: :func:`clear_run` (remove what a run wrote) and :func:`save_model` (``model.zip``
through a rename).

Every other module names a run's files through these constants (``tests/test_structure.py`` checks it).
"""

from __future__ import annotations

import os
import shutil
import typing
from pathlib import Path

from rl_coordconv.fileio import fsync_dir, fsync_file

CONFIG = "config.yaml"
EPISODES = "episodes.csv"
EVALUATIONS = "evaluations.csv"
STATUS = "status.json"
MODEL = "model.zip"
ERROR = "error.txt"
PROGRESS = "progress.json"
CHECKPOINTS = "checkpoints"
TENSORBOARD = "tb"
#: ``rl-coordconv inspect``'s folder inside a run folder, and the files of it that hold its numbers: the
#: summary ``analyze --inspect`` reads, the translation probe and the per-filter coordinate terms. Its
#: figures, arrays and GIF are views of the weights, not records (``rl-coordconv export`` leaves them).
INSPECT_DIR = "inspect"
INSPECT_SUMMARY = "summary.json"
INSPECT_PROBE = "probe.csv"
INSPECT_COORD_TERMS = "coord_terms.csv"
INSPECT_RECORDS: tuple[str, ...] = (INSPECT_SUMMARY, INSPECT_PROBE, INSPECT_COORD_TERMS)

#: Files a run writes; :func:`clear_run` removes exactly these (nothing else the user put there).
RUN_FILES: tuple[str, ...] = (CONFIG, EPISODES, EVALUATIONS, STATUS, MODEL, ERROR, PROGRESS)
#: Folders a run writes.
RUN_DIRS: tuple[str, ...] = (CHECKPOINTS, TENSORBOARD)


def clear_run(run_dir: str | os.PathLike[str]) -> None:
    """Remove what a run wrote (before starting it again from scratch); other files stay.

    :param run_dir: the run folder (nothing happens when it does not exist)
    """
    path = Path(run_dir)
    if not path.is_dir():
        return
    for name in RUN_FILES:
        (path / name).unlink(missing_ok=True)
    for name in RUN_DIRS:
        shutil.rmtree(path / name, ignore_errors=True)


class _Saveable(typing.Protocol):
    def save(self, path: str) -> None: ...


def save_model(run_dir: str | os.PathLike[str], model: _Saveable) -> Path:
    """Save the final model as ``model.zip`` through a temporary file and a rename.

    :param run_dir: the run folder
    :param model: anything with ``save(path)`` (an SB3 model)
    :return: the path of ``model.zip``
    """
    path = Path(run_dir)
    tmp = path / f".{MODEL}.tmp.zip"
    model.save(str(tmp))
    fsync_file(tmp)
    os.replace(tmp, path / MODEL)
    fsync_dir(path)
    return path / MODEL
