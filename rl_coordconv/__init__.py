"""rl-coordconv: CoordConv (Liu et al., NeurIPS 2018, arXiv:1807.03247) for Stable-Baselines3 Atari agents.

Top-level names:

- :class:`AddCoords`, :class:`CoordConv2d` (pure torch, :mod:`rl_coordconv.layers`);
- :class:`CoordConvNatureCNN`, :func:`policy_kwargs_for`, :func:`register_extractor`
  (SB3 features extractors, :mod:`rl_coordconv.extractors`);
- :func:`train` (one training run, :mod:`rl_coordconv.training`) and :class:`RunSettings` (what a run is,
  :mod:`rl_coordconv.settings`).

Every name but ``__version__`` is imported on first use, so ``import rl_coordconv`` imports no torch
(the command line's ``--help`` stays fast) and changes no environment variable (the package's own
processes set theirs where they start: :mod:`rl_coordconv.process_env`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rl_coordconv.errors import UserError
    from rl_coordconv.extractors import EXTRACTORS, CoordConvNatureCNN, policy_kwargs_for, register_extractor
    from rl_coordconv.layers import AddCoords, CoordConv2d
    from rl_coordconv.settings import RunSettings
    from rl_coordconv.training import train

#: The package's version: the one place it is written (pyproject.toml reads it from here).
__version__ = "0.1.0"

_LAZY = {
    "AddCoords": "rl_coordconv.layers",
    "CoordConv2d": "rl_coordconv.layers",
    "CoordConvNatureCNN": "rl_coordconv.extractors",
    "policy_kwargs_for": "rl_coordconv.extractors",
    "register_extractor": "rl_coordconv.extractors",
    "EXTRACTORS": "rl_coordconv.extractors",
    "train": "rl_coordconv.training",
    "RunSettings": "rl_coordconv.settings",
    "UserError": "rl_coordconv.errors",
}

__all__ = [
    "AddCoords",
    "CoordConv2d",
    "CoordConvNatureCNN",
    "policy_kwargs_for",
    "register_extractor",
    "EXTRACTORS",
    "train",
    "RunSettings",
    "UserError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rl_coordconv' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
