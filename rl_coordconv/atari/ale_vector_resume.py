"""Exact resume of the ``ale_vector`` backend (:mod:`rl_coordconv.atari.ale_vector_backend`), by replay.

``AtariVectorEnv`` exposes no snapshot of its games, and ALE's own snapshots
are not exact in ale-py 0.12.1, so the adapter rebuilds its games as the ``sb3`` backend does
(:mod:`rl_coordconv.atari.replay`): each lane records, in segments, the seed of its last reload
(``reset(seed=...)`` reloads the ROM and reseeds both ALE's sticky-action generator and the C++ no-op
generator) and every action sent to it since, hidden reset steps included; the C++ env's own restarts in
between (``SAME_STEP`` autoreset) draw from those generators, so they replay too.
:func:`get_state` stores the records, a SHA-256 of each lane's last observation, frame counter and lives, and the
adapter's own counters; :func:`set_state` reloads every lane with its segment's seed, replays the
lanes side by side in their C++ threads, checks the checksums (a mismatch raises
:class:`~rl_coordconv.atari.replay.ReplayMismatchError`) and puts the counters back. A resumed run is
the uninterrupted run.

:class:`ReplayResume` holds that part of the adapter: its snapshot, its replay and the checksums they
compare; the adapter keeps the records as it plays (in segments of
:data:`~rl_coordconv.atari.replay.SEGMENT_FRAMES` frames). The backend's module names both functions too.
"""

from __future__ import annotations

import copy
import hashlib
from typing import TYPE_CHECKING, Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from rl_coordconv.atari.replay import replay_mismatch

__all__ = ["FORMAT", "ReplayResume", "get_state", "set_state"]

#: The snapshot format written by :meth:`ReplayResume.snapshot`.
FORMAT = "ale-vector-replay-1"

#: The adapter's own counters a snapshot carries (the games themselves are replayed).
_COUNTERS = ("_since_start", "_returns", "_frames", "_last_frame", "_lives", "_actions", "_seeds", "_options")


class ReplayResume:
    """The exact-resume part of :class:`~rl_coordconv.atari.ale_vector_backend.AleVectorEnv`: a snapshot of
    its replay records and counters, and their replay into a fresh adapter built the same way.

    A mixin: the adapter provides the records and the lanes' ``_send``/``_recv``/``_open_segment``.
    """

    if TYPE_CHECKING:  # what the adapter provides
        num_envs: int
        game: str
        _waiting: bool
        _base_seeds: list[int | None]
        _segments: list[int]
        _segment_seeds: list[int | None]
        _records: list[bytearray]
        _raw: list[np.ndarray | None]
        _last_frame: np.ndarray
        _lives: np.ndarray

        def _send(self, env: int, action: int) -> None: ...

        def _recv(self, env: int) -> tuple[Any, ...]: ...

        def _open_segment(self, env: int) -> tuple[np.ndarray, dict[str, Any]]: ...

    def snapshot(self) -> dict[str, Any]:
        """Everything that decides what the adapter does next (picklable, sharing nothing with it).

        :return: per lane its replay record and checksum, and the adapter's counters
        :raises RuntimeError: while an agent step is in flight (between ``step_async`` and ``step_wait``)
        """
        if self._waiting:
            raise RuntimeError("cannot snapshot the ale_vector environments while an agent step is in flight")
        lanes = [
            {
                "base_seed": self._base_seeds[i],
                "segment": self._segments[i],
                "segment_seed": self._segment_seeds[i],
                "actions": bytes(self._records[i]),
                "digest": self._digest(i),
            }
            for i in range(self.num_envs)
        ]
        counters = copy.deepcopy({name: getattr(self, name) for name in _COUNTERS})
        return {"format": FORMAT, "game": self.game, "lanes": lanes, "counters": counters}

    def restore(self, state: dict[str, Any]) -> None:
        """Rebuild the games of a :meth:`snapshot` by replay, and put the adapter's counters back.

        The lanes replay side by side, each in its own C++ thread. The snapshot is left untouched.

        :param state: the snapshot, taken on an adapter built with the same game, protocol and ``n_envs``
        :raises ValueError: when the snapshot was taken on a differently built adapter
        :raises ReplayMismatchError: when a game does not replay to its recorded checksum
        """
        lanes = state.get("lanes", [])
        if state.get("format") != FORMAT or state.get("game") != self.game or len(lanes) != self.num_envs:
            raise ValueError("environment snapshot does not match this VecEnv (other game, backend or n_envs)")
        records = [bytes(lane["actions"]) for lane in lanes]
        for i, lane in enumerate(lanes):
            self._base_seeds[i], self._segments[i] = lane["base_seed"], int(lane["segment"]) - 1
            self._open_segment(i)
            if self._segment_seeds[i] != lane["segment_seed"]:
                raise ValueError(f"environment snapshot of environment {i} names a seed its segment does not have")
        for k in range(max(map(len, records), default=0)):
            playing = [i for i in range(self.num_envs) if k < len(records[i])]
            for i in playing:
                self._send(i, records[i][k])
            for i in playing:
                self._last_frame[i] = int(self._recv(i)[4]["episode_frame_number"][0])
        for i, lane in enumerate(lanes):
            if self._digest(i) != lane["digest"]:
                raise replay_mismatch(i, f"{len(records[i])} recorded agent steps")
        for name, value in copy.deepcopy(state["counters"]).items():
            setattr(self, name, value)

    def _digest(self, env: int) -> str:
        """SHA-256 of what one game shows: its last observation from ALE, frame counter and lives."""
        digest = hashlib.sha256(np.ascontiguousarray(self._raw[env]).tobytes())
        digest.update(np.array([self._last_frame[env], self._lives[env]], dtype=np.int64).tobytes())
        return digest.hexdigest()


def _adapter(venv: VecEnv) -> ReplayResume:
    while isinstance(venv, VecEnvWrapper):
        venv = venv.venv
    if not isinstance(venv, ReplayResume):
        raise TypeError(f"expected the ale_vector backend's VecEnv, got {type(venv).__name__}")
    return venv


def get_state(venv: VecEnv) -> dict[str, Any]:
    """Snapshot a VecEnv built by :func:`~rl_coordconv.atari.ale_vector_backend.make` (see :meth:`ReplayResume.snapshot`).

    :param venv: the VecEnv (SB3 wrappers around it are looked through)
    :return: the snapshot
    """
    return _adapter(venv).snapshot()


def set_state(venv: VecEnv, state: dict[str, Any]) -> None:
    """Restore a snapshot into a fresh VecEnv built the same way, by replay (see :meth:`ReplayResume.restore`).

    :param venv: a VecEnv from :func:`~rl_coordconv.atari.ale_vector_backend.make` with the same game, protocol and ``n_envs``
    :param state: a snapshot from :func:`get_state`
    """
    _adapter(venv).restore(state)
