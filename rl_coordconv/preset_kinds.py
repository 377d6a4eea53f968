"""The value kinds of agent presets: numbers, schedules and optimizers as data, checked, never ``eval``-ed.

Each preset key has a :class:`~rl_coordconv.schema.Kind`: a check that returns the cleaned value or raises
``ValueError`` with what it expected, and the words for that (``"a number >= 0"``);
:func:`rl_coordconv.schema.check_mapping` turns a value that does not fit into one line naming the preset
and the key. PyYAML reads ``7e-4`` (no dot) as a string, so numeric strings are accepted as numbers.

Schedules are numbers (constant) or strings ``lin_<start>`` (linear from ``start`` at the beginning of
training to 0 at the end, rl-baselines3-zoo's ``linear_schedule``), turned into what SB3 takes by
:func:`parse_schedule`; an optimizer is a name looked up in :data:`OPTIMIZERS`. This module sits below the
algorithm registry (:mod:`rl_coordconv.algorithms`, whose entries name each hyperparameter's kind) and the
preset loader (:mod:`rl_coordconv.preset`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from rl_coordconv.checks import whole
from rl_coordconv.errors import normalize_name
from rl_coordconv.registry import Registry
from rl_coordconv.schema import Kind

__all__ = [
    "OPTIMIZERS",
    "parse_schedule",
    "NUMBER",
    "NONNEG",
    "UNIT",
    "POSINT",
    "BOOL",
    "SCHEDULE",
    "OPT_SCHEDULE",
    "OPT_NONNEG",
    "OPTIMIZER",
    "FLOAT_MAPPING",
    "MAPPING",
]


def _optimizer_table() -> Registry[Callable[[], type]]:
    def rmsprop_tf_like() -> type:
        from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike

        return RMSpropTFLike

    def rmsprop() -> type:
        import torch

        return torch.optim.RMSprop

    def adam() -> type:
        import torch

        return torch.optim.Adam

    table: Registry[Callable[[], type]] = Registry("optimizer")
    for factory in (rmsprop_tf_like, rmsprop, adam):
        table.register(factory.__name__, factory)
    return table


#: Optimizer name -> a function returning its class (imported on use), a :class:`~rl_coordconv.registry.Registry`. ``rmsprop_tf_like`` is SB3's
#: ``sb2_compat.rmsprop_tf_like.RMSpropTFLike``, the TensorFlow-style RMSprop zoo uses for A2C on Atari.
OPTIMIZERS: Registry[Callable[[], type]] = _optimizer_table()


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return float(value.strip())
    raise ValueError


def _nonneg(value: Any) -> float:
    v = _number(value)
    if v < 0:
        raise ValueError
    return v


def _unit(value: Any) -> float:
    v = _number(value)
    if not 0.0 <= v <= 1.0:
        raise ValueError
    return v


def _posint(value: Any) -> int:
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        value = int(value)
    return whole(value, "value", 1)  # a UserError is a ValueError: check_mapping names the key


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError
    return value


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def inner(value: Any) -> Any:
        return None if value is None else check(value)

    return inner


_LINEAR = re.compile(r"lin_(?P<start>[-+0-9.eE]+)")


def parse_schedule(value: Any) -> float | Any:
    """Turn a schedule given as data into what SB3 takes.

    :param value: a number (constant), a numeric string, or ``"lin_<start>"``: linear in the fraction of
        training done, from ``start`` to 0 (rl-baselines3-zoo's ``linear_schedule``)
    :return: a float, or an SB3 ``LinearSchedule(start, 0, end_fraction=1)``
    :raises ValueError: for anything else
    """
    if isinstance(value, str):
        text = value.strip()
        match = _LINEAR.fullmatch(text)
        if match:
            from stable_baselines3.common.utils import LinearSchedule

            return LinearSchedule(float(match["start"]), 0.0, 1.0)
        return float(text)
    return _number(value)


def _schedule(value: Any) -> float | str:
    parse_schedule(value)  # raises ValueError when malformed
    return value if isinstance(value, str) else float(value)


def _optimizer(value: Any) -> str:
    if not isinstance(value, str) or normalize_name(value) not in OPTIMIZERS:
        raise ValueError
    return normalize_name(value)


def _float_mapping(value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ValueError
    return {k: (_bool(v) if isinstance(v, bool) else _number(v)) for k, v in value.items()}


def _mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError
    return dict(value)


NUMBER = Kind(_number, "a number")
NONNEG = Kind(_nonneg, "a number >= 0")
UNIT = Kind(_unit, "a number in [0, 1]")
POSINT = Kind(_posint, "a whole number >= 1")
BOOL = Kind(_bool, "true or false")
SCHEDULE = Kind(_schedule, "a number (constant) or 'lin_<start>' (linear from start to 0)")
OPT_SCHEDULE = Kind(_optional(_schedule), "null, a number or 'lin_<start>'")
OPT_NONNEG = Kind(_optional(_nonneg), "null or a number >= 0")
OPTIMIZER = Kind(_optimizer, "one of " + ", ".join(OPTIMIZERS))
FLOAT_MAPPING = Kind(_float_mapping, "a mapping of names to numbers (e.g. {eps: 1.0e-5})")
MAPPING = Kind(_mapping, "a mapping")
