"""Published scores of the unmodified agents, for a sanity check of the ``nature`` baseline.

The table ships with the package (``rl_coordconv/data/published_scores.csv``): one row per (algorithm,
game, protocol, budget in agent steps) with the published whole-game score, the number of seeds behind
it, how it was measured (``eval``: the trained agent's evaluation games; ``train_last_100``: the last
100 training games) and its source. Today it holds the rl-baselines3-zoo Atari results for A2C and PPO
at 10M agent steps (Raffin et al., "Stable-Baselines3: Reliable Reinforcement Learning
Implementations", JMLR 2021; https://github.com/DLR-RM/rl-baselines3-zoo, ``benchmark.md``): single
runs, ``*NoFrameskip-v4`` games (this package's ``standard`` protocol).

A published number is shown only beside runs of the same algorithm, game, protocol and budget: a
score after 100k agent steps says nothing about one after 10M.
"""

from __future__ import annotations

import functools
import io
from importlib import resources

import pandas as pd

__all__ = ["published_scores", "matching_published"]

_COLUMNS = ("algo", "game", "protocol", "agent_steps", "score", "seeds", "score_kind", "source")


@functools.lru_cache(maxsize=1)
def _table() -> pd.DataFrame:
    text = resources.files("rl_coordconv.data").joinpath("published_scores.csv").read_text(encoding="utf-8")
    return pd.read_csv(io.StringIO(text), dtype={"agent_steps": "int64", "seeds": "int64"})


def published_scores() -> pd.DataFrame:
    """The packaged table of published scores.

    :return: a copy, columns ``algo, game, protocol, agent_steps, score, seeds, score_kind, source``
    """
    return _table().copy()


def matching_published(algo: str, game: str, protocol: str | None, agent_steps: int | None) -> pd.DataFrame:
    """Published scores for exactly this algorithm, game, protocol and budget.

    :param algo: ``a2c`` or ``ppo``
    :param game: canonical game name (``Breakout``)
    :param protocol: protocol name (``standard``), None when unrecorded (nothing matches)
    :param agent_steps: the runs' budget in agent steps, None when unrecorded (nothing matches)
    :return: the matching rows (possibly none)
    """
    table = _table()
    if protocol is None or agent_steps is None:
        return table.iloc[0:0].copy()
    hit = (
        (table["algo"] == algo)
        & (table["game"] == game)
        & (table["protocol"] == protocol)
        & (table["agent_steps"] == int(agent_steps))
    )
    return table.loc[hit, list(_COLUMNS)].reset_index(drop=True)
