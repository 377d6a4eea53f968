"""The ``sb3`` environment backend: ale-py games under Stable-Baselines3's own Atari wrappers.

Per environment (innermost first): ale-py's ``AtariEnv`` with ``frameskip=1`` (the wrappers skip
frames), ALE's own sticky actions (``repeat_action_probability``, applied on every emulator frame as in
Machado et al. 2018) and ALE's frame cap (``max_num_frames_per_episode``, a *truncation*), then
:class:`ReplayRecorder` (below), then SB3's ``Monitor`` (it sees raw rewards and whole games, so
``info["episode"]`` holds the unclipped whole-game score), then SB3's ``AtariWrapper`` (no-op starts,
frame skip with max-pool, life loss as terminal, FIRE on reset, 84x84 gray, reward clipping): the stack
``make_atari_env`` builds, with the recorder slipped in under the ``Monitor``. The vectorised env is a
``DummyVecEnv`` with ``VecFrameStack`` and ``VecTransposeImage``, so observations are channel-first
``uint8 (N, 4, 84, 84)``, the layout the faster ``AtariVectorEnv`` backend produces too.

Exact resume, by replay. :func:`get_state` / :func:`set_state` snapshot and restore the whole stack so
that a resumed run continues exactly as the uninterrupted one would. They do *not* rely on ALE's
``cloneState``/``restoreState``: in ale-py 0.12.1 a snapshot misses the previous action that sticky
actions repeat (it lives in the emulator object), so the first sticky repeat after a restore differs,
and it misses part of the TIA's frame state, so Qbert, Amidar and Tetris render and score differently
after a restore (Arcade-Learning-Environment PRs #732 and #739, both after 0.12.1). Instead the emulator
is rebuilt from scratch, which relies only on ALE being deterministic given its seed and its actions:

- :class:`ReplayRecorder`, directly around ``AtariEnv``, opens a *segment* by reseeding ALE and
  reloading the ROM (``AtariEnv.reset(seed=...)``, the seed derived from the environment's seed and the
  segment's number) at the environment's first game, and again at the first game start after
  :data:`SEGMENT_FRAMES` emulator frames; other games start with a plain ``reset_game``. It records
  every emulator frame's action and every game start of the segment in progress. (Reloading the ROM at
  every game would make each game rebuildable on its own but costs about as much CPU as 1,600 emulator
  frames; segments amortise it and bound what a resume replays to :data:`SEGMENT_FRAMES` plus one game.)
- :func:`get_state` stores, per environment, the segment's seed and recorded actions, a SHA-256 of
  ALE's RAM, screen, frame counters and lives at that moment, and a deep copy of every Python layer's
  state (wrappers' counters, frame buffers and RNGs, the frame stack, ``DummyVecEnv``'s buffers): the
  snapshot shares no object with the live environments, which may go on stepping.
- :func:`set_state` reloads the ROM with the segment's seed, replays the recorded actions on the ALE
  interface (sticky actions draw from ALE's seeded RNG, so they replay too, previous action included,
  and the TIA is in the state real play left it in), restores the Python state, and compares the
  checksum: a mismatch raises :class:`ReplayMismatchError`, never a silent divergence.

What is exact: every observation, reward, done flag, info and whole-game score after a restore, on every
game, under both protocols, given the same ale-py build (the checksum catches any other). A checkpoint
written before replay snapshots existed (it holds ALE ``cloneState`` snapshots) is still restored, the
old way, with a warning: its games in progress go on as exactly as ale-py's own snapshots allow (not on
every game), and the games after them open new, recorded segments, which the code that wrote the
checkpoint did not do: such a resume is repeatable, not a continuation of the old code's run.
"""

from __future__ import annotations

import copy
import hashlib
import warnings
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.env_util import make_atari_env
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecEnvWrapper, VecFrameStack, VecTransposeImage

from rl_coordconv.atari.protocols import Protocol
from rl_coordconv.atari.replay import SEGMENT_FRAMES, ReplayMismatchError, replay_mismatch, segment_seed

__all__ = ["make", "get_state", "set_state", "ReplayRecorder", "ReplayMismatchError", "SEGMENT_FRAMES"]

#: The snapshot format written by :func:`get_state` (absent in the older ``cloneState`` snapshots).
FORMAT = "replay-1"

# Attributes never snapshotted: links to the next layer, the emulator itself (rebuilt by replay), and
# VecEnvWrapper's table of its class attributes (static, and not picklable).
_LINKS = frozenset({"env", "venv", "envs", "ale", "class_attributes"})


