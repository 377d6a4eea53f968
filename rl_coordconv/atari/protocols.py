"""Evaluation protocols: the settings that make Atari scores comparable with published ones.

Two protocols are defined:

- ``standard``: what rl-baselines3-zoo and SB3 report (``*NoFrameskip-v4`` + ``AtariWrapper``, the
  DQN-era setup of Mnih et al. 2015): no sticky actions, up to 30 no-op starts, frameskip 4 with a
  max-pool over the last two frames, 84x84 grayscale, a 4-frame stack, a lost life signalled as terminal
  to the learner, rewards clipped to {-1, 0, 1} for learning, games cut at 108,000 frames (30 minutes).
- ``machado``: Machado et al. 2018, "Revisiting the Arcade Learning Environment" (JAIR): sticky actions
  with probability 0.25 and no life-loss signal; everything else as in ``standard`` (as asked by the
  project's issue; Machado et al. also drop no-op starts and use the full action set, which this protocol
  does not). Report the mean of the last 100 training games.

In both, the score that is reported is the unclipped sum of rewards over a whole game (all lives):
clipping and the life-loss signal concern the learner only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rl_coordconv.registry import Registry

__all__ = ["Protocol", "PROTOCOLS", "BUILTIN_PROTOCOLS", "DEFAULT_PROTOCOL", "get_protocol"]


@dataclass(frozen=True)
class Protocol:
    """The environment settings of one evaluation protocol.

    :param name: the protocol's name
    :param sticky_action_prob: probability that the emulator repeats the previous action on each frame
        (ALE's ``repeat_action_probability``; Machado et al. 2018)
    :param noop_max: at most this many no-op actions at the start of each game (0: none)
    :param frame_skip: frames per agent step (the action is repeated; the last two frames are max-pooled)
    :param screen_size: observations are resized to ``screen_size`` x ``screen_size`` grayscale
    :param frame_stack: observations stack this many agent steps
    :param terminal_on_life_loss: tell the learner that a lost life ends an episode (the game goes on)
    :param clip_reward: clip the learner's rewards to {-1, 0, 1} (reported scores stay unclipped)
    :param max_frames: a game is cut (truncated, not terminated) after this many emulator frames
    :param full_action_space: use all 18 actions instead of the game's minimal set
    """

    name: str
    sticky_action_prob: float
    noop_max: int
    frame_skip: int
    screen_size: int
    frame_stack: int
    terminal_on_life_loss: bool
    clip_reward: bool
    max_frames: int
    full_action_space: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain data, for a run's ``config.yaml``.

        :return: field name -> value
        """
        return dataclasses.asdict(self)


#: name -> Protocol (a :class:`~rl_coordconv.registry.Registry`).
PROTOCOLS: Registry[Protocol] = Registry("protocol")
PROTOCOLS.register(
    "standard",
    Protocol(
        name="standard",
        sticky_action_prob=0.0,
        noop_max=30,
        frame_skip=4,
        screen_size=84,
        frame_stack=4,
        terminal_on_life_loss=True,
        clip_reward=True,
        max_frames=108_000,
    ),
)
PROTOCOLS.register(
    "machado",
    Protocol(
        name="machado",
        sticky_action_prob=0.25,
        noop_max=30,
        frame_skip=4,
        screen_size=84,
        frame_stack=4,
        terminal_on_life_loss=False,
        clip_reward=True,
        max_frames=108_000,
    ),
)

#: The protocols this module defines, as defined.
BUILTIN_PROTOCOLS: Mapping[str, Protocol] = PROTOCOLS.builtin()

#: The protocol a run, a sweep, an evaluation and an environment use when none is named: Mnih et al. (2015)
#: and rl-baselines3-zoo's Atari settings, the one place this default is spelled.
DEFAULT_PROTOCOL = "standard"


def get_protocol(protocol: str | Protocol) -> Protocol:
    """Look a protocol up by name (a :class:`Protocol` passes through).

    :param protocol: ``"standard"``, ``"machado"`` or a :class:`Protocol`
    :return: the protocol
    :raises UserError: for an unknown name (with the closest names)
    """
    if isinstance(protocol, Protocol):
        return protocol
    return PROTOCOLS.lookup(protocol)
