"""Stable-Baselines3 features extractors with CoordConv, and the helper that keeps comparisons fair.

:class:`CoordConvNatureCNN` is SB3's :class:`~stable_baselines3.common.torch_layers.NatureCNN`
(Mnih et al., "Human-level control through deep reinforcement learning", Nature 2015) with
:class:`~rl_coordconv.layers.CoordConv2d` (Liu et al., NeurIPS 2018, arXiv:1807.03247) in place of
the chosen convolutions. Nothing else differs: same layers, same ReLUs, same flatten and linear layer,
same parameter names, so the parameters of a CoordConv agent are the NatureCNN agent's plus exactly the
coordinate weights.

:func:`policy_kwargs_for` returns the one-line ``policy_kwargs`` for an A2C/PPO ``CnnPolicy``.
SB3 gives empty ``net_arch`` heads only when ``features_extractor_class == NatureCNN`` and silently adds
[64, 64] MLP heads for any other extractor (``ActorCriticPolicy.__init__``); the helper sets
``net_arch=[]`` so a CoordConv policy has NatureCNN's heads.

Equal arms by construction: with ``coord_init="zeros"`` (the default, :mod:`rl_coordconv.layers`) a
CoordConv policy built at a seed holds every weight of the NatureCNN policy built at that seed, value for
value (image weights of the first convolution, later layers, heads), and its coordinate weights start at
zero, so the two agents start as the same function. SB3's orthogonal initialisation draws every Conv2d
and Linear weight in module order from one torch stream; a first convolution drawn over 4 + 2 channels
(``coord_init="joint"``, the layout before this rule, used by results/atari100k) gets smaller image
weights and shifts every later draw.

Names map to extractors through :data:`EXTRACTORS` (no ``eval`` of strings): ``nature``,
``coordconv``, ``coordconv_all``, ``coordconv_r`` and the control ``coordconv_const`` (the same layer
with two constant channels instead of x and y); :func:`register_extractor` adds your own. A sweep's workers
register yours again from its class's import path (:mod:`rl_coordconv.plugins`).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.preprocessing import is_image_space_channels_first
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, NatureCNN
from torch import nn

from rl_coordconv.errors import UserError, normalize_name
from rl_coordconv.layers import COORD_INITS, CoordConv2d
from rl_coordconv.registry import Registry

__all__ = [
    "CoordConvNatureCNN",
    "ExtractorSpec",
    "EXTRACTORS",
    "register_extractor",
    "get_extractor",
    "policy_kwargs_for",
    "parameter_counts",
    "NATURE_MIN_SIZE",
    "BUILTIN_EXTRACTORS",
]

#: NatureCNN's three convolutions as (out_channels, kernel, stride).
NATURE_CONVS: tuple[tuple[int, int, int], ...] = ((32, 8, 4), (64, 4, 2), (64, 3, 1))


def _smallest_input() -> int:
    """Smallest image side for which NatureCNN's three valid convolutions leave at least one pixel."""
    size = 1
    for _, kernel, stride in reversed(NATURE_CONVS):
        size = (size - 1) * stride + kernel
    return size


#: 36: the smallest height/width NatureCNN (and CoordConvNatureCNN) accepts.
NATURE_MIN_SIZE: int = _smallest_input()

CoordLayers = str | tuple[int, ...] | list[int]


def _resolve_coord_layers(coord_layers: CoordLayers) -> tuple[int, ...]:
    n = len(NATURE_CONVS)
    if isinstance(coord_layers, str):
        named = {"first": (0,), "all": tuple(range(n)), "none": ()}
        if coord_layers not in named:
            raise ValueError(
                f"coord_layers={coord_layers!r} is not understood; use 'first', 'all', 'none' "
                f"or a tuple of layer indices from {tuple(range(n))}"
            )
        return named[coord_layers]
    try:
        layers = tuple(int(i) for i in coord_layers)
    except (TypeError, ValueError):
        raise ValueError(
            f"coord_layers={coord_layers!r} is not understood; use 'first', 'all' or a tuple of "
            f"layer indices from {tuple(range(n))}"
        ) from None
    bad = [i for i in layers if not 0 <= i < n]
    if bad or len(set(layers)) != len(layers):
        raise ValueError(f"coord_layers={coord_layers!r} must hold distinct layer indices from {tuple(range(n))}")
    return tuple(sorted(layers))


