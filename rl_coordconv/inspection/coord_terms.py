"""The coordinate term of every CoordConv layer of a policy, and its size next to the image term.

A :class:`~rl_coordconv.layers.CoordConv2d` computes conv([x, c]) = conv(x, W_x) + conv(c, W_c) + b
(Liu et al. 2018, arXiv:1807.03247): the second and third parts do not depend on the image. Together they
are one map per filter, the position-dependent bias the filter learned (:attr:`CoordTerm.maps`). How much
it matters is measured against the image term conv(x, W_x) on real frames: per filter, the root mean
square over output positions of conv(c, W_c) (the part that varies with position; the bias b is the same
everywhere and a plain convolution has it too) divided by the root mean square of conv(x, W_x) over the
frames and positions (:attr:`CoordTerm.ratio`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from rl_coordconv.layers import CoordConv2d

if TYPE_CHECKING:
    from stable_baselines3.common.distributions import Distribution
    from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy

__all__ = ["CoordTerm", "categorical", "coordconv_layers", "coordinate_terms", "policy_batches"]


@dataclass(frozen=True)
class CoordTerm:
    """One CoordConv layer's coordinate term.

    :param layer: the layer's name in the policy (``features_extractor.cnn.0``)
    :param maps: conv(coords, W_c) + b, shape ``(filters, H_out, W_out)``
    :param bias: b, shape ``(filters,)`` (zeros for a layer without bias)
    :param coord_rms: root mean square over positions of conv(coords, W_c), shape ``(filters,)``
    :param coord_span: max - min over positions of the maps, shape ``(filters,)``
    :param image_rms: root mean square of conv(x, W_x) over the frames and positions, shape ``(filters,)``
    :param input_shape: the layer's input ``(C, H, W)`` without the coordinate channels
    """

    layer: str
    maps: np.ndarray
    bias: np.ndarray
    coord_rms: np.ndarray
    coord_span: np.ndarray
    image_rms: np.ndarray
    input_shape: tuple[int, int, int]

    @property
    def ratio(self) -> np.ndarray:
        """coord_rms / image_rms per filter, shape ``(filters,)`` (inf where the image term is exactly 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.image_rms > 0, self.coord_rms / np.maximum(self.image_rms, 1e-300), np.inf)


def coordconv_layers(policy: torch.nn.Module) -> list[tuple[str, CoordConv2d]]:
    """Every CoordConv layer in a policy, in module order (a shared extractor is listed once).

    :param policy: an SB3 policy (or any module)
    :return: (name, layer) pairs; empty for NatureCNN
    """
    return [(name, module) for name, module in policy.named_modules() if isinstance(module, CoordConv2d)]


def policy_batches(policy: BasePolicy, observations: np.ndarray, batch_size: int = 256) -> Iterator[torch.Tensor]:
    """Yield the observations as policy-ready tensors, ``batch_size`` at a time.

    :param policy: an SB3 policy
    :param observations: uint8 observations ``(N, C, H, W)``
    :param batch_size: observations per batch
    :return: an iterator over tensors on the policy's device

    The batches are made C-contiguous first: torch picks its convolution kernel by memory layout, and a
    transposed view (what ``VecTransposeImage`` returns) would be computed by another kernel, whose
    results differ in the last bits.
    """
    for start in range(0, len(observations), batch_size):
        tensor, _ = policy.obs_to_tensor(np.ascontiguousarray(observations[start : start + batch_size]))
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"expected image observations, the policy made {type(tensor).__name__} of them")
        yield tensor


def categorical(distribution: Distribution) -> torch.distributions.Categorical:
    """The torch distribution behind an SB3 action distribution, which must be over discrete actions.

    :param distribution: what ``policy.get_distribution`` returns
    :return: its :class:`torch.distributions.Categorical`
    :raises ValueError: for another action space (inspections read action probabilities; Atari's are discrete)
    """
    inner = getattr(distribution, "distribution", None)
    if not isinstance(inner, torch.distributions.Categorical):
        raise ValueError(f"inspections need a discrete action space, got {type(distribution).__name__}")
    return inner


@torch.no_grad()
def coordinate_terms(policy: ActorCriticPolicy, observations: np.ndarray, batch_size: int = 256) -> list[CoordTerm]:
    """Compute every CoordConv layer's coordinate term and its size relative to the image term.

    The policy's features are computed on ``observations`` (as the policy computes them, with its own
    preprocessing); a hook on each CoordConv layer accumulates the image term's squares per filter.

    :param policy: an SB3 actor-critic policy
    :param observations: uint8 observations ``(N, C, H, W)`` of the run's own game
    :param batch_size: observations per forward pass
    :return: one :class:`CoordTerm` per CoordConv layer; empty when the policy has none
    """
    layers = coordconv_layers(policy)
    if not layers:
        return []
    sums = {name: torch.zeros(layer.out_channels, dtype=torch.float64) for name, layer in layers}
    counts = dict.fromkeys(sums, 0)
    shapes: dict[str, tuple[int, int, int]] = {}
    handles = []

    def hook_for(name: str, layer: CoordConv2d) -> Callable[[torch.nn.Module, tuple[torch.Tensor, ...]], None]:
        def hook(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            x = inputs[0]
            image_term = layer._conv_forward(x, layer.image_weight, None)
            squares = image_term.double().pow(2).sum(dim=(0, 2, 3))
            sums[name] = sums[name] + squares.cpu()
            counts[name] += image_term.shape[0] * image_term.shape[2] * image_term.shape[3]
            shapes[name] = (int(x.shape[1]), int(x.shape[2]), int(x.shape[3]))

        return hook

    try:
        for name, layer in layers:
            handles.append(layer.register_forward_pre_hook(hook_for(name, layer)))
        for batch in policy_batches(policy, observations, batch_size):
            policy.extract_features(batch)
    finally:
        for handle in handles:
            handle.remove()

    terms = []
    for name, layer in layers:
        _, height, width = shapes[name]
        weight = layer.weight
        grid = layer.add_coords.grid(height, width, weight.device, weight.dtype)
        coord = layer._conv_forward(grid, layer.coord_weight, None)[0].double()
        bias = layer.bias.double() if layer.bias is not None else torch.zeros(layer.out_channels, dtype=torch.float64)
        maps = coord + bias.view(-1, 1, 1)
        flat = maps.flatten(1)
        terms.append(
            CoordTerm(
                layer=name,
                maps=maps.cpu().numpy(),
                bias=bias.cpu().numpy(),
                coord_rms=coord.pow(2).mean(dim=(1, 2)).sqrt().cpu().numpy(),
                coord_span=(flat.max(dim=1).values - flat.min(dim=1).values).cpu().numpy(),
                image_rms=(sums[name] / counts[name]).sqrt().cpu().numpy(),
                input_shape=shapes[name],
            )
        )
    return terms
