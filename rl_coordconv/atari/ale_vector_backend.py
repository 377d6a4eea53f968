"""The ``ale_vector`` environment backend: ale-py's C++ ``AtariVectorEnv`` under SB3's ``VecEnv`` API.

``ale_py.AtariVectorEnv`` (ale-py >= 0.11) steps many games in C++ threads and does the DQN-style
preprocessing itself (no-op starts, FIRE on reset, frame skip with a max-pool over the last two frames,
84x84 grayscale, frame stack), returning ``uint8 (N, 4, 84, 84)`` channel-first observations, the
layout SB3's ``CnnPolicy`` takes as is. Stable-Baselines3 has no adapter for it; this module is one,
built like CleanRL's envpool variant of PPO (``ppo_atari_envpool.py``) builds its own, and made to show the
learner what SB3's ``AtariWrapper`` shows it:

- **Whole-game scores.** ALE's reward clipping is off (``reward_clipping=False``); the adapter clips the
  learner's rewards to {-1, 0, 1} itself and sums the raw rewards per game, so ``info["episode"]`` (SB3
  ``Monitor``'s format: ``r`` the unclipped whole-game score, ``l`` its length in frames, ``t`` the
  seconds since the VecEnv was built) carries the whole-game, unclipped score.
- **Life loss.** With ``terminal_on_life_loss`` the C++ env signals a lost life as a termination
  (``life_loss_info=True``) while the game itself goes on (NOT ``episodic_life=True``, which restarts the
  whole game at every lost life). The game is restarted only at game over or at the frame cap.
- **SB3's VecEnv contract.** ALE's ``SAME_STEP`` autoreset: on the agent step where a game ends, the
  observation is the next game's first one and ``info["terminal_observation"]`` holds the last one;
  ``info["TimeLimit.truncated"]`` marks games cut at the frame cap (a truncation, so PPO/A2C bootstrap
  from the value of the terminal observation). A game restart is told from a life loss by ALE's
  per-game frame counter, which only a new game sets back.
- **Threads.** ``num_threads`` defaults to the cores this process may use (:func:`default_env_threads`):
  a sweep worker's share when the sweep set ``OMP_NUM_THREADS``, else the CPU affinity mask.

- **What the learner sees at an episode start, as on SB3's stack.** SB3's ``VecFrameStack`` starts every
  episode (a new game, and under ``terminal_on_life_loss`` every lost life) on a zeroed stack holding the
  first frame only; ALE's C++ stack does so at a new game (ale-py 0.12.1) but runs on across a lost life.
  The adapter zeroes the frames older than the episode's start, for the first ``frame_stack - 1`` steps.
- **SB3's reset steps, played by the adapter.** SB3's ``AtariWrapper`` resets an episode with steps the
  agent never sees: at a game's start, after the no-ops, ``FireResetEnv`` plays FIRE and action 2 (in
  games whose action set has FIRE); after a lost life ``EpisodicLifeEnv`` plays a NOOP, then
  ``FireResetEnv`` FIRE and action 2. ALE's C++ env instead presses FIRE for one frame *before* its
  no-ops and nothing after a lost life, so its ball (Breakout) is served at a fixed moment and the agent
  starts 0-7 agent steps into the ball's flight. The adapter turns ALE's FIRE off and plays SB3's
  actions (:func:`reset_actions`) in place of the agent's on the first steps of every game and after
  every lost life. Those steps stay visible to the learner, as ordinary transitions in which the
  agent's action has no effect (as in the frames of a death animation), so PPO's and A2C's data stay
  on-policy; their rewards are zeroed for the learner (SB3's learner never sees them; the whole-game
  score keeps them), and the frame stack restarts after them, so the agent's first real decision sees
  what it sees on SB3: a zeroed stack holding the frame after action 2.
  Why: a Python replica of ALE's own episode starts on SB3's wrappers slowed PPO's learning of Breakout
  as much as ``ale_vector`` was slower; with SB3's reset steps played here, ``ale_vector`` still learned
  more slowly in a 2-seed check, so that gap has another cause as well
  (``experiments/backend_bisect/README.md``).

Differences from the ``sb3`` backend (SB3's ``AtariWrapper``) that remain, all in ALE's C++
preprocessing: no-op starts draw 0 to ``noop_max - 1`` frames (SB3: 1 to ``noop_max``); grayscale is
ALE's palette luminance, max-pooled after the conversion (SB3: OpenCV's conversion of the max-pooled
colour frames; the two gave identical observations on a whole Breakout game played in lockstep); the
frame cap counts frames from the end of the no-op start (SB3's ALE cap counts them too, at most
``noop_max`` frames more); the reset steps count as agent steps here.

Resume. ``AtariVectorEnv`` exposes no snapshot of its games, so a run on this backend resumes
*repeatably*, not exactly: the games in progress at the checkpoint are restarted with seeds derived from
the checkpoint (see :mod:`rl_coordconv.training`). Two resumes of the same checkpoint give the same run.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvObs, VecEnvStepReturn

from rl_coordconv.atari.protocols import Protocol

__all__ = ["make", "AleVectorEnv", "default_env_threads", "reset_actions", "rom_id", "RESUME"]

#: How a run on this backend resumes (recorded in ``config.yaml``).
RESUME = "repeatable"


def default_env_threads() -> int:
    """The cores this process may use, for the C++ environment threads.

    A sweep worker's share when the sweep bounded it (``OMP_NUM_THREADS``), else the CPUs in this
    process's affinity mask.

    :return: at least 1
    """
    from rl_coordconv.checks import available_cpus

    bound = os.environ.get("OMP_NUM_THREADS", "")
    if bound.isdigit() and int(bound) > 0:
        return int(bound)
    return available_cpus()


def reset_actions(meanings: Sequence[str], protocol: Protocol) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The actions SB3's ``AtariWrapper`` plays, unseen by the agent, when it resets an episode.

    At a game's start (after the no-ops) ``FireResetEnv`` plays action 1 (FIRE) and action 2, in games whose
    action set has FIRE; after a lost life (when a lost life ends the learner's episode)
    ``EpisodicLifeEnv`` plays a NOOP and ``FireResetEnv`` then plays 1 and 2 again (Stable-Baselines3,
    ``stable_baselines3/common/atari_wrappers.py``).

    :param meanings: the game's action names, in action-index order
    :param protocol: the protocol
    :return: ``(at a game's start, after a lost life)``, action indices
    """
    fire = ("FIRE" in meanings) and len(meanings) >= 3
    if "FIRE" in meanings and not fire:
        raise ValueError(f"a game with FIRE needs at least 3 actions, got {list(meanings)}")
    if fire and list(meanings).index("FIRE") != 1:
        raise ValueError(f"SB3's FireResetEnv needs FIRE as action 1, got {list(meanings)}")
    start = (1, 2) if fire else ()
    life = (0, *start) if protocol.terminal_on_life_loss else ()
    return start, life