class ReplayRecorder(gym.Wrapper):
    """Records what ALE was told since its last reseed, so that the emulator can be rebuilt by replay.

    Sits directly around ale-py's ``AtariEnv`` (``frameskip=1``: one ``step`` is one emulator frame).
    See the module docstring for segments.

    :param env: the ``AtariEnv``
    :param seed: the environment's seed, used until a ``reset(seed=...)`` gives another one
    """

    #: The code recorded for a game start (``reset_game``); actions are indices below it.
    RESET = 255

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        super().__init__(env)
        if getattr(env.action_space, "n", 0) >= self.RESET:
            raise ValueError("ReplayRecorder records action indices below 255")
        self.base_seed = seed
        self.segment = -1  # number of the segment in progress (-1: none yet)
        self.segment_seed: int | None = None  # its seed (None: nothing recorded, e.g. an old snapshot)
        self.actions = bytearray()  # the segment's frame actions, RESET for a game start

    @staticmethod
    def segment_seed_of(base_seed: int, segment: int) -> int:
        """The seed of segment ``segment`` of an environment seeded with ``base_seed``.

        :param base_seed: the environment's seed
        :param segment: the segment's number (0, 1, ...)
        :return: a seed below 2**31
        """
        return segment_seed(base_seed, segment)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        """Start a game: in a new segment (reseed, reload) when due, else with ALE's plain ``reset_game``.

        :param seed: a new seed for this environment (restarts its segment numbering)
        :param options: passed on
        :return: ``AtariEnv.reset``'s observation and info
        """
        if seed is not None:
            self.base_seed, self.segment = int(seed), -1
        if seed is not None or self.segment_seed is None or len(self.actions) >= SEGMENT_FRAMES:
            if self.base_seed is None:  # never seeded: draw one, as gymnasium does for reset(seed=None)
                self.base_seed = int(np.random.SeedSequence().generate_state(1)[0]) % 2**31
            self.segment += 1
            self.segment_seed = self.segment_seed_of(self.base_seed, self.segment)
            self.actions = bytearray()
            return self.env.reset(seed=self.segment_seed, options=options)
        self.actions.append(self.RESET)
        return self.env.reset(options=options)

    def step(self, action: Any) -> Any:
        """One emulator frame, recorded.

        :param action: the action's index
        :return: ``AtariEnv.step``'s result
        """
        self.actions.append(int(action))
        return self.env.step(action)

    def replay(self) -> None:
        """Rebuild the emulator from this recorder's seed and actions (the Python layers are left alone)."""
        if self.segment_seed is None:
            return
        atari: Any = self.env.unwrapped
        atari.reset(seed=self.segment_seed)
        ale, action_set = atari.ale, atari._action_set
        for code in self.actions:
            if code == self.RESET:
                ale.reset_game()
            else:
                ale.act(action_set[code], 1.0)  # AtariEnv.step's call, without reading the screen