def _check_image_space(observation_space: Any, normalized_image: bool, who: str) -> tuple[int, int, int]:
    """Validate an image observation space as NatureCNN does, but with actionable ValueErrors."""
    if not isinstance(observation_space, spaces.Box):
        raise ValueError(
            f"{who} needs a gymnasium.spaces.Box image observation space, got {observation_space!r}; "
            "use CnnPolicy only with image observations (MlpPolicy/MultiInputPolicy otherwise)"
        )
    shape = observation_space.shape
    if len(shape) != 3:
        raise ValueError(
            f"{who} needs channel-first images of shape (C, H, W), got an observation space of shape {shape}"
        )
    if not is_image_space_channels_first(observation_space):
        raise ValueError(
            f"{who} got observation shape {shape}, which looks channel-last (H, W, C); SB3 transposes "
            "image envs itself, so wrap a custom env in VecTransposeImage (or transpose to (C, H, W))"
        )
    if not normalized_image:
        if observation_space.dtype != np.uint8:
            raise ValueError(
                f"{who} got {observation_space.dtype} images; uint8 images in [0, 255] are divided by 255 "
                "by SB3, float images that are already normalised need normalized_image=True "
                "(or normalize_images=False in the policy kwargs)"
            )
        if np.any(observation_space.low != 0) or np.any(observation_space.high != 255):
            raise ValueError(
                f"{who} needs uint8 images with bounds [0, 255]; for other bounds pass normalized_image=True "
                "and normalise the images yourself"
            )
    c, h, w = (int(s) for s in shape)
    if h < NATURE_MIN_SIZE or w < NATURE_MIN_SIZE:
        raise ValueError(
            f"{who} got {h}x{w} images, too small for NatureCNN's three convolutions "
            f"(8x8 stride 4, 4x4 stride 2, 3x3 stride 1); the smallest that works is "
            f"{NATURE_MIN_SIZE}x{NATURE_MIN_SIZE}"
        )
    return c, h, w