def rom_id(game: str) -> str:
    """ale-py's ROM id of a canonical game name (``MsPacman`` -> ``ms_pacman``).

    :param game: canonical game name
    :return: the ROM id, as ale-py's ``ALE/<Game>-v5`` registration names it
    """
    import ale_py

    gym.register_envs(ale_py)
    return str(gym.spec(f"ALE/{game}-v5").kwargs["game"])


class AleVectorEnv(VecEnv):
    """SB3 ``VecEnv`` over ``ale_py.AtariVectorEnv`` (see the module docstring for its semantics).

    :param game: canonical game name
    :param n_envs: number of environments
    :param seed: seed of environment 0 (environment ``i`` gets ``seed + i`` at its first reset)
    :param protocol: the protocol's settings
    :param threads: C++ threads stepping the games (default :func:`default_env_threads`)
    """

    render_mode: str | None = None

    def __init__(self, game: str, n_envs: int, seed: int, protocol: Protocol, threads: int | None = None) -> None:
        import ale_py
        from ale_py.vector_env import AtariVectorEnv
        from gymnasium.vector import AutoresetMode

        ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)
        self.game = game
        self.protocol = protocol
        self.threads = int(threads) if threads is not None else min(n_envs, default_env_threads())
        self._venv = AtariVectorEnv(
            rom_id(game),
            n_envs,
            num_threads=self.threads,
            max_num_frames_per_episode=protocol.max_frames,
            repeat_action_probability=protocol.sticky_action_prob,
            full_action_space=protocol.full_action_space,
            autoreset_mode=AutoresetMode.SAME_STEP,
            img_height=protocol.screen_size,
            img_width=protocol.screen_size,
            grayscale=True,
            stack_num=protocol.frame_stack,
            frameskip=protocol.frame_skip,
            maxpool=True,
            noop_max=protocol.noop_max,
            episodic_life=False,
            life_loss_info=protocol.terminal_on_life_loss,
            reward_clipping=False,
            use_fire_reset=False,  # SB3's FIRE comes after the no-ops: the adapter plays it (see below)
        )
        super().__init__(n_envs, self._venv.single_observation_space, self._venv.single_action_space)
        self._actions: np.ndarray | None = None
        #: the actions played in place of the agent's at a game's start and after a lost life
        self.start_actions, self.life_actions = reset_actions(self.action_meanings(), protocol)
        self._forced: list[deque[int]] = [deque() for _ in range(n_envs)]
        self._replaced = np.zeros(n_envs, dtype=bool)
        self._since_start = np.full(n_envs, protocol.frame_stack, dtype=np.int64)
        self._returns = np.zeros(n_envs, dtype=np.float64)
        self._frames = np.zeros(n_envs, dtype=np.int64)
        self._last_frame = np.zeros(n_envs, dtype=np.int64)
        self._start = time.time()
        self._closed = False
        self.seed(seed)

    # -- the VecEnv API --------------------------------------------------------------------------------

    def reset(self) -> VecEnvObs:
        """Start a new game in every environment (seeded by :meth:`seed` when it was called since).

        :return: the first observations, ``uint8 (n_envs, stack, size, size)``
        """
        seeds = self._seeds
        if any(s is not None for s in seeds):
            fallback = np.random.SeedSequence().generate_state(self.num_envs)
            arr = np.array([s if s is not None else int(f) % 2**31 for s, f in zip(seeds, fallback)], dtype=np.int64)
            obs, info = self._venv.reset(seed=arr)
        else:
            obs, info = self._venv.reset()
        self._reset_seeds()
        self._reset_options()
        self._returns[:] = 0.0
        self._frames[:] = 0
        self._last_frame[:] = np.asarray(info["episode_frame_number"], dtype=np.int64)
        self._since_start[:] = 1
        for queue in self._forced:
            queue.clear()
            queue.extend(self.start_actions)
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return self._mask_stack(obs)

    def step_async(self, actions: np.ndarray) -> None:
        """Send one action per environment to the C++ threads.

        :param actions: ``(n_envs,)`` action indices
        """
        self._actions = np.asarray(actions, dtype=np.int64).reshape(self.num_envs)
        sent = self._actions
        self._replaced = np.array([len(queue) > 0 for queue in self._forced])
        if self._replaced.any():
            sent = sent.copy()
            for i in np.flatnonzero(self._replaced):
                sent[i] = self._forced[i].popleft()
        self._venv.send(sent)

    def step_wait(self) -> VecEnvStepReturn:
        """Wait for the step sent by :meth:`step_async`.

        :return: observations, learner rewards (clipped when the protocol says so), dones (a lost life
            counts when the protocol says so) and one info dict per environment
        """
        obs, raw, terminated, truncated, info = self._venv.recv()
        raw = np.asarray(raw, dtype=np.float64)
        terminated = np.asarray(terminated, dtype=bool)
        truncated = np.asarray(truncated, dtype=bool)
        frame = np.asarray(info["episode_frame_number"], dtype=np.int64)
        dones = terminated | truncated
        # A new game started in this agent step (SAME_STEP autoreset) exactly when ALE's per-game frame
        # counter went back; a lost life (a termination for the learner) keeps counting.
        restarted = dones & (truncated | (frame <= self._last_frame))
        self._returns += raw
        self._frames += np.where(restarted, self.protocol.frame_skip, frame - self._last_frame)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        final_obs = info.get("final_obs")
        elapsed = round(time.time() - self._start, 6)
        for i in np.flatnonzero(dones):
            entry = infos[i]
            if restarted[i]:
                entry["terminal_observation"] = final_obs[i] if final_obs is not None else obs[i]
                entry["episode"] = {"r": float(self._returns[i]), "l": int(self._frames[i]), "t": elapsed}
                self._returns[i] = 0.0
                self._frames[i] = 0
            else:
                entry["terminal_observation"] = obs[i].copy()
            entry["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        self._last_frame = frame
        for i in np.flatnonzero(dones):
            self._forced[i].clear()
            self._forced[i].extend(self.start_actions if restarted[i] else self.life_actions)
        # SB3 starts the stack at the observation after its hidden reset steps, and the learner never
        # sees those steps' rewards (the whole-game score above keeps them)
        self._since_start = np.where(dones | self._replaced, 1, self._since_start + 1)
        rewards = np.sign(raw) if self.protocol.clip_reward else raw
        rewards = np.where(self._replaced & ~dones, 0.0, rewards)
        return self._mask_stack(obs), rewards.astype(np.float32), dones, infos

    def _mask_stack(self, obs: np.ndarray) -> np.ndarray:
        """Zero the stacked frames older than each environment's episode start (SB3's ``VecFrameStack``).

        :param obs: ``(n_envs, stack, size, size)`` observations from ALE, changed in place
        :return: ``obs``
        """
        stack = obs.shape[1]
        for i in np.flatnonzero(self._since_start < stack):
            obs[i, : stack - self._since_start[i]] = 0
        return obs

    def close(self) -> None:
        """Stop the C++ threads (idempotent)."""
        if not self._closed:
            self._closed = True
            self._venv.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        """The C++ environments keep no RGB screens to render: ``None`` per environment.

        :return: ``[None] * n_envs``
        """
        return [None] * self.num_envs

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The adapter's own attribute (``render_mode``, ``game``, ``protocol``), once per environment.

        :param attr_name: the attribute
        :param indices: which environments
        :return: the values
        :raises AttributeError: for an attribute the C++ environments do not expose
        """
        if not hasattr(self, attr_name) or attr_name.startswith("_"):
            raise AttributeError(f"the ale_vector backend's environments have no attribute {attr_name!r}")
        return [getattr(self, attr_name) for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Not supported: the C++ environments have no Python attributes to set.

        :param attr_name: the attribute
        :param value: its value
        :param indices: which environments
        :raises AttributeError: always
        """
        raise AttributeError(f"cannot set {attr_name!r} on the ale_vector backend's C++ environments")

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        """Call a method of the sub-environments: only ``get_action_meanings`` exists here.

        :param method_name: the method
        :param method_args: positional arguments
        :param indices: which environments
        :param method_kwargs: keyword arguments
        :return: one result per environment
        :raises AttributeError: for any other method
        """
        if method_name == "get_action_meanings":
            meanings = self.action_meanings()
            return [list(meanings) for _ in self._get_indices(indices)]
        raise AttributeError(f"the ale_vector backend's environments have no method {method_name!r}")

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        """Whether the sub-environments are wrapped in ``wrapper_class``.

        Only SB3's ``Monitor`` answers True: this adapter gives Monitor's ``info["episode"]`` at every
        game end, which is what SB3's ``evaluate_policy`` checks for to count whole games.

        :param wrapper_class: the wrapper
        :param indices: which environments
        :return: one answer per environment
        """
        wrapped = isinstance(wrapper_class, type) and issubclass(Monitor, wrapper_class)
        return [wrapped for _ in self._get_indices(indices)]

    def action_meanings(self) -> list[str]:
        """The names of the actions (ALE's minimal or full action set).

        :return: e.g. ``["NOOP", "FIRE", "RIGHT", "LEFT"]``
        """
        return [str(getattr(a, "name", a)).removeprefix("PLAYER_A_") for a in self._venv.ale.get_action_set()]


def make(game: str, n_envs: int, seed: int, protocol: Protocol, threads: int | None = None) -> VecEnv:
    """Build ``n_envs`` copies of ``game`` under ``protocol`` on ale-py's C++ vector env.

    :param game: canonical game name (``Pong``)
    :param n_envs: number of environments
    :param seed: seed of environment 0 (environment ``i`` gets ``seed + i``)
    :param protocol: the protocol's settings
    :param threads: C++ threads (default: :func:`default_env_threads`, at most ``n_envs``)
    :return: a VecEnv of channel-first uint8 observations ``(n_envs, frame_stack, size, size)``
    """
    return AleVectorEnv(game, n_envs, seed, protocol, threads)
