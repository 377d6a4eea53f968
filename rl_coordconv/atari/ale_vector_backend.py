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
- **One lane per game.** Every environment is its own one-game ``AtariVectorEnv`` (a *lane*, one C++
  thread, asleep while idle): an agent step sends each lane its action and then collects them all, so
  the games step in parallel on the cores the process may use (``threads`` pins them to that many), and
  the adapter can step one game alone, which SB3's hidden reset steps need (below). ale-py's batched
  interface cannot: its ``send`` steps every game of the vector.
- **What the learner sees at an episode start, as on SB3's stack.** SB3's ``VecFrameStack`` starts every
  episode (a new game, and under ``terminal_on_life_loss`` every lost life) on a zeroed stack holding the
  first frame only; ALE's C++ stack does so at a new game (ale-py 0.12.1) but runs on across a lost life.
  The adapter zeroes the frames older than the episode's start, for the first ``frame_stack - 1`` steps.
- **SB3's reset steps, hidden as SB3 hides them.** SB3's ``AtariWrapper`` resets an episode with steps the
  agent never sees: at a game's start, after the no-ops, ``FireResetEnv`` plays FIRE and action 2 (in
  games whose action set has FIRE); after a lost life ``EpisodicLifeEnv`` plays a NOOP, then
  ``FireResetEnv`` FIRE and action 2. ALE's C++ env instead presses FIRE for one frame *before* its
  no-ops and nothing after a lost life, so its ball (Breakout) is served at a fixed moment and the agent
  starts 0-7 agent steps into the ball's flight. The adapter turns ALE's FIRE off and, inside the agent
  step that ends an episode, plays SB3's actions (:func:`reset_actions`) in that game alone: they are no
  agent steps, the learner sees neither them nor their rewards (the whole-game score keeps them), and
  the observation it gets with the done is the frame after action 2, on a zeroed stack.
  With the steps hidden, given the same actions and no no-op starts, the learner gets step for step the
  observations, rewards, dones and scores SB3's pipeline gives it (``tests/test_ale_vector.py``), and
  PPO learns Breakout alike on both backends (``experiments/backend_bisect/README.md``).

Differences from the ``sb3`` backend (SB3's ``AtariWrapper``) that remain, all in ALE's C++
preprocessing: no-op starts draw 0 to ``noop_max - 1`` frames (SB3: 1 to ``noop_max``); grayscale is
ALE's palette luminance, max-pooled after the conversion (SB3: OpenCV's conversion of the max-pooled
colour frames; the two give identical Breakout frames, while on MsPacman 27 pixels of every frame
differ by up to 37 grey levels); the
frame cap counts frames from the end of the no-op start (SB3's ALE cap counts them too, at most
``noop_max`` frames more); a life lost within the reset steps (not seen in practice) starts them again
where SB3 plays the rest of its sequence.

Exact resume, by replay: :mod:`rl_coordconv.atari.ale_vector_resume` (:func:`get_state`,
:func:`set_state`). A resumed run is the uninterrupted run.
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

from rl_coordconv.atari.ale_vector_resume import FORMAT, ReplayResume, get_state, set_state
from rl_coordconv.atari.protocols import Protocol
from rl_coordconv.atari.replay import SEGMENT_FRAMES, segment_seed

__all__ = ["make", "get_state", "set_state", "AleVectorEnv", "FORMAT", "default_env_threads", "reset_actions", "rom_id"]


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


