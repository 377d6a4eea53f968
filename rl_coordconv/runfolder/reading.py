"""How every run-folder record is read: the file parsed (YAML or JSON), checked against its dataclass by
:func:`rl_coordconv.schema.build`, and any problem raised as one :class:`RunFolderError` naming the file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import yaml

from rl_coordconv.errors import UserError
from rl_coordconv.schema import Mismatch, build

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


_R = TypeVar("_R", bound="DataclassInstance")


class RunFolderError(UserError):
    """A run-folder file exists but cannot be read as the format says (damaged, or written by another tool)."""


def damaged(path: Path, message: str) -> RunFolderError:
    """The error for a file that holds something other than its record.

    :param path: the file
    :param message: what is wrong with it
    :return: the error (to raise), saying the file is damaged or foreign
    """
    return RunFolderError(f"{path}: {message}; the file is damaged or was not written by rl-coordconv")


def build_record(cls: type[_R], data: Mapping[str, Any], path: Path) -> _R:
    """:func:`rl_coordconv.schema.build`, turning a mismatch into a :class:`RunFolderError` naming the file.

    :param cls: the record's dataclass
    :param data: the parsed file
    :param path: the file, for the message
    :return: the record
    :raises RunFolderError: for a missing key or a value of the wrong type
    """
    try:
        return build(cls, data)
    except Mismatch as err:
        raise damaged(path, str(err)) from None


def load_mapping(path: Path, kind: Literal["yaml", "json"]) -> dict[str, Any] | None:
    """Parse a YAML or JSON file that must hold a mapping.

    :param path: the file
    :param kind: ``yaml`` or ``json``
    :return: the mapping; None when the file is missing
    :raises RunFolderError: when it cannot be read, does not parse or is no mapping
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise RunFolderError(f"cannot read {path}: {err}") from None
    try:
        data = json.loads(text) if kind == "json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise damaged(path, f"malformed {kind.upper()} ({first})") from None
    if not isinstance(data, dict):
        raise damaged(path, f"expected a mapping of keys to values, got {type(data).__name__}")
    return data
