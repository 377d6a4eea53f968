"""Not-so-Clevr coordinate data: every position of one shape on a canvas, and the paper's two splits.

The supervised coordinate tasks of Liu et al., "An Intriguing Failing of Convolutional Neural Networks
and the CoordConv Solution" (NeurIPS 2018, arXiv:1807.03247, section 4) place one shape on a 64x64
canvas. Here the data set is *every* valid position of that shape, enumerated, so nothing is
downloaded and nothing is sampled twice:

- ``shape="pixel"``: a single pixel; its position can be any of the 64 * 64 = 4096 pixels;
- ``shape="square"``: a 9x9 square, as in the paper; its centre can be any pixel at least 4 pixels
  from the border, 56 * 56 = 3136 positions.

A position is the (x, y) pixel index of the shape's centre: x is the column (along the width), y the
row (along the height), the convention of :mod:`rl_coordconv.layers`.

Two splits, as in the paper (its figure 3):

- ``uniform``: a random 80/20 split of the positions (seeded);
- ``quadrant``: the positions whose centre lies in the bottom-right quadrant of the range of valid
  centres (x and y both in the upper half) are the test set; the other three quadrants train.

Everything is deterministic: the same seed gives the same split on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rl_coordconv.checks import as_whole
from rl_coordconv.errors import UserError, check_name, unknown_name

__all__ = [
    "CANVAS",
    "SQUARE_SIZE",
    "SHAPES",
    "SPLITS",
    "TEST_FRACTION",
    "CoordData",
    "positions",
    "split_indices",
    "render",
    "to_unit",
    "from_unit",
    "make_data",
    "check_canvas",
]

#: Side of the square canvas in pixels (the paper's 64).
CANVAS: int = 64
#: Side of the square shape in pixels (the paper's 9x9 squares).
SQUARE_SIZE: int = 9
#: Accepted shapes.
SHAPES: tuple[str, ...] = ("pixel", "square")
#: Accepted splits.
SPLITS: tuple[str, ...] = ("uniform", "quadrant")
#: Fraction of the positions held out by the uniform split.
TEST_FRACTION: float = 0.2


def check_canvas(canvas: int) -> int:
    """Check a canvas side: a power of two from 2 to 1024 (the models halve and double it).

    :param canvas: side of the canvas in pixels
    :return: the side
    :raises UserError: for anything else
    """
    side = as_whole(canvas)
    if side is None or side < 2 or side & (side - 1) or side > 1024:
        raise UserError(f"the canvas must be a power of two between 2 and 1024, got {canvas!r}")
    return side


def _check_shape(shape: str) -> str:
    shape = check_name("shape", shape, SHAPES)
    return shape


def _half(shape: str) -> int:
    """Half the side of the shape: the margin its centre keeps from the border."""
    return SQUARE_SIZE // 2 if shape == "square" else 0


def positions(shape: str = "pixel", canvas: int = CANVAS) -> np.ndarray:
    """Return every valid centre of ``shape`` on a ``canvas`` x ``canvas`` image, row by row.

    :param shape: "pixel" or "square" (a 9x9 square, whose centre keeps 4 pixels from the border)
    :param canvas: side of the canvas in pixels
    :return: int64 array (P, 2) of (x, y) pixel indices, ordered by y then x;
        P = canvas**2 for a pixel, (canvas - 8)**2 for a square
    """
    _check_shape(shape)
    half = _half(shape)
    if canvas < 2 * half + 2:
        raise UserError(f"a {canvas}x{canvas} canvas is too small for a {shape}; use at least {2 * half + 2}")
    axis = np.arange(half, canvas - half, dtype=np.int64)
    ys, xs = np.meshgrid(axis, axis, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def split_indices(
    pos: np.ndarray, split: str, seed: int = 0, shape: str = "pixel", canvas: int = CANVAS
) -> tuple[np.ndarray, np.ndarray]:
    """Split positions into train and test sets, as in the paper.

    ``uniform`` holds out ``round(0.2 * P)`` positions drawn without replacement by
    ``numpy.random.default_rng(seed)``; ``quadrant`` holds out every position with x and y both in the
    upper half of the valid centres (the bottom-right quadrant of the image) and ignores the seed.
    Both index arrays are sorted.

    :param pos: (P, 2) positions from :func:`positions`
    :param split: "uniform" or "quadrant"
    :param seed: seed of the uniform split
    :param shape: the shape the positions belong to ("pixel" or "square")
    :param canvas: side of the canvas in pixels
    :return: (train_indices, test_indices), int64 arrays into ``pos`` that partition range(P)
    """
    _check_shape(shape)
    n = len(pos)
    if split == "uniform":
        rng = np.random.default_rng(seed)
        n_test = int(round(TEST_FRACTION * n))
        test = np.sort(rng.permutation(n)[:n_test])
    elif split == "quadrant":
        half = _half(shape)
        middle = (half + (canvas - half)) // 2  # first centre of the upper half of the valid range
        test = np.flatnonzero((pos[:, 0] >= middle) & (pos[:, 1] >= middle))
    else:
        raise unknown_name("split", split, SPLITS)
    mask = np.ones(n, dtype=bool)
    mask[test] = False
    return np.flatnonzero(mask).astype(np.int64), test.astype(np.int64)


def render(pos: np.ndarray | torch.Tensor, shape: str = "pixel", canvas: int = CANVAS) -> torch.Tensor:
    """Draw each position as a white shape (1.0) on a black canvas (0.0).

    :param pos: (N, 2) (x, y) centres
    :param shape: "pixel" or "square"
    :param canvas: side of the canvas in pixels
    :return: float32 images (N, 1, canvas, canvas)
    """
    _check_shape(shape)
    pos = torch.as_tensor(pos, dtype=torch.int64)
    half = _half(shape)
    axis = torch.arange(canvas)
    x, y = pos[:, 0].view(-1, 1), pos[:, 1].view(-1, 1)
    cols = ((axis >= x - half) & (axis <= x + half)).float()  # (N, W)
    rows = ((axis >= y - half) & (axis <= y + half)).float()  # (N, H)
    return (rows.unsqueeze(2) * cols.unsqueeze(1)).unsqueeze(1)


def to_unit(pos: np.ndarray | torch.Tensor, canvas: int = CANVAS) -> torch.Tensor:
    """Map pixel indices to [-1, 1] the way :func:`rl_coordconv.layers.coordinate_grid` does.

    Pixel 0 maps to -1 and pixel ``canvas - 1`` to +1, so a network that reads a coordinate channel
    sees exactly the value it must output (or match).

    :param pos: (..., 2) pixel indices
    :param canvas: side of the canvas in pixels
    :return: float32 tensor of the same shape
    """
    return torch.as_tensor(pos, dtype=torch.float32) * (2.0 / (canvas - 1)) - 1.0


def from_unit(unit: torch.Tensor, canvas: int = CANVAS) -> torch.Tensor:
    """Inverse of :func:`to_unit`: [-1, 1] back to (fractional) pixel indices.

    :param unit: (..., 2) coordinates in [-1, 1]
    :param canvas: side of the canvas in pixels
    :return: float tensor of the same shape, in pixels
    """
    return (unit + 1.0) * ((canvas - 1) / 2.0)


@dataclass(frozen=True)
class CoordData:
    """One Not-so-Clevr data set with its split (Liu et al. 2018, arXiv:1807.03247).

    :param shape: "pixel" or "square"
    :param split: "uniform" or "quadrant"
    :param seed: the seed the split was drawn with
    :param canvas: side of the canvas in pixels
    :param positions: (P, 2) int64 (x, y) centres
    :param train: int64 indices into ``positions`` of the training set
    :param test: int64 indices into ``positions`` of the test set
    """

    shape: str
    split: str
    seed: int
    canvas: int
    positions: np.ndarray
    train: np.ndarray
    test: np.ndarray

    def coords(self, which: str) -> torch.Tensor:
        """The inputs of the classification task (and targets of regression).

        :param which: "train" or "test"
        :return: float32 (N, 2) centres in [-1, 1], see :func:`to_unit`
        """
        return to_unit(self.positions[self._indices(which)], self.canvas)

    def pixel_index(self, which: str) -> torch.Tensor:
        """The classification target: the flat index y * canvas + x of the centre pixel.

        :param which: "train" or "test"
        :return: int64 (N,)
        """
        pos = self.positions[self._indices(which)]
        return torch.as_tensor(pos[:, 1] * self.canvas + pos[:, 0], dtype=torch.int64)

    def images(self, which: str) -> torch.Tensor:
        """The inputs of the regression task: the rendered shapes.

        :param which: "train" or "test"
        :return: float32 (N, 1, canvas, canvas)
        """
        return render(self.positions[self._indices(which)], self.shape, self.canvas)

    def _indices(self, which: str) -> np.ndarray:
        if which == "train":
            return self.train
        if which == "test":
            return self.test
        raise unknown_name("subset", which, ("train", "test"))


def make_data(split: str, shape: str = "pixel", seed: int = 0, canvas: int = CANVAS) -> CoordData:
    """Enumerate every position of ``shape`` and split it.

    :param split: "uniform" (random 80/20) or "quadrant" (bottom-right quadrant held out)
    :param shape: "pixel" or "square"
    :param seed: seed of the uniform split
    :param canvas: side of the canvas in pixels
    :return: the data set
    """
    split = check_name("split", split, SPLITS)
    pos = positions(shape, canvas)
    train, test = split_indices(pos, split, seed, shape, canvas)
    return CoordData(shape, split, int(seed), int(canvas), pos, train, test)
