"""The run folder: the one on-disk format shared by training, sweeps and analysis.

One run = one (game, algo, extractor, seed). Its folder holds::

    config.yaml        resolved preset, extractor, protocol, seed, software versions, command line
    episodes.csv       one row per finished training game (EPISODE_COLUMNS)
    evaluations.csv    one row per periodic evaluation (EVALUATION_COLUMNS)
    tb/                TensorBoard logs
    checkpoints/       periodic checkpoints used by resume
    model.zip          the final model
    progress.json      rewritten atomically while training: {"agent_steps", "timesteps", "steps_per_second", "updated"}
    error.txt          only when the run failed: the error and its traceback
    status.json        written LAST, atomically: {"complete": true, ...}; its presence says the rest is there

Units are stated once, here: ``agent_steps`` counts environment steps summed over all parallel
environments (one agent step = 4 frames with frameskip 4); ``frames`` counts emulator frames;
``length`` is a game's length in agent steps; ``return`` is the whole-game, unclipped Atari score.

CSV columns never change, so an interrupted run appends safely after :func:`truncate_rows` has cut
whatever was logged past the checkpoint it resumes from (the habit of dqn_zoo's CSV writers).
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "CONFIG",
    "EPISODES",
    "EVALUATIONS",
    "STATUS",
    "MODEL",
    "ERROR",
    "PROGRESS",
    "CHECKPOINTS",
    "TENSORBOARD",
    "EPISODE_COLUMNS",
    "EVALUATION_COLUMNS",
    "atomic_write_text",
    "write_json",
    "write_yaml",
    "read_yaml",
    "read_status",
    "is_complete",
    "CsvLog",
    "read_rows",
    "truncate_rows",
]

CONFIG = "config.yaml"
EPISODES = "episodes.csv"
EVALUATIONS = "evaluations.csv"
STATUS = "status.json"
MODEL = "model.zip"
ERROR = "error.txt"
PROGRESS = "progress.json"
CHECKPOINTS = "checkpoints"
TENSORBOARD = "tb"

#: One row per finished training game.
EPISODE_COLUMNS: tuple[str, ...] = ("agent_steps", "frames", "return", "length", "wall_seconds")
#: One row per evaluation: ``returns`` holds each evaluation game's whole-game score, ';'-separated.
EVALUATION_COLUMNS: tuple[str, ...] = (
    "agent_steps",
    "frames",
    "mean_return",
    "std_return",
    "n_games",
    "returns",
)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename, so no reader sees half a file.

    :param path: destination
    :param text: the whole content
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: str | os.PathLike[str], data: Mapping[str, Any]) -> None:
    """Atomically write ``data`` as indented JSON.

    :param path: destination
    :param data: a JSON-serialisable mapping
    """
    atomic_write_text(path, json.dumps(dict(data), indent=2, sort_keys=True) + "\n")


def write_yaml(path: str | os.PathLike[str], data: Mapping[str, Any]) -> None:
    """Atomically write ``data`` as block-style YAML, keys in the order given.

    :param path: destination
    :param data: a YAML-serialisable mapping (plain Python types)
    """
    atomic_write_text(path, yaml.safe_dump(dict(data), sort_keys=False, default_flow_style=False))


def read_yaml(path: str | os.PathLike[str]) -> Any:
    """Read a YAML file with the safe loader.

    :param path: the file
    :return: the parsed document
    """
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def read_status(run_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Read a run's ``status.json``.

    :param run_dir: the run folder
    :return: the status mapping, or None if the run has not finished (no status file)
    """
    path = Path(run_dir) / STATUS
    if not path.is_file():
        return None
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def is_complete(run_dir: str | os.PathLike[str]) -> bool:
    """Say whether a run folder holds a finished run.

    :param run_dir: the run folder
    :return: True when ``status.json`` exists and says ``complete``
    """
    status = read_status(run_dir)
    return bool(status and status.get("complete"))


class CsvLog:
    """Append-only CSV log with fixed columns: the header is written once, each row is flushed.

    :param path: the CSV file; created with a header if missing or empty
    :param columns: the column names; an existing file must have exactly these
    """

    def __init__(self, path: str | os.PathLike[str], columns: Sequence[str]) -> None:
        self.path = Path(path)
        self.columns = tuple(columns)
        exists = self.path.is_file() and self.path.stat().st_size > 0
        if exists:
            with open(self.path, encoding="utf-8", newline="") as handle:
                header = next(csv.reader(handle), [])
            if tuple(header) != self.columns:
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
        atomic_write_text(path, out)
    return dropped


def _rows_to_text(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(header))
    writer.writerows(rows)
    return buf.getvalue()
