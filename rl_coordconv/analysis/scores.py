"""The headline score, for the analysis modules that import it from here: :mod:`rl_coordconv.scores`.

The score kind lives below both stages (the sweep checks a spec's ``score``, the analysis computes it), so
the sweep need not import the analysis; this module only re-exports it.
"""

from __future__ import annotations

from rl_coordconv.scores import DEFAULT_SCORE, Score, ScoredRun, default_score, parse_score, resolve_score

__all__ = ["DEFAULT_SCORE", "Score", "ScoredRun", "parse_score", "default_score", "resolve_score"]
