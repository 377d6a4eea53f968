"""CoordConv layers in pure torch (no Stable-Baselines3 import).

CoordConv (Liu et al., "An Intriguing Failing of Convolutional Neural Networks and the CoordConv
Solution", NeurIPS 2018, arXiv:1807.03247) is a convolution whose input carries extra, fixed channels
holding each pixel's coordinates. The convention here follows the official TensorFlow layer
(uber-research/CoordConv, ``AddCoords``) with its non-square bug fixed:

- channels are appended after the input, in the order **x**, **y** and, with ``with_r``, **r**;
- **x** varies along the width W: -1 at column 0, +1 at column W-1;
- **y** varies along the height H: -1 at row 0, +1 at row H-1;
- each axis is scaled by its OWN length minus one (the official code divides each axis by the other
  one's size, so non-square inputs leave [-1, 1]); an axis of length 1 gives 0;
- **r** = sqrt(x^2 + y^2), centred on the image centre, so r lies in [0, sqrt(2)] (some PyTorch
  ports shift it by 0.5, off-centre).

How :class:`CoordConv2d` starts (``coord_init``), the one rule for every CoordConv layer of this package:

- ``"zeros"`` (the default): the image weights are an ordinary ``nn.Conv2d(in_channels, ...)`` weight,
  drawn exactly as the plain convolution it replaces draws them (the same shape, so the same random
  numbers, in the constructor and in any re-initialisation such as SB3's orthogonal one), and the
  coordinate weights are a separate parameter that starts at zero and draws nothing from the random
  stream. At initialisation the layer therefore computes the plain convolution, and a network built
  with it at a given seed holds the plain network's weights at that seed: the two differ only in what
  the coordinate weights learn.
- ``"joint"``: one weight over the concatenated [input, coordinates] channels, drawn together as one
  ``nn.Conv2d(in_channels + 2 [+ 1], ...)``: the layout before this rule (results/atari100k's runs
  used it). Its image weights come out smaller (an orthogonal draw over more columns) and every later
  draw from the same stream is shifted.

``constant=True`` gives the control of the same shape: the extra channels hold constants (each the root
mean square of the coordinate channel it replaces), so the layer has the same parameters and as much
extra input, but no position information.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Literal

import torch
from torch import nn

__all__ = ["coordinate_grid", "AddCoords", "CoordConv2d", "COORD_INITS"]

_size_2_t = int | tuple[int, int]
PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]
CoordInit = Literal["zeros", "joint"]

#: The initialisation rules of :class:`CoordConv2d` (see the module docstring); the first is the default.
COORD_INITS: tuple[str, ...] = ("zeros", "joint")


def _pair(value: tuple[int, ...]) -> tuple[int, int]:
    """A 2-D convolution's (height, width) setting, as ``nn.Conv2d`` stores it."""
    return (value[0], value[1])


