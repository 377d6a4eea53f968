"""The one schema checker: frozen (or plain) dataclasses with type hints -> checked values.

A record's fields are its schema: :func:`build` checks a mapping (a parsed YAML or JSON file) against a
dataclass's type hints (``int``, ``float``, ``str``, ``bool``, ``dict``, ``list``, ``X | None``, a nested
dataclass, ``Any``) and builds it; a field may add a check of its own (:func:`checked`, a
:class:`Kind`) that cleans the value or says what it expected. A value that does not fit raises
:class:`Mismatch` (a :class:`~rl_coordconv.errors.UserError`), whose message names the key (dotted
for nested records); the caller puts the file in front, so a schema error is one line naming file and
key. :func:`to_mapping` turns a record back into plain data, fields in declaration order;
:func:`check_mapping` checks a flat mapping against a table of :class:`Kind` values. The run-folder
records (:mod:`rl_coordconv.runfolder`) are read through it; nothing is ever ``eval``-ed.
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from rl_coordconv.checks import as_whole
from rl_coordconv.errors import UserError, unknown_name

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["Mismatch", "Kind", "checked", "type_name", "convert", "build", "to_mapping", "check_mapping"]

_R = TypeVar("_R", bound="DataclassInstance")

#: The field metadata key that holds a field's own :class:`Kind`.
KIND = "kind"


class Mismatch(UserError):
    """A value that does not fit its field: the message names the key (dotted) and what was expected
    (a :class:`~rl_coordconv.errors.UserError`: one line at the command line).

    :param message: the whole message
    :param key: the dotted key, when known
    """

    def __init__(self, message: str, key: str = "") -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Kind:
    """A value kind: a check that cleans a value or raises ``ValueError``/``TypeError``, and what it expects.

    :param check: value -> the cleaned value
    :param text: what it expects, for messages (``"a number >= 0"``)
    """

    check: Callable[[Any], Any]
    text: str

    def __call__(self, value: Any) -> Any:
        return self.check(value)


def checked(kind: Kind, **options: Any) -> Any:
    """A dataclass field whose value :func:`build` cleans with ``kind`` (after no type check of its own).

    :param kind: the field's kind
    :param options: ``default``, ``default_factory`` and the other :func:`dataclasses.field` options
    :return: the field
    """
    return dataclasses.field(metadata={KIND: kind}, **options)


_NAMES: dict[Any, str] = {
    int: "a whole number",
    float: "a number",
    str: "a string",
    bool: "true or false",
    dict: "a mapping",
    list: "a list",
}


def type_name(hint: Any) -> str:
    """A type hint in words, for messages: ``int | None`` -> ``"a whole number or null"``.

    :param hint: the type hint
    :return: the words
    """
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(a) for a in typing.get_args(hint))
    if hint is type(None):
        return "null"
    if dataclasses.is_dataclass(hint):
        return "a mapping"
    return _NAMES.get(origin or hint, str(hint))


_NO = object()  # a scalar check's "does not fit"


def _as_int(value: Any) -> Any:
    number = as_whole(value)
    return _NO if number is None else number


def _as_float(value: Any) -> Any:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else _NO


#: Plain types -> a check returning the cleaned value or ``_NO``.
_SCALARS: dict[Any, Callable[[Any], Any]] = {
    type(None): lambda v: None if v is None else _NO,
    bool: lambda v: v if isinstance(v, bool) else _NO,
    int: _as_int,
    float: _as_float,
    str: lambda v: v if isinstance(v, str) else _NO,
    dict: lambda v: dict(v) if isinstance(v, Mapping) else _NO,
    list: lambda v: list(v) if isinstance(v, (list, tuple)) else _NO,
}


def convert(hint: Any, value: Any, key: str) -> Any:
    """Check ``value`` against a field's type hint and return it cleaned.

    :param hint: the field's type hint
    :param value: the value read
    :param key: the dotted key, for the message
    :return: the cleaned value (a nested dataclass built)
    :raises Mismatch: when it does not fit
    """
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            try:
                return convert(arg, value, key)
            except Mismatch:
                continue
    elif hint is Any:
        return value
    elif dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if isinstance(value, Mapping):
            return build(hint, value, f"{key}.")
    elif (origin or hint) in _SCALARS:
        cleaned = _SCALARS[origin or hint](value)
        if cleaned is not _NO:
            return cleaned
    else:
        return value
    raise Mismatch(f"the key {key!r} must be {type_name(hint)}, got {value!r}", key)


def _field_value(f: dataclasses.Field[Any], hint: Any, value: Any, key: str) -> Any:
    kind = f.metadata.get(KIND)
    if kind is None:
        return convert(hint, value, key)
    try:
        return kind(value)
    except (ValueError, TypeError):
        raise Mismatch(f"the key {key!r} must be {kind.text}, got {value!r}", key) from None


def build(cls: type[_R], data: Mapping[str, Any], prefix: str = "") -> _R:
    """Build a record dataclass from a mapping: known keys are checked, unknown ones kept in ``extra``
    (when the record has such a field).

    :param cls: the dataclass
    :param data: the mapping
    :param prefix: put before each key in messages (``"evaluation."`` for a nested record)
    :return: the record
    :raises Mismatch: for a missing key or a value of the wrong type
    """
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    names = {f.name for f in fields}
    values: dict[str, Any] = {}
    for f in fields:
        if f.name == "extra":
            values["extra"] = {k: v for k, v in data.items() if k not in names}
        elif f.name in data:
            values[f.name] = _field_value(f, hints[f.name], data[f.name], prefix + f.name)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise Mismatch(f"the key {prefix + f.name!r} is missing", prefix + f.name)
    return cls(**values)


def to_mapping(record: Any) -> dict[str, Any]:
    """A record as plain data, fields in declaration order, then ``extra``'s keys.

    :param record: a dataclass instance
    :return: a mapping of plain (deep-copied) values
    """
    out: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if f.name == "extra":
            out.update(copy.deepcopy(value))
        elif dataclasses.is_dataclass(value):
            out[f.name] = to_mapping(value)
        else:
            out[f.name] = copy.deepcopy(value)
    return out


def check_mapping(data: Mapping[str, Any], kinds: Mapping[str, Kind | type[str]], where: str) -> dict[str, Any]:
    """Check a flat mapping against a table of kinds: unknown keys and wrong values become one message each.

    :param data: the mapping
    :param kinds: accepted key -> its :class:`Kind` (or ``str`` for a plain string)
    :param where: put in front of each message (``"preset builtin:ppo"``)
    :return: the cleaned mapping
    :raises Mismatch: ``"<where>: unknown key 'x' (did you mean ...) (accepted keys: ...)"``, or
        ``"<where>: <key> must be <kind>, got <value>"``
    """
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in kinds:
            raise Mismatch(f"{where}: {unknown_name('key', key, kinds)} (accepted keys: {', '.join(kinds)})", key)
        kind = kinds[key]
        if kind is str:
            if not isinstance(value, str):
                raise Mismatch(f"{where}: {key} must be a string, got {value!r}", key)
            out[key] = value
            continue
        assert isinstance(kind, Kind)
        try:
            out[key] = kind(value)
        except (ValueError, TypeError):
            raise Mismatch(f"{where}: {key} must be {kind.text}, got {value!r}", key) from None
    return out
