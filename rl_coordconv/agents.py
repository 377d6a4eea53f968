"""Agent presets: A2C/PPO hyperparameters as data (``agents/*.yaml``), checked, resolved, turned into a model.

A preset is a small YAML mapping. The two shipped ones, ``agents/a2c.yaml`` and ``agents/ppo.yaml``
(installed as :mod:`rl_coordconv.presets`), hold the ``atari`` entries of rl-baselines3-zoo's
``hyperparams/a2c.yml`` and ``hyperparams/ppo.yml``. A user may pass a preset file of their own, and
override single values (``n_steps=16``, ``policy_kwargs.ortho_init=false``).

Everything is data, resolved through tables, never ``eval``: schedules are numbers (constant) or
strings ``lin_<start>`` (linear from ``start`` at the beginning of training to 0 at the end, zoo's
``linear_schedule``); the optimizer is a name looked up in :data:`OPTIMIZERS`. Unknown keys and wrong
types are rejected with a :class:`~rl_coordconv.errors.UserError` that lists what is accepted.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from rl_coordconv.checks import whole
from rl_coordconv.errors import UserError, check_name, normalize_name, unknown_name

if TYPE_CHECKING:
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
    from stable_baselines3.common.vec_env import VecEnv

    from rl_coordconv.learner import LearnerSettings

__all__ = [
    "ALGOS",
    "canonical_algo",
    "algo_class",
    "OPTIMIZERS",
    "Preset",
    "load_preset",
    "parse_schedule",
    "parse_overrides",
    "build_model",
    "load_model",
]

ALGOS: tuple[str, ...] = ("a2c", "ppo")


def canonical_algo(algo: str) -> str:
    """Resolve an algorithm name (``A2C``, ``ppo``...).

    :param algo: the name as given
    :return: ``"a2c"`` or ``"ppo"``
    :raises UserError: for any other name
    """
    return check_name("algorithm", algo, ALGOS)


def algo_class(algo: str) -> type[OnPolicyAlgorithm]:
    """The Stable-Baselines3 class of an algorithm.

    :param algo: any spelling of ``a2c`` or ``ppo``
    :return: ``stable_baselines3.A2C`` or ``stable_baselines3.PPO``
    :raises UserError: for any other name
    """
    from stable_baselines3 import A2C, PPO

    classes: dict[str, type[OnPolicyAlgorithm]] = {"a2c": A2C, "ppo": PPO}
    return classes[canonical_algo(algo)]


# --- value kinds -------------------------------------------------------------------------------------
# Each preset key has a kind: a checker that returns the cleaned value or raises ValueError with what it
# expected. PyYAML reads "7e-4" (no dot) as a string, so numeric strings are accepted as numbers.


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return float(value.strip())
    raise ValueError


def _float(value: Any) -> float:
    return _number(value)


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
    return whole(value, "value", 1)  # a UserError is a ValueError: the caller names the key


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError
    return value


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def inner(value: Any) -> Any:
        return None if value is None else check(value)

    return inner


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


_KIND_TEXT: dict[Callable[[Any], Any], str] = {}


def _kind(check: Callable[[Any], Any], text: str) -> Callable[[Any], Any]:
    _KIND_TEXT[check] = text
    return check


NUMBER = _kind(_float, "a number")
NONNEG = _kind(_nonneg, "a number >= 0")
UNIT = _kind(_unit, "a number in [0, 1]")
POSINT = _kind(_posint, "a whole number >= 1")
BOOL = _kind(_bool, "true or false")
SCHEDULE = _kind(_schedule, "a number (constant) or 'lin_<start>' (linear from start to 0)")
OPT_SCHEDULE = _kind(_optional(_schedule), "null, a number or 'lin_<start>'")
OPT_NONNEG = _kind(_optional(_nonneg), "null or a number >= 0")
OPTIMIZER = _kind(_optimizer, "an optimizer name")  # the message lists OPTIMIZERS
FLOAT_MAPPING = _kind(_float_mapping, "a mapping of names to numbers (e.g. {eps: 1.0e-5})")

#: Keys every preset may hold besides the algorithm's own hyperparameters.
COMMON_KEYS: dict[str, Callable[[Any], Any]] = {"algo": str, "policy": str, "n_envs": POSINT}

#: ``policy_kwargs`` entries a preset may set (the extractor and heads come from ``policy_kwargs_for``).
POLICY_KEYS: dict[str, Callable[[Any], Any]] = {
    "optimizer": OPTIMIZER,
    "optimizer_kwargs": FLOAT_MAPPING,
    "ortho_init": BOOL,
    "share_features_extractor": BOOL,
}

#: The algorithm hyperparameters a preset may set, with their kinds (SB3's A2C/PPO constructor arguments).
ALGO_KEYS: dict[str, dict[str, Callable[[Any], Any]]] = {
    "a2c": {
        "learning_rate": SCHEDULE,
        "n_steps": POSINT,
        "gamma": UNIT,
        "gae_lambda": UNIT,
        "ent_coef": NONNEG,
        "vf_coef": NONNEG,
        "max_grad_norm": NONNEG,
        "rms_prop_eps": NONNEG,
        "use_rms_prop": BOOL,
        "normalize_advantage": BOOL,
    },
    "ppo": {
        "learning_rate": SCHEDULE,
        "n_steps": POSINT,
        "batch_size": POSINT,
        "n_epochs": POSINT,
        "gamma": UNIT,
        "gae_lambda": UNIT,
        "clip_range": SCHEDULE,
        "clip_range_vf": OPT_SCHEDULE,
        "normalize_advantage": BOOL,
        "ent_coef": NONNEG,
        "vf_coef": NONNEG,
        "max_grad_norm": NONNEG,
        "target_kl": OPT_NONNEG,
    },
}


def _optimizer_table() -> dict[str, Callable[[], type]]:
    def rmsprop_tf_like() -> type:
        from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike

        return RMSpropTFLike

    def rmsprop() -> type:
        import torch

        return torch.optim.RMSprop

    def adam() -> type:
        import torch

        return torch.optim.Adam

    return {"rmsprop_tf_like": rmsprop_tf_like, "rmsprop": rmsprop, "adam": adam}


#: Optimizer name -> a function returning its class (imported on use). ``rmsprop_tf_like`` is SB3's
#: ``sb2_compat.rmsprop_tf_like.RMSpropTFLike``, the TensorFlow-style RMSprop zoo uses for A2C on Atari.
OPTIMIZERS: dict[str, Callable[[], type]] = _optimizer_table()

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


def _check_mapping(data: Mapping[str, Any], kinds: Mapping[str, Callable[[Any], Any]], where: str) -> dict[str, Any]:
    """Check ``data`` against ``kinds``: unknown keys and wrong types become UserErrors."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in kinds:
            raise UserError(f"{where}: {unknown_name('key', key, kinds)} (accepted keys: {', '.join(kinds)})")
        check = kinds[key]
        if check is str:
            if not isinstance(value, str):
                raise UserError(f"{where}: {key} must be a string, got {value!r}")
            out[key] = value
            continue
        try:
            out[key] = check(value)
        except (ValueError, TypeError):
            expected = _KIND_TEXT.get(check, "another value")
            if check is OPTIMIZER:
                expected = "one of " + ", ".join(OPTIMIZERS)
            raise UserError(f"{where}: {key} must be {expected}, got {value!r}") from None
    return out


