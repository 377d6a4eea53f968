"""Analysis of run folders: statistics (rliable, scipy), plots, report.

Layers, as in rliable (Agarwal et al. 2021, "Deep Reinforcement Learning at the Edge of the Statistical
Precipice", NeurIPS), computed first and rendered afterwards:

* :mod:`~rl_coordconv.analysis.stats` and :mod:`~rl_coordconv.analysis.normalize`: pure functions on
  score arrays ``(num_runs, num_games)`` (and ``(num_runs, num_games, num_points)`` for curves);
* :mod:`~rl_coordconv.analysis.load`: run folders -> :class:`~rl_coordconv.analysis.load.Run`;
  :mod:`~rl_coordconv.scores`: the one headline score per run;
  :mod:`~rl_coordconv.analysis.runset`: which runs enter which statistic (duplicates, unscored runs,
  games, seed counts); :mod:`~rl_coordconv.analysis.baselines`: published scores shipped with the package;
* :mod:`~rl_coordconv.analysis.compute`: runs -> :class:`~rl_coordconv.analysis.compute.Analysis`
  (tables and arrays, nothing written);
* :mod:`~rl_coordconv.analysis.plots` (axes in, axes out), :mod:`~rl_coordconv.analysis.figures` (PNG
  files from results), :mod:`~rl_coordconv.analysis.markdown` (text) and
  :mod:`~rl_coordconv.analysis.report` (:func:`~rl_coordconv.analysis.report.analyze`: a sweep folder ->
  ``report/``).

``from rl_coordconv.analysis import analyze`` works too; it is imported on first use, so importing this
package stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["analyze"]


def __getattr__(name: str) -> Any:
    if name == "analyze":
        from rl_coordconv.analysis.report import analyze

        return analyze
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
