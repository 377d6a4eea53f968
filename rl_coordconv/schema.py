"""The one schema checker: frozen (or plain) dataclasses with type hints -> checked values.

A record's fields are its schema: :func:`build` checks a mapping (a parsed YAML or JSON file) against a
dataclass's type hints (``int``, ``float``, ``str``, ``bool``, ``dict``, ``list``, ``X | None``, a nested
dataclass, ``Any``) and builds it; a field may add a check of its own (:func:`checked`, a
:class:`Kind`) that cleans the value, says what it expected, or raises :class:`Invalid` with its own
words (and the place below the key, such as a list's entry); a kind may read fields declared before
its own (``Kind(..., uses=("algos",))``). A value that does not fit raises :class:`Mismatch` (a
:class:`~rl_coordconv.errors.UserError`), whose message names the key (dotted for nested records) and
which carries the key's path, so that the caller can put the file (and a YAML line) in front: a schema
error is one line naming file and key. ``build(..., strict=True)`` refuses keys the record does not
declare, with close-match suggestions. :func:`to_mapping` turns a record back into plain data, fields
in declaration order; :func:`check_mapping` checks a flat mapping against a table of :class:`Kind` values. The run-folder
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

__all__ = [
    "KeyPath",
    "dotted",
    "Mismatch",
    "Invalid",
    "Kind",
    "checked",
    "required",
    "type_name",
    "convert",
    "build",
    "to_mapping",
    "check_mapping",
]

_R = TypeVar("_R", bound="DataclassInstance")

#: The field metadata key that holds a field's own :class:`Kind`.
KIND = "kind"


#: A key's place in a document: mapping keys and list positions, outermost first (``("games", 2)``).
KeyPath = tuple[Any, ...]


def dotted(path: KeyPath) -> str:
    """A path's keys joined by dots, list positions left out: ``("evaluation", "eval_freq")`` -> ``"evaluation.eval_freq"``.

    :param path: the path
    :return: the dotted key (empty for the top level)
    """
    return ".".join(str(p) for p in path if not isinstance(p, int))


class Mismatch(UserError):
    """A value that does not fit its field: the message names the key (dotted) and what was wrong
    (a :class:`~rl_coordconv.errors.UserError`: one line at the command line).

    :param problem: what was wrong, without the key (``"must be a whole number, got 'x'"``)
    :param path: where, from the document's top (:data:`KeyPath`)
    :param missing: for a record's missing keys: all of them (the path then names the first)
    :param message: the whole message (default: ``"the key '<dotted path>' <problem>"``)
    """

    def __init__(
        self, problem: str, path: KeyPath = (), missing: tuple[str, ...] = (), message: str | None = None
    ) -> None:
        self.problem, self.path, self.missing, self.key = problem, path, missing, dotted(path)
        super().__init__(message if message is not None else f"the key {self.key!r} {problem}")


class Invalid(ValueError):
    """Raised by a :class:`Kind`'s check in its own words, which :func:`build` puts after the key.

    :param problem: what was wrong (``"must be positive, got 0"``)
    :param at: where below the field's key (``(2,)`` for a list's third entry)
    """

    def __init__(self, problem: str, at: KeyPath = ()) -> None:
        super().__init__(problem)
        self.problem, self.at = problem, at


@dataclass(frozen=True)
class Kind:
    """A value kind: a check that cleans a value or raises ``ValueError``/``TypeError``, and what it expects.

    :param check: value (then the fields of ``uses``, in order) -> the cleaned value
    :param text: what it expects, for messages (``"a number >= 0"``)
    :param uses: fields declared before this one whose cleaned values (or defaults) the check reads
    """

    check: Callable[..., Any]
    text: str
    uses: tuple[str, ...] = ()

    def __call__(self, value: Any, *used: Any) -> Any:
        return self.check(value, *used)


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
        return "a mapping with keys " + ", ".join(f.name for f in dataclasses.fields(hint) if f.name != "extra")
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


def convert(hint: Any, value: Any, path: KeyPath, strict: bool = False) -> Any:
    """Check ``value`` against a field's type hint and return it cleaned.

    :param hint: the field's type hint
    :param value: the value read
    :param path: the key's path, for the message
    :param strict: refuse unknown keys of a nested record
    :return: the cleaned value (a nested dataclass built)
    :raises Mismatch: when it does not fit
    """
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            try:
                return convert(arg, value, path, strict)
            except Mismatch as err:
                if len(err.path) > len(path):  # the value fit a nested record; a key inside it did not
                    raise
                continue
    elif hint is Any:
        return value
    elif dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if isinstance(value, Mapping):
            return build(hint, value, path=path, strict=strict)
    elif (origin or hint) in _SCALARS:
        cleaned = _SCALARS[origin or hint](value)
        if cleaned is not _NO:
            return cleaned
    else:
        return value
    raise Mismatch(f"must be {type_name(hint)}, got {value!r}", path)


def required(f: dataclasses.Field[Any]) -> bool:
    """Whether a record's field must be given (it has no default).

    :param f: the field
    :return: True when it has neither a default nor a default factory
    """
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None if f.default is dataclasses.MISSING else f.default


def _field_value(f: dataclasses.Field[Any], hint: Any, value: Any, path: KeyPath, strict: bool, used: list[Any]) -> Any:
    kind = f.metadata.get(KIND)
    if kind is None:
        return convert(hint, value, path, strict)
    try:
        return kind(value, *used)
    except Invalid as err:
        raise Mismatch(err.problem, (*path, *err.at)) from None
    except Mismatch as err:  # a kind that builds a record of its own
        raise Mismatch(err.problem, (*path, *err.path), err.missing) from None
    except (ValueError, TypeError):
        raise Mismatch(f"must be {kind.text}, got {value!r}", path) from None


def build(cls: type[_R], data: Mapping[str, Any], *, path: KeyPath = (), strict: bool = False) -> _R:
    """Build a record dataclass from a mapping: known keys are checked, unknown ones kept in ``extra``
    (when the record has such a field), refused (``strict``) or left out.

    Unknown keys are found first, then missing ones, then each value in the fields' order.

    :param cls: the dataclass
    :param data: the mapping
    :param path: the record's own path, put before each key in messages (``("evaluation",)`` for a nested record)
    :param strict: refuse a key the record does not declare (with close-match suggestions)
    :return: the record
    :raises Mismatch: for an unknown or missing key, or a value of the wrong type
    """
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if strict and "extra" not in fields:
        for key in data:
            if key not in fields:
                raise Mismatch(str(unknown_name("key", key, fields)), (*path, key))
    missing = tuple(name for name, f in fields.items() if name != "extra" and name not in data and required(f))
    if missing:
        raise Mismatch("is missing", (*path, missing[0]), missing)
    values: dict[str, Any] = {}
    for f in fields.values():
        if f.name == "extra":
            values["extra"] = {k: v for k, v in data.items() if k not in fields}
        elif f.name in data:
            uses = getattr(f.metadata.get(KIND), "uses", ())
            used = [values[n] if n in values else _default(fields[n]) for n in uses]
            values[f.name] = _field_value(f, hints[f.name], data[f.name], (*path, f.name), strict, used)
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
            problem = f"{unknown_name('key', key, kinds)} (accepted keys: {', '.join(kinds)})"
            raise Mismatch(problem, (key,), message=f"{where}: {problem}")
        kind = kinds[key]
        if kind is str:
            if not isinstance(value, str):
                raise _mismatch(where, key, f"must be a string, got {value!r}")
            out[key] = value
            continue
        assert isinstance(kind, Kind)
        try:
            out[key] = kind(value)
        except (ValueError, TypeError):
            raise _mismatch(where, key, f"must be {kind.text}, got {value!r}") from None
    return out


def _mismatch(where: str, key: str, problem: str) -> Mismatch:
    return Mismatch(problem, (key,), message=f"{where}: {key} {problem}")