def coordinate_grid(
    height: int,
    width: int,
    with_r: bool = False,
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Return the coordinate channels for one ``height`` x ``width`` image.

    Values are computed in float64 and cast once, so every dtype gets the correctly rounded value
    (the ends are exactly -1 and +1).

    :param height: image height H (rows), at least 1
    :param width: image width W (columns), at least 1
    :param with_r: add the radius channel r = sqrt(x^2 + y^2)
    :param dtype: dtype of the result
    :param device: device of the result
    :return: tensor of shape (1, 2 or 3, H, W): channels x, y (, r)
    """
    if height < 1 or width < 1:
        raise ValueError(f"coordinate_grid needs a positive height and width, got {height}x{width}")

    def axis(n: int) -> torch.Tensor:
        if n == 1:
            return torch.zeros(1, dtype=torch.float64)
        return torch.arange(n, dtype=torch.float64) * (2.0 / (n - 1)) - 1.0

    x = axis(width).view(1, width).expand(height, width)
    y = axis(height).view(height, 1).expand(height, width)
    channels = [x, y]
    if with_r:
        channels.append(torch.sqrt(x * x + y * y))
    return torch.stack(channels).unsqueeze(0).to(device=device, dtype=dtype)


class AddCoords(nn.Module):
    """Append coordinate channels to a batch of images: (N, C, H, W) -> (N, C + 2 [+ 1], H, W).

    The layer of Liu et al. 2018 (arXiv:1807.03247, section 3); see the module docstring for the
    convention. The grid takes the input's device and dtype; it is built once per
    (height, width, device, dtype) and kept in a small cache that is not part of the state dict.

    With ``constant=True`` it is the control of the same shape: each appended channel holds one constant,
    the root mean square of the coordinate channel it stands for (computed for the image's size), so the
    extra input has the coordinates' energy but says nothing about position.

    :param with_r: also append the radius channel r = sqrt(x^2 + y^2)
    :param constant: append constant channels instead of coordinates (a control)
    """

    #: how many distinct (size, device, dtype) grids are kept
    cache_size: int = 8

    def __init__(self, with_r: bool = False, constant: bool = False) -> None:
        super().__init__()
        self.with_r = bool(with_r)
        self.constant = bool(constant)
        self._grids: OrderedDict[tuple[int, int, torch.device, torch.dtype], torch.Tensor] = OrderedDict()

    @property
    def coord_channels(self) -> int:
        """Number of channels this layer appends (2, or 3 with r)."""
        return 3 if self.with_r else 2

    def grid(self, height: int, width: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        """Return the cached (1, coord_channels, H, W) grid for this size, device and dtype.

        :param height: image height
        :param width: image width
        :param device: device of the grid
        :param dtype: dtype of the grid
        :return: the grid (do not modify it in place)
        """
        key = (int(height), int(width), torch.device(device), dtype)
        grid = self._grids.get(key)
        if grid is None:
            if self.constant:
                exact = coordinate_grid(height, width, self.with_r, dtype=torch.float64)
                rms = exact.pow(2).mean(dim=(2, 3), keepdim=True).sqrt()
                grid = rms.expand_as(exact).to(device=device, dtype=dtype).contiguous()
            else:
                grid = coordinate_grid(height, width, self.with_r, dtype=dtype, device=device)
            self._grids[key] = grid
            while len(self._grids) > self.cache_size:
                self._grids.popitem(last=False)
        else:
            self._grids.move_to_end(key)
        return grid

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """:param x: images (N, C, H, W)
        :return: (N, C + coord_channels, H, W)
        """
        if x.dim() != 4:
            raise ValueError(f"AddCoords expects a 4-d (N, C, H, W) batch, got shape {tuple(x.shape)}")
        n, _, h, w = x.shape
        grid = self.grid(h, w, x.device, x.dtype)
        return torch.cat([x, grid.expand(n, -1, -1, -1)], dim=1)

    def extra_repr(self) -> str:
        return f"with_r={self.with_r}" + (", constant=True" if self.constant else "")


class CoordConv2d(nn.Conv2d):
    """A drop-in for :class:`torch.nn.Conv2d` that convolves [input, x, y (, r)] (Liu et al. 2018).

    It takes ``in_channels`` input channels, like the ``nn.Conv2d`` it replaces. How its weights are laid
    out and start is ``coord_init`` (module docstring):

    - ``"zeros"`` (default): :attr:`weight` is the plain convolution's weight (out, in_channels, kH, kW),
      drawn as ``nn.Conv2d(in_channels, ...)`` draws it, so tools that treat ``nn.Conv2d`` modules (SB3's
      orthogonal initialisation) draw it exactly as for the plain layer; :attr:`weight_coords`
      (out, 2 [+ 1], kH, kW) holds the coordinate weights, zero at first. The layer starts as the plain
      convolution.
    - ``"joint"``: ONE :attr:`weight` of shape (out, in_channels + 2 [+ 1], kH, kW), the weight of a plain
      convolution over the concatenated input, drawn (and re-initialised) as one.

    Either way :attr:`image_weight` and :attr:`coord_weight` are the two parts, there are no unused
    parameters, and :meth:`load_state_dict` takes a state dict of either layout (same function).

    The forward pass never concatenates. Convolution is linear, so
    conv([x, c]) = conv(x, W_x) + conv(c, W_c) + b, and the coordinate term is the same for every image
    of the batch: it is computed once per call on a single (1, 2 [+ 1], H, W) grid, together with the
    bias, and broadcast-added in place to the image term. Outputs and gradients equal those of the
    concatenation reference :meth:`as_conv2d` applied to :class:`AddCoords` output; this includes the
    padded border, because the coordinate channels are padded the same way (zeros, reflect, replicate
    or circular) as they would be after concatenation.

    :param in_channels: channels of the input images (without coordinates)
    :param out_channels: output channels
    :param kernel_size: as for ``nn.Conv2d``
    :param stride: as for ``nn.Conv2d``
    :param padding: as for ``nn.Conv2d`` (ints, pairs, "valid" or "same")
    :param dilation: as for ``nn.Conv2d``
    :param bias: whether to learn an additive bias
    :param padding_mode: "zeros", "reflect", "replicate" or "circular"
    :param with_r: also use the radius channel r
    :param groups: only 1 is supported (coordinates are shared by every output channel)
    :param device: device of the parameters
    :param dtype: dtype of the parameters
    :param coord_init: ``"zeros"`` (image weights drawn as the plain layer's, coordinate weights at zero)
        or ``"joint"`` (one weight over image and coordinate channels, drawn together)
    :param constant: the control: constant extra channels instead of coordinates (:class:`AddCoords`)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _size_2_t,
        stride: _size_2_t = 1,
        padding: _size_2_t | str = 0,
        dilation: _size_2_t = 1,
        bias: bool = True,
        padding_mode: PaddingMode = "zeros",
        with_r: bool = False,
        groups: int = 1,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        coord_init: CoordInit = "zeros",
        constant: bool = False,
    ) -> None:
        if groups != 1:
            raise ValueError(
                f"CoordConv2d supports groups=1 only, got groups={groups}: the coordinate channels "
                "feed every output channel, which grouped convolution cannot express"
            )
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(f"CoordConv2d needs in_channels >= 1, got {in_channels!r}")
        if coord_init not in COORD_INITS:
            raise ValueError(f"coord_init={coord_init!r} is not understood; use one of {', '.join(COORD_INITS)}")
        add_coords = AddCoords(with_r, constant=constant)
        joint = coord_init == "joint"
        super().__init__(
            in_channels + (add_coords.coord_channels if joint else 0),
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=1,
            bias=bias,
            padding_mode=padding_mode,
            device=device,
            dtype=dtype,
        )
        # The layer's interface takes the images' channels; the weights also cover the coordinates.
        self.in_channels = in_channels
        self.with_r = bool(with_r)
        self.constant = bool(constant)
        self.coord_init: str = coord_init
        self.add_coords = add_coords
        self.weight_coords: nn.Parameter | None
        if joint:
            self.register_parameter("weight_coords", None)
        else:
            shape = (out_channels, add_coords.coord_channels, *self.weight.shape[2:])
            zeros = torch.zeros(shape, device=self.weight.device, dtype=self.weight.dtype)
            self.weight_coords = nn.Parameter(zeros)  # drawn from no random stream

    @property
    def coord_channels(self) -> int:
        """Number of coordinate channels (2, or 3 with r)."""
        return self.add_coords.coord_channels

    @property
    def image_weight(self) -> torch.Tensor:
        """The weights that read the input images: (out, in_channels, kH, kW)."""
        return self.weight if self.weight_coords is not None else self.weight[:, : self.in_channels]

    @property
    def coord_weight(self) -> torch.Tensor:
        """The weights that read the coordinates: (out, coord_channels, kH, kW)."""
        return self.weight_coords if self.weight_coords is not None else self.weight[:, self.in_channels :]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """:param x: images (N, in_channels, H, W)
        :return: (N, out_channels, H', W'), equal to ``as_conv2d()(AddCoords(with_r)(x))``
        """
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"CoordConv2d({self.in_channels}, ...) expects (N, {self.in_channels}, H, W) input, "
                f"got shape {tuple(x.shape)}"
            )
        if self.weight.dtype != x.dtype:
            raise TypeError(f"input dtype {x.dtype} does not match the layer's dtype {self.weight.dtype}")
        grid = self.add_coords.grid(x.shape[2], x.shape[3], x.device, x.dtype)
        image_term = self._conv_forward(x, self.image_weight, None)
        coord_term = self._conv_forward(grid, self.coord_weight, self.bias)
        return image_term.add_(coord_term)

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ) -> None:
        """Accept a state dict of the other layout: split a joint weight, or join split weights."""
        weight_key, coords_key = prefix + "weight", prefix + "weight_coords"
        weight = state_dict.get(weight_key)
        if weight is not None and weight.dim() == 4:
            full = self.in_channels + self.coord_channels
            if self.weight_coords is not None and weight.shape[1] == full and coords_key not in state_dict:
                state_dict = dict(state_dict)
                state_dict[weight_key] = weight[:, : self.in_channels]
                state_dict[coords_key] = weight[:, self.in_channels :]
            elif self.weight_coords is None and coords_key in state_dict and weight.shape[1] == self.in_channels:
                state_dict = dict(state_dict)
                state_dict[weight_key] = torch.cat([weight, state_dict.pop(coords_key)], dim=1)
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )

    def as_conv2d(self) -> nn.Conv2d:
        """Return the plain ``nn.Conv2d`` over in_channels + coord_channels holding the same weights.

        ``layer(x)`` equals ``layer.as_conv2d()(AddCoords(layer.with_r)(x))`` to float tolerance. The
        returned module has its own copy of the parameters.

        :return: the concatenation reference
        """
        kernel, stride, dilation = (_pair(v) for v in (self.kernel_size, self.stride, self.dilation))
        padding = self.padding if isinstance(self.padding, str) else _pair(self.padding)
        conv = nn.Conv2d(
            self.in_channels + self.coord_channels,
            self.out_channels,
            kernel,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=1,
            bias=self.bias is not None,
            padding_mode=self.padding_mode,
            device=self.weight.device,
            dtype=self.weight.dtype,
        )
        with torch.no_grad():
            conv.weight.copy_(torch.cat([self.image_weight, self.coord_weight], dim=1))
            if self.bias is not None and conv.bias is not None:
                conv.bias.copy_(self.bias)
        return conv

    def extra_repr(self) -> str:
        extra = f", with_r={self.with_r}, coord_init={self.coord_init!r}"
        return super().extra_repr() + extra + (", constant=True" if self.constant else "")
