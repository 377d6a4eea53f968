"""The shape of a spec file: :class:`SpecFile`, a record that :func:`rl_coordconv.schema.build` checks.

Every key of an experiment spec is one field here, with its type and, where a value needs more than a
type, its :class:`~rl_coordconv.schema.Kind`: positive budgets, names checked (and made canonical) by the
registries that know them (games, algorithms, extractors, protocols, backends, scores), seeds, the
evaluation, the hyperparameters per algorithm (checked against the agent preset), the plug-ins (imported
first, since they register names the keys after them use) and the smallest effect of interest. The fields
are checked in their order, so that a check may read the fields above it (``score`` reads ``protocol``
and ``evaluation``; ``hyperparameters`` reads ``algos`` and ``n_envs``). A problem is one
:class:`~rl_coordconv.schema.Mismatch` carrying the key's path, which :mod:`rl_coordconv.sweep.spec`
turns into the file, the line and the key.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rl_coordconv.algorithms import ALGOS
from rl_coordconv.atari.backends import DEFAULT_BACKEND
from rl_coordconv.atari.protocols import DEFAULT_PROTOCOL
from rl_coordconv.checks import as_whole
from rl_coordconv.errors import UserError, check_name
from rl_coordconv.schema import Invalid, KeyPath, Kind, checked, required

__all__ = ["SpecFile", "EvaluationFile", "SPEC_KEYS", "EVALUATION_KEYS"]


def _lookup(at: KeyPath, find: Callable[..., Any], *args: Any) -> Any:
    """``find(*args)``, its UserError (an unknown name, with suggestions) the problem at ``at``."""
    try:
        return find(*args)
    except UserError as err:
        raise Invalid(str(err), at) from None


def _positive(value: Any) -> int:
    number = as_whole(value)
    if number is None:
        raise Invalid(f"must be a positive whole number (e.g. 100_000), got {value!r}")
    if number <= 0:
        raise Invalid(f"must be positive, got {number}")
    return number


def _optional_positive(value: Any) -> int | None:
    return None if value is None else _positive(value)


def _whole(value: Any) -> int | None:
    if value is None:
        return None
    number = as_whole(value)
    if number is None or number < 0:
        raise Invalid(f"must be a whole number >= 0, got {value!r}")
    return number


def _names(value: Any, canonical: Callable[[str], str], unique: bool = True) -> tuple[str, ...]:
    """A name or a non-empty list of names, each made canonical; with ``unique``, one listed twice is refused."""
    if isinstance(value, str):
        value = [value]
    elif not isinstance(value, list) or not value:
        raise Invalid(f"must be a name or a non-empty list of names, got {value!r}")
    names: list[str] = []
    for i, raw in enumerate(value):
        if not isinstance(raw, str):
            raise Invalid(f"entries must be names (strings), got {raw!r}", (i,))
        name = _lookup((i,), canonical, raw)
        if unique and name in names:
            raise Invalid(f"{raw!r} is listed twice (it is {value[names.index(name)]!r} again)", (i,))
        names.append(name)
    return tuple(names)


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"must be a non-empty string, got {value!r}")
    return value.strip()


def _description(value: Any) -> str:
    if not isinstance(value or "", str):
        raise Invalid(f"must be a string, got {value!r}")
    return (value or "").strip()


def _plugin(name: str) -> str:
    from rl_coordconv.plugins import import_plugins

    import_plugins([name])
    return name


def _plugins(value: Any) -> tuple[str, ...]:
    return () if value is None else _names(value, _plugin, unique=False)


def _game(raw: str) -> str:
    from rl_coordconv.atari import canonical_game

    return canonical_game(raw)


def _algo(raw: object) -> str:
    return check_name("algorithm", raw, ALGOS)


def _extractor(raw: str) -> str:
    from rl_coordconv.extractors import get_extractor

    return get_extractor(raw).name


def _seeds(value: Any) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise Invalid(f"a number of seeds must be positive, got {value}")
        return tuple(range(value))
    if not isinstance(value, list) or not value:
        raise Invalid(f"must be a number of seeds (3 means 0, 1, 2) or a list of seeds, got {value!r}")
    seeds: list[int] = []
    for i, item in enumerate(value):
        if isinstance(item, float) or as_whole(item) is None or item < 0:
            raise Invalid(f"seeds must be whole numbers >= 0, got {item!r}", (i,))
        if item in seeds:
            raise Invalid(f"seed {item} is listed twice", (i,))
        seeds.append(item)
    return tuple(seeds)


def _registered(value: Any, what: str, get: Callable[[str], Any]) -> str:
    """A name in a registry (``get`` raises UserError for an unknown one), as the registry spells it."""
    if not isinstance(value, str):
        raise Invalid(f"must be {what}, got {value!r}")
    return str(_lookup((), get, value).name)


def _protocol(value: Any) -> str:
    from rl_coordconv.atari import get_protocol

    return _registered(value, "a protocol name such as 'standard' or 'machado'", get_protocol)


def _backend(value: Any) -> str:
    from rl_coordconv.atari import get_backend

    return _registered(value, "a backend name such as 'ale_vector' or 'sb3'", get_backend)


def _score(value: Any, protocol: str, evaluation: EvaluationFile | None) -> str | None:
    from rl_coordconv.scores import parse_score

    if value is None:
        return None  # the protocol's default, chosen when the Spec is made
    chosen = _lookup((), parse_score, value)
    if chosen.kind == "eval" and evaluation is not None and evaluation.eval_episodes == 0:
        raise Invalid(
            "is 'eval' but evaluation.eval_episodes is 0, so no run will have an evaluation; "
            "raise eval_episodes or choose 'train_last_100'"
        )
    return str(chosen.name)


def _smallest_effect(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise Invalid(f"must be a number of human-normalised IQM points between 0 and 1 (e.g. 0.02), got {value!r}")
    return float(value)


def _hyperparameters(value: Any, algos: tuple[str, ...], n_envs: int | None) -> dict[str, dict[str, Any]]:
    from rl_coordconv.preset import load_preset

    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise Invalid(f"must map an algorithm to preset keys (e.g. ppo: {{n_epochs: 4}}), got {value!r}")
    out: dict[str, dict[str, Any]] = {}
    for algo, overrides in value.items():
        at = (algo,)
        key = _lookup(at, _algo, algo)
        if key not in algos:
            raise Invalid(
                f"{key!r} is not one of this spec's algos ({', '.join(algos)}); remove it or add it there", at
            )
        if not isinstance(overrides, Mapping) or not all(isinstance(k, str) for k in overrides):
            raise Invalid(f"must map preset keys to values, got {overrides!r}", at)
        _lookup(at, functools.partial(load_preset, key, overrides=dict(overrides), n_envs=n_envs))
        out[key] = dict(overrides)
    return out


#: The kinds of the name lists: each entry made canonical by its registry, none twice.
_GAMES = Kind(lambda v: _names(v, _game), "a game name or a list of them")
_ALGOS = Kind(lambda v: _names(v, _algo), "an algorithm name or a list of them")
_EXTRACTORS = Kind(lambda v: _names(v, _extractor), "an extractor name or a list of them")
#: Optional whole numbers: > 0 (a count, a budget) and >= 0 (a frequency that may be 0).
_OPTIONAL_POSITIVE = Kind(_optional_positive, "a positive whole number or null")
_WHOLE = Kind(_whole, "a whole number >= 0 or null")


@dataclass(frozen=True, kw_only=True)
class EvaluationFile:
    """A spec's ``evaluation:`` mapping (None: training's default).

    :param eval_freq: agent steps between evaluations (0: only the final one)
    :param eval_episodes: whole games per evaluation (0: none)
    """

    eval_freq: int | None = checked(_WHOLE, default=None)
    eval_episodes: int | None = checked(_WHOLE, default=None)


@dataclass(frozen=True, kw_only=True)
class SpecFile:
    """An experiment spec as its file says it, every value checked (names canonical).

    :func:`rl_coordconv.sweep.spec.parse_spec` makes a :class:`~rl_coordconv.sweep.spec.Spec` from it.

    The fields are the spec's keys (``docs/sweeps.md``, "The spec format"), in the order they are checked;
    those without a default are required. None: the key was left out (or null), its default applies.
    """

    name: str | None = checked(Kind(_name, "a non-empty string"), default=None)
    description: str = checked(Kind(_description, "a string"), default="")
    plugins: tuple[str, ...] = checked(Kind(_plugins, "a module name or a list of them"), default=())
    games: tuple[str, ...] = checked(_GAMES)
    algos: tuple[str, ...] = checked(_ALGOS)
    extractors: tuple[str, ...] = checked(_EXTRACTORS)
    seeds: tuple[int, ...] = checked(Kind(_seeds, "a number of seeds or a list of seeds"))
    agent_steps: int = checked(Kind(_positive, "a positive whole number"))
    protocol: str = checked(Kind(_protocol, "a protocol name"), default=DEFAULT_PROTOCOL)
    backend: str = checked(Kind(_backend, "a backend name"), default=DEFAULT_BACKEND)
    n_envs: int | None = checked(_OPTIONAL_POSITIVE, default=None)
    checkpoint_freq: int | None = checked(_OPTIONAL_POSITIVE, default=None)
    evaluation: EvaluationFile | None = None
    score: str | None = checked(Kind(_score, "a score name", uses=("protocol", "evaluation")), default=None)
    smallest_effect: float | None = checked(Kind(_smallest_effect, "a number between 0 and 1"), default=None)
    hyperparameters: dict[str, dict[str, Any]] = checked(
        Kind(_hyperparameters, "preset keys per algorithm", uses=("algos", "n_envs")), default_factory=dict
    )


#: Top-level keys a spec accepts, and whether each is required.
SPEC_KEYS: dict[str, bool] = {f.name: required(f) for f in dataclasses.fields(SpecFile)}
#: Keys accepted under ``evaluation``.
EVALUATION_KEYS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(EvaluationFile))
