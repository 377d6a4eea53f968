"""Command-line options generated from a settings record's fields, and the command line rebuilt from a record.

The small generator that tyro and typer are (``tyro.cli(Args)`` in CleanRL's scripts), over the fields of
a dataclass declared with :func:`rl_coordconv.settings.setting`: each field becomes one ``argparse``
option, and :func:`to_argv` writes a record back as the options that parse into it again, so the parser and
the command a run records (``config.yaml``'s ``command``) come from the same declaration and cannot miss
an option. How a field becomes an option follows from its type:

- ``bool``: a switch, ``--name`` when its default is False, ``--no-name`` when it is True;
- ``dict``: a repeatable ``KEY=VALUE`` option, values read as YAML scalars
  (:func:`rl_coordconv.preset.parse_overrides`), dotted keys for nested values;
- ``int`` (or ``int | None``): a whole number; anything else a string.

A field without a default is a required option. Options with a value come first in the rebuilt
command line (every one whose value is not None, defaults included), then the repeatable ones, then the
switches that are on.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import yaml

__all__ = ["Option", "options_of", "add_options", "from_args", "to_argv", "command_line", "format_pairs"]

_T = TypeVar("_T")


@dataclass(frozen=True)
class Option:
    """One command-line option of a settings field.

    :param name: the field's name (also the parsed namespace's attribute)
    :param flag: the option, e.g. ``--n-envs``
    :param kind: ``value`` (one value), ``pairs`` (repeatable ``KEY=VALUE``) or ``switch`` (no value)
    :param help: the help text
    :param default: the field's default (``dataclasses.MISSING`` for a required field)
    :param number: whether the value is a whole number
    :param metavar: how the help shows the value
    """

    name: str
    flag: str
    kind: Literal["value", "pairs", "switch"]
    help: str
    default: Any = dataclasses.MISSING
    number: bool = False
    metavar: str | None = None

    @property
    def required(self) -> bool:
        """Whether the option must be given (its field has no default)."""
        return self.default is dataclasses.MISSING and self.kind == "value"

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        """Add the option to a parser.

        :param parser: the parser
        """
        if self.kind == "switch":
            action = "store_false" if self.default else "store_true"
            parser.add_argument(self.flag, dest=self.name, action=action, help=self.help)
        elif self.kind == "pairs":
            parser.add_argument(
                self.flag, dest=self.name, action="append", default=[], metavar=self.metavar, help=self.help
            )
        else:
            parser.add_argument(
                self.flag,
                dest=self.name,
                type=int if self.number else str,
                required=self.required,
                default=None if self.required else self.default,
                metavar=self.metavar,
                help=self.help,
            )

    def argv(self, value: Any) -> list[str]:
        """The command-line words that parse into ``value``.

        :param value: the field's value
        :return: e.g. ``["--seed", "0"]``, ``["--set", "n_steps=64"]``, ``["--compile"]`` or ``[]``
        """
        if self.kind == "switch":
            return [self.flag] if bool(value) != bool(self.default) else []
        if self.kind == "pairs":
            return [word for pair in format_pairs(value or {}) for word in (self.flag, pair)]
        return [] if value is None else [self.flag, str(value)]


def _kind(hint: Any) -> tuple[Literal["value", "pairs", "switch"], bool]:
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    args = set(typing.get_args(hint)) - {type(None)} if union else {hint}
    if args == {bool}:
        return "switch", False
    if any((typing.get_origin(a) or a) in (dict, Mapping) for a in args):
        return "pairs", False
    return "value", args == {int}


def options_of(cls: type) -> tuple[Option, ...]:
    """The options of a settings dataclass, one per field, in the fields' order.

    :param cls: a dataclass whose fields were declared with :func:`rl_coordconv.settings.setting`
    :return: the options
    """
    hints = typing.get_type_hints(cls)
    options = []
    for f in dataclasses.fields(cls):
        kind, number = _kind(hints[f.name])
        default = f.default if f.default_factory is dataclasses.MISSING else f.default_factory()
        dashed = f.name.replace("_", "-")
        flag = f.metadata.get("flag") or (f"--no-{dashed}" if kind == "switch" and default else f"--{dashed}")
        options.append(Option(f.name, flag, kind, f.metadata["help"], default, number, f.metadata.get("metavar")))
    return tuple(options)


def add_options(parser: argparse.ArgumentParser, cls: type) -> None:
    """Add one option per field of a settings dataclass.

    :param parser: the parser
    :param cls: the settings dataclass
    """
    for option in options_of(cls):
        option.add_to(parser)


def from_args(cls: type[_T], args: argparse.Namespace) -> _T:
    """Build a settings record from parsed arguments (the options of :func:`add_options`).

    :param cls: the settings dataclass
    :param args: the parsed arguments
    :return: the record
    :raises UserError: for a ``KEY=VALUE`` that does not read, or a value the record refuses
    """
    from rl_coordconv.preset import parse_overrides

    values = {}
    for option in options_of(cls):
        value = getattr(args, option.name)
        values[option.name] = parse_overrides(value) if option.kind == "pairs" else value
    return cls(**values)


def to_argv(*records: Any) -> list[str]:
    """The options that parse into these records again: values first, then repeatables, then switches.

    :param records: settings records (dataclasses declared with :func:`rl_coordconv.settings.setting`)
    :return: the command-line words
    """
    words: dict[str, list[str]] = {"value": [], "pairs": [], "switch": []}
    for record in records:
        for option in options_of(type(record)):
            words[option.kind] += option.argv(getattr(record, option.name))
    return words["value"] + words["pairs"] + words["switch"]


def command_line(prefix: Sequence[str], *records: Any) -> str:
    """A shell command line: ``prefix`` then :func:`to_argv` of the records, each word quoted.

    :param prefix: the first words, e.g. ``["rl-coordconv", "train", "--plugin", "mine"]``
    :param records: the settings records
    :return: the command line
    """
    return " ".join(shlex.quote(word) for word in [*prefix, *to_argv(*records)])


def format_pairs(values: Mapping[str, Any], prefix: str = "") -> Iterable[str]:
    """``KEY=VALUE`` words that :func:`rl_coordconv.preset.parse_overrides` reads back into ``values``.

    :param values: a (nested) mapping
    :param prefix: the dotted key of ``values`` itself
    :return: e.g. ``["n_steps=64", "policy_kwargs.ortho_init=false"]``
    """
    for key, value in values.items():
        if isinstance(value, Mapping) and value:
            yield from format_pairs(value, f"{prefix}{key}.")
        else:
            text = yaml.safe_dump(value, default_flow_style=True, width=10**9).strip()
            yield f"{prefix}{key}={text.removesuffix('...').strip()}"
