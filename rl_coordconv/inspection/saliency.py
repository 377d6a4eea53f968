"""Where a policy looks: perturbation saliency of its action logits.

The method of Greydanus, Koul, Dodge and Fern, "Visualizing and Understanding Atari Agents" (ICML 2018,
arXiv:1711.00138): blur the frames locally around a pixel (a Gaussian mask of width ``sigma`` blends the
frame with a blurred copy of itself) and measure how far the action logits move,
S(i, j) = 1/2 ||l(I) - l(I')||^2. It needs forward passes only, so it works for every extractor,
differentiable or not. Scores are computed on a grid every ``stride`` pixels and interpolated to the
frame's size.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from rl_coordconv.inspection.coord_terms import categorical, policy_batches

if TYPE_CHECKING:
    from stable_baselines3.common.policies import ActorCriticPolicy

__all__ = ["action_logits", "perturbation_saliency"]


@torch.no_grad()
def action_logits(policy: ActorCriticPolicy, observations: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The policy's action log-probabilities (normalised logits).

    :param policy: an SB3 actor-critic policy with a discrete action space
    :param observations: observations ``(N, C, H, W)`` (uint8, or float in [0, 255])
    :param batch_size: observations per forward pass
    :return: ``(N, num_actions)``, float64
    """
    out = []
    for batch in policy_batches(policy, observations, batch_size):
        out.append(categorical(policy.get_distribution(batch)).logits.double().cpu().numpy())
    return np.concatenate(out)


def perturbation_saliency(
    policy: ActorCriticPolicy,
    observations: np.ndarray,
    *,
    stride: int = 5,
    sigma: float = 5.0,
    blur: float = 3.0,
    batch_size: int = 256,
) -> np.ndarray:
    """Greydanus et al.'s perturbation saliency of the action logits for each observation.

    :param policy: an SB3 actor-critic policy with a discrete action space
    :param observations: uint8 observations ``(N, C, H, W)``
    :param stride: pixels between the centres of the perturbations (Greydanus et al.: 5)
    :param sigma: width of the Gaussian mask in pixels (Greydanus et al.: 5)
    :param blur: width of the Gaussian blur of the perturbed copy in pixels (Greydanus et al.: 3)
    :param batch_size: observations per forward pass
    :return: saliency ``(N, H, W)``, float64, >= 0
    """
    n, channels, height, width = observations.shape
    rows = np.linspace(0, height - 1, math.ceil((height - 1) / stride) + 1)
    cols = np.linspace(0, width - 1, math.ceil((width - 1) / stride) + 1)
    yy, xx = np.mgrid[0:height, 0:width]
    masks = np.stack([np.exp(-((yy - r) ** 2 + (xx - c) ** 2) / (2.0 * sigma**2)) for r in rows for c in cols]).astype(
        np.float32
    )[:, None]  # (P, 1, H, W)
    base = action_logits(policy, observations, batch_size)
    maps = np.empty((n, height, width))
    for i in range(n):
        frame = observations[i].astype(np.float32)
        blurred = gaussian_filter(frame, sigma=(0, blur, blur))
        perturbed = frame[None] * (1.0 - masks) + blurred[None] * masks  # (P, C, H, W), in [0, 255]
        logits = action_logits(policy, perturbed, batch_size)
        scores = 0.5 * ((logits - base[i]) ** 2).sum(axis=1).reshape(1, 1, len(rows), len(cols))
        full = torch.nn.functional.interpolate(
            torch.from_numpy(scores), size=(height, width), mode="bilinear", align_corners=True
        )
        maps[i] = full[0, 0].numpy()
    return np.maximum(maps, 0.0)
