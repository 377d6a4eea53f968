"""The headline score (below both the sweep and the analysis): the one number per run behind every aggregate, chosen up front and never switched.

A score is named the way an experiment spec names it:

* ``eval``: the mean whole-game score of the run's **last evaluation** (the trained policy playing
  ``evaluation.eval_episodes`` games), as the Atari 100k literature reports (Kaiser et al. 2019,
  "Model-Based Reinforcement Learning for Atari"; Agarwal et al. 2021);
* ``train_last_N`` (e.g. ``train_last_100``): the mean whole-game score of the run's **last N training
  games**, as Machado et al. 2018 ("Revisiting the Arcade Learning Environment", JAIR) recommend and
  CleanRL reports. A run that finished fewer than N games averages all of them; how many games each
  mean averaged is reported beside it.

Where the score comes from, first match wins: ``analyze --score``, the sweep's ``spec.yaml`` key
``score``, the default of the runs' protocol (:data:`DEFAULT_SCORE`). A run without the chosen score
(no evaluation, no finished game) is listed and left out; the score is never switched behind the
reader's back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from rl_coordconv.errors import UserError
from rl_coordconv.sweepfolder import SPEC_FILE

__all__ = ["DEFAULT_SCORE", "ScoredRun", "Score", "parse_score", "default_score", "resolve_score"]

#: The headline score each protocol promises (see :mod:`rl_coordconv.atari.protocols`): the standard
#: (zoo/SB3, Atari 100k) protocol reports a final evaluation, Machado et al. 2018 the last 100 training games.
DEFAULT_SCORE: dict[str, str] = {"standard": "eval", "machado": "train_last_100"}

_TRAIN = re.compile(r"train_last_(\d+)")


class ScoredRun(Protocol):
    """What a score reads of a run (:class:`rl_coordconv.analysis.load.Run` has it).

    ``episode_returns``: each training game's score, in the order they ended, shape ``(num_games,)``;
    ``eval_means``: each evaluation's mean score, shape ``(num_evaluations,)``; ``eval_games``: the games
    each evaluation played, shape ``(num_evaluations,)``.
    """

    @property
    def episode_returns(self) -> np.ndarray: ...

    @property
    def eval_means(self) -> np.ndarray: ...

    @property
    def eval_games(self) -> np.ndarray: ...


@dataclass(frozen=True)
class Score:
    """A headline score and where it was chosen.

    :param kind: ``"eval"`` or ``"train"``
    :param last_n: training games averaged (``kind == "train"``); 0 for ``"eval"``
    :param source: where the choice came from, for the report (``"--score"``, ``"spec.yaml"``, ...)
    """

    kind: str
    last_n: int = 0
    source: str = ""

    @property
    def name(self) -> str:
        """The spec's spelling: ``eval`` or ``train_last_N``."""
        return "eval" if self.kind == "eval" else f"train_last_{self.last_n}"

    @property
    def label(self) -> str:
        """A phrase for the report: ``last evaluation mean`` or ``mean of the last N training games``."""
        if self.kind == "eval":
            return "last evaluation mean"
        return f"mean of the last {self.last_n} training games"

    @property
    def missing(self) -> str:
        """What a run lacks when it has no such score."""
        return "no evaluation" if self.kind == "eval" else "no finished training game"

    def of(self, run: ScoredRun) -> tuple[float, int]:
        """The score of one run and the games behind it.

        :param run: the run
        :return: ``(score, games)``: NaN and 0 when the run has no such score; ``games`` is the number of
            training games averaged (``train_last_N``) or of evaluation games in the last evaluation (``eval``)
        """
        if self.kind == "eval":
            score = float(run.eval_means[-1]) if run.eval_means.size else math.nan
            return score, (int(run.eval_games[-1]) if math.isfinite(score) else 0)
        returns = run.episode_returns
        score = float(np.mean(returns[-self.last_n :])) if returns.size else math.nan
        return score, (min(self.last_n, int(returns.size)) if math.isfinite(score) else 0)


def parse_score(text: object, source: str = "") -> Score:
    """Read a score name: ``eval`` or ``train_last_N`` (N >= 1); ``train`` alone is not accepted.

    :param text: the name as written in a spec or on the command line
    :param source: where it was written, kept in the result
    :return: the score
    :raises UserError: for anything else, saying what is accepted
    """
    name = str(text).strip().lower() if isinstance(text, str) else None
    if name == "eval":
        return Score("eval", 0, source)
    match = _TRAIN.fullmatch(name or "")
    if match and int(match.group(1)) >= 1:
        return Score("train", int(match.group(1)), source)
    where = f"{source}: " if source else ""
    raise UserError(
        f"{where}score must be 'eval' (last evaluation mean) or 'train_last_N' such as 'train_last_100' (mean of "
        f"the last N training games); got {text!r}"
    )


def default_score(protocol: str) -> str:
    """The headline score a protocol promises (:data:`DEFAULT_SCORE`).

    :param protocol: a protocol name, e.g. ``standard``
    :return: ``eval`` or ``train_last_100``
    :raises UserError: for a protocol without a default
    """
    try:
        return DEFAULT_SCORE[protocol]
    except KeyError:
        raise UserError(
            f"protocol {protocol!r} has no default score; state one ('score: eval' or 'score: train_last_100')"
        ) from None


def resolve_score(override: str | None, spec_score: object, protocols: Sequence[str | None]) -> Score:
    """Choose the headline score: the override, else the spec's ``score``, else the protocol's default.

    :param override: ``analyze --score`` (None when not given)
    :param spec_score: the ``score`` key of the sweep's ``spec.yaml`` (None when absent)
    :param protocols: the protocol names of the runs (None where unrecorded)
    :return: the score, with its source
    :raises UserError: for an unreadable name, or when no score is stated and the runs' protocols have
        different defaults
    """
    if override is not None:
        return parse_score(override, "--score")
    if spec_score is not None:
        return parse_score(spec_score, SPEC_FILE)
    names = sorted({p for p in protocols if p})
    defaults = sorted({DEFAULT_SCORE.get(p, "eval") for p in names}) or ["eval"]
    if len(defaults) > 1:
        raise UserError(
            f"the runs use protocols {', '.join(names)}, whose default scores differ ({', '.join(defaults)}); "
            "choose one with --score eval or --score train_last_100"
        )
    where = f"default of the {names[0]} protocol" if len(names) == 1 else "default (no protocol recorded)"
    return parse_score(defaults[0], where)
