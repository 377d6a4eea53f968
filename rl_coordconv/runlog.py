"""A run's CSV logs, one job: their columns, and the append-only writer whose columns never change.

``episodes.csv`` (:data:`EPISODE_COLUMNS`) and ``evaluations.csv`` (:data:`EVALUATION_COLUMNS`) are
written through :class:`CsvLog`, so an interrupted run appends safely after :func:`truncate_rows` has cut
whatever was logged past the checkpoint it resumes from (the habit of dqn_zoo's CSV writers). Older run
folders keep their own columns (:data:`LEGACY_EPISODE_COLUMNS`, :data:`LEGACY_EVALUATION_COLUMNS`).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rl_coordconv import fileio

__all__ = [
    "EPISODE_COLUMNS",
    "EVALUATION_COLUMNS",
    "LEGACY_EPISODE_COLUMNS",
    "LEGACY_EVALUATION_COLUMNS",
    "format_number",
    "CsvLog",
    "read_rows",
    "truncate_rows",
]

#: One row per finished training game. ``(agent_steps, env)`` is a unique key: ``agent_steps`` is the run's
#: count when the game ended, ``env`` the index of the environment that played it; ``length`` is the game's
#: length in agent steps; ``truncated`` is 1 when the game was cut at the protocol's frame cap, else 0.
EPISODE_COLUMNS: tuple[str, ...] = ("agent_steps", "env", "frames", "return", "length", "truncated", "wall_seconds")
#: One row per evaluation: ``returns`` holds each evaluation game's whole-game score, ';'-separated, at full
#: precision, in the order the games ended; ``lengths`` their lengths in agent steps and ``truncated`` their
#: frame-cap flags (1/0), in the same order.
EVALUATION_COLUMNS: tuple[str, ...] = (
    "agent_steps",
    "frames",
    "mean_return",
    "std_return",
    "n_games",
    "returns",
    "lengths",
    "truncated",
)
#: The columns of run folders written before ``env``, ``truncated`` and ``lengths`` existed: such files
#: still load, and a resumed old run keeps appending in its own columns.
LEGACY_EPISODE_COLUMNS: tuple[str, ...] = ("agent_steps", "frames", "return", "length", "wall_seconds")
LEGACY_EVALUATION_COLUMNS: tuple[str, ...] = EVALUATION_COLUMNS[:-2]  # before ``lengths`` and ``truncated``
_LEGACY_COLUMNS: dict[tuple[str, ...], tuple[str, ...]] = {
    EPISODE_COLUMNS: LEGACY_EPISODE_COLUMNS,
    EVALUATION_COLUMNS: LEGACY_EVALUATION_COLUMNS,
}


def format_number(value: float) -> str:
    """A score as text at full precision: whole numbers without a decimal point (``1234567``), others
    as Python's shortest round-trip repr (``0.1``), never an exponent that loses digits.

    :param value: the number
    :return: the text
    """
    number = float(value)
    if number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(number)


class CsvLog:
    """Append-only CSV log with fixed columns: the header is written once, each row is flushed, and
    :meth:`sync` puts the rows on disk (fsync) before a checkpoint declares them.

    :param path: the CSV file; created with a header if missing or empty
    :param columns: the column names; an existing file must have exactly these, or the older columns
        they replace (:data:`LEGACY_EPISODE_COLUMNS`, :data:`LEGACY_EVALUATION_COLUMNS`), in which case
        rows keep the file's own columns
    """

    def __init__(self, path: str | os.PathLike[str], columns: Sequence[str]) -> None:
        self.path = Path(path)
        self.columns = tuple(columns)
        exists = self.path.is_file() and self.path.stat().st_size > 0
        if exists:
            with open(self.path, encoding="utf-8", newline="") as handle:
                header = next(csv.reader(handle), [])
            if tuple(header) == _LEGACY_COLUMNS.get(self.columns):
                self.columns = tuple(header)
            elif tuple(header) != self.columns:
                raise ValueError(f"{self.path} has columns {header}, expected {list(self.columns)}")
        self._handle = open(self.path, "a", encoding="utf-8", newline="")
        self._writer = csv.writer(self._handle, lineterminator="\n")
        if not exists:
            self._writer.writerow(self.columns)
            self._handle.flush()

    def write(self, row: Mapping[str, Any]) -> None:
        """Append one row (a mapping with every column) and flush it to disk.

        :param row: column -> value
        """
        self._writer.writerow([row[c] for c in self.columns])
        self._handle.flush()

    def sync(self) -> None:
        """Put every row written so far on disk (fsync), so a power loss cannot take them back."""
        if not self._handle.closed:
            self._handle.flush()
            os.fsync(self._handle.fileno())

    def close(self) -> None:
        """Close the file."""
        if not self._handle.closed:
            self._handle.close()

    def __enter__(self) -> CsvLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_rows(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """Read a CSV log written by :class:`CsvLog`.

    :param path: the CSV file
    :return: one dict per row (values as strings); empty when the file is missing
    """
    path = Path(path)
    if not path.is_file():
        return []
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def truncate_rows(path: str | os.PathLike[str], max_agent_steps: int) -> int:
    """Drop the rows logged after ``max_agent_steps`` (used before resuming from a checkpoint).

    Rows with ``agent_steps <= max_agent_steps`` are kept in order; the file is rewritten atomically.
    A trailing half-written line (a crash mid-write) is dropped too.

    :param path: the CSV file (must have an ``agent_steps`` column)
    :param max_agent_steps: the checkpoint's agent steps
    :return: the number of rows dropped
    """
    path = Path(path)
    if not path.is_file():
        return 0
    with open(path, encoding="utf-8", newline="") as handle:
        text = handle.read()
    if not text:
        return 0
    lines = text.splitlines(keepends=True)
    if not lines[-1].endswith("\n"):
        lines = lines[:-1]
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return 0
    col = header.index("agent_steps")
    kept: list[list[str]] = []
    dropped = 0
    for row in reader:
        if len(row) == len(header) and int(float(row[col])) <= max_agent_steps:
            kept.append(row)
        else:
            dropped += 1
    out = _rows_to_text(header, kept)
    if out != text:
        fileio.atomic_write_text(path, out)
    return dropped


def _rows_to_text(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(header))
    writer.writerows(rows)
    return buf.getvalue()