@dataclass(frozen=True)
class Preset:
    """A checked agent preset.

    :param algo: ``"a2c"`` or ``"ppo"``
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


def _read_preset_text(algo: str, preset: str | Path | None) -> tuple[str, str]:
    if preset is None:
        preset = algo
    if isinstance(preset, str) and normalize_name(preset) in ALGOS and not Path(preset).is_file():
        name = normalize_name(preset)
        text = resources.files("rl_coordconv.presets").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
        return text, f"builtin:{name}"
    path = Path(preset)
    if not path.is_file():
        raise UserError(f"preset {str(preset)!r} is neither a built-in preset ({', '.join(ALGOS)}) nor a readable file")
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


def load_preset(
    algo: str,
    preset: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    n_envs: int | None = None,
) -> Preset:
    """Load and check an agent preset.

    :param algo: ``"a2c"`` or ``"ppo"``
    :param preset: None for the built-in preset of ``algo``, a built-in name, or a YAML file path
    :param overrides: values replacing the preset's (nested for ``policy_kwargs``), checked the same way
    :param n_envs: replaces the preset's ``n_envs`` when given
    :return: the checked preset
    :raises UserError: unknown algorithm, unreadable or malformed file, unknown key, wrong type, or a
        preset written for another algorithm
    """
    key = canonical_algo(algo)
    text, source = _read_preset_text(key, preset)
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
    data = _merge(dict(data), overrides or {})
    if n_envs is not None:
        data["n_envs"] = n_envs
    kinds = {**COMMON_KEYS, **ALGO_KEYS[key], "policy_kwargs": dict}
    where = f"preset {source}"
    clean = _check_mapping({k: v for k, v in data.items() if k != "policy_kwargs"}, kinds, where)
    file_algo = normalize_name(clean.pop("algo", key))
    if file_algo != key:
        raise UserError(f"preset {source} is for {file_algo!r}, not {key!r}; pass a {key} preset")
    policy = clean.pop("policy", "CnnPolicy")
    if policy != "CnnPolicy":
        raise UserError(f"preset {source}: policy must be 'CnnPolicy' (Atari images), got {policy!r}")
    policy_kwargs = data.get("policy_kwargs") or {}
    if not isinstance(policy_kwargs, Mapping):
        raise UserError(f"preset {source}: policy_kwargs must be a mapping; accepted keys: {', '.join(POLICY_KEYS)}")
    policy_kwargs = _check_mapping(policy_kwargs, POLICY_KEYS, f"{where} policy_kwargs")
    if "n_envs" not in clean:
        raise UserError(f"preset {source} must set n_envs (parallel environments)")
    n = clean.pop("n_envs")
    if key == "ppo" and n * clean.get("n_steps", 2048) < 2:
        raise UserError(f"preset {source}: PPO needs n_steps * n_envs >= 2")
    _refuse_keys_without_effect(key, clean, policy_kwargs, source)
    return Preset(algo=key, n_envs=n, hyperparams=clean, policy_kwargs=policy_kwargs, source=source)


#: Keys that SB3 ignores in some configurations: (algo, key, the policy_kwargs key that makes it ignored, why).
NO_EFFECT: tuple[tuple[str, str, str, str], ...] = (
    ("a2c", "use_rms_prop", "optimizer", "SB3's A2C uses policy_kwargs' optimizer_class instead of its own RMSprop"),
    ("a2c", "rms_prop_eps", "optimizer", "SB3's A2C passes rms_prop_eps only to its own RMSprop; set "
     "policy_kwargs.optimizer_kwargs.eps instead"),
)  # fmt: skip


def _refuse_keys_without_effect(algo: str, hyper: Mapping[str, Any], policy: Mapping[str, Any], source: str) -> None:
    """Refuse preset keys that would silently do nothing (SB3's ``A2C.__init__`` reads ``use_rms_prop``
    and ``rms_prop_eps`` only when ``policy_kwargs`` has no ``optimizer_class``)."""
    for name, key, overridden_by, why in NO_EFFECT:
        if name == algo and key in hyper and overridden_by in policy:
            raise UserError(
                f"preset {source}: {key} has no effect here because policy_kwargs sets {overridden_by!r} ({why}); "
                f"remove {key}"
            )


def _resolved_policy_kwargs(preset: Preset, extractor: str, extractor_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    from rl_coordconv.extractors import policy_kwargs_for

    kwargs = policy_kwargs_for(extractor, **dict(extractor_kwargs))
    for key, value in preset.policy_kwargs.items():
        if key == "optimizer":
            kwargs["optimizer_class"] = OPTIMIZERS[value]()
        else:
            kwargs[key] = copy.deepcopy(value)
    return kwargs


def build_model(
    preset: Preset,
    env: VecEnv,
    *,
    extractor: str = "coordconv",
    extractor_kwargs: Mapping[str, Any] | None = None,
    seed: int | None = None,
    device: str = "auto",
    tensorboard_log: str | None = None,
    verbose: int = 0,
    learner: LearnerSettings | None = None,
) -> OnPolicyAlgorithm:
    """Build an SB3 A2C or PPO ``CnnPolicy`` model from a preset and an extractor.

    The policy kwargs are ``policy_kwargs_for(extractor)`` (the extractor and NatureCNN's empty heads)
    plus the preset's optimizer and policy entries, so agents with different extractors differ only there.

    :param preset: a checked preset (:func:`load_preset`)
    :param env: the training VecEnv (its ``num_envs`` should equal ``preset.n_envs``)
    :param extractor: a registered extractor name (``nature``, ``coordconv``, ...)
    :param extractor_kwargs: extra constructor kwargs for the extractor
    :param seed: SB3's seed (python, numpy, torch, and the env's next reset)
    :param device: ``auto``, ``cpu`` or ``cuda``
    :param tensorboard_log: folder for TensorBoard logs, or None
    :param verbose: SB3's verbosity
    :param learner: how the policy computes (:class:`rl_coordconv.learner.LearnerSettings`; default:
        its defaults, channels-last weights); never what it learns
    :return: the model
    """
    from rl_coordconv import learner as _learner

    cls = algo_class(preset.algo)
    hyper = dict(preset.hyperparams)
    for name in ("learning_rate", "clip_range", "clip_range_vf"):
        if hyper.get(name) is not None:
            hyper[name] = parse_schedule(hyper[name])
    model = cls(
        "CnnPolicy",
        env,
        policy_kwargs=_resolved_policy_kwargs(preset, extractor, extractor_kwargs or {}),
        seed=seed,
        device=device,
        tensorboard_log=tensorboard_log,
        verbose=verbose,
        **hyper,
    )
    return _learner.apply(model, learner if learner is not None else _learner.LearnerSettings())


def load_model(
    algo: str,
    path: str | Path,
    env: VecEnv | None = None,
    *,
    device: str = "auto",
    learner: LearnerSettings | None = None,
) -> OnPolicyAlgorithm:
    """Load a saved A2C/PPO model (``model.zip`` or a checkpoint), keeping its saved last observation.

    :param algo: ``"a2c"`` or ``"ppo"``
    :param path: the ``.zip`` file
    :param env: the VecEnv to attach (None to only predict)
    :param device: ``auto``, ``cpu`` or ``cuda``
    :param learner: the run's learner settings, applied again so a resumed run computes as the
        uninterrupted one did (None: plain NCHW eager, as runs made before these settings)
    :return: the model
    """
    from rl_coordconv import learner as _learner

    cls = algo_class(algo)
    custom = _legacy_policy_kwargs(path)
    model = cls.load(str(path), env=env, device=device, force_reset=False, custom_objects=custom)
    return _learner.apply(model, learner if learner is not None else _learner.LearnerSettings.from_dict(None))


def _legacy_policy_kwargs(path: str | Path) -> dict[str, Any] | None:
    """``custom_objects`` that load a CoordConv model saved before ``coord_init`` existed.

    Such a model holds ONE weight over image and coordinate channels (no ``weight_coords`` parameter),
    and its optimizer state has that layout too: it is rebuilt with ``coord_init="joint"``, the rule that
    drew it. The layout is read from the saved weights themselves, not from metadata.

    :param path: the model's ``.zip``
    :return: ``{"policy_kwargs": ...}`` for SB3's ``load``, or None when the model needs nothing
    """
    import io
    import zipfile

    import torch
    from stable_baselines3.common.save_util import json_to_data

    from rl_coordconv.extractors import CoordConvNatureCNN

    try:
        with zipfile.ZipFile(path) as archive:
            data = json_to_data(archive.read("data").decode())
            policy_kwargs = data.get("policy_kwargs") or {}
            cls = policy_kwargs.get("features_extractor_class")
            kwargs = dict(policy_kwargs.get("features_extractor_kwargs") or {})
            if not (isinstance(cls, type) and issubclass(cls, CoordConvNatureCNN)) or "coord_init" in kwargs:
                return None
            state = torch.load(io.BytesIO(archive.read("policy.pth")), map_location="cpu", weights_only=True)
    except (OSError, KeyError, zipfile.BadZipFile, ValueError, RuntimeError):
        return None  # SB3's own load says what is wrong with the file
    if any(key.endswith("weight_coords") for key in state):
        return None
    return {"policy_kwargs": {**policy_kwargs, "features_extractor_kwargs": {**kwargs, "coord_init": "joint"}}}
