"""Atari environments: game names, evaluation protocols, and the vectorised-env factory.

- :func:`canonical_game`, :func:`list_games` (:mod:`rl_coordconv.atari.games`);
- :class:`Protocol`, :data:`PROTOCOLS`, :func:`get_protocol` (:mod:`rl_coordconv.atari.protocols`):
  ``standard`` (zoo/SB3 numbers) and ``machado`` (Machado et al. 2018);
- :func:`make_vec_env` and the backend registry (:mod:`rl_coordconv.atari.backends`).

Reported scores are always whole-game, unclipped Atari scores: every backend's VecEnv puts an SB3
``Monitor``-style ``info["episode"] = {"r": score, "l": length}`` on the step where a whole game ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rl_coordconv.atari.backends import DEFAULT_BACKEND, ENV_BACKENDS, EnvBackend, get_backend, register_backend
from rl_coordconv.atari.games import ATARI_100K_GAMES, canonical_game, list_games
from rl_coordconv.atari.protocols import DEFAULT_PROTOCOL, PROTOCOLS, Protocol, get_protocol
from rl_coordconv.checks import optional_whole, whole

if TYPE_CHECKING:
    from stable_baselines3.common.vec_env import VecEnv

__all__ = [
    "ATARI_100K_GAMES",
    "DEFAULT_BACKEND",
    "DEFAULT_PROTOCOL",
    "ENV_BACKENDS",
    "EnvBackend",
    "PROTOCOLS",
    "Protocol",
    "canonical_game",
    "get_backend",
    "get_protocol",
    "list_games",
    "make_vec_env",
    "register_backend",
]


def make_vec_env(
    game: str,
    n_envs: int,
    seed: int,
    protocol: str | Protocol = DEFAULT_PROTOCOL,
    *,
    backend: str | EnvBackend = DEFAULT_BACKEND,
    threads: int | None = None,
) -> VecEnv:
    """Build ``n_envs`` parallel copies of an Atari game under an evaluation protocol.

    :param game: any spelling of the game (``Pong``, ``pong``, ``ALE/Pong-v5``, ``PongNoFrameskip-v4``)
    :param n_envs: number of parallel environments (at least 1)
    :param seed: seed of environment 0; environment ``i`` is seeded with ``seed + i`` at its first reset
    :param protocol: ``"standard"``, ``"machado"`` or a :class:`Protocol`
    :param backend: the environment backend (``"ale_vector"``, the default, or ``"sb3"``)
    :param threads: threads the backend may use to step its games (default: the backend's own, for
        ``ale_vector`` the cores this process may use)
    :return: an SB3 VecEnv with channel-first ``uint8`` observations ``(n_envs, 4, 84, 84)``, clipped
        (learning) rewards, and ``info["episode"]["r"]`` = the whole-game unclipped score when a game ends
    :raises UserError: for an unknown game, protocol or backend, or a bad ``n_envs`` / ``seed``
    """
    n_envs, seed = whole(n_envs, "n_envs", 1), whole(seed, "seed", 0)
    threads = optional_whole(threads, "threads", 1)
    return get_backend(backend).make(canonical_game(game), n_envs, seed, get_protocol(protocol), threads=threads)
