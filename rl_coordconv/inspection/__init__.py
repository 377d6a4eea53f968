"""Look inside trained agents: what the coordinate channels do, and where the policy looks.

- :func:`inspect_run` (``rl-coordconv inspect RUN_DIR``) writes ``RUN_DIR/inspect/``: the coordinate
  term of every CoordConv layer (:mod:`~rl_coordconv.inspection.coord_terms`), the translation probe
  (:mod:`~rl_coordconv.inspection.probe`), perturbation saliency
  (:mod:`~rl_coordconv.inspection.saliency`) and one game as a GIF, all on frames of the run's own game
  played by its own policy (:mod:`~rl_coordconv.inspection.source`);
- :func:`~rl_coordconv.inspection.compare.inspect_section` (``rl-coordconv analyze --inspect``) puts the
  inspections of a sweep side by side, one row per extractor and game.

The package is named ``inspection`` so that it does not shadow the standard library's ``inspect``.
"""

from __future__ import annotations

from rl_coordconv.inspection.run import INSPECT_DIR, Inspection, compute_inspection, inspect_run, write_inspection

__all__ = ["INSPECT_DIR", "Inspection", "compute_inspection", "inspect_run", "write_inspection"]
