"""Human-normalised Atari scores: ``(score - random) / (human - random)``.

The random and human reference scores of all 57 Atari games ship with the package
(``rl_coordconv/data/atari_scores.csv``, the DeepMind table as used by openrlbenchmark and by
Agarwal et al. 2021, "Deep Reinforcement Learning at the Edge of the Statistical Precipice", NeurIPS).
A human-normalised score of 0 is random play and 1 is the human reference.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Sequence
from importlib import resources

import numpy as np

from rl_coordconv.atari.games import fold_game_name, game_name_keys
from rl_coordconv.errors import unknown_name

__all__ = ["reference_scores", "canonical_game", "human_normalize", "human_normalized_score"]


@functools.lru_cache(maxsize=1)
def reference_scores() -> dict[str, tuple[float, float]]:
    """Read the packaged random and human scores.

    :return: game (canonical name, e.g. ``"Pong"``) -> (random score, human score)
    """
    text = resources.files("rl_coordconv.data").joinpath("atari_scores.csv").read_text(encoding="utf-8")
    return {row["game"]: (float(row["random"]), float(row["human"])) for row in csv.DictReader(io.StringIO(text))}


@functools.lru_cache(maxsize=1)
def _folded_table() -> dict[str, str]:
    return {fold_game_name(game): game for game in reference_scores()}


def canonical_game(name: str) -> str | None:
    """Map a game name as written in a config to the reference table's name, without ale-py.

    Run folders record canonical names (``Pong``, ``MsPacman``), which are the table's; other spellings
    (``"pong"``, ``"ALE/Pong-v5"``, ``"PongNoFrameskip-v4"``) fold the way
    :func:`rl_coordconv.atari.canonical_game` folds them, but against the table instead of ale-py's
    registry, so analysis runs where ale-py is not installed.

    :param name: the game name
    :return: the canonical name, or None when the game is not in the table
    """
    if not isinstance(name, str) or not name.strip():
        return None
    table = reference_scores()
    if name in table:
        return name
    folded = _folded_table()
    for key in game_name_keys(name):
        if key in folded:
            return folded[key]
    return None


def human_normalized_score(score: float, game: str) -> float:
    """Human-normalise one score.

    :param score: a whole-game, unclipped score
    :param game: the game's name (see :func:`canonical_game`)
    :return: ``(score - random) / (human - random)``
    :raises UserError: when the game is not in the reference table
    """
    return float(human_normalize(np.array([[score]], dtype=float), [game])[0, 0])


def human_normalize(scores: np.ndarray, games: Sequence[str]) -> np.ndarray:
    """Human-normalise a score matrix column by column.

    :param scores: raw scores, shape ``(num_runs, num_games)``; column ``j`` belongs to ``games[j]``
    :param games: the game of each column, ``len(games) == num_games``
    :return: the human-normalised scores, shape ``(num_runs, num_games)``
    :raises UserError: when a game is not in the reference table
    :raises ValueError: when the shapes disagree
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2 or scores.shape[1] != len(games):
        raise ValueError(
            f"scores must have shape (num_runs, {len(games)}) to match the games given; got {scores.shape}"
        )
    table = reference_scores()
    randoms = np.empty(len(games))
    humans = np.empty(len(games))
    for j, game in enumerate(games):
        canon = canonical_game(game)
        if canon is None:
            raise unknown_name("game (no human/random reference score)", game, table)
        randoms[j], humans[j] = table[canon]
    return (scores - randoms) / (humans - randoms)
