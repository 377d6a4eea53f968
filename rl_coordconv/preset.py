"""Agent presets: an algorithm's hyperparameters as data (``agents/*.yaml``), checked and resolved.

A preset is a small YAML mapping. The shipped ones, ``agents/a2c.yaml`` and ``agents/ppo.yaml`` (installed
as the data package :mod:`rl_coordconv.presets`, one per entry of :mod:`rl_coordconv.algorithms`), hold
the ``atari`` entries of rl-baselines3-zoo's ``hyperparams/a2c.yml`` and ``hyperparams/ppo.yml``. A user
may pass a preset file of their own, and override single values (``n_steps=16``,
``policy_kwargs.ortho_init=false``).

Everything is data, checked by :func:`rl_coordconv.schema.check_mapping` against the kinds of
:mod:`rl_coordconv.preset_kinds`, never ``eval``-ed: the keys an algorithm accepts are its registry
entry's. Unknown keys and wrong types are rejected with a :class:`~rl_coordconv.errors.UserError` that
lists what is accepted. A checked :class:`Preset` becomes a model in :mod:`rl_coordconv.model`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from rl_coordconv.algorithms import ALGORITHMS, Algorithm, get_algorithm
from rl_coordconv.errors import UserError, normalize_name
from rl_coordconv.preset_kinds import BOOL, FLOAT_MAPPING, MAPPING, OPTIMIZER, POSINT
from rl_coordconv.schema import Kind, check_mapping

__all__ = ["Preset", "COMMON_KEYS", "POLICY_KEYS", "builtin_presets", "load_preset", "parse_overrides"]

#: Keys every preset may hold besides the algorithm's own hyperparameters.
COMMON_KEYS: dict[str, Kind | type[str]] = {"algo": str, "policy": str, "n_envs": POSINT}

#: ``policy_kwargs`` entries a preset may set (the extractor and heads come from ``policy_kwargs_for``).
POLICY_KEYS: dict[str, Kind | type[str]] = {
    "optimizer": OPTIMIZER,
    "optimizer_kwargs": FLOAT_MAPPING,
    "ortho_init": BOOL,
    "share_features_extractor": BOOL,
}


@dataclass(frozen=True)
class Preset:
    """A checked agent preset.

    :param algo: the algorithm's name (``"a2c"``, ``"ppo"``: :mod:`rl_coordconv.algorithms`)
    :param n_envs: parallel environments
    :param hyperparams: SB3 constructor arguments as data (schedules still as ``lin_...`` strings)
    :param policy_kwargs: the preset's ``policy_kwargs`` entries (``optimizer`` as a name)
    :param source: where it came from (``builtin:ppo`` or a file path)
    """

    algo: str
    n_envs: int
    hyperparams: dict[str, Any]
    policy_kwargs: dict[str, Any]
    source: str

    def to_dict(self) -> dict[str, Any]:
        """The resolved preset as plain data (for ``config.yaml``; :func:`load_preset` reads it back).

        :return: a mapping with ``algo``, ``policy``, ``n_envs``, the hyperparameters and ``policy_kwargs``
        """
        data: dict[str, Any] = {"algo": self.algo, "policy": "CnnPolicy", "n_envs": self.n_envs}
        data.update(copy.deepcopy(self.hyperparams))
        if self.policy_kwargs:
            data["policy_kwargs"] = copy.deepcopy(self.policy_kwargs)
        return data


def builtin_presets() -> tuple[str, ...]:
    """The built-in presets' names, one per registered algorithm.

    :return: e.g. ``("a2c", "ppo")``
    """
    return tuple(a.preset for a in ALGORITHMS.values())


def _read_preset_text(algorithm: Algorithm, preset: str | Path | None) -> tuple[str, str]:
    if preset is None:
        preset = algorithm.preset
    names = builtin_presets()
    if isinstance(preset, str) and normalize_name(preset) in names and not Path(preset).is_file():
        name = normalize_name(preset)
        text = resources.files("rl_coordconv.presets").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
        return text, f"builtin:{name}"
    path = Path(preset)
    if not path.is_file():
        raise UserError(f"preset {str(preset)!r} is neither a built-in preset ({', '.join(names)}) nor a readable file")
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"cannot read preset file {str(path)!r}: {err}") from None


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    head, _, rest = key.partition(".")
    if rest:
        node = data.setdefault(head, {})
        if not isinstance(node, dict):
            raise UserError(f"cannot set {key!r}: {head!r} is not a mapping")
        _set_dotted(node, rest, value)
    else:
        data[head] = value


def parse_overrides(items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Parse command-line ``KEY=VALUE`` overrides (values read as YAML scalars, never evaluated).

    :param items: e.g. ``["n_steps=16", "learning_rate=lin_1e-3", "policy_kwargs.ortho_init=false"]``
    :return: a nested mapping, e.g. ``{"n_steps": 16, "policy_kwargs": {"ortho_init": False}}``
    :raises UserError: for an item without ``=`` or with an unreadable value
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"override {item!r} must look like KEY=VALUE, e.g. n_steps=16")
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            raise UserError(f"override {item!r}: cannot read the value {text!r}") from None
        _set_dotted(out, key.strip(), value)
    return out


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def _read_mapping(text: str, source: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise UserError(f"preset {source} is not valid YAML{where}") from None
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise UserError(f"preset {source} must be a YAML mapping of key: value, got {type(data).__name__}")
    return dict(data)


def load_preset(
    algo: str,
    preset: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    n_envs: int | None = None,
) -> Preset:
    """Load and check an agent preset.

    :param algo: a registered algorithm (``"a2c"``, ``"ppo"``), in any spelling
    :param preset: None for the built-in preset of ``algo``, a built-in name, or a YAML file path
    :param overrides: values replacing the preset's (nested for ``policy_kwargs``), checked the same way
    :param n_envs: replaces the preset's ``n_envs`` when given
    :return: the checked preset
    :raises UserError: unknown algorithm, unreadable or malformed file, unknown key, wrong type, or a
        preset written for another algorithm
    """
    algorithm = get_algorithm(algo)
    key = algorithm.name
    text, source = _read_preset_text(algorithm, preset)
    data = _merge(_read_mapping(text, source), overrides or {})
    if n_envs is not None:
        data["n_envs"] = n_envs
    kinds = {**COMMON_KEYS, **algorithm.hyperparameters, "policy_kwargs": MAPPING}
    where = f"preset {source}"
    clean = check_mapping({k: v for k, v in data.items() if k != "policy_kwargs"}, kinds, where)
    file_algo = normalize_name(clean.pop("algo", key))
    if file_algo != key:
        raise UserError(f"preset {source} is for {file_algo!r}, not {key!r}; pass a {key} preset")
    policy = clean.pop("policy", "CnnPolicy")
    if policy != "CnnPolicy":
        raise UserError(f"preset {source}: policy must be 'CnnPolicy' (Atari images), got {policy!r}")
    policy_kwargs = data.get("policy_kwargs") or {}
    if not isinstance(policy_kwargs, Mapping):
        raise UserError(f"preset {source}: policy_kwargs must be a mapping; accepted keys: {', '.join(POLICY_KEYS)}")
    policy_kwargs = check_mapping(policy_kwargs, POLICY_KEYS, f"{where} policy_kwargs")
    if "n_envs" not in clean:
        raise UserError(f"preset {source} must set n_envs (parallel environments)")
    n = clean.pop("n_envs")
    if n * clean.get("n_steps", algorithm.default_n_steps) < algorithm.min_rollout:
        raise UserError(f"preset {source}: {algorithm.label} needs n_steps * n_envs >= {algorithm.min_rollout}")
    _refuse_keys_without_effect(algorithm, clean, policy_kwargs, source)
    return Preset(algo=key, n_envs=n, hyperparams=clean, policy_kwargs=policy_kwargs, source=source)


def _refuse_keys_without_effect(
    algorithm: Algorithm, hyper: Mapping[str, Any], policy: Mapping[str, Any], source: str
) -> None:
    """Refuse preset keys that would silently do nothing (the entry's :attr:`Algorithm.no_effect`)."""
    for rule in algorithm.no_effect:
        if rule.key in hyper and rule.overridden_by in policy:
            raise UserError(
                f"preset {source}: {rule.key} has no effect here because policy_kwargs sets {rule.overridden_by!r} "
                f"({rule.why}); remove {rule.key}"
            )