def _emulator_digest(ale: Any) -> str:
    """SHA-256 of what the emulator shows: RAM, screen, frame counters, lives."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(ale.getRAM()).tobytes())
    digest.update(np.ascontiguousarray(ale.getScreen()).tobytes())
    digest.update(np.array([ale.getFrameNumber(), ale.getEpisodeFrameNumber(), ale.lives()], np.int64).tobytes())
    return digest.hexdigest()


def _recorded_atari_env(env_id: str, **kwargs: Any) -> gym.Env:
    """ale-py's bare ``AtariEnv`` (gymnasium's checker wrappers dropped) under a :class:`ReplayRecorder`."""
    return ReplayRecorder(gym.make(env_id, render_mode="rgb_array", **kwargs).unwrapped)


def make(game: str, n_envs: int, seed: int, protocol: Protocol, threads: int | None = None) -> VecEnv:
    """Build ``n_envs`` copies of ``game`` under ``protocol``.

    Environment ``i`` is seeded with ``seed + i`` at its first reset (SB3's convention); its segments
    derive their seeds from it (:meth:`ReplayRecorder.segment_seed_of`).

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
        _recorded_atari_env,
        n_envs=n_envs,
        seed=seed,
        env_kwargs={
            "env_id": f"ALE/{game}-v5",
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
    """A deep copy of one layer's own attributes (no links to other layers, no emulator)."""
    return copy.deepcopy({k: v for k, v in vars(layer).items() if k not in _LINKS})


def _layers_of(env: gym.Env) -> list[Any]:
    """The layers of one environment, outermost first, down to ``AtariEnv``."""
    layers: list[Any] = [env]
    while isinstance(layers[-1], gym.Wrapper):
        layers.append(layers[-1].env)
    return layers


def _recorder(layers: list[Any]) -> ReplayRecorder:
    found = [layer for layer in layers if isinstance(layer, ReplayRecorder)]
    if len(found) != 1:
        raise ValueError("environment snapshot does not match this environment's wrappers (no replay recorder)")
    return found[0]


def _env_state(env: gym.Env) -> dict[str, Any]:
    layers = _layers_of(env)
    recorder = _recorder(layers)
    state: dict[str, Any] = {"layers": [(type(layer).__name__, _layer_state(layer)) for layer in layers]}
    atari: Any = layers[-1]
    if recorder.segment_seed is None and hasattr(atari, "ale"):  # restored from an old snapshot, game unrecorded
        state["ale_state"] = atari.ale.cloneState(include_rng=True)
    if hasattr(atari, "ale"):
        state["digest"] = _emulator_digest(atari.ale)
    return state


def _set_env_state(env: gym.Env, state: dict[str, Any], index: int) -> None:
    layers = _layers_of(env)
    if [type(layer).__name__ for layer in layers] != [name for name, _ in state["layers"]]:
        raise ValueError("environment snapshot does not match this environment's wrappers")
    recorder = _recorder(layers)
    for layer, (_, layer_state) in zip(layers, state["layers"]):
        vars(layer).update(copy.deepcopy(layer_state))
    atari: Any = layers[-1]
    saved_python = _layer_state(atari)  # replay reseeds AtariEnv's RNG: put the saved one back afterwards
    if "ale_state" in state:
        _warn_not_exact()
        atari.ale.restoreState(state["ale_state"])
    else:
        recorder.replay()
    vars(atari).update(saved_python)
    digest = state.get("digest")
    if digest is not None and _emulator_digest(atari.ale) != digest:
        raise replay_mismatch(index, f"{len(recorder.actions)} recorded frames")


def _set_legacy_env_state(env: gym.Env, layers_state: list[dict[str, Any]]) -> None:
    """Restore a snapshot of the older format: ALE ``cloneState`` per environment, no recorder layer."""
    layers = [layer for layer in _layers_of(env) if not isinstance(layer, ReplayRecorder)]
    if len(layers) != len(layers_state):
        raise ValueError("environment snapshot does not match this environment's wrappers")
    recorder = _recorder(_layers_of(env))
    for layer, layer_state in zip(layers, layers_state):
        layer_state = copy.deepcopy(layer_state)
        ale_state = layer_state.pop("__ale_state__", None)
        vars(layer).update(layer_state)
        if ale_state is not None:
            layer.ale.restoreState(ale_state)
    recorder.segment_seed, recorder.actions = None, bytearray()  # the next game opens a recorded segment


def _warn_not_exact() -> None:
    warnings.warn(
        "this checkpoint predates replayable environment snapshots: its games in progress are restored from ALE "
        "snapshots, which are not exact on every game (sticky actions, Qbert/Amidar frames), and the games after "
        "them are seeded anew; from there on the run is recorded and resumes exactly",
        RuntimeWarning,
        stacklevel=4,
    )


def _vec_layers(venv: VecEnv) -> tuple[list[VecEnv], DummyVecEnv]:
    layers: list[VecEnv] = []
    while isinstance(venv, VecEnvWrapper):
        layers.append(venv)
        venv = venv.venv
    if not isinstance(venv, DummyVecEnv):
        raise TypeError(f"expected a DummyVecEnv at the bottom of the stack, got {type(venv).__name__}")
    return layers, venv


def get_state(venv: VecEnv) -> dict[str, Any]:
    """Snapshot everything that decides what ``venv`` does next (picklable, sharing nothing with ``venv``).

    :param venv: a VecEnv built by :func:`make`
    :return: the snapshot
    """
    layers, base = _vec_layers(venv)
    return {
        "format": FORMAT,
        "wrappers": [(type(w).__name__, _layer_state(w)) for w in layers],
        "base": _layer_state(base),
        "envs": [_env_state(env) for env in base.envs],
    }


def set_state(venv: VecEnv, state: dict[str, Any]) -> None:
    """Restore a snapshot taken by :func:`get_state` into a VecEnv built the same way (by replay).

    The snapshot itself is left untouched (it may be restored again).

    :param venv: a fresh VecEnv from :func:`make` with the same game, protocol and ``n_envs``
    :param state: the snapshot
    :raises ValueError: when the snapshot was taken on a differently built VecEnv
    :raises ReplayMismatchError: when an emulator does not replay to the recorded state
    """
    layers, base = _vec_layers(venv)
    names = [type(w).__name__ for w in layers]
    if names != [name for name, _ in state["wrappers"]] or len(base.envs) != len(state["envs"]):
        raise ValueError("environment snapshot does not match this VecEnv (other wrappers or n_envs)")
    for wrapper, (_, wrapper_state) in zip(layers, state["wrappers"]):
        vars(wrapper).update(copy.deepcopy(wrapper_state))
    vars(base).update(copy.deepcopy(state["base"]))
    legacy = state.get("format") != FORMAT
    if legacy:
        _warn_not_exact()
    for index, (env, env_state) in enumerate(zip(base.envs, state["envs"])):
        if legacy:
            _set_legacy_env_state(env, env_state)
        else:
            _set_env_state(env, env_state, index)
