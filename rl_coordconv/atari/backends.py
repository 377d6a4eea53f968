"""Environment backends: who builds the vectorised Atari environment.

A backend turns (game, n_envs, seed, protocol) into an SB3 ``VecEnv`` of channel-first ``uint8``
observations, and may know how to snapshot and restore that VecEnv's state for exact resume. Two, both
with exact resume (their games rebuilt by replay, :mod:`rl_coordconv.atari.replay`): ``ale_vector``
(ale-py's C++ ``AtariVectorEnv`` under an SB3 adapter, :mod:`rl_coordconv.atari.ale_vector_backend`: the
default, faster; it renders no GIFs, so GIFs of its runs are played on ``sb3``; given the same actions
its learner sees step for step what ``sb3`` shows, and PPO learned Breakout alike on both in our backend
check, ``results/README.md``) and ``sb3`` (SB3's Atari wrappers on ale-py,
:mod:`rl_coordconv.atari.sb3_backend`, the pipeline behind SB3's and rl-baselines3-zoo's published
scores, game after game in Python). A new backend registers itself here with :func:`register_backend`
(yours from a plug-in module: :mod:`rl_coordconv.plugins`).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rl_coordconv.registry import Registry

if TYPE_CHECKING:
    from stable_baselines3.common.vec_env import VecEnv

    from rl_coordconv.atari.protocols import Protocol

__all__ = ["EnvBackend", "ENV_BACKENDS", "BUILTIN_BACKENDS", "DEFAULT_BACKEND", "register_backend", "get_backend"]

#: The backend of new runs, specs, evaluations and ``make_vec_env`` when none is named.
DEFAULT_BACKEND = "ale_vector"


@dataclass(frozen=True)
class EnvBackend:
    """A way to build vectorised Atari environments.

    :param name: the name users pass as ``backend``
    :param module: the module implementing it, imported on first use (keeps ``--help`` fast); it defines
        ``make(game, n_envs, seed, protocol, threads=None) -> VecEnv`` and, when it supports exact resume,
        ``get_state(venv)`` and ``set_state(venv, state)``
    :param description: one line for listings
    :param renders: whether its VecEnv's ``get_images`` returns RGB screens (for GIFs)
    """

    name: str
    module: str
    description: str = ""
    renders: bool = True

    def _impl(self) -> Any:
        return importlib.import_module(self.module)

    def make(self, game: str, n_envs: int, seed: int, protocol: Protocol, threads: int | None = None) -> VecEnv:
        """Build the VecEnv (see :func:`rl_coordconv.atari.make_vec_env`).

        :param game: canonical game name
        :param n_envs: number of environments
        :param seed: seed of environment 0 (environment i gets ``seed + i``)
        :param protocol: the protocol's settings
        :param threads: threads the backend may use to step its games (None: its default; backends
            that step games on the calling thread ignore it)
        :return: the VecEnv
        """
        return self._impl().make(game, n_envs, seed, protocol, threads=threads)

    @property
    def resume(self) -> str:
        """How a run on this backend resumes: ``exact`` (the games in progress are restored) or
        ``repeatable`` (they restart with seeds derived from the checkpoint, the same on every resume)."""
        return "exact" if self.can_snapshot else "repeatable"

    @property
    def can_snapshot(self) -> bool:
        """Whether this backend can save and restore its environments' state (exact resume)."""
        impl = self._impl()
        return hasattr(impl, "get_state") and hasattr(impl, "set_state")

    def get_state(self, venv: VecEnv) -> Any:
        """Snapshot ``venv`` (only when :attr:`can_snapshot`).

        :param venv: a VecEnv this backend built
        :return: a picklable snapshot
        """
        return self._impl().get_state(venv)

    def set_state(self, venv: VecEnv, state: Any) -> None:
        """Restore a snapshot into a VecEnv built the same way (only when :attr:`can_snapshot`).

        :param venv: a fresh VecEnv this backend built with the same arguments
        :param state: a snapshot from :meth:`get_state`
        """
        self._impl().set_state(venv, state)


#: name -> EnvBackend (a :class:`~rl_coordconv.registry.Registry`). Extend with :func:`register_backend`.
ENV_BACKENDS: Registry[EnvBackend] = Registry("environment backend")


def register_backend(backend: EnvBackend) -> EnvBackend:
    """Add (or replace) an environment backend.

    Call it at the top level of a module of yours (a plug-in, :mod:`rl_coordconv.plugins`) and import that
    module: a sweep's worker processes then register the same backend, and import its ``module`` by name.

    :param backend: the backend
    :return: the same backend
    """
    return ENV_BACKENDS.register(backend.name, backend)


def get_backend(name: str | EnvBackend) -> EnvBackend:
    """Look a backend up by name (an :class:`EnvBackend` passes through).

    :param name: the backend's name, e.g. ``"sb3"``
    :return: the backend
    :raises UserError: for an unknown name
    """
    if isinstance(name, EnvBackend):
        return name
    return ENV_BACKENDS.lookup(name)


register_backend(
    EnvBackend(
        "ale_vector",
        "rl_coordconv.atari.ale_vector_backend",
        "ale-py's C++ AtariVectorEnv (games stepped in C++ threads), SB3 VecEnv adapter (default; exact resume)",
        renders=False,
    )
)
register_backend(
    EnvBackend(
        "sb3",
        "rl_coordconv.atari.sb3_backend",
        "Stable-Baselines3 AtariWrapper on ale-py, DummyVecEnv (exact resume; renders GIFs)",
    )
)

#: The backends this module registers, as registered (a sweep ships any other to its workers).
BUILTIN_BACKENDS: Mapping[str, EnvBackend] = ENV_BACKENDS.builtin()