class CoordConvNatureCNN(NatureCNN):
    """NatureCNN (Mnih et al. 2015) with CoordConv (Liu et al. 2018, arXiv:1807.03247) where asked.

    Layers, in order, exactly as SB3's NatureCNN: Conv(C, 32, 8, stride 4), ReLU, Conv(32, 64, 4,
    stride 2), ReLU, Conv(64, 64, 3, stride 1), ReLU, Flatten, Linear(n, features_dim), ReLU. Each
    convolution listed in ``coord_layers`` is a :class:`~rl_coordconv.layers.CoordConv2d` (its input
    gets x, y (, r) channels in [-1, 1]); with ``coord_layers=()`` the network IS NatureCNN, parameter
    for parameter. The flattened size ``n`` comes from a trial forward pass, so non-square images work.

    The class subclasses NatureCNN (without running NatureCNN's constructor) so that SB3 treats it as
    NatureCNN wherever it tests ``issubclass``: with ``normalize_images=False`` the policy passes
    ``normalized_image=True`` for you, as it does for NatureCNN. SB3's equality test that picks empty
    heads does NOT see it as NatureCNN: use :func:`policy_kwargs_for`.

    :param observation_space: channel-first image space (C, H, W); uint8 in [0, 255] unless
        ``normalized_image``
    :param features_dim: size of the output features (the linear layer's width)
    :param normalized_image: the images are floats already normalised (skips dtype and bounds checks)
    :param coord_layers: which convolutions get coordinates: "first", "all", or indices from (0, 1, 2)
    :param with_r: also append the radius channel r = sqrt(x^2 + y^2) in every CoordConv layer
    :param coord_init: ``"zeros"`` (default: every NatureCNN weight drawn as NatureCNN draws it, the
        coordinate weights at zero) or ``"joint"`` (each CoordConv weight drawn as one convolution over
        image and coordinate channels; the layout of results/atari100k)
    :param constant_channels: the control: the CoordConv layers get constant channels (the root mean
        square of each coordinate channel) instead of coordinates, so the network has the CoordConv
        agent's parameters and extra input but no position information
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        features_dim: int = 512,
        normalized_image: bool = False,
        coord_layers: CoordLayers = "first",
        with_r: bool = False,
        coord_init: str = "zeros",
        constant_channels: bool = False,
    ) -> None:
        who = type(self).__name__
        if not isinstance(features_dim, (int, np.integer)) or features_dim < 1:
            raise ValueError(f"{who} needs features_dim >= 1, got {features_dim!r}")
        if coord_init not in COORD_INITS:
            raise ValueError(f"{who} got coord_init={coord_init!r}; use one of {', '.join(COORD_INITS)}")
        layers = _resolve_coord_layers(coord_layers)
        channels, _, _ = _check_image_space(observation_space, normalized_image, who)
        BaseFeaturesExtractor.__init__(self, observation_space, int(features_dim))
        self.coord_layers = layers
        self.with_r = bool(with_r)
        self.coord_init = coord_init
        self.constant_channels = bool(constant_channels)
        modules: list[nn.Module] = []
        in_ch = channels
        for index, (out_ch, kernel, stride) in enumerate(NATURE_CONVS):
            if index in layers:
                conv: nn.Module = CoordConv2d(
                    in_ch,
                    out_ch,
                    kernel,
                    stride=stride,
                    padding=0,
                    with_r=with_r,
                    coord_init=coord_init,  # type: ignore[arg-type]  # checked above
                    constant=constant_channels,
                )
            else:
                conv = nn.Conv2d(in_ch, out_ch, kernel_size=kernel, stride=stride, padding=0)
            modules += [conv, nn.ReLU()]
            in_ch = out_ch
        modules.append(nn.Flatten())
        self.cnn = nn.Sequential(*modules)
        with torch.no_grad():
            sample = torch.as_tensor(observation_space.sample()[None]).float()
            n_flatten = self.cnn(sample).shape[1]
        self.linear = nn.Sequential(nn.Linear(n_flatten, int(features_dim)), nn.ReLU())

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """:param observations: (N, C, H, W) float images (SB3 has already divided uint8 by 255)
        :return: features (N, features_dim)
        """
        return self.linear(self.cnn(observations))

    def extra_repr(self) -> str:
        extra = ", constant_channels=True" if self.constant_channels else ""
        return f"coord_layers={self.coord_layers}, with_r={self.with_r}, coord_init={self.coord_init!r}{extra}"


@dataclass(frozen=True)
class ExtractorSpec:
    """A named extractor: its class and the constructor kwargs the name stands for.

    :param name: registry name
    :param cls: a BaseFeaturesExtractor subclass
    :param kwargs: constructor kwargs implied by the name (a user's kwargs are merged over them)
    :param description: one line for listings
    """

    name: str
    cls: type[BaseFeaturesExtractor]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


#: name -> ExtractorSpec (a :class:`~rl_coordconv.registry.Registry`). Extend with :func:`register_extractor`.
EXTRACTORS: Registry[ExtractorSpec] = Registry("extractor")


def register_extractor(
    name: str,
    cls: type[BaseFeaturesExtractor],
    description: str = "",
    **kwargs: Any,
) -> ExtractorSpec:
    """Register an extractor under ``name`` so specs, the CLI and :func:`policy_kwargs_for` can use it.

    Call it at the top level of a module of yours (a plug-in, :mod:`rl_coordconv.plugins`) and import that
    module: a sweep's worker processes then register the same name from the class's import path.

    :param name: registry name (folded to lower case, ``-`` read as ``_``)
    :param cls: a BaseFeaturesExtractor subclass taking ``observation_space`` first
    :param description: one line for listings
    :param kwargs: constructor kwargs the name implies
    :return: the registered spec
    """
    if not (isinstance(cls, type) and issubclass(cls, BaseFeaturesExtractor)):
        raise TypeError(f"register_extractor needs a BaseFeaturesExtractor subclass, got {cls!r}")
    key = normalize_name(name)
    spec = ExtractorSpec(key, cls, dict(kwargs), description)
    return EXTRACTORS.register(key, spec)


register_extractor("nature", NatureCNN, "SB3's NatureCNN (Mnih et al. 2015), the baseline")
register_extractor(
    "coordconv", CoordConvNatureCNN, "NatureCNN with x, y coordinates on the first conv layer", coord_layers="first"
)
register_extractor(
    "coordconv_all", CoordConvNatureCNN, "NatureCNN with x, y coordinates on every conv layer", coord_layers="all"
)
register_extractor(
    "coordconv_r",
    CoordConvNatureCNN,
    "NatureCNN with x, y and radius r on the first conv layer",
    coord_layers="first",
    with_r=True,
)
register_extractor(
    "coordconv_const",
    CoordConvNatureCNN,
    "control: coordconv's layer with two constant channels instead of x and y (no position)",
    coord_layers="first",
    constant_channels=True,
)


#: The extractors this module registers, as registered (a sweep ships any other to its workers).
BUILTIN_EXTRACTORS: Mapping[str, ExtractorSpec] = EXTRACTORS.builtin()


def get_extractor(name: str) -> ExtractorSpec:
    """Look up a registered extractor by name.

    :param name: e.g. "nature", "coordconv", "CoordConv-All"
    :return: its spec
    :raises UserError: for an unknown name, with the closest registered names
    """
    return EXTRACTORS.lookup(name)


def _accepted_kwargs(cls: type) -> set[str]:
    params = inspect.signature(cls).parameters  # the constructor's, without self
    return {p for p in params if p not in ("self", "observation_space")}


def policy_kwargs_for(extractor: str = "coordconv", **extractor_kwargs: Any) -> dict[str, Any]:
    """Return ``policy_kwargs`` for an SB3 A2C/PPO ``CnnPolicy`` that differs from NatureCNN only by coordinates.

    Example: ``PPO("CnnPolicy", env, policy_kwargs=policy_kwargs_for("coordconv"))``. The result sets
    ``features_extractor_class``, ``features_extractor_kwargs`` and ``net_arch=[]`` (NatureCNN's empty
    heads: without it SB3 adds [64, 64] MLP heads to any extractor that is not NatureCNN itself).

    :param extractor: a registered name (see :data:`EXTRACTORS`)
    :param extractor_kwargs: extra constructor kwargs (e.g. ``features_dim=256``), merged over the
        name's own
    :return: a fresh dict to pass as ``policy_kwargs``
    :raises UserError: for an unknown name or a kwarg the extractor does not take
    """
    spec = get_extractor(extractor)
    accepted = _accepted_kwargs(spec.cls)
    unknown = sorted(set(extractor_kwargs) - accepted)
    if unknown:
        raise UserError(
            f"extractor {spec.name!r} does not take {', '.join(unknown)}; it accepts {', '.join(sorted(accepted))}"
        )
    kwargs = {**spec.kwargs, **extractor_kwargs}
    return {
        "features_extractor_class": spec.cls,
        "features_extractor_kwargs": kwargs,
        "net_arch": [],
    }


def recorded_kwargs(cls: type, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The extractor kwargs as a run's ``config.yaml`` records them: ``kwargs`` plus the initialisation
    rule (``coord_init``) the class uses when they leave it out, so a record says how its weights were drawn.

    :param cls: the extractor class
    :param kwargs: its constructor kwargs (as :func:`policy_kwargs_for` returns them)
    :return: a fresh dict
    """
    out = dict(kwargs)
    params = inspect.signature(cls).parameters
    if "coord_init" in params and "coord_init" not in out:
        out["coord_init"] = params["coord_init"].default
    return out


def parameter_counts(shape: tuple[int, int, int] = (4, 84, 84)) -> dict[str, int]:
    """Count each registered extractor's parameters on ``uint8`` image observations of ``shape``.

    :param shape: channel-first observation shape (default: 4 stacked 84x84 Atari frames)
    :return: extractor name -> number of parameters, in registration order (``nature`` first)
    """
    import numpy as np
    import torch
    from gymnasium import spaces

    space = spaces.Box(0, 255, shape, np.uint8)
    counts = {}
    with torch.random.fork_rng(devices=[]):  # building the layers draws initial weights: leave no trace
        for name, spec in EXTRACTORS.items():
            model = spec.cls(space, **spec.kwargs)
            counts[name] = sum(p.numel() for p in model.parameters())
    return counts
