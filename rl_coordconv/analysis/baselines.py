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

Other comparators (another budget, numbers computed from released per-run data) come in as extra tables
in the same columns (:func:`read_published`, ``rl-coordconv analyze --published CSV``), for example
``experiments/published_100k/published_100k.csv`` for the atari100k study. Their ``score_kind`` and
``source`` are shown as written, so a derived number stays labelled as derived. An optional
``differences`` column says how the reference's protocol differs from this package's (frames, score,
implementation); the report quotes it beside the file each matched row came from (``file``).
"""

from __future__ import annotations

import functools
import io
import os
from importlib import resources
from pathlib import Path

import pandas as pd

from rl_coordconv.errors import UserError

__all__ = ["PACKAGED", "published_scores", "matching_published", "read_published"]

_COLUMNS = ("algo", "game", "protocol", "agent_steps", "score", "seeds", "score_kind", "source")
#: Columns a table may leave out; filled with "" when absent.
_OPTIONAL = ("differences",)
#: The packaged table's name in reports.
PACKAGED = "rl_coordconv/data/published_scores.csv"


@functools.lru_cache(maxsize=1)
def _table() -> pd.DataFrame:
    text = resources.files("rl_coordconv.data").joinpath("published_scores.csv").read_text(encoding="utf-8")
    return _with_provenance(pd.read_csv(io.StringIO(text), dtype={"agent_steps": "int64", "seeds": "int64"}), PACKAGED)


def _with_provenance(table: pd.DataFrame, file: str) -> pd.DataFrame:
    for column in _OPTIONAL:
        table[column] = table[column].fillna("").astype(str) if column in table.columns else ""
    table["file"] = file
    return table


def published_scores() -> pd.DataFrame:
    """The packaged table of published scores.

    :return: a copy, columns ``algo, game, protocol, agent_steps, score, seeds, score_kind, source,
        differences, file``
    """
    return _table().copy()


def read_published(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read an extra table of comparator scores, in the packaged table's columns.

    :param path: a CSV with the columns ``algo, game, protocol, agent_steps, score, seeds, score_kind,
        source`` and optionally ``differences`` (more columns are ignored)
    :return: its rows, in those columns, plus ``differences`` ("" when absent) and ``file`` (the path given)
    :raises UserError: when the file cannot be read, lacks a column or holds a non-numeric
        ``agent_steps``, ``score`` or ``seeds``
    """
    path = Path(path)
    try:
        table = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise UserError(f"cannot read the published-scores table {path}: {err}") from None
    missing = [c for c in _COLUMNS if c not in table.columns]
    if missing:
        raise UserError(f"the published-scores table {path} lacks the column(s) {', '.join(missing)}")
    table = table[[c for c in (*_COLUMNS, *_OPTIONAL) if c in table.columns]].copy()
    for column in ("agent_steps", "score", "seeds"):
        values = pd.to_numeric(table[column], errors="coerce")
        if values.isna().any():
            row = int(values.isna().to_numpy().nonzero()[0][0]) + 2
            raise UserError(f"the published-scores table {path} has a non-numeric {column} on line {row}")
        table[column] = values
    return _with_provenance(table.astype({"agent_steps": "int64", "seeds": "int64"}), str(path))


def matching_published(
    algo: str, game: str, protocol: str | None, agent_steps: int | None, extra: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Published scores for exactly this algorithm, game, protocol and budget.

    :param algo: ``a2c`` or ``ppo``
    :param game: canonical game name (``Breakout``)
    :param protocol: protocol name (``standard``), None when unrecorded (nothing matches)
    :param agent_steps: the runs' budget in agent steps, None when unrecorded (nothing matches)
    :param extra: more comparator rows (:func:`read_published`), searched after the packaged table
    :return: the matching rows (possibly none)
    """
    table = _table() if extra is None or extra.empty else pd.concat([_table(), extra], ignore_index=True)
    if protocol is None or agent_steps is None:
        return table.iloc[0:0].copy()
    hit = (
        (table["algo"] == algo)
        & (table["game"] == game)
        & (table["protocol"] == protocol)
        & (table["agent_steps"] == int(agent_steps))
    )
    return table.loc[hit, [*_COLUMNS, *_OPTIONAL, "file"]].reset_index(drop=True)
