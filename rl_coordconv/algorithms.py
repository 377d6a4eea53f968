"""The algorithm registry: everything the package knows about an algorithm, in one entry per algorithm.

An :class:`Algorithm` says which Stable-Baselines3 class it is (by import path, imported on first use, so
that importing the registry imports no torch and ``rl-coordconv --help`` stays fast), its built-in preset
(``agents/<preset>.yaml``, installed as :mod:`rl_coordconv.presets`), the hyperparameters a preset may set
with their kinds (:mod:`rl_coordconv.preset_kinds`), which of them are schedules, the keys that have no
effect in some configurations, what a rollout needs, and the figures the sweep's estimate and the
benchmark use. Every other module asks the registry: a preset is checked against the entry's
hyperparameters (:mod:`rl_coordconv.preset`), a model is built and loaded through its class
(:mod:`rl_coordconv.model`), TensorBoard logs under its :attr:`Algorithm.tb_log_name`, the sweep estimates
with its :attr:`Algorithm.steps_per_second` and ``rl-coordconv bench`` measures every entry.

Two are built in: SB3's ``A2C`` and ``PPO`` (both on-policy actor-critic: a checkpoint's ``model.zip``
holds all their learned state, and the inspections read their policy's actor and critic heads). A new
algorithm is one :func:`register_algorithm` call below and its preset file in ``agents/``;
``tests/test_algorithms.py`` checks that nothing else lists the algorithms.

The registry follows the package's one registry style: a frozen record per entry in a
:class:`~rl_coordconv.registry.Registry` (keyed by the folded name), ``register_*`` to add a record and
``get_*`` to look one up with close-match suggestions.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rl_coordconv.preset_kinds import BOOL, NONNEG, OPT_NONNEG, OPT_SCHEDULE, POSINT, SCHEDULE, UNIT
from rl_coordconv.registry import Registry
from rl_coordconv.schema import Kind

if TYPE_CHECKING:
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

__all__ = [
    "Algorithm",
    "NoEffect",
    "ALGORITHMS",
    "BUILTIN_ALGORITHMS",
    "ALGOS",
    "register_algorithm",
    "get_algorithm",
    "algorithm_names",
]


@dataclass(frozen=True)
class NoEffect:
    """A hyperparameter that SB3 ignores when a ``policy_kwargs`` key is set: a preset holding both is refused.

    :param key: the hyperparameter
    :param overridden_by: the ``policy_kwargs`` key that makes it ignored
    :param why: the reason, for the message
    """

    key: str
    overridden_by: str
    why: str


@dataclass(frozen=True)
class Algorithm:
    """One algorithm: what every part of the package needs to know about it.

    :param name: the name users pass as ``algo`` (lower case)
    :param label: how it is written for people (``"PPO"``); also SB3's ``tb_log_name``
    :param sb3_class: the import path of its SB3 class (``"stable_baselines3.PPO"``), imported on first use
    :param hyperparameters: the constructor arguments a preset may set, in the order messages list them,
        with their kinds
    :param schedules: the hyperparameters that are schedules (numbers or ``lin_<start>``) SB3 takes as
        functions of the training's progress
    :param preset: its built-in preset's name (``agents/<preset>.yaml``; default: ``name``)
    :param no_effect: hyperparameters SB3 ignores when a ``policy_kwargs`` key is set
    :param default_n_steps: SB3's ``n_steps`` when a preset leaves it out
    :param min_rollout: the fewest agent steps (``n_steps * n_envs``) one rollout may hold
    :param steps_per_second: agent steps/s of ONE ``rl-coordconv train`` run with its preset on Breakout
        on a 2-core x86 CPU, by torch threads of that run (1: each of two runs side by side, the sweep's
        way; 2: one run alone), as ``rl-coordconv bench`` measures it: the sweep's estimate, a planning
        figure and not a promise
    :param bench_rollouts: whole rollouts per contender per round of the benchmark's ``train`` section, as
        a multiple of its ``train_rollouts`` (short rollouts need more to measure)
    :param bench_target: the project's speed target for its ``train`` section: at least this ratio to a
        plain SB3 script
    """

    name: str
    label: str
    sb3_class: str
    hyperparameters: Mapping[str, Kind]
    schedules: tuple[str, ...]
    preset: str = ""
    no_effect: tuple[NoEffect, ...] = ()
    default_n_steps: int = 5
    min_rollout: int = 1
    steps_per_second: Mapping[int, float] = field(default_factory=dict)
    bench_rollouts: int = 1
    bench_target: float = 1.5

    def __post_init__(self) -> None:
        if not self.preset:
            object.__setattr__(self, "preset", self.name)

    @property
    def tb_log_name(self) -> str:
        """The name SB3 logs TensorBoard runs under (``tb/PPO_1``)."""
        return self.label

    def load_class(self) -> type[OnPolicyAlgorithm]:
        """Import and return its SB3 class.

        :return: e.g. ``stable_baselines3.PPO``
        """
        module, _, name = self.sb3_class.rpartition(".")
        cls: type[OnPolicyAlgorithm] = getattr(importlib.import_module(module), name)
        return cls


#: name -> Algorithm (a :class:`~rl_coordconv.registry.Registry`). Extend with :func:`register_algorithm`.
ALGORITHMS: Registry[Algorithm] = Registry("algorithm")


def register_algorithm(algorithm: Algorithm) -> Algorithm:
    """Add (or replace) an algorithm.

    :param algorithm: the entry
    :return: the same entry
    """
    return ALGORITHMS.register(algorithm.name, algorithm)


def get_algorithm(name: str) -> Algorithm:
    """Look an algorithm up by name, in any spelling (``A2C``, ``ppo``).

    :param name: the name as given
    :return: its entry
    :raises UserError: for an unknown name (``unknown algorithm 'dqn'; choose from 'a2c', 'ppo'.``)
    """
    return ALGORITHMS.lookup(name)


def algorithm_names() -> tuple[str, ...]:
    """The registered algorithms' names, in registration order.

    :return: e.g. ``("a2c", "ppo")``
    """
    return ALGORITHMS.names()


register_algorithm(
    Algorithm(
        "a2c",
        "A2C",
        "stable_baselines3.A2C",
        {
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
        schedules=("learning_rate",),
        no_effect=(  # SB3's A2C.__init__ reads these only when policy_kwargs has no optimizer_class
            NoEffect(
                "use_rms_prop", "optimizer", "SB3's A2C uses policy_kwargs' optimizer_class instead of its own RMSprop"
            ),
            NoEffect(
                "rms_prop_eps",
                "optimizer",
                "SB3's A2C passes rms_prop_eps only to its own RMSprop; set policy_kwargs.optimizer_kwargs.eps instead",
            ),
        ),  # fmt: skip
        default_n_steps=5,
        steps_per_second={1: 540.0, 2: 597.0},
        bench_rollouts=10,
    )
)
register_algorithm(
    Algorithm(
        "ppo",
        "PPO",
        "stable_baselines3.PPO",
        {
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
        schedules=("learning_rate", "clip_range", "clip_range_vf"),
        default_n_steps=2048,
        min_rollout=2,  # its advantage normalisation needs two samples
        steps_per_second={1: 220.0, 2: 327.0},
    )
)

#: The algorithms this module registers, as registered.
BUILTIN_ALGORITHMS: Mapping[str, Algorithm] = ALGORITHMS.builtin()

#: The built-in algorithms' names (``sweep/spec.py`` checks a spec's algorithms against them).
ALGOS: tuple[str, ...] = tuple(BUILTIN_ALGORITHMS)
