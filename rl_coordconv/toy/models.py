"""Convolution and CoordConv models for the coordinate tasks of Liu et al. 2018 (arXiv:1807.03247).

Two tasks, each with a plain-convolution model and a CoordConv model "in the spirit of the paper"
(its section 4 and appendix):

- **classification** (Cartesian -> pixel): input the centre (x, y) in [-1, 1], shape (N, 2); output
  one logit per pixel, shape (N, canvas * canvas), for a softmax over all pixels.

  * :class:`DeconvClassifier`: the paper's baseline, a stack of stride-2 transposed convolutions from
    the 1x1 input up to canvas x canvas.
  * :class:`CoordConvClassifier`: the coordinates tiled over the canvas, one CoordConv layer, then
    1x1 convolutions down to one logit per pixel. Each pixel compares the input (x, y) with its own
    coordinates, which is all the task needs.

- **regression** (pixel -> Cartesian): input the rendered image (N, 1, canvas, canvas); output the
  centre (x, y) in [-1, 1], shape (N, 2).

  * :class:`ConvRegressor`: convolutions, max-pooling and a dense head.
  * :class:`CoordConvRegressor`: CoordConv then 1x1 convolutions to two channels, then a global
    max-pool. With no ReLU (the authors' retrospective: their first working model had none) the
    whole network is ``max over pixels of (a * image + b * x + c * y + d)``, which can read the
    coordinate channels exactly at the lit pixel. ``relu`` places ReLUs to test the sensitivity the
    retrospective reports.

Every model's size is its :func:`count_parameters`. :func:`build_model` maps (task, name) to a model.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from rl_coordconv.errors import UserError, check_name
from rl_coordconv.layers import CoordConv2d
from rl_coordconv.toy.data import CANVAS

__all__ = [
    "TASKS",
    "MODEL_NAMES",
    "RELU_PLACEMENTS",
    "INITS",
    "DeconvClassifier",
    "CoordConvClassifier",
    "ConvRegressor",
    "CoordConvRegressor",
    "build_model",
    "count_parameters",
]

#: The two supervised coordinate tasks.
TASKS: tuple[str, ...] = ("classification", "regression")
#: The two model families of each task.
MODEL_NAMES: tuple[str, ...] = ("conv", "coordconv")
#: Where :class:`CoordConvRegressor` may put ReLUs.
RELU_PLACEMENTS: tuple[str, ...] = ("none", "hidden", "all")
#: How :class:`CoordConvRegressor` may initialise its weights.
INITS: tuple[str, ...] = ("detector", "positive", "pytorch")


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars in ``model``.

    :param model: any module
    :return: the count
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _check_canvas(canvas: int) -> int:
    if canvas < 2 or canvas & (canvas - 1):
        raise UserError(f"the deconvolution model needs a power-of-two canvas (2, 4, ..., 64), got {canvas}")
    return canvas


class DeconvClassifier(nn.Module):
    """The paper's convolutional baseline for coordinate classification (Liu et al. 2018, section 4.1).

    The (x, y) input is a 1x1 image with 2 channels; each transposed convolution (kernel 4, stride 2,
    padding 1) doubles the side, with a ReLU after each but the last, up to one canvas x canvas logit
    map. Channels go ``width, width, ..., width // 2`` from 1x1 to canvas/2 x canvas/2.

    :param canvas: side of the output in pixels, a power of two
    :param width: channels of the widest layers
    """

    def __init__(self, canvas: int = CANVAS, width: int = 64) -> None:
        super().__init__()
        _check_canvas(canvas)
        if width < 2:
            raise UserError(f"width must be at least 2, got {width}")
        self.canvas = canvas
        n_layers = canvas.bit_length() - 1  # 1 -> 2 -> ... -> canvas
        channels = [2] + [width if i < n_layers - 2 else width // 2 for i in range(n_layers - 1)] + [1]
        layers: list[nn.Module] = []
        for i in range(n_layers):
            layers.append(nn.ConvTranspose2d(channels[i], channels[i + 1], 4, stride=2, padding=1))
            if i < n_layers - 1:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, xy: torch.Tensor) -> torch.Tensor:
        """:param xy: (N, 2) centres in [-1, 1]
        :return: (N, canvas * canvas) logits, flat index y * canvas + x
        """
        return self.net(xy.view(-1, 2, 1, 1)).flatten(1)


class CoordConvClassifier(nn.Module):
    """The CoordConv model for coordinate classification (Liu et al. 2018, section 4.1).

    The input (x, y) is tiled into a (N, 2, canvas, canvas) image; a 1x1 :class:`CoordConv2d` adds the
    pixel's own coordinates, then ``depth`` 1x1 convolutions with ReLUs lead to one logit per pixel.
    Every pixel sees only (x, y, i, j), so the model learns one small function and applies it
    everywhere: it cannot memorise positions, and so generalises to unseen quadrants.

    :param canvas: side of the output in pixels
    :param width: channels of the hidden layers
    :param depth: number of hidden 1x1 convolutions after the CoordConv layer
    """

    def __init__(self, canvas: int = CANVAS, width: int = 8, depth: int = 2) -> None:
        super().__init__()
        if width < 1 or depth < 0:
            raise UserError(f"width must be >= 1 and depth >= 0, got width={width}, depth={depth}")
        self.canvas = canvas
        # The toy's figures (experiments/toy.md) were drawn with the joint layout: keep it.
        layers: list[nn.Module] = [CoordConv2d(2, width, 1, coord_init="joint"), nn.ReLU()]
        for _ in range(depth):
            layers += [nn.Conv2d(width, width, 1), nn.ReLU()]
        layers.append(nn.Conv2d(width, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, xy: torch.Tensor) -> torch.Tensor:
        """:param xy: (N, 2) centres in [-1, 1]
        :return: (N, canvas * canvas) logits, flat index y * canvas + x
        """
        # channels-last memory makes the 1x1 convolutions two to four times faster on a CPU; the
        # values are the same as in the default layout.
        tiled = xy.view(-1, 2, 1, 1).expand(-1, -1, self.canvas, self.canvas)
        return self.net(tiled.contiguous(memory_format=torch.channels_last)).flatten(1)


class ConvRegressor(nn.Module):
    """A convolutional baseline for coordinate regression (Liu et al. 2018, section 4.2).

    ``n_blocks`` blocks of [3x3 convolution, ReLU, 2x2 max-pool] halve the image each time; a dense
    layer with ReLU and a linear output give (x, y). The output layer size is found by a trial
    forward pass.

    :param canvas: side of the input in pixels
    :param width: channels of the first block (doubling each block, at most 4 * width)
    :param n_blocks: number of conv + pool blocks
    :param hidden: units of the dense hidden layer
    """

    def __init__(self, canvas: int = CANVAS, width: int = 16, n_blocks: int = 4, hidden: int = 64) -> None:
        super().__init__()
        if canvas >> n_blocks < 1:
            raise UserError(f"{n_blocks} pooling blocks need a canvas of at least {2**n_blocks}, got {canvas}")
        layers: list[nn.Module] = []
        in_ch = 1
        for i in range(n_blocks):
            out_ch = width * min(2**i, 4)
            layers += [nn.Conv2d(in_ch, out_ch, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            in_ch = out_ch
        layers.append(nn.Flatten())
        self.features = nn.Sequential(*layers)
        with torch.no_grad():
            n_flat = self.features(torch.zeros(1, 1, canvas, canvas)).shape[1]
        self.head = nn.Sequential(nn.Linear(n_flat, hidden), nn.ReLU(), nn.Linear(hidden, 2))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """:param images: (N, 1, canvas, canvas)
        :return: (N, 2) centres (x, y) in [-1, 1]
        """
        return self.head(self.features(images))


class CoordConvRegressor(nn.Module):
    """The CoordConv model for coordinate regression (Liu et al. 2018, section 4.2 and retrospective).

    A 1x1 :class:`CoordConv2d` reads [image, x, y] into ``width`` channels, ``depth`` hidden 1x1
    convolutions follow, a last 1x1 convolution gives 2 channels, and a global max-pool over the canvas
    gives (x, y). With the defaults (no ReLU, depth 0) that is 8 * 3 + 8 + 2 * 8 + 2 = 50 parameters,
    and the model is ``max over pixels of (a * image + b * x + c * y + d)`` per output: it can read the
    coordinate channels exactly at the lit pixel, on any part of the canvas.

    ``relu`` places ReLUs: "none" (the authors' first working model had none), "hidden" (after every
    layer but the last) or "all" (also after the last, before the max-pool: the output can no longer
    be negative, which half of the [-1, 1] range needs).

    ``init`` decides whether gradient descent finds that solution. The max-pool passes gradient only
    to the pixel that wins it, so the object has to win from the start, and keep winning:

    - "detector" (default): the CoordConv layer's image weights start at +``gain`` and its biases at
      -``gain``, so each channel starts as "0 + coordinates on the object, about -gain elsewhere"; every
      later weight starts at the absolute value of its PyTorch initialisation, so the object stays the
      maximum of every output map. Only the coordinate weights keep random signs.
    - "positive": image weights and later weights at the absolute value of PyTorch's initialisation,
      biases unchanged. The object starts as a small bump, but the image weight also acts as an
      offset, and gradient that lowers an over-estimate shrinks it until the background wins.
    - "pytorch": PyTorch's default initialisation. Each output starts with the object as a bump or a dip at
      random; one that starts with a dip never sees the object and learns a constant.

    :param canvas: side of the input in pixels (the model works on any size)
    :param width: channels of the CoordConv layer and the hidden layers
    :param depth: number of hidden 1x1 convolutions between the CoordConv layer and the output layer
    :param relu: "none", "hidden" or "all"
    :param init: "detector", "positive" or "pytorch"
    :param gain: the image weight of the "detector" initialisation; it must exceed the span of the
        coordinate term, so 4 (twice the span [-1, 1] of one channel) by default
    """

    def __init__(
        self,
        canvas: int = CANVAS,
        width: int = 8,
        depth: int = 0,
        relu: str = "none",
        init: str = "detector",
        gain: float = 4.0,
    ) -> None:
        super().__init__()
        relu = check_name("ReLU placement", relu, RELU_PLACEMENTS)
        init = check_name("initialisation", init, INITS)
        if width < 1 or depth < 0:
            raise UserError(f"width must be >= 1 and depth >= 0, got width={width}, depth={depth}")
        self.canvas = canvas
        self.relu = relu
        self.init = init
        first = CoordConv2d(1, width, 1, coord_init="joint")  # the layout experiments/toy.md used
        convs: list[nn.Conv2d] = [first] + [nn.Conv2d(width, width, 1) for _ in range(depth)]
        convs.append(nn.Conv2d(width, 2, 1))
        with torch.no_grad():
            if init == "detector":
                first.image_weight.fill_(gain)
                if first.bias is not None:  # (CoordConv2d has a bias unless asked otherwise)
                    first.bias.fill_(-gain)
            if init in ("detector", "positive"):
                first.image_weight.abs_()
                for conv in convs[1:]:
                    conv.weight.abs_()
        layers: list[nn.Module] = []
        for i, conv in enumerate(convs):
            layers.append(conv)
            last = i == len(convs) - 1
            if relu == "all" or (relu == "hidden" and not last):
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """:param images: (N, 1, H, W)
        :return: (N, 2) centres (x, y) in [-1, 1]
        """
        return torch.amax(self.net(images), dim=(2, 3))


_BUILDERS: dict[tuple[str, str], Callable[[int], nn.Module]] = {
    ("classification", "conv"): lambda canvas: DeconvClassifier(canvas),
    ("classification", "coordconv"): lambda canvas: CoordConvClassifier(canvas),
    ("regression", "conv"): lambda canvas: ConvRegressor(canvas),
    ("regression", "coordconv"): lambda canvas: CoordConvRegressor(canvas),
}


def build_model(task: str, model: str, canvas: int = CANVAS) -> nn.Module:
    """Build the default model of one (task, model family) cell with the current torch seed.

    :param task: "classification" or "regression"
    :param model: "conv" or "coordconv"
    :param canvas: side of the canvas in pixels
    :return: classification models map (N, 2) -> (N, canvas**2) logits; regression models map
        (N, 1, canvas, canvas) -> (N, 2)
    """
    task = check_name("task", task, TASKS)
    model = check_name("model", model, MODEL_NAMES)
    return _BUILDERS[(task, model)](canvas)
