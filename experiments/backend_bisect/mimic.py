"""SB3's Atari wrappers with ale-py C++ ``AtariVectorEnv``'s episode starts: the backend bisect's variants.

Before commit b2f1e17 the ``ale_vector`` backend started episodes as ALE's C++ env does, and PPO learned
Breakout more slowly on it than on ``sb3``. These wrappers give SB3's own Python pipeline (the ``sb3``
backend) those episode starts, one part at a time, to find which part slows learning
(``README.md`` in this folder has the results):

- ``start``: a game starts as in ALE's C++ env (ale-py 0.12.1, ``PreprocessedEnv::reset``): FIRE for one
  frame right after ``reset_game``, then 0 to ``noop_max - 2`` single-frame no-ops; SB3 plays 1 to
  ``noop_max`` no-op frames first, then FIRE and action 2 (four frames each).
- ``life``: after a lost life no hidden steps; the agent's next action is replaced by FIRE (the
  ``ale_vector`` adapter of commit ffd2c31); SB3 plays NOOP, FIRE and action 2 unseen.
- ``both``: the two together, i.e. ``ale_vector``'s semantics of that time on SB3's pipeline.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from stable_baselines3.common.atari_wrappers import (
    ClipRewardEnv,
    EpisodicLifeEnv,
    FireResetEnv,
    MaxAndSkipEnv,
    NoopResetEnv,
    WarpFrame,
)
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecEnv, VecFrameStack, VecTransposeImage

from rl_coordconv.atari.backends import EnvBackend
from rl_coordconv.atari.protocols import Protocol

VARIANTS = ("start", "life", "both")


class CxxStart(gym.Wrapper):
    """ALE C++ game start: FIRE for one frame, then ``U{0..noop_max-1} - 1`` single-frame no-ops."""

    def __init__(self, env: gym.Env, noop_max: int) -> None:
        super().__init__(env)
        self.noop_max = noop_max
        self.fire = env.unwrapped.get_action_meanings().index("FIRE")

    def reset(self, **kwargs: Any) -> Any:
        self.env.reset(**kwargs)
        obs, _, _, _, info = self.env.step(self.fire)
        for _ in range(max(0, int(self.unwrapped.np_random.integers(0, self.noop_max)) - 1)):
            obs, _, terminated, truncated, info = self.env.step(0)
            if terminated or truncated:
                obs, info = self.env.reset(**kwargs)
        return obs, info


class ExposedFireLife(gym.Wrapper):
    """A lost life ends the learner's episode with no hidden steps; the next action is replaced by FIRE."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.fire = env.unwrapped.get_action_meanings().index("FIRE")
        self.lives, self.was_real_done, self.fire_next, self.last = 0, True, False, None

    def step(self, action: int) -> Any:
        if self.fire_next:
            action, self.fire_next = self.fire, False
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.was_real_done = terminated or truncated
        lives = self.env.unwrapped.ale.lives()
        terminated = terminated or 0 < lives < self.lives
        self.lives, self.last = lives, obs
        return obs, reward, terminated, truncated, info

    def reset(self, **kwargs: Any) -> Any:
        if self.was_real_done:
            obs, info = self.env.reset(**kwargs)
        else:
            obs, info, self.fire_next = self.last, {}, True
        self.lives = self.env.unwrapped.ale.lives()
        return obs, info


class MimicAtariWrapper(gym.Wrapper):
    """SB3's ``AtariWrapper`` (standard protocol, a game with FIRE) with the ``variant``'s episode starts."""

    def __init__(self, env: gym.Env, variant: str, noop_max: int = 30, frame_skip: int = 4) -> None:
        env = CxxStart(env, noop_max) if variant in ("start", "both") else NoopResetEnv(env, noop_max=noop_max)
        env = MaxAndSkipEnv(env, skip=frame_skip)
        env = ExposedFireLife(env) if variant in ("life", "both") else FireResetEnv(EpisodicLifeEnv(env))
        super().__init__(ClipRewardEnv(WarpFrame(env, width=84, height=84)))


class MimicBackend(EnvBackend):
    """The ``sb3`` backend's pipeline with one variant's episode starts (standard protocol only)."""

    def make(self, game: str, n_envs: int, seed: int, protocol: Protocol, threads: int | None = None) -> VecEnv:
        variant = self.name.removeprefix("sb3_mimic_")
        if not protocol.terminal_on_life_loss or protocol.frame_skip != 4 or protocol.screen_size != 84:
            raise ValueError("the mimic variants follow the standard protocol only")
        venv = make_vec_env(
            f"ALE/{game}-v5",
            n_envs=n_envs,
            seed=seed,
            wrapper_class=MimicAtariWrapper,
            wrapper_kwargs={"variant": variant, "noop_max": protocol.noop_max},
            env_kwargs={
                "frameskip": 1,
                "repeat_action_probability": protocol.sticky_action_prob,
                "max_num_frames_per_episode": protocol.max_frames,
            },
        )
        return VecTransposeImage(VecFrameStack(venv, n_stack=protocol.frame_stack))

    @property
    def can_snapshot(self) -> bool:
        return False
