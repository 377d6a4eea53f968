"""The ``sb3`` environment backend: ale-py games under Stable-Baselines3's own Atari wrappers.

Per environment (innermost first): ale-py's ``AtariEnv`` with ``frameskip=1`` (the wrappers skip
frames), ALE's own sticky actions (``repeat_action_probability``, applied on every emulator frame as in
Machado et al. 2018) and ALE's frame cap (``max_num_frames_per_episode``, a *truncation*), then SB3's
``Monitor`` (it sees raw rewards and whole games, so ``info["episode"]`` holds the unclipped whole-game
score), then SB3's ``AtariWrapper`` (no-op starts, frame skip with max-pool, life loss as terminal,
FIRE on reset, 84x84 gray, reward clipping). The vectorised env is a ``DummyVecEnv`` with
``VecFrameStack`` and ``VecTransposeImage``, so observations are channel-first ``uint8 (N, 4, 84, 84)``,
the layout the faster ``AtariVectorEnv`` backend produces too.

:func:`get_state` / :func:`set_state` snapshot and restore the whole stack (emulator state including
ALE's RNG, every wrapper's counters and buffers, the frame stack, the env RNGs), which is what makes a
resumed run continue exactly as an uninterrupted one would.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from stable_baselines3.common.env_util import make_atari_env
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecEnvWrapper, VecFrameStack, VecTransposeImage

from rl_coordconv.atari.protocols import Protocol

__all__ = ["make", "get_state", "set_state"]

# Attributes never snapshotted: links to the next layer, the emulator itself (saved via cloneState), and
# VecEnvWrapper's table of its class attributes (static, and not picklable).
_LINKS = frozenset({"env", "venv", "envs", "ale", "class_attributes"})


def make(game: str, n_envs: int, seed: int, protocol: Protocol, threads: int | None = None) -> VecEnv:
    """Build ``n_envs`` copies of ``game`` under ``protocol``.

    Environment ``i`` is seeded with ``seed + i`` at its first reset (SB3's convention).

    :param game: canonical game name (``Pong``)
    :param n_envs: number of environments
    :param seed: seed of environment 0
    :param protocol: the protocol's settings
    :param threads: ignored: the games step one after another on the calling thread
    :return: a VecEnv of channel-first uint8 observations ``(n_envs, frame_stack, size, size)``
    """
    import ale_py

    ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)  # no banner on stderr for every process
    gym.register_envs(ale_py)
    venv = make_atari_env(
        f"ALE/{game}-v5",
        n_envs=n_envs,
        seed=seed,
        env_kwargs={
            "frameskip": 1,
            "repeat_action_probability": protocol.sticky_action_prob,
            "full_action_space": protocol.full_action_space,
            "max_num_frames_per_episode": protocol.max_frames,
        },
        wrapper_kwargs={
            "noop_max": protocol.noop_max,
            "frame_skip": protocol.frame_skip,
            "screen_size": protocol.screen_size,
            "terminal_on_life_loss": protocol.terminal_on_life_loss,
            "clip_reward": protocol.clip_reward,
        },
    )
    return VecTransposeImage(VecFrameStack(venv, n_stack=protocol.frame_stack))


def _layer_state(layer: object) -> dict[str, Any]:
    return {k: v for k, v in vars(layer).items() if k not in _LINKS}


def _env_state(env: gym.Env) -> list[dict[str, Any]]:
    layers: list[dict[str, Any]] = []
    layer: Any = env
    while True:
        state = _layer_state(layer)
        if hasattr(layer, "ale"):
            state["__ale_state__"] = layer.ale.cloneState(include_rng=True)
        layers.append(state)
        if not isinstance(layer, gym.Wrapper):
            return layers
        layer = layer.env


def _set_env_state(env: gym.Env, layers: list[dict[str, Any]]) -> None:
    layer: Any = env
    for state in layers:
        state = dict(state)
        ale_state = state.pop("__ale_state__", None)
        vars(layer).update(state)
        if ale_state is not None:
            layer.ale.restoreState(ale_state)
        layer = getattr(layer, "env", None)
    if layer is not None:
        raise ValueError("environment snapshot does not match this environment's wrappers")


def _vec_layers(venv: VecEnv) -> tuple[list[VecEnv], DummyVecEnv]:
    layers: list[VecEnv] = []
    while isinstance(venv, VecEnvWrapper):
        layers.append(venv)
        venv = venv.venv
    if not isinstance(venv, DummyVecEnv):
        raise TypeError(f"expected a DummyVecEnv at the bottom of the stack, got {type(venv).__name__}")
    return layers, venv


def get_state(venv: VecEnv) -> dict[str, Any]:
    """Snapshot everything that decides what ``venv`` does next (picklable).

    :param venv: a VecEnv built by :func:`make`
    :return: the snapshot
    """
    layers, base = _vec_layers(venv)
    return {
        "wrappers": [(type(w).__name__, _layer_state(w)) for w in layers],
        "base": _layer_state(base),
        "envs": [_env_state(env) for env in base.envs],
    }


def set_state(venv: VecEnv, state: dict[str, Any]) -> None:
    """Restore a snapshot taken by :func:`get_state` into a VecEnv built the same way.

    :param venv: a fresh VecEnv from :func:`make` with the same game, protocol and ``n_envs``
    :param state: the snapshot
    :raises ValueError: when the snapshot was taken on a differently built VecEnv
    """
    layers, base = _vec_layers(venv)
    names = [type(w).__name__ for w in layers]
    if names != [name for name, _ in state["wrappers"]] or len(base.envs) != len(state["envs"]):
        raise ValueError("environment snapshot does not match this VecEnv (other wrappers or n_envs)")
    for wrapper, (_, wrapper_state) in zip(layers, state["wrappers"]):
        vars(wrapper).update(wrapper_state)
    vars(base).update(state["base"])
    for env, env_state in zip(base.envs, state["envs"]):
        _set_env_state(env, env_state)
