"""The one registry of the package: names mapped to things, looked up in any spelling.

Every table that maps a name a user types to what it stands for is a :class:`Registry`: the extractors
(:data:`rl_coordconv.extractors.EXTRACTORS`), environment backends
(:data:`rl_coordconv.atari.backends.ENV_BACKENDS`), algorithms (:data:`rl_coordconv.algorithms.ALGORITHMS`),
protocols (:data:`rl_coordconv.atari.protocols.PROTOCOLS`), executors
(:data:`rl_coordconv.sweep.executors.EXECUTORS`) and optimizers
(:data:`rl_coordconv.preset_kinds.OPTIMIZERS`). A registry keys its entries by the folded name
(:func:`~rl_coordconv.errors.normalize_name`: ``CoordConv-All`` is ``coordconv_all``), and an unknown
name gets the package's one-line error with close-match suggestions
(:func:`~rl_coordconv.errors.check_name`), as rl-baselines3-zoo maps names to objects instead of
``eval``-ing strings.

A registry reads like the dict it replaces (``EXTRACTORS["nature"]``, ``"x" in EXTRACTORS``, iteration in
registration order, ``len``); it stays writable as a dict too (``monkeypatch.setitem`` in tests), but the
package adds entries with :meth:`Registry.register` and looks names up with :meth:`Registry.lookup`.
:meth:`Registry.builtin` snapshots what a module registered itself, so that what a user adds later (and
a sweep ships to its workers, :mod:`rl_coordconv.plugins`) can be told apart. This module imports nothing
heavy: registries sit below ``rl-coordconv --help``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from types import MappingProxyType
from typing import TypeVar

from rl_coordconv.errors import check_name, normalize_name

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(MutableMapping[str, T]):
    """Names (folded) mapped to entries, in registration order.

    :param kind: what an entry is, for messages: ``"environment backend"`` gives
        ``unknown environment backend 'x'; choose from 'ale_vector', 'sb3'.``
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> T:
        """Add (or replace) the entry of ``name``.

        :param name: its name in any spelling (folded with :func:`~rl_coordconv.errors.normalize_name`)
        :param entry: the entry
        :return: the same entry
        """
        self._entries[normalize_name(name)] = entry
        return entry

    def lookup(self, name: str) -> T:
        """The entry of ``name``, in any spelling.

        :param name: the name as the user gave it
        :return: its entry
        :raises UserError: for an unknown name (``unknown <kind> 'x'; did you mean ...?``)
        """
        return self._entries[check_name(self.kind, name, self._entries)]

    def names(self) -> tuple[str, ...]:
        """The registered (folded) names, in registration order.

        :return: e.g. ``("a2c", "ppo")``
        """
        return tuple(self._entries)

    def builtin(self) -> Mapping[str, T]:
        """A read-only snapshot of the entries registered so far (later registrations do not change it).

        :return: folded name -> entry
        """
        return MappingProxyType(dict(self._entries))

    def __getitem__(self, name: str) -> T:
        return self._entries[normalize_name(name)]

    def __setitem__(self, name: str, entry: T) -> None:
        self.register(name, entry)

    def __delitem__(self, name: str) -> None:
        del self._entries[normalize_name(name)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and normalize_name(name) in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {list(self._entries)})"
