"""Train one model on one coordinate task and split (Liu et al. 2018, arXiv:1807.03247, section 4).

:func:`run_toy` is the whole experiment for one cell: enumerate the data, split it, build the model,
train it with Adam on shuffled mini-batches, and measure. One root seed drives everything: the
uniform split, the model's initial weights and the order of the mini-batches. With a fixed epoch
count (no time budget) and a fixed number of torch threads, the same seed gives the same numbers on
the same machine. A time budget stops training after the first epoch that ends past it, so the
number of epochs, and with it the numbers, depends on the machine's speed; the result records the
epochs done so ``epochs=N, time_budget=None`` reproduces it.

Metrics:

- classification: accuracy = the argmax pixel of the logits is the centre pixel;
- regression: the error is the Euclidean distance, in pixels, between the predicted and true centre;
  accuracy = the fraction of predictions within 0.5 pixel (so that rounding gives the right pixel).

Test metrics are measured after every epoch for the learning curve only; they never steer training.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from rl_coordconv.errors import UserError, check_name
from rl_coordconv.toy.data import CANVAS, SHAPES, SPLITS, CoordData, from_unit, make_data
from rl_coordconv.toy.models import (
    INITS,
    MODEL_NAMES,
    RELU_PLACEMENTS,
    TASKS,
    CoordConvRegressor,
    build_model,
    count_parameters,
)

__all__ = ["ToySettings", "DEFAULTS", "CurvePoint", "ToyResult", "settings_for", "run_toy", "evaluate"]


@dataclass(frozen=True)
class ToySettings:
    """Training settings of one cell.

    :param epochs: passes over the training set (the maximum when a time budget is set)
    :param lr: Adam learning rate
    :param batch_size: examples per update
    :param time_budget: seconds of training after which the current epoch is the last; None for none
    """

    epochs: int
    lr: float
    batch_size: int
    time_budget: float | None = None


#: Default settings per (task, model), the same on both splits. The conv models get nearly seven
#: times the CoordConv models' epochs (and each of their epochs takes longer), never fewer; Adam at
#: 1e-3 is the usual rate for their size, 1e-2 suits the CoordConv models' few parameters.
DEFAULTS: dict[tuple[str, str], ToySettings] = {
    ("classification", "conv"): ToySettings(epochs=20, lr=1e-3, batch_size=32),
    ("classification", "coordconv"): ToySettings(epochs=3, lr=1e-2, batch_size=32),
    ("regression", "conv"): ToySettings(epochs=20, lr=1e-3, batch_size=32),
    ("regression", "coordconv"): ToySettings(epochs=3, lr=1e-2, batch_size=32),
}


def settings_for(
    task: str,
    model: str,
    epochs: int | None = None,
    lr: float | None = None,
    batch_size: int | None = None,
    time_budget: float | None = None,
) -> ToySettings:
    """The default settings of a cell with some fields overridden.

    :param task: "classification" or "regression"
    :param model: "conv" or "coordconv"
    :param epochs: override of the epoch count (>= 1)
    :param lr: override of the learning rate (> 0)
    :param batch_size: override of the batch size (>= 1)
    :param time_budget: seconds of training (> 0); None keeps no budget
    :return: the settings
    """
    task = check_name("task", task, TASKS)
    model = check_name("model", model, MODEL_NAMES)
    base = DEFAULTS[(task, model)]
    settings = ToySettings(
        epochs=base.epochs if epochs is None else int(epochs),
        lr=base.lr if lr is None else float(lr),
        batch_size=base.batch_size if batch_size is None else int(batch_size),
        time_budget=time_budget,
    )
    if settings.epochs < 1:
        raise UserError(f"epochs must be at least 1, got {settings.epochs}")
    if not settings.lr > 0 or not math.isfinite(settings.lr):
        raise UserError(f"the learning rate must be a positive number, got {settings.lr}")
    if settings.batch_size < 1:
        raise UserError(f"the batch size must be at least 1, got {settings.batch_size}")
    if time_budget is not None and not time_budget > 0:
        raise UserError(f"the time budget must be a positive number of seconds, got {time_budget}")
    return settings


@dataclass(frozen=True)
class CurvePoint:
    """The state after one epoch.

    :param epoch: epochs done (1-based)
    :param train_seconds: seconds spent in training updates so far (evaluation excluded)
    :param train_accuracy: accuracy on the mini-batches of this epoch, as they were trained
    :param test_accuracy: accuracy on the test set after the epoch
    :param loss: mean training loss of the epoch
    """

    epoch: int
    train_seconds: float
    train_accuracy: float
    test_accuracy: float
    loss: float


@dataclass
class ToyResult:
    """What one run measured.

    :param task: "classification" or "regression"
    :param split: "uniform" or "quadrant"
    :param model: "conv" or "coordconv"
    :param shape: "pixel" or "square"
    :param seed: the root seed
    :param canvas: side of the canvas in pixels
    :param params: trainable parameters of the model
    :param epochs: epochs done
    :param train_accuracy: final accuracy on the whole training set
    :param test_accuracy: final accuracy on the test set
    :param seconds: wall time of the whole run (data, training and every evaluation)
    :param train_seconds: wall time of the training updates only
    :param seconds_to_99: training seconds until the test accuracy first reached 99% (from the
        curve; None if it never did)
    :param n_train: training examples
    :param n_test: test examples
    :param lr: learning rate
    :param batch_size: batch size
    :param time_budget: the time budget, if any
    :param mean_pixel_error: regression only: mean Euclidean test error in pixels
    :param train_mean_pixel_error: regression only: mean Euclidean training error in pixels
    :param variant: model variant when not the default (e.g. "relu=hidden,init=default")
    :param curve: one :class:`CurvePoint` per epoch
    :param test_positions: (n_test, 2) true test centres in pixels
    :param test_predictions: (n_test, 2) predicted test centres in pixels (the argmax pixel for
        classification)
    """

    task: str
    split: str
    model: str
    shape: str
    seed: int
    canvas: int
    params: int
    epochs: int
    train_accuracy: float
    test_accuracy: float
    seconds: float
    train_seconds: float
    seconds_to_99: float | None
    n_train: int
    n_test: int
    lr: float
    batch_size: int
    time_budget: float | None
    mean_pixel_error: float | None = None
    train_mean_pixel_error: float | None = None
    variant: str = ""
    curve: list[CurvePoint] = field(default_factory=list)
    test_positions: np.ndarray | None = field(default=None, repr=False)
    test_predictions: np.ndarray | None = field(default=None, repr=False)

    def summary(self) -> dict[str, Any]:
        """The scalar results as a JSON-ready dict (no curve, no predictions).

        Keys: task, split, model, shape, seed, canvas, params, epochs, train_accuracy, test_accuracy,
        seconds, train_seconds, seconds_to_99, n_train, n_test, lr, batch_size, time_budget, variant,
        and for regression mean_pixel_error and train_mean_pixel_error.

        :return: the dict
        """
        out = {k: v for k, v in asdict(self).items() if k not in ("curve", "test_positions", "test_predictions")}
        if self.task != "regression":
            out.pop("mean_pixel_error")
            out.pop("train_mean_pixel_error")
        return out


def _targets(task: str, data: CoordData, which: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets) of a subset: coords -> pixel index, or images -> coords."""
    if task == "classification":
        return data.coords(which), data.pixel_index(which)
    return data.images(which), data.coords(which)


