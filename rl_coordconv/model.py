"""An agent's SB3 model: built from a checked preset and an extractor, or loaded from a saved ``.zip``.

The class comes from the algorithm's registry entry (:mod:`rl_coordconv.algorithms`), the hyperparameters
from the preset (:mod:`rl_coordconv.preset`, its schedules and optimizer resolved here through
:mod:`rl_coordconv.preset_kinds`), the policy's extractor and heads from
:func:`rl_coordconv.extractors.policy_kwargs_for`, and how the policy computes from
:mod:`rl_coordconv.learner`. Loading rebuilds CoordConv models saved before ``coord_init`` existed
(:func:`legacy_policy_kwargs`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rl_coordconv.algorithms import get_algorithm
from rl_coordconv.preset_kinds import OPTIMIZERS, parse_schedule

if TYPE_CHECKING:
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
    from stable_baselines3.common.vec_env import VecEnv

    from rl_coordconv.learner import LearnerSettings
    from rl_coordconv.preset import Preset

__all__ = ["sb3_hyperparameters", "build_model", "load_model", "legacy_policy_kwargs"]


def sb3_hyperparameters(preset: Preset) -> dict[str, Any]:
    """The preset's hyperparameters as SB3's constructor takes them: its algorithm's schedules parsed.

    :param preset: a checked preset
    :return: keyword arguments for the algorithm's class (``learning_rate`` a float or a ``LinearSchedule``)
    """
    hyper = dict(preset.hyperparams)
    for name in get_algorithm(preset.algo).schedules:
        if hyper.get(name) is not None:
            hyper[name] = parse_schedule(hyper[name])
    return hyper


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
    """Build an SB3 ``CnnPolicy`` model of the preset's algorithm from a preset and an extractor.

    The policy kwargs are ``policy_kwargs_for(extractor)`` (the extractor and NatureCNN's empty heads)
    plus the preset's optimizer and policy entries, so agents with different extractors differ only there.

    :param preset: a checked preset (:func:`rl_coordconv.preset.load_preset`)
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

    cls = get_algorithm(preset.algo).load_class()
    model = cls(
        "CnnPolicy",
        env,
        policy_kwargs=_resolved_policy_kwargs(preset, extractor, extractor_kwargs or {}),
        seed=seed,
        device=device,
        tensorboard_log=tensorboard_log,
        verbose=verbose,
        **sb3_hyperparameters(preset),
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
    """Load a saved model (``model.zip`` or a checkpoint), keeping its saved last observation.

    :param algo: a registered algorithm (``"a2c"``, ``"ppo"``)
    :param path: the ``.zip`` file
    :param env: the VecEnv to attach (None to only predict)
    :param device: ``auto``, ``cpu`` or ``cuda``
    :param learner: the run's learner settings, applied again so a resumed run computes as the
        uninterrupted one did (None: plain NCHW eager, as runs made before these settings)
    :return: the model
    """
    from rl_coordconv import learner as _learner

    cls = get_algorithm(algo).load_class()
    custom = legacy_policy_kwargs(path)
    model = cls.load(str(path), env=env, device=device, force_reset=False, custom_objects=custom)
    return _learner.apply(model, learner if learner is not None else _learner.LearnerSettings.from_dict(None))


def legacy_policy_kwargs(path: str | Path) -> dict[str, Any] | None:
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