class AleVectorEnv(ReplayResume, VecEnv):
    """SB3 ``VecEnv`` over ``ale_py.AtariVectorEnv`` (see the module docstring for its semantics).

    Each environment is its own one-game ``AtariVectorEnv`` (a *lane*, with one C++ thread that sleeps
    while idle), so the adapter can play SB3's reset steps in one game while the others wait.

    :param game: canonical game name
    :param n_envs: number of environments
    :param seed: seed of environment 0 (environment ``i`` gets ``seed + i`` at its first reset; its replay
        segments derive their seeds from it)
    :param protocol: the protocol's settings
    :param threads: pin the games' threads to this many of the process's CPUs (default: no pinning; the OS
        spreads them over the CPUs the process may use)
    """

    render_mode: str | None = None

    def __init__(self, game: str, n_envs: int, seed: int, protocol: Protocol, threads: int | None = None) -> None:
        import ale_py
        from ale_py.vector_env import AtariVectorEnv
        from gymnasium.vector import AutoresetMode

        ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)
        self.game = game
        self.protocol = protocol
        cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))
        self.threads = max(1, min(len(cpus), int(threads))) if threads is not None else len(cpus)
        pins = [cpus[i % self.threads] if threads is not None else -1 for i in range(n_envs)]
        self._lanes = [
            AtariVectorEnv(
                rom_id(game),
                1,
                num_threads=1,
                thread_affinity_offset=pins[i],
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
            for i in range(n_envs)
        ]
        lane = self._lanes[0]
        super().__init__(n_envs, lane.single_observation_space, lane.single_action_space)
        self._obs_shape: tuple[int, ...] = tuple(lane.single_observation_space.shape or ())
        self._actions = np.zeros(n_envs, dtype=np.int64)
        self._paddle = np.ones(1, dtype=np.float32)
        #: the actions played, unseen by the learner, at a game's start and after a lost life
        self.start_actions, self.life_actions = reset_actions(self.action_meanings(), protocol)
        self._since_start = np.full(n_envs, protocol.frame_stack, dtype=np.int64)
        self._returns = np.zeros(n_envs, dtype=np.float64)
        self._frames = np.zeros(n_envs, dtype=np.int64)
        self._last_frame = np.zeros(n_envs, dtype=np.int64)
        self._lives = np.zeros(n_envs, dtype=np.int64)
        # replay records, per lane: the seed the segments derive from, the segment in progress and its
        # seed, the actions sent since its reload, and the last observation ALE returned
        self._base_seeds: list[int | None] = [None] * n_envs
        self._segments = [-1] * n_envs
        self._segment_seeds: list[int | None] = [None] * n_envs
        self._records = [bytearray() for _ in range(n_envs)]
        self._raw: list[np.ndarray | None] = [None] * n_envs
        self._waiting = False
        self._start = time.time()
        self._closed = False
        self.seed(seed)

    # -- the VecEnv API --------------------------------------------------------------------------------

    def reset(self) -> VecEnvObs:
        """Start a new game, in a new replay segment, in every environment.

        An environment given a seed by :meth:`seed` since the last reset starts its segments from it;
        one never seeded draws a seed.

        :return: the first observations, ``uint8 (n_envs, stack, size, size)``: each game's frame after
            its no-ops and SB3's reset steps, on a zeroed stack
        """
        for i, s in enumerate(self._seeds):
            if s is not None:
                self._base_seeds[i], self._segments[i] = int(s), -1
        starts = [self._open_segment(i) for i in range(self.num_envs)]
        self._reset_seeds()
        self._reset_options()
        obs = np.concatenate([o for o, _ in starts])
        self._returns[:] = 0.0
        self._frames[:] = 0
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        queues = {i: deque(self.start_actions) for i in range(self.num_envs) if self.start_actions}
        for i, queue in queues.items():
            self._send(i, queue.popleft())
        self._play_reset_steps(queues, obs, infos)
        self._since_start[:] = 1
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return self._mask_stack(obs)

    def step_async(self, actions: np.ndarray) -> None:
        """Send one action per environment to its game's C++ thread.

        :param actions: ``(n_envs,)`` action indices
        """
        self._actions = np.asarray(actions, dtype=np.int64).reshape(self.num_envs)
        self._waiting = True
        for i in range(self.num_envs):
            self._send(i, int(self._actions[i]))

    def step_wait(self) -> VecEnvStepReturn:
        """Collect the agent step of every game; where an episode ended, play SB3's reset steps unseen.

        A game's reset steps start as soon as its own agent step is back, while the others are collected.

        :return: observations, learner rewards (clipped when the protocol says so), dones (a lost life
            counts when the protocol says so) and one info dict per environment
        """
        n = self.num_envs
        obs = np.empty((n, *self._obs_shape), dtype=np.uint8)
        raw = np.zeros(n, dtype=np.float64)
        dones = np.zeros(n, dtype=bool)
        infos: list[dict[str, Any]] = [{} for _ in range(n)]
        queues: dict[int, deque[int]] = {}
        for i in range(n):
            o, r, terminated, truncated, info = self._recv(i)
            obs[i], raw[i], dones[i] = o[0], r[0], terminated[0] or truncated[0]
            restarted = self._account(i, float(r[0]), bool(dones[i]), bool(truncated[0]), info, infos[i])
            if dones[i]:
                last = np.asarray(info["final_obs"][0]) if restarted and "final_obs" in info else o[0]
                # the episode's frames: those held before this step, and this step's
                infos[i]["terminal_observation"] = self._mask_stack(last[None].copy(), self._since_start[[i]] + 1)[0]
                infos[i]["TimeLimit.truncated"] = bool(truncated[0] and not terminated[0])
                if restarted:
                    self._segment_due(i, obs)
                queue = deque(self.start_actions if restarted else self.life_actions)
                if queue:
                    self._send(i, queue.popleft())
                    queues[i] = queue
        self._play_reset_steps(queues, obs, infos)
        self._since_start = np.where(dones, 1, self._since_start + 1)
        self._waiting = False
        rewards = np.sign(raw) if self.protocol.clip_reward else raw
        return self._mask_stack(obs), rewards.astype(np.float32), dones, infos

    def _send(self, env: int, action: int) -> None:
        """Send one action to one game's C++ thread (ale-py's ``ALEVectorInterface.send``), recorded.

        :param env: environment index
        :param action: action index
        """
        self._records[env].append(action)
        self._lanes[env].ale.send(np.array([action], dtype=np.int64), self._paddle)

    def _recv(self, env: int) -> tuple[Any, ...]:
        """Collect one game's step from its C++ thread, keeping its observation and lives for snapshots.

        :param env: environment index
        :return: ALE's ``(obs, reward, terminated, truncated, info)``, each with one row
        """
        step = self._lanes[env].ale.recv()
        self._raw[env], self._lives[env] = step[0], int(step[4]["lives"][0])
        return step

    def _open_segment(self, env: int) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new game in a new replay segment: reload the ROM with the segment's seed.

        :param env: environment index
        :return: the lane's ``reset`` result (observation and info, one row each)
        """
        if self._base_seeds[env] is None:  # never seeded: draw one, as gymnasium does for reset(seed=None)
            self._base_seeds[env] = int(np.random.SeedSequence().generate_state(1)[0]) % 2**31
        self._segments[env] += 1
        base, segment = int(self._base_seeds[env] or 0), self._segments[env]
        seed = base if segment == 0 else segment_seed(base, segment)  # the first: the environment's own seed
        self._segment_seeds[env], self._records[env] = seed, bytearray()
        o, info = self._lanes[env].reset(seed=np.array([seed], dtype=np.int64))
        self._raw[env], self._lives[env] = o, int(info["lives"][0])
        self._last_frame[env] = int(info["episode_frame_number"][0])
        return o, info

    def _segment_due(self, env: int, obs: np.ndarray) -> None:
        """At a game's start: open a new segment when the one in progress is long enough.

        :param env: environment index
        :param obs: ``(n_envs, ...)`` observations; the new game's first one replaces this game's row
        """
        if len(self._records[env]) * self.protocol.frame_skip >= SEGMENT_FRAMES:
            obs[env] = self._open_segment(env)[0][0]

    def _account(
        self, env: int, raw: float, done: bool, truncated: bool, info: dict[str, Any], out: dict[str, Any]
    ) -> bool:
        """Add one step of one game to its whole-game score; put an ended game's score in ``out``.

        A new game started in this step (SAME_STEP autoreset) exactly when ALE's per-game frame counter went
        back; a lost life (a termination for the learner) keeps counting.

        :param env: environment index
        :param raw: the step's raw reward
        :param done: terminated or truncated
        :param truncated: truncated at the frame cap
        :param info: ALE's info of the step
        :param out: the agent step's info dict for this environment
        :return: whether the game restarted
        """
        frame = int(info["episode_frame_number"][0])
        restarted = done and (truncated or frame <= self._last_frame[env])
        self._returns[env] += raw
        self._frames[env] += self.protocol.frame_skip if restarted else frame - self._last_frame[env]
        self._last_frame[env] = frame
        if restarted:
            # at most one game ends per agent step: a game cannot end within its own reset steps
            out["episode"] = {
                "r": float(self._returns[env]),
                "l": int(self._frames[env]),
                "t": round(time.time() - self._start, 6),
            }
            self._returns[env] = 0.0
            self._frames[env] = 0
        return restarted

    def _play_reset_steps(self, queues: dict[int, deque[int]], obs: np.ndarray, infos: list[dict[str, Any]]) -> None:
        """Finish SB3's reset steps, unseen by the learner, in the games whose first one was sent.

        Their rewards count in the whole-game score only; a game that ends in them restarts (and a lost
        life starts its steps again), as SB3's ``FireResetEnv`` resets again; ``obs`` gets each game's
        observation after its last reset step.

        :param queues: environment index -> the actions left to play after the one in flight
        :param obs: ``(n_envs, ...)`` observations, changed in place
        :param infos: the step's info dicts (an ended game's score goes there)
        """
        while queues:
            for i in list(queues):
                o, r, terminated, truncated, info = self._recv(i)
                obs[i] = o[0]
                done = bool(terminated[0] or truncated[0])
                restarted = self._account(i, float(r[0]), done, bool(truncated[0]), info, infos[i])
                if restarted:
                    self._segment_due(i, obs)
                if done:
                    queues[i] = deque(self.start_actions if restarted else self.life_actions)
                if queues[i]:
                    self._send(i, queues[i].popleft())
                else:
                    del queues[i]

    def _mask_stack(self, obs: np.ndarray, since: np.ndarray | None = None) -> np.ndarray:
        """Zero the stacked frames older than each environment's episode start (SB3's ``VecFrameStack``).

        :param obs: ``(n, stack, size, size)`` observations from ALE, changed in place
        :param since: ``(n,)`` frames of the episode each row holds (default: every environment's current)
        :return: ``obs``
        """
        stack = obs.shape[1]
        since = self._since_start if since is None else since
        for i in np.flatnonzero(since < stack):
            obs[i, : stack - since[i]] = 0
        return obs

    def close(self) -> None:
        """Stop the C++ threads (idempotent)."""
        if not self._closed:
            self._closed = True
            for lane in self._lanes:
                lane.close()

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
        return [str(getattr(a, "name", a)).removeprefix("PLAYER_A_") for a in self._lanes[0].ale.get_action_set()]


def make(game: str, n_envs: int, seed: int, protocol: Protocol, threads: int | None = None) -> VecEnv:
    """Build ``n_envs`` copies of ``game`` under ``protocol`` on ale-py's C++ vector env.

    :param game: canonical game name (``Pong``)
    :param n_envs: number of environments
    :param seed: seed of environment 0 (environment ``i`` gets ``seed + i``)
    :param protocol: the protocol's settings
    :param threads: pin the games' C++ threads to this many CPUs (default: no pinning)
    :return: a VecEnv of channel-first uint8 observations ``(n_envs, frame_stack, size, size)``
    """
    return AleVectorEnv(game, n_envs, seed, protocol, threads)
