"""The rules both environment backends follow to rebuild their games by replay, for exact resume.

ALE is deterministic given its seed and the actions it is sent: reloading a ROM with a seed
(``setInt("random_seed", ...)`` then ``loadROM``) reseeds the emulator's random numbers (sticky actions)
and, in ale-py's C++ vector env, the no-op-start generator too (``PreprocessedEnv::reset``, ale-py
0.12.1). So a game can be rebuilt exactly from the seed of its last reload and every action since,
without ALE's ``cloneState``, which in ale-py 0.12.1 misses the sticky action's previous action and part
of the TIA's frame state (Arcade-Learning-Environment PRs #732 and #739).

Reloading a ROM costs as much CPU as a few hundred agent steps, so an environment records in *segments*:
a segment opens with a reload at the environment's first game and again at the first game start after
:data:`SEGMENT_FRAMES` emulator frames; the games in between start without one. A resume replays at most
one segment plus the game in progress per environment.
"""

from __future__ import annotations

import numpy as np

from rl_coordconv.errors import UserError

__all__ = ["SEGMENT_FRAMES", "segment_seed", "ReplayMismatchError", "replay_mismatch"]

#: A new segment (ROM reloaded with a fresh seed) opens at the first game start after this many recorded
#: emulator frames: the most a resume replays is this plus the game in progress (at most 108,000 frames).
SEGMENT_FRAMES = 20_000


def segment_seed(base_seed: int, segment: int) -> int:
    """The seed of segment ``segment`` of an environment seeded with ``base_seed``.

    :param base_seed: the environment's seed
    :param segment: the segment's number (0, 1, ...)
    :return: a seed below 2**31
    """
    return int(np.random.SeedSequence([base_seed, segment]).generate_state(1)[0]) % 2**31


class ReplayMismatchError(UserError):
    """A replayed emulator did not reach the state recorded in the snapshot."""


def replay_mismatch(index: int, recorded: str) -> ReplayMismatchError:
    """The error for an environment whose replay missed its recorded checksum.

    :param index: the environment's index
    :param recorded: what was replayed, e.g. ``"1,200 recorded frames"``
    :return: the error to raise
    """
    import ale_py

    return ReplayMismatchError(
        f"environment {index} did not replay to the state its checkpoint recorded (emulator checksum differs "
        f"after {recorded}): ale-py {ale_py.__version__} does not reproduce the run that wrote it; resume with "
        "the software versions listed in the run's config.yaml"
    )
