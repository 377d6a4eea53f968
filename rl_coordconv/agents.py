"""Removed at merge: the names that files of other branches still import from here.

``sweep/spec.py`` (``ALGOS``, ``load_preset``), ``runfolder.py`` (``canonical_algo``) and ``run_plan.py``
(``Preset``) import them from ``rl_coordconv.algorithms`` and ``rl_coordconv.preset`` once merged.
"""

from __future__ import annotations

from rl_coordconv.algorithms import ALGOS, get_algorithm
from rl_coordconv.preset import Preset, load_preset

__all__ = ["ALGOS", "Preset", "canonical_algo", "load_preset"]


def canonical_algo(algo: str) -> str:
    """Removed at merge: ``rl_coordconv.algorithms.get_algorithm(algo).name``.

    :param algo: the name as given
    :return: the registered name
    """
    return get_algorithm(algo).name
