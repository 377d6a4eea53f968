"""Which runs go into which statistic: duplicates, runs without the headline score, games and seed counts.

Rules (each one is reported by :mod:`~rl_coordconv.analysis.report`):

* **Duplicate cells** (two folders of the same algorithm, game, extractor and seed) are counted once:
  the complete one, else the one that got further, else the first by path. Two copies of one seed would
  narrow every interval without adding information.
* **Runs without the chosen score** (:class:`~rl_coordconv.scores.Score`) are listed and left
  out; the score is never switched.
* **Games**: an aggregate over games compares extractors on the same games, so a game enters an
  algorithm's aggregates only when it has a human/random reference score and at least one scored run
  of every extractor that has any; other games are dropped (and named), extractors are not.
* **Unequal seed counts**: per-game statistics (tables, per-game comparisons, curves) use every run.
  rliable's stratified bootstrap needs a ``(num_runs, num_games)`` matrix per extractor, so where one
  extractor's games hold different numbers of runs its aggregate matrix takes as many runs per game as
  its smallest game has, preferring seeds present in every game; the runs this leaves out are named.
  Extractors may differ in their number of runs (rliable resamples each on its own).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from rl_coordconv.analysis.load import Run, extractor_order
from rl_coordconv.scores import Score

__all__ = ["Scored", "AlgoRunSet", "deduplicate", "score_runs", "extractor_matrix", "build_algo_runset"]


@dataclass(frozen=True)
class Scored:
    """A run with its headline score.

    :param run: the run
    :param score: the raw whole-game score
    :param games: the games behind the score: training games averaged (``train_last_N``), or the
        evaluation games of the last evaluation (``eval``)
    """

    run: Run
    score: float
    games: int


@dataclass(frozen=True)
class AlgoRunSet:
    """One algorithm's runs, arranged for the statistics.

    :param algo: the algorithm
    :param games: every game with a run, sorted
    :param extractors: every extractor with a run, ``nature`` first
    :param cells: (extractor, game) -> the scored runs, by seed
    :param unscored: runs without the headline score
    :param aggregate_games: the games of the aggregates (see the module's rules)
    :param dropped_games: game -> why it is not in the aggregates
    :param matrices: extractor -> raw scores for the aggregates, shape ``(num_runs, len(aggregate_games))``;
        extractors without a scored run on those games have none
    :param matrix_runs: extractor -> the runs behind its matrix, one tuple per game (column), in row order
    :param left_out_of_matrices: extractor -> runs in ``cells`` but not in its matrix (seed counts evened)
    """

    algo: str
    games: tuple[str, ...]
    extractors: tuple[str, ...]
    cells: dict[tuple[str, str], tuple[Scored, ...]]
    unscored: tuple[Run, ...]
    aggregate_games: tuple[str, ...]
    dropped_games: dict[str, str] = field(default_factory=dict)
    matrices: dict[str, np.ndarray] = field(default_factory=dict)
    matrix_runs: dict[str, tuple[tuple[Run, ...], ...]] = field(default_factory=dict)
    left_out_of_matrices: dict[str, tuple[Run, ...]] = field(default_factory=dict)

    def scores(self, extractor: str, game: str) -> np.ndarray:
        """The raw scores of one cell, shape ``(num_runs,)``.

        :param extractor: the extractor
        :param game: the game
        :return: the scores, by seed (empty when the cell has no scored run)
        """
        return np.array([s.score for s in self.cells.get((extractor, game), ())], dtype=float)


def _seed_key(run: Run) -> tuple[int, str]:
    return (run.seed if run.seed is not None else -1, str(run.path))


def deduplicate(runs: Sequence[Run]) -> tuple[list[Run], list[tuple[Run, Run]]]:
    """Keep one run per (algo, game, extractor, seed).

    :param runs: the runs
    :return: ``(kept, duplicates)``: the runs in their original order with duplicates removed, and
        ``(kept_run, dropped_run)`` pairs; runs without a recorded seed are never merged
    """
    groups: dict[tuple[str, str, str, int], list[Run]] = defaultdict(list)
    for run in runs:
        if run.seed is not None:
            groups[(run.algo, run.game, run.extractor, run.seed)].append(run)
    dropped: dict[int, Run] = {}
    pairs: list[tuple[Run, Run]] = []
    for group in groups.values():
        if len(group) < 2:
            continue
        best = min(group, key=lambda r: (not r.complete, -r.agent_steps, str(r.path)))
        for other in group:
            if other is not best:
                dropped[id(other)] = other
                pairs.append((best, other))
    kept = [r for r in runs if id(r) not in dropped]
    return kept, sorted(pairs, key=lambda p: str(p[1].path))


def score_runs(runs: Sequence[Run], score: Score) -> tuple[list[Scored], list[Run]]:
    """The headline score of every run.

    :param runs: the runs
    :param score: the chosen score
    :return: ``(scored, unscored)``: runs with a finite score, and runs without one
    """
    scored: list[Scored] = []
    unscored: list[Run] = []
    for run in runs:
        value, count = score.of(run)
        if not np.isfinite(value):
            unscored.append(run)
            continue
        scored.append(Scored(run, value, count))
    return scored, unscored


def _rectangle(
    cells: dict[str, tuple[Scored, ...]], games: Sequence[str]
) -> tuple[np.ndarray, list[tuple[Run, ...]], list[Run]]:
    """An even ``(k, len(games))`` matrix, k the smallest count, preferring seeds shared by every game."""
    k = min(len(cells[g]) for g in games)
    shared = set.intersection(*({s.run.seed for s in cells[g]} for g in games))
    matrix = np.full((k, len(games)), np.nan)
    columns: list[tuple[Run, ...]] = []
    left_out: list[Run] = []
    for j, game in enumerate(games):
        ordered = sorted(cells[game], key=lambda s: (s.run.seed not in shared, *_seed_key(s.run)))
        chosen = sorted(ordered[:k], key=lambda s: _seed_key(s.run))
        matrix[:, j] = [s.score for s in chosen]
        columns.append(tuple(s.run for s in chosen))
        left_out.extend(s.run for s in ordered[k:])
    return matrix, columns, left_out


def extractor_matrix(rs: AlgoRunSet, extractor: str, games: Sequence[str]) -> np.ndarray:
    """One extractor's raw scores on the games given, as even as the aggregates' matrices are.

    The same rule as the aggregates' (module docstring): as many runs per game as its smallest game has,
    preferring seeds present in every game. The learning check uses it to measure an extractor on all of
    its own games while the aggregates still wait for another extractor's runs.

    :param rs: one algorithm's runs
    :param extractor: the extractor
    :param games: games where the extractor has scored runs
    :return: raw scores, shape ``(num_runs, len(games))``
    """
    return _rectangle({g: rs.cells[(extractor, g)] for g in games}, games)[0]


def build_algo_runset(algo: str, runs: Sequence[Run], score: Score, has_reference: Callable[[str], bool]) -> AlgoRunSet:
    """Arrange one algorithm's runs for the statistics (see the module's rules).

    :param algo: the algorithm
    :param runs: its runs (deduplicated, complete or as the caller chose)
    :param score: the headline score
    :param has_reference: whether a game has human/random reference scores (human normalisation)
    :return: the arranged runs
    """
    games = tuple(sorted({r.game for r in runs}))
    extractors = tuple(extractor_order([r.extractor for r in runs]))
    scored, unscored = score_runs(runs, score)
    cells: dict[tuple[str, str], tuple[Scored, ...]] = {}
    for ext in extractors:
        for game in games:
            cell = [s for s in scored if s.run.extractor == ext and s.run.game == game]
            if cell:
                cells[(ext, game)] = tuple(sorted(cell, key=lambda s: _seed_key(s.run)))
    active = [e for e in extractors if any(k[0] == e for k in cells)]
    dropped: dict[str, str] = {}
    aggregate_games: list[str] = []
    for game in games:
        lacking = [e for e in active if (e, game) not in cells]
        if not has_reference(game):
            dropped[game] = "no human/random reference score"
        elif lacking:
            dropped[game] = "no scored run of " + ", ".join(lacking)
        elif not active:
            dropped[game] = "no scored run"
        else:
            aggregate_games.append(game)
    matrices: dict[str, np.ndarray] = {}
    matrix_runs: dict[str, tuple[tuple[Run, ...], ...]] = {}
    left_out: dict[str, tuple[Run, ...]] = {}
    if aggregate_games:
        for ext in active:
            matrix, columns, cut = _rectangle({g: cells[(ext, g)] for g in aggregate_games}, aggregate_games)
            matrices[ext] = matrix
            matrix_runs[ext] = tuple(columns)
            if cut:
                left_out[ext] = tuple(sorted(cut, key=lambda r: (r.game, *_seed_key(r))))
    return AlgoRunSet(
        algo=algo,
        games=games,
        extractors=extractors,
        cells=cells,
        unscored=tuple(unscored),
        aggregate_games=tuple(aggregate_games),
        dropped_games=dropped,
        matrices=matrices,
        matrix_runs=matrix_runs,
        left_out_of_matrices=left_out,
    )
