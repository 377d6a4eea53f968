"""Argument checks shared by the whole package: numbers, names, paths, CPU and thread counts.

Every check returns the cleaned value or raises :class:`~rl_coordconv.errors.UserError` with one
sentence that says what was expected, so that the command line prints one line and library callers can
catch a ``ValueError``. Names are looked up with :func:`check_name` (close-match suggestions from
:func:`difflib.get_close_matches`, as rl-baselines3-zoo does for its environment ids).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from rl_coordconv.errors import UserError, check_name, normalize_name, unknown_name

__all__ = [
    "as_whole",
    "whole",
    "optional_whole",
    "number",
    "check_name",
    "normalize_name",
    "unknown_name",
    "existing_file",
    "output_folder",
    "available_cpus",
    "set_torch_threads",
    "torch_device",
]


def _floor_words(minimum: int) -> str:
    return "positive" if minimum == 1 else "non-negative" if minimum == 0 else f">= {minimum}"


def as_whole(value: Any) -> int | None:
    """The value as an ``int`` when it is a whole number (``3``, ``3.0``, a numpy integer; never a bool).

    :param value: any value
    :return: the ``int``, or None when the value is no whole number
    """
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        return None
    return int(value)


def whole(value: Any, name: str, minimum: int = 0) -> int:
    """Check a whole number (``3``, ``3.0`` or a numpy integer; never a bool) of at least ``minimum``.

    :param value: the value as given
    :param name: what it is, for the message (``"seed"``, ``"--timesteps"``)
    :param minimum: the smallest accepted value
    :return: the value as an ``int``
    :raises UserError: for anything else
    """
    number = as_whole(value)
    if number is None or number < minimum:
        raise UserError(f"{name} must be a {_floor_words(minimum)} whole number, got {value!r}")
    return number


def optional_whole(value: Any, name: str, minimum: int = 0) -> int | None:
    """Like :func:`whole`, but None passes through (a setting left at its default).

    :param value: the value as given, or None
    :param name: what it is, for the message
    :param minimum: the smallest accepted value
    :return: the value as an ``int``, or None
    :raises UserError: for anything but None or a whole number >= ``minimum``
    """
    return None if value is None else whole(value, name, minimum)


def number(value: Any, name: str, low: float | None = None, high: float | None = None) -> float:
    """Check a real number (not a bool, not NaN) within ``[low, high]``.

    :param value: the value as given
    :param name: what it is, for the message
    :param low: the smallest accepted value, if any
    :param high: the largest accepted value, if any
    :return: the value as a ``float``
    :raises UserError: for anything else
    """
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = value == value and (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        bounds = (
            f" in [{low:g}, {high:g}]"
            if low is not None and high is not None
            else f" of at least {low:g}"
            if low is not None
            else f" <= {high:g}"
            if high is not None
            else ""
        )
        raise UserError(f"{name} must be a number{bounds}, got {value!r}")
    return float(value)


def existing_file(path: str | os.PathLike[str], what: str) -> Path:
    """Check that ``path`` is an existing file.

    :param path: the path as given
    :param what: what the file is, for the message (``"experiment spec"``)
    :return: the path
    :raises UserError: when it is missing or a folder
    """
    path = Path(path)
    if not path.is_file():
        hint = " (it is a folder)" if path.is_dir() else ""
        raise UserError(f"{what} {str(path)!r} not found{hint}")
    return path


def output_folder(path: str | os.PathLike[str], what: str) -> Path:
    """Check that ``path`` can be used as a folder to write into (it is not an existing file).

    :param path: the path as given (it need not exist yet)
    :param what: what the folder is, for the message (``"--out"``)
    :return: the path
    :raises UserError: when a file is in the way
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"{what} {str(path)!r} is a file; pass a folder")
    return path


def available_cpus() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one).

    :return: at least 1
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def set_torch_threads(threads: int) -> int:
    """Bound torch's intra-op (and, when still possible, inter-op) thread pools for this process.

    :param threads: threads (at least 1)
    :return: the number set
    :raises UserError: for a number that is not a positive whole number
    """
    import torch

    threads = whole(threads, "threads", 1)
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # set already in this process, or parallel work has started: intra-op is what matters
        pass
    return threads


def torch_device(device: str) -> str:
    """Resolve a device name: ``auto`` (a CUDA GPU when torch sees one, else the CPU), ``cpu`` or ``cuda[:i]``.

    :param device: the name as given
    :return: ``"cpu"``, ``"cuda"`` or ``"cuda:i"``
    :raises UserError: for another name, or a CUDA device asked for where torch sees none
    """
    import torch

    text = str(device).strip().lower()
    if text == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if text == "cpu":
        return "cpu"
    if text == "cuda" or text.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise UserError(f"device {device!r} asked for, but torch sees no CUDA GPU; use --device cpu or auto")
        return text
    raise UserError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