def _predict_pixels(task: str, out: torch.Tensor, canvas: int) -> torch.Tensor:
    """Model outputs -> predicted centres in pixels, (N, 2) float."""
    if task == "classification":
        flat = out.argmax(dim=1)
        return torch.stack([flat % canvas, flat // canvas], dim=1).float()
    return from_unit(out, canvas)


def _correct(task: str, out: torch.Tensor, target: torch.Tensor, canvas: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-example (correct, pixel error)."""
    if task == "classification":
        hit = out.argmax(dim=1) == target
        return hit, (~hit).float()
    err = torch.linalg.vector_norm(from_unit(out, canvas) - from_unit(target, canvas), dim=1)
    return err < 0.5, err


@torch.no_grad()
def evaluate(
    task: str,
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    canvas: int = CANVAS,
    batch_size: int = 256,
) -> tuple[float, float, torch.Tensor]:
    """Measure a model on a whole subset.

    :param task: "classification" or "regression"
    :param model: the model (put in eval mode here)
    :param inputs: (N, 2) coordinates (classification) or (N, 1, H, W) images (regression)
    :param targets: (N,) pixel indices (classification) or (N, 2) coordinates in [-1, 1] (regression)
    :param canvas: side of the canvas in pixels
    :param batch_size: examples per forward pass
    :return: (accuracy, mean pixel error, (N, 2) predicted centres in pixels); for classification the
        "pixel error" is the error rate
    """
    model.eval()
    hits, errors, preds = [], [], []
    for start in range(0, len(inputs), batch_size):
        out = model(inputs[start : start + batch_size])
        hit, err = _correct(task, out, targets[start : start + batch_size], canvas)
        hits.append(hit)
        errors.append(err)
        preds.append(_predict_pixels(task, out, canvas))
    model.train()
    return torch.cat(hits).float().mean().item(), torch.cat(errors).mean().item(), torch.cat(preds)


def run_toy(
    task: str,
    split: str,
    model: str,
    *,
    shape: str = "pixel",
    seed: int = 0,
    settings: ToySettings | None = None,
    relu: str | None = None,
    init: str | None = None,
    canvas: int = CANVAS,
    progress: Callable[[CurvePoint], None] | None = None,
) -> ToyResult:
    """Train one model on one task and split, and measure it.

    :param task: "classification" (Cartesian -> one-hot pixel) or "regression" (image -> Cartesian)
    :param split: "uniform" (random 80/20) or "quadrant" (bottom-right quadrant held out)
    :param model: "conv" or "coordconv"
    :param shape: "pixel" or "square" (9x9)
    :param seed: root seed of the split, the initial weights and the batch order
    :param settings: training settings; :data:`DEFAULTS` of the cell when None
    :param relu: regression CoordConv only: ReLU placement "none", "hidden" or "all" (default "none")
    :param init: regression CoordConv only: initialisation "detector", "positive" or "pytorch"
        (default "detector"), see :class:`~rl_coordconv.toy.models.CoordConvRegressor`
    :param canvas: side of the canvas in pixels
    :param progress: called with each epoch's :class:`CurvePoint`
    :return: the measurements
    """
    started = time.perf_counter()
    task = check_name("task", task, TASKS)
    split = check_name("split", split, SPLITS)
    model = check_name("model", model, MODEL_NAMES)
    shape = check_name("shape", shape, SHAPES)
    variant = {k: v for k, v in (("relu", relu), ("init", init)) if v is not None}
    if variant and (task, model) != ("regression", "coordconv"):
        raise UserError("--relu and --init are options of the regression CoordConv model only")
    if relu is not None:
        relu = check_name("ReLU placement", relu, RELU_PLACEMENTS)
    if init is not None:
        init = check_name("initialisation", init, INITS)
    settings = settings or settings_for(task, model)

    # One root seed -> independent streams for the split, the weights and the batch order.
    split_seed, init_seed, order_seed = np.random.SeedSequence(seed).generate_state(3)
    data = make_data(split, shape, int(split_seed), canvas)
    torch.manual_seed(int(init_seed))
    net: nn.Module
    if variant:
        net = CoordConvRegressor(canvas, relu=relu or "none", init=init or "detector")
    else:
        net = build_model(task, model, canvas)
    order = torch.Generator().manual_seed(int(order_seed))

    x_train, y_train = _targets(task, data, "train")
    x_test, y_test = _targets(task, data, "test")
    loss_fn: nn.Module = nn.CrossEntropyLoss() if task == "classification" else nn.MSELoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=settings.lr)

    curve: list[CurvePoint] = []
    train_seconds = 0.0
    seconds_to_99: float | None = None
    net.train()
    for epoch in range(1, settings.epochs + 1):
        tick = time.perf_counter()
        perm = torch.randperm(len(x_train), generator=order)
        total_loss, total_hits = 0.0, 0
        for start in range(0, len(perm), settings.batch_size):
            idx = perm[start : start + settings.batch_size]
            out = net(x_train[idx])
            loss = loss_fn(out, y_train[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(idx)
            total_hits += int(_correct(task, out.detach(), y_train[idx], canvas)[0].sum())
        train_seconds += time.perf_counter() - tick
        test_acc, _, _ = evaluate(task, net, x_test, y_test, canvas)
        point = CurvePoint(epoch, train_seconds, total_hits / len(perm), test_acc, total_loss / len(perm))
        curve.append(point)
        if seconds_to_99 is None and test_acc >= 0.99:
            seconds_to_99 = train_seconds
        if progress is not None:
            progress(point)
        if settings.time_budget is not None and train_seconds >= settings.time_budget:
            break

    train_acc, train_err, _ = evaluate(task, net, x_train, y_train, canvas)
    test_acc, test_err, preds = evaluate(task, net, x_test, y_test, canvas)
    regression = task == "regression"
    return ToyResult(
        task=task,
        split=split,
        model=model,
        shape=shape,
        seed=int(seed),
        canvas=int(canvas),
        params=count_parameters(net),
        epochs=len(curve),
        train_accuracy=train_acc,
        test_accuracy=test_acc,
        seconds=time.perf_counter() - started,
        train_seconds=train_seconds,
        seconds_to_99=seconds_to_99,
        n_train=len(x_train),
        n_test=len(x_test),
        lr=settings.lr,
        batch_size=settings.batch_size,
        time_budget=settings.time_budget,
        mean_pixel_error=test_err if regression else None,
        train_mean_pixel_error=train_err if regression else None,
        variant=",".join(f"{k}={v}" for k, v in variant.items()),
        curve=curve,
        test_positions=data.positions[data.test].astype(np.float64),
        test_predictions=preds.numpy().astype(np.float64),
    )
