"""The translation probe: how much a policy's output moves when its input frames move by k pixels.

Every frame of the stack is shifted by k pixels (right and left, or down and up); the rows or columns that
come into view repeat the frame's edge, so no artificial black band appears on games with a coloured
border. For each frame the probe compares the policy on the shifted frames with the policy on the
original ones: the total-variation distance between the two action distributions,
TV(p, q) = 1/2 sum_a |p(a) - q(a)| (between 0 and 1), and the absolute change of the value estimate. Both
directions of a shift are averaged per frame. At k = 0 the input is unchanged and both numbers are
exactly zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from rl_coordconv.inspection.coord_terms import categorical, policy_batches

if TYPE_CHECKING:
    from stable_baselines3.common.policies import ActorCriticPolicy

__all__ = ["SHIFTS", "AXES", "ProbeRow", "shift_frames", "policy_outputs", "translation_probe"]

#: Shifts in pixels probed by default.
SHIFTS: tuple[int, ...] = (0, 1, 2, 4, 8)
#: The two directions: ``horizontal`` moves content along the width, ``vertical`` along the height.
AXES: tuple[str, ...] = ("horizontal", "vertical")


@dataclass(frozen=True)
class ProbeRow:
    """The probe's result for one axis and shift, over all frames.

    :param axis: ``horizontal`` or ``vertical``
    :param shift: k, in pixels
    :param tv_mean: mean over frames of the total-variation distance of the action distributions
    :param tv_median: median over frames of that distance
    :param value_change_mean: mean over frames of |V(shifted) - V(original)|
    :param value_change_median: median over frames of that change
    :param frames: number of frames
    """

    axis: str
    shift: int
    tv_mean: float
    tv_median: float
    value_change_mean: float
    value_change_median: float
    frames: int


def shift_frames(frames: np.ndarray, dx: int = 0, dy: int = 0) -> np.ndarray:
    """Move the content of every frame ``dx`` pixels right and ``dy`` pixels down (negative: left, up).

    The pixels that come into view repeat the nearest edge row or column.

    :param frames: images ``(..., H, W)``
    :param dx: pixels to the right
    :param dy: pixels down
    :return: a new array of the same shape and dtype
    """
    height, width = frames.shape[-2:]
    if abs(dx) >= width or abs(dy) >= height:
        raise ValueError(f"cannot shift {height}x{width} frames by ({dx}, {dy}) pixels")
    pad = [(0, 0)] * (frames.ndim - 2) + [(max(dy, 0), max(-dy, 0)), (max(dx, 0), max(-dx, 0))]
    padded = np.pad(frames, pad, mode="edge")
    top, left = max(-dy, 0), max(-dx, 0)
    return np.ascontiguousarray(padded[..., top : top + height, left : left + width])


@torch.no_grad()
def policy_outputs(
    policy: ActorCriticPolicy, observations: np.ndarray, batch_size: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """The policy's action probabilities and value estimates.

    :param policy: an SB3 actor-critic policy with a discrete action space
    :param observations: uint8 observations ``(N, C, H, W)``
    :param batch_size: observations per forward pass
    :return: probabilities ``(N, num_actions)`` and values ``(N,)``, float64
    """
    probs, values = [], []
    for batch in policy_batches(policy, observations, batch_size):
        # ActorCriticPolicy.forward's path, without sampling: the features are computed once for both heads
        features = policy.extract_features(batch)
        if policy.share_features_extractor:
            latent_pi, latent_vf = policy.mlp_extractor(features)
        else:
            latent_pi = policy.mlp_extractor.forward_actor(features[0])
            latent_vf = policy.mlp_extractor.forward_critic(features[1])
        distribution = categorical(policy._get_action_dist_from_latent(latent_pi))
        probs.append(distribution.probs.double().cpu().numpy())
        values.append(policy.value_net(latent_vf).double().flatten().cpu().numpy())
    return np.concatenate(probs), np.concatenate(values)


def translation_probe(
    policy: ActorCriticPolicy,
    observations: np.ndarray,
    shifts: Sequence[int] = SHIFTS,
    batch_size: int = 256,
) -> list[ProbeRow]:
    """Run the translation probe on ``observations`` for each axis and shift.

    :param policy: an SB3 actor-critic policy with a discrete action space
    :param observations: uint8 observations ``(N, C, H, W)``
    :param shifts: the shifts k in pixels (each >= 0)
    :param batch_size: observations per forward pass
    :return: one row per (axis, k), axes in :data:`AXES` order, shifts in the order given
    """
    if any(int(k) < 0 for k in shifts):
        raise ValueError(f"shifts must be >= 0 pixels, got {list(shifts)}")
    base_probs, base_values = policy_outputs(policy, observations, batch_size)
    rows = []
    for axis in AXES:
        for k in shifts:
            tv, dv = [], []
            for sign in (1, -1) if k else (1,):
                d = sign * int(k)
                shifted = shift_frames(observations, dx=d) if axis == "horizontal" else shift_frames(observations, dy=d)
                probs, values = policy_outputs(policy, shifted, batch_size)
                tv.append(0.5 * np.abs(probs - base_probs).sum(axis=1))
                dv.append(np.abs(values - base_values))
            tv_frames, dv_frames = np.mean(tv, axis=0), np.mean(dv, axis=0)
            rows.append(
                ProbeRow(
                    axis=axis,
                    shift=int(k),
                    tv_mean=float(tv_frames.mean()),
                    tv_median=float(np.median(tv_frames)),
                    value_change_mean=float(dv_frames.mean()),
                    value_change_median=float(np.median(dv_frames)),
                    frames=len(observations),
                )
            )
    return rows
