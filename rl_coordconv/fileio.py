"""Files written whole: a temporary name and a rename, fsynced, so no reader ever sees half a file.

One job: the one writer every on-disk record goes through (the run folder's :mod:`rl_coordconv.runfolder`,
checkpoints, sweep folders, exports): :func:`atomic_write_text`, the JSON and YAML texts and writers built
on it, the fsyncs, and :func:`read_yaml` (the safe loader) for the files they write.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "fsync_dir",
    "fsync_file",
    "atomic_write_text",
    "json_text",
    "yaml_text",
    "write_json",
    "write_yaml",
    "read_yaml",
]


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """fsync a folder, so that the renames and new files in it survive a power loss (POSIX; a no-op
    where folders cannot be opened, as on Windows).

    :param path: the folder
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_file(path: str | os.PathLike[str]) -> None:
    """fsync a file written by another library (``model.save``, ``pickle``).

    :param path: the file
    """
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


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
    fsync_dir(path.parent)


def json_text(data: Mapping[str, Any]) -> str:
    """``data`` as indented JSON text, keys sorted, with a final newline.

    :param data: a JSON-serialisable mapping
    :return: the text
    """
    return json.dumps(dict(data), indent=2, sort_keys=True) + "\n"


def yaml_text(data: Mapping[str, Any]) -> str:
    """``data`` as block-style YAML text, keys in the order given.

    :param data: a YAML-serialisable mapping (plain Python types)
    :return: the text
    """
    return yaml.safe_dump(dict(data), sort_keys=False, default_flow_style=False)


def write_json(path: str | os.PathLike[str], data: Mapping[str, Any]) -> None:
    """Atomically write ``data`` as indented JSON.

    :param path: destination
    :param data: a JSON-serialisable mapping
    """
    atomic_write_text(path, json_text(data))


def write_yaml(path: str | os.PathLike[str], data: Mapping[str, Any]) -> None:
    """Atomically write ``data`` as block-style YAML, keys in the order given.

    :param path: destination
    :param data: a YAML-serialisable mapping (plain Python types)
    """
    atomic_write_text(path, yaml_text(data))


def read_yaml(path: str | os.PathLike[str]) -> Any:
    """Read a YAML file with the safe loader.

    :param path: the file
    :return: the parsed document
    """
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)
