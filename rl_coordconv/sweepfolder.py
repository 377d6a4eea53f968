"""The sweep folder: the one owner of its names, as :mod:`rl_coordconv.runfolder` owns a run's.

A sweep folder (``rl-coordconv sweep --out``, ``rl-coordconv export``) holds::

    spec.yaml          the experiment spec, copied verbatim before the first run starts
    runs/<run name>/   one run folder per cell (rl_coordconv.runfolder)
    logs/<run name>.log  each cell's output, when a worker ran it
    report/            what ``rl-coordconv analyze`` writes (by default)
    .sweep.lock        held while a sweep runs in it

It sits below both the sweep and the analysis, so either may name the folder's parts without reaching
into the other.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SPEC_FILE", "RUNS", "LOGS", "REPORT", "LOCK", "SweepFolder"]

#: The experiment spec's copy.
SPEC_FILE = "spec.yaml"
#: The folder of run folders.
RUNS = "runs"
#: The folder of the cells' logs.
LOGS = "logs"
#: ``rl-coordconv analyze``'s default output folder.
REPORT = "report"
#: The lock a running sweep holds.
LOCK = ".sweep.lock"


@dataclass(frozen=True)
class SweepFolder:
    """The parts of one sweep folder, by name.

    :param root: the sweep folder
    """

    root: Path

    @classmethod
    def at(cls, root: str | os.PathLike[str]) -> SweepFolder:
        """The sweep folder at ``root``.

        :param root: the folder
        :return: its :class:`SweepFolder`
        """
        return cls(Path(root))

    @property
    def spec(self) -> Path:
        """``spec.yaml``, the experiment spec's copy."""
        return self.root / SPEC_FILE

    @property
    def runs(self) -> Path:
        """``runs/``, the run folders."""
        return self.root / RUNS

    @property
    def logs(self) -> Path:
        """``logs/``, the cells' logs."""
        return self.root / LOGS

    @property
    def report(self) -> Path:
        """``report/``, ``analyze``'s default output."""
        return self.root / REPORT

    @property
    def lock(self) -> Path:
        """``.sweep.lock``, held while a sweep runs."""
        return self.root / LOCK

    def run_dir(self, name: str) -> Path:
        """The run folder of a run.

        :param name: the run's name (:func:`rl_coordconv.runfolder.run_name`)
        :return: ``runs/<name>``
        """
        return self.runs / name

    def log(self, name: str) -> Path:
        """The log of a cell.

        :param name: the run's name
        :return: ``logs/<name>.log``
        """
        return self.logs / f"{name}.log"

    def has_spec(self) -> bool:
        """Say whether the folder holds a ``spec.yaml``.

        :return: True when it does
        """
        return self.spec.is_file()
