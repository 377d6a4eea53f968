"""rl-coordconv: CoordConv (Liu et al., NeurIPS 2018, arXiv:1807.03247) for Stable-Baselines3 Atari agents.

Top-level names:

- :class:`AddCoords`, :class:`CoordConv2d` (pure torch, :mod:`rl_coordconv.layers`);
- :class:`CoordConvNatureCNN`, :func:`policy_kwargs_for`, :func:`register_extractor`
  (SB3 features extractors, :mod:`rl_coordconv.extractors`);
- :func:`train` (one training run, :mod:`rl_coordconv.training`).

Everything but the layers is imported on first use, so ``import rl_coordconv.layers`` needs torch only.
"""

from __future__ import annotations

import importlib
import os

# OpenMP threads that spin while waiting (OMP_WAIT_POLICY=ACTIVE, the OpenMP specification's section on
# the wait policy) make torch several times slower when other processes share the cores; the README's
# cost section has the numbers. Must be set before torch is first imported; a value the user set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
from typing import Any

from rl_coordconv.layers import AddCoords, CoordConv2d

__version__ = "0.1.0"

_LAZY = {
    "CoordConvNatureCNN": "rl_coordconv.extractors",
    "policy_kwargs_for": "rl_coordconv.extractors",
    "register_extractor": "rl_coordconv.extractors",
    "EXTRACTORS": "rl_coordconv.extractors",
    "train": "rl_coordconv.training",
    "UserError": "rl_coordconv.errors",
}

__all__ = ["AddCoords", "CoordConv2d", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rl_coordconv' has no attribute {name!r}")
