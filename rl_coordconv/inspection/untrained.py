"""The untrained reference: a run's network as its training built it, before the first update.

An inspection's numbers (how large a CoordConv filter's coordinate term is beside its image term, how far
the policy moves under a shift) say little on their own: a freshly drawn network has coordinate weights
too (unless they start at zero) and moves under shifts too. :func:`untrained_model` rebuilds the run's
model at agent step 0 through the path training takes (:func:`rl_coordconv.model.build_model` with the
run's recorded preset, extractor and kwargs, on the run's own game, protocol, backend and number of
environments, seeded with the run's training seed), so measuring it on the same frames shows what
training changed.

How the CoordConv weights started matters most: ``coord_init="zeros"`` (today's default,
:mod:`rl_coordconv.layers`) starts every coordinate weight at 0, so the untrained coordinate term is
exactly 0; ``coord_init="joint"`` (results/atari100k's runs) draws image and coordinate weights together.
The reference uses the rule the run recorded in ``config.yaml`` (``policy.features_extractor_kwargs``,
written through :func:`rl_coordconv.extractors.recorded_kwargs`); a record without it predates the rule
and was drawn ``joint``, as :func:`rl_coordconv.model.load_model` rebuilds such models.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from rl_coordconv import runfolder
from rl_coordconv.inspection.coord_terms import CoordTerm, coordinate_terms
from rl_coordconv.inspection.probe import SHIFTS, ProbeRow, translation_probe
from rl_coordconv.inspection.source import RunSource, protocol_of

if TYPE_CHECKING:
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

    from rl_coordconv.preset import Preset

__all__ = [
    "LEGACY_COORD_INIT",
    "Untrained",
    "recorded_coord_init",
    "recorded_preset",
    "untrained_model",
    "measure_untrained",
]

#: The rule of CoordConv runs recorded before ``coord_init`` existed (:func:`rl_coordconv.model.legacy_policy_kwargs`).
LEGACY_COORD_INIT = "joint"


@dataclass(frozen=True)
class Untrained:
    """The untrained reference of an inspection, measured on the inspection's own frames.

    :param coord_init: the CoordConv initialisation rule it was built with (None for an extractor without one)
    :param seed: the training seed it was built with (the run's ``seeds.training``)
    :param terms: one entry per CoordConv layer (empty for ``nature``)
    :param probe: its translation probe
    """

    coord_init: str | None
    seed: int
    terms: list[CoordTerm]
    probe: list[ProbeRow]

    def median_ratio(self) -> float | None:
        """Median over every CoordConv filter of coord_rms / image_rms (None without CoordConv layers)."""
        if not self.terms:
            return None
        return float(np.median(np.concatenate([t.ratio for t in self.terms])))


def recorded_coord_init(config: runfolder.RunConfig) -> str | None:
    """The CoordConv initialisation rule a run was built with, as its ``config.yaml`` records it.

    :param config: the run's record
    :return: ``policy.features_extractor_kwargs.coord_init`` (or ``extractor_kwargs.coord_init``); for an
        extractor that takes ``coord_init`` and a record without it, :data:`LEGACY_COORD_INIT`; None for an
        extractor without the argument (``nature``)
    """
    from rl_coordconv.extractors import get_extractor

    policy_kwargs = (config.policy or {}).get("features_extractor_kwargs") or {}
    for kwargs in (policy_kwargs, config.extractor_kwargs):
        if kwargs.get("coord_init") is not None:
            return str(kwargs["coord_init"])
    if "coord_init" in inspect.signature(get_extractor(config.extractor).cls).parameters:
        return LEGACY_COORD_INIT
    return None


def recorded_preset(config: runfolder.RunConfig) -> Preset:
    """The resolved agent preset a run recorded (``config.yaml``'s ``agent``), as training used it.

    :param config: the run's record
    :return: the preset
    """
    from rl_coordconv.preset import Preset

    agent = dict(config.agent)
    fixed = {"algo", "policy", "n_envs", "policy_kwargs", "source"}
    return Preset(
        algo=str(agent.get("algo", config.algo)),
        n_envs=int(agent.get("n_envs", config.n_envs)),
        hyperparams={k: v for k, v in agent.items() if k not in fixed},
        policy_kwargs=dict(agent.get("policy_kwargs") or {}),
        source=str(agent.get("source", runfolder.CONFIG)),
    )


def untrained_model(run: RunSource, device: str = "cpu") -> OnPolicyAlgorithm:
    """The run's model as its training built it at agent step 0 (``training._new_session``'s path).

    :func:`rl_coordconv.model.build_model` with the recorded preset (:func:`recorded_preset`), extractor,
    extractor kwargs and CoordConv rule (:func:`recorded_coord_init`), on the run's game with its recorded
    number of environments, protocol and backend, seeded with ``seeds.training``. The learner settings
    are those the trained model is inspected with (plain eager NCHW): they change how the policy computes,
    never its weights. SB3 seeds Python's, NumPy's and torch's global generators while building; their
    states are restored afterwards, so the inspection's other numbers do not depend on whether it ran.

    :param run: the run
    :param device: torch device
    :return: the model, its policy in evaluation mode
    """
    import torch

    from rl_coordconv.atari import make_vec_env
    from rl_coordconv.learner import LearnerSettings
    from rl_coordconv.model import build_model

    config = runfolder.RunConfig.read(run.path)
    kwargs: dict[str, Any] = dict(config.extractor_kwargs)
    coord_init = recorded_coord_init(config)
    if coord_init is not None:
        kwargs["coord_init"] = coord_init
    seed = int(config.seeds["training"])
    python_state, numpy_state = random.getstate(), np.random.get_state()
    env = make_vec_env(config.game, config.n_envs, seed, protocol_of(run), backend=config.backend)
    try:
        with torch.random.fork_rng(devices=[]):
            model = build_model(
                recorded_preset(config),
                env,
                extractor=config.extractor,
                extractor_kwargs=kwargs,
                seed=seed,
                device=device,
                learner=LearnerSettings.from_dict(None),
            )
    finally:
        env.close()
        random.setstate(python_state)
        np.random.set_state(numpy_state)
    model.policy.set_training_mode(False)
    return model


def measure_untrained(
    run: RunSource, observations: np.ndarray, shifts: Sequence[int] = SHIFTS, device: str = "cpu"
) -> Untrained:
    """Build the run's untrained model (:func:`untrained_model`) and measure it as the inspection measures
    the trained one: coordinate terms (:func:`~rl_coordconv.inspection.coord_terms.coordinate_terms`) and
    translation probe (:func:`~rl_coordconv.inspection.probe.translation_probe`) on ``observations``.

    :param run: the run
    :param observations: the inspection's frames, uint8 ``(N, C, H, W)`` (played by the TRAINED policy)
    :param shifts: the probe's shifts k in pixels
    :param device: torch device
    :return: the reference
    """
    config = runfolder.RunConfig.read(run.path)
    policy = untrained_model(run, device).policy
    return Untrained(
        coord_init=recorded_coord_init(config),
        seed=int(config.seeds["training"]),
        terms=coordinate_terms(policy, observations),
        probe=translation_probe(policy, observations, shifts),
    )
