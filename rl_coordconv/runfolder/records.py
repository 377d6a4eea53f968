"""The records a run writes while it trains and when it ends: ``progress.json`` (:class:`Progress`),
``error.txt`` (:class:`ErrorRecord`) and, last, ``status.json`` (:class:`RunStatus`, whose ``complete``
says the rest of the folder is there: :func:`is_complete`)."""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rl_coordconv import fileio
from rl_coordconv.runfolder.layout import ERROR, PROGRESS, STATUS
from rl_coordconv.runfolder.reading import RunFolderError, build_record, load_mapping
from rl_coordconv.schema import to_mapping


@dataclass
class RunStatus:
    """A run's ``status.json``, written last: its presence says the rest of the folder is there.

    :param complete: the run finished
    :param run: the run's name
    :param agent_steps: agent steps trained
    :param frames: emulator frames (agent steps x frame skip)
    :param timesteps: the budget in agent steps
    :param games: training games finished
    :param evaluations: evaluations done
    :param final_mean_return: the final evaluation's mean whole-game score (None without evaluation)
    :param wall_seconds: wall-clock seconds of training over all sessions
    :param sessions: how many times the run was started (1 + resumes)
    :param commits: the rl-coordconv commits its sessions ran, each once, in order (``"unknown"`` where
        none was found; None for runs made before commits were recorded)
    :param machines: the computers its sessions ran on, each once, in order (``"unknown"`` for sessions
        of a version that did not record them; None for runs made before machines were recorded)
    :param finished: when it finished (ISO 8601, UTC)
    :param extra: keys this version does not know, kept verbatim
    """

    complete: bool
    run: str | None = None
    agent_steps: int | None = None
    frames: int | None = None
    timesteps: int | None = None
    games: int | None = None
    evaluations: int | None = None
    final_mean_return: float | None = None
    wall_seconds: float | None = None
    sessions: int | None = None
    commits: list[str] | None = None
    machines: list[str] | None = None
    finished: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, run_dir: str | os.PathLike[str]) -> RunStatus | None:
        """Read and check ``status.json``.

        :param run_dir: the run folder
        :return: the status, or None when the run has not finished (no status file)
        :raises RunFolderError: when the file is malformed
        """
        path = Path(run_dir) / STATUS
        data = load_mapping(path, "json")
        return None if data is None else build_record(cls, data, path)

    def write(self, run_dir: str | os.PathLike[str]) -> None:
        """Write ``status.json`` atomically (do it last).

        :param run_dir: the run folder
        """
        fileio.write_json(Path(run_dir) / STATUS, to_mapping(self))

    def summary(self) -> str:
        """One phrase for messages: agent steps and the final evaluation's mean.

        :return: e.g. ``"800 agent steps, final evaluation mean 1.5"``
        """
        score = f", final evaluation mean {self.final_mean_return:g}" if self.final_mean_return is not None else ""
        steps = self.agent_steps if self.agent_steps is not None else "?"
        return f"{steps} agent steps{score}"


@dataclass
class Progress:
    """A running run's ``progress.json``, rewritten atomically every few seconds.

    :param agent_steps: agent steps done so far
    :param timesteps: the run's budget in agent steps
    :param steps_per_second: agent steps per second in the current session
    :param updated: when it was written (ISO 8601, UTC)
    :param extra: keys this version does not know, kept verbatim
    """

    agent_steps: int
    timesteps: int | None = None
    steps_per_second: float = 0.0
    updated: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, run_dir: str | os.PathLike[str]) -> Progress | None:
        """Read and check ``progress.json``.

        :param run_dir: the run folder
        :return: the progress, or None when the run has not written one
        :raises RunFolderError: when the file is malformed
        """
        path = Path(run_dir) / PROGRESS
        data = load_mapping(path, "json")
        return None if data is None else build_record(cls, data, path)

    @classmethod
    def peek(cls, run_dir: str | os.PathLike[str]) -> Progress | None:
        """Like :meth:`read`, but None for a malformed file too (for live displays that must not stop).

        :param run_dir: the run folder
        :return: the progress, or None
        """
        try:
            return cls.read(run_dir)
        except RunFolderError:
            return None

    def write(self, run_dir: str | os.PathLike[str]) -> None:
        """Write ``progress.json`` atomically.

        :param run_dir: the run folder
        """
        fileio.write_json(Path(run_dir) / PROGRESS, to_mapping(self))


@dataclass(frozen=True)
class ErrorRecord:
    """A failed run's ``error.txt``: the error on its first line, then its traceback.

    :param text: the whole text
    """

    text: str

    @classmethod
    def from_exception(cls, err: BaseException, prefix: str = "") -> ErrorRecord:
        """The record of the exception being handled (call inside ``except``).

        :param err: the exception
        :param prefix: put before the error's line, e.g. ``"Pong/ppo/nature/seed0 failed: "``
        :return: the record, with the current traceback
        """
        return cls(f"{prefix}{type(err).__name__}: {err}\n\n{traceback.format_exc()}")

    @property
    def summary(self) -> str:
        """The first line (the error), or a placeholder for an empty file."""
        lines = self.text.strip().splitlines()
        return lines[0] if lines else "failed (empty error.txt)"

    @classmethod
    def read(cls, run_dir: str | os.PathLike[str]) -> ErrorRecord | None:
        """Read ``error.txt``.

        :param run_dir: the run folder
        :return: the record, or None when the run has not failed
        """
        path = Path(run_dir) / ERROR
        try:
            return cls(path.read_text(encoding="utf-8", errors="replace"))
        except FileNotFoundError:
            return None
        except OSError as err:
            return cls(f"cannot read {path}: {err}")

    def write(self, run_dir: str | os.PathLike[str]) -> None:
        """Write ``error.txt`` atomically (creating the folder).

        :param run_dir: the run folder
        """
        fileio.atomic_write_text(Path(run_dir) / ERROR, self.text if self.text.endswith("\n") else self.text + "\n")

    @staticmethod
    def exists(run_dir: str | os.PathLike[str]) -> bool:
        """Say whether the run folder holds an ``error.txt``.

        :param run_dir: the run folder
        :return: True when it does
        """
        return (Path(run_dir) / ERROR).is_file()

    @staticmethod
    def remove(run_dir: str | os.PathLike[str]) -> None:
        """Delete a stale ``error.txt`` (before the run is tried again).

        :param run_dir: the run folder
        """
        (Path(run_dir) / ERROR).unlink(missing_ok=True)


def is_complete(run_dir: str | os.PathLike[str]) -> bool:
    """Say whether a run folder holds a finished run.

    :param run_dir: the run folder
    :return: True when ``status.json`` exists, parses and says ``complete``
    """
    try:
        status = RunStatus.read(run_dir)
    except RunFolderError:
        return False
    return bool(status and status.complete)
