"""Do the study's headline intervals cover what they say? A coverage check on real Atari 100k run data.

The atari100k answer rests on two intervals over 26 games with 3 or 5 seeds per game, both from rliable's
stratified independent bootstrap, through the functions ``rl-coordconv analyze`` calls: the IQM
difference IQM(coordconv) - IQM(nature) of human-normalised scores
(:func:`rl_coordconv.analysis.stats.iqm_difference_estimates`; its reading "excludes 0" -> "an effect
these runs resolve") and the probability of improvement P(coordconv > nature)
(:func:`rl_coordconv.analysis.stats.probability_of_improvement_estimates`); each extractor's own
aggregates have theirs (``iqm``, ``median``, ``mean``, ``optimality_gap``: X's,
:func:`rl_coordconv.analysis.stats.aggregate_interval_estimates`), and so does its performance profile at
a few thresholds (``profile_<tau>``, :func:`rl_coordconv.analysis.stats.performance_profile_estimates`).
This script measures, on real run-to-run variation, how often each interval covers the true value, how
often it excludes "no difference" (0, or 0.5) when there is none, and how often the IQM difference's
interval reads "equivalent within +/-delta" (:func:`equivalence`).

Two data sources, each its own population and its own file of rows:

* ``drq_spr`` (the folder holding ``DrQ(eps).json`` and ``SPR.json``): the 100 runs per game of DrQ(eps)
  and of SPR on the 26 Atari 100k games, the final evaluation scores Agarwal et al. 2021 ("Deep
  Reinforcement Learning at the Edge of the Statistical Precipice", NeurIPS; their coverage analysis
  uses the same data) released with rliable, as shipped in eloialonso/iris ``results/data/DrQ(eps).json``
  and ``results/data/SPR.json`` (commit 75e5ab5); IQM about 0.28. Rows: ``coverage_studies.csv``.
  Scenarios: ``null`` (X and Y both drawn from DrQ(eps); the true difference is 0, P(X > Y) = 0.5) and
  ``spr_vs_drq`` (X drawn from SPR, Y from DrQ(eps)).
* a sweep folder (``results/atari100k``): each game's recorded runs per extractor, scored by their final
  evaluation (:func:`rl_coordconv.analysis.load.final_eval_score`), the near-random scores of the shipped
  study (IQM about 0.025, ties at 0 in Freeway). Rows: ``coverage_studies_<folder>.csv``. Scenarios:
  ``null_pooled`` (X and Y both drawn from the pool of both extractors' runs of each game: what "no
  difference" means for that study), ``null_nature`` (both from ``nature``'s runs) and
  ``coordconv_vs_nature`` (X from ``coordconv``'s runs, Y from ``nature``'s; the true difference is the
  one the records show).

Each simulated study draws N runs per game with replacement from the population, so the population's
runs *are* the population and the true values are those of all of its runs, exactly.

Methods (intervals), on the same simulated studies and the same bootstrap resamples (seed = study number):

* ``percentile``: rliable's default, its stratified percentile interval as it is, at 95% (what
  ``analyze`` reported before the expanded interval);
* ``expanded``: what ``analyze`` reports now: the same resamples, read at the expanded level of
  :func:`rl_coordconv.analysis.stats.bootstrap_level` (Hesterberg 2015), at 95%;
* ``percentile_90``, ``expanded_90``: the same two at 90%, the interval of the two one-sided tests at 5%
  (TOST; Schuirmann 1987); for ``iqm`` and ``iqm_difference`` only. All four come from ONE bootstrap
  per study and statistic (arch's ``conf_int(..., reuse=True)``), equal to the package's own call at
  each level.

Usage (appends to the source's rows file, one row per simulated study, resumable, and prints the tables)::

    git clone https://github.com/eloialonso/iris /tmp/iris-repo   # the data; commit 75e5ab5 or later
    python experiments/coverage/coverage.py /tmp/iris-repo/results/data --studies 200 --reps 2000 \\
        --statistics iqm_difference
    python experiments/coverage/coverage.py /tmp/iris-repo/results/data --studies 200 --reps 2000 \\
        --statistics probability_of_improvement --scenarios null
    python experiments/coverage/coverage.py /tmp/iris-repo/results/data --studies 2000 --per-game
    python experiments/coverage/coverage.py results/atari100k --studies 200 --reps 2000 --delta 0.02 0.01 0.005
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats as sps

from rl_coordconv.analysis import stats
from rl_coordconv.analysis.normalize import human_normalize
from rl_coordconv.errors import UserError

HERE = Path(__file__).resolve().parent
OUT = HERE / "coverage_studies.csv"
COLUMNS = (
    "statistic", "method", "scenario", "n", "study", "truth", "point", "ci_low", "ci_high", "covered", "excludes_null",
)  # fmt: skip
#: The released data's scenarios: name -> (X's population, Y's population).
SCENARIOS = {"null": ("DrQ(eps)", "DrQ(eps)"), "spr_vs_drq": ("SPR", "DrQ(eps)")}
#: Interval methods: name -> (how the bootstrap's percentiles are read, the coverage asked for).
METHODS: dict[str, tuple[str, float]] = {
    "percentile": ("percentile", 0.95),
    "expanded": ("expanded", 0.95),
    "percentile_90": ("percentile", 0.90),
    "expanded_90": ("expanded", 0.90),
}
#: The statistics read at every level of :data:`METHODS` from one bootstrap; the others have the 95% two.
LEVELED = ("iqm_difference", "iqm")


@dataclass(frozen=True)
class Source:
    """The populations a simulation draws from.

    :param name: ``drq_spr`` for the released data, else the sweep folder's name
    :param games: the games, in column order
    :param populations: population name -> human-normalised scores, shape ``(num_runs, num_games)``
    :param scenarios: scenario -> (X's population, Y's population)
    :param seed_key: prefix of each study's generator seed (empty for ``drq_spr``, whose rows predate it)
    :param out: the default rows file
    """

    name: str
    games: tuple[str, ...]
    populations: Mapping[str, np.ndarray]
    scenarios: Mapping[str, tuple[str, str]]
    seed_key: str
    out: Path


def population(data_dir: Path, algo: str) -> tuple[list[str], np.ndarray]:
    """The 100 runs x 26 games of human-normalised final scores of one algorithm.

    :param data_dir: the folder holding ``<algo>.json`` (game -> list of per-run raw scores)
    :param algo: ``DrQ(eps)`` or ``SPR``
    :return: ``(games, scores)`` with scores of shape ``(100, 26)``
    """
    raw = json.loads((data_dir / f"{algo}.json").read_text(encoding="utf-8"))
    games = sorted(raw)
    matrix = np.array([raw[g] for g in games], dtype=float).T
    return games, human_normalize(matrix, games)


def released_source(data_dir: Path) -> Source:
    """The DrQ(eps) / SPR populations of the released data (:func:`population`).

    :param data_dir: the folder holding ``DrQ(eps).json`` and ``SPR.json``
    :return: the source
    """
    games, drq = population(data_dir, "DrQ(eps)")
    _, spr = population(data_dir, "SPR")
    return Source("drq_spr", tuple(games), {"DrQ(eps)": drq, "SPR": spr}, SCENARIOS, "", OUT)


def study_source(root: Path, variant: str | None = None) -> Source:
    """The populations of a sweep folder's records: per extractor, each game's complete runs scored by their
    final evaluation (:func:`rl_coordconv.analysis.load.final_eval_score`), human-normalised.

    :param root: a sweep folder (``results/atari100k``)
    :param variant: the extractor compared with ``nature`` (default: the only other one)
    :return: the source, with populations ``nature``, the variant and ``pooled`` (both stacked per game)
    :raises UserError: without complete runs of one algorithm and two extractors, equally many per game,
        each with a final evaluation
    """
    from rl_coordconv.analysis.load import BASELINE, final_eval_score, load_runs

    runs = [r for r in load_runs(root) if r.complete]
    algos = sorted({r.algo for r in runs})
    if len(algos) != 1:
        raise UserError(f"{root} holds complete runs of {algos or 'no algorithm'}; the check needs exactly one")
    others = sorted({r.extractor for r in runs} - {BASELINE})
    if variant is None and len(others) == 1:
        variant = others[0]
    if variant not in others or not any(r.extractor == BASELINE for r in runs):
        raise UserError(f"{root}: give --variant, one of {others}, to compare with {BASELINE!r}")
    games = sorted({r.game for r in runs})
    pops = {}
    for extractor in (BASELINE, variant):
        columns = []
        for game in games:
            own = sorted((r for r in runs if (r.game, r.extractor) == (game, extractor)), key=lambda r: r.seed or 0)
            columns.append([final_eval_score(r) for r in own])
        counts = {len(c) for c in columns}
        if len(counts) != 1 or not np.isfinite(np.concatenate([np.asarray(c, float) for c in columns])).all():
            raise UserError(f"{root}: {extractor!r} needs as many runs with a final evaluation in every game")
        pops[extractor] = human_normalize(np.array(columns, dtype=float).T, games)
    pops["pooled"] = np.concatenate([pops[BASELINE], pops[variant]])
    scenarios = {
        "null_pooled": ("pooled", "pooled"),
        f"null_{BASELINE}": (BASELINE, BASELINE),
        f"{variant}_vs_{BASELINE}": (variant, BASELINE),
    }
    name = Path(root).resolve().name
    return Source(name, tuple(games), pops, scenarios, f"{name}/", HERE / f"coverage_studies_{name}.csv")


def load_source(path: Path, variant: str | None = None) -> Source:
    """The released data when ``path`` holds ``DrQ(eps).json`` and ``SPR.json``, else a sweep folder's records.

    :param path: either folder
    :param variant: for a sweep folder, the extractor compared with ``nature``
    :return: the source
    :raises UserError: when ``path`` is neither
    """
    if all((path / f"{a}.json").is_file() for a in ("DrQ(eps)", "SPR")):
        return released_source(path)
    if not path.is_dir() or not list(path.rglob("config.yaml")):
        raise UserError(
            f"{path} lacks DrQ(eps).json, SPR.json and holds no run folders: give the released data "
            "(iris results/data) or a sweep folder (results/atari100k)"
        )
    return study_source(path, variant)


def draw(rng: np.random.Generator, scores: np.ndarray, n: int) -> np.ndarray:
    """``n`` runs per game, each game's runs drawn with replacement and independently of the others."""
    rows = rng.integers(0, scores.shape[0], size=(n, scores.shape[1]))
    return np.take_along_axis(scores, rows, axis=0)


def _iqm_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.array([stats.iqm(a) - stats.iqm(b)])


def _improvement(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.array([stats.probability_of_improvement(a, b)])


def _iqm_only(a: np.ndarray) -> np.ndarray:
    return np.array([stats.iqm(a)])


#: One extractor's own aggregates, by their column in :func:`rl_coordconv.analysis.stats.aggregate_metrics`.
AGGREGATES = {"iqm": 0, "median": 1, "mean": 2, "optimality_gap": 3}
#: One extractor's run-score performance profile (the fraction of run x game scores above tau) at three
#: thresholds of human-normalised score, by their column in :data:`TAUS`.
TAUS = np.array([0.25, 0.5, 1.0])
PROFILES = {f"profile_{tau:g}": column for column, tau in enumerate(TAUS)}
_CACHE: dict[tuple[str, str, bytes, int, int], tuple[np.ndarray, np.ndarray]] = {}


def _profile(x: np.ndarray) -> np.ndarray:
    from rliable import library

    return np.asarray(library.score_distributions(x, TAUS), dtype=float)


def _own_estimates(kind: str, method: str, x: np.ndarray, reps: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """All of X's aggregates (``kind="aggregates"``) or profile points (``"profiles"``) and their intervals
    ``(2, columns)``, computed once per draw and method."""
    key = (kind, method, x.tobytes(), reps, seed)
    if key not in _CACHE:
        _CACHE.clear()
        if method == "expanded" and kind == "aggregates":
            points, intervals = stats.aggregate_interval_estimates({"x": x}, reps=reps, seed=seed)
        elif method == "expanded":
            points, intervals = stats.performance_profile_estimates({"x": x}, TAUS, reps=reps, seed=seed)
        else:
            from rliable import library

            fn = stats.aggregate_metrics if kind == "aggregates" else _profile
            with stats.seeded_global_rng(seed):
                _, ci = library.get_interval_estimates({"x": x}, fn, reps=reps, confidence_interval_size=0.95)
            points, intervals = {"x": fn(x)}, ci
        _CACHE[key] = np.asarray(points["x"], dtype=float), np.asarray(intervals["x"], dtype=float)
    return _CACHE[key]


def _own(method: str, statistic: str, x: np.ndarray, reps: int, seed: int) -> tuple[float, np.ndarray]:
    kind, column = (
        ("aggregates", AGGREGATES[statistic]) if statistic in AGGREGATES else ("profiles", PROFILES[statistic])
    )
    points, intervals = _own_estimates(kind, method, x, reps, seed)
    return float(points[column]), intervals[:, column]


def percentile(statistic: str, x: np.ndarray, y: np.ndarray, reps: int, seed: int) -> tuple[float, np.ndarray]:
    """rliable's plain 95% stratified percentile interval, as ``analyze`` computed it before the expanded one."""
    from rliable import library

    if statistic in AGGREGATES or statistic in PROFILES:
        return _own("percentile", statistic, x, reps, seed)
    fn = {"iqm_difference": _iqm_difference, "probability_of_improvement": _improvement}[statistic]
    with stats.seeded_global_rng(seed):
        _, ci = library.get_interval_estimates({"d": [x, y]}, fn, reps=reps, confidence_interval_size=0.95)
    return float(fn(x, y)[0]), np.asarray(ci["d"], dtype=float).reshape(2)


def expanded(statistic: str, x: np.ndarray, y: np.ndarray, reps: int, seed: int) -> tuple[float, np.ndarray]:
    """The package's interval, as ``analyze`` computes it now."""
    if statistic in AGGREGATES or statistic in PROFILES:
        return _own("expanded", statistic, x, reps, seed)
    if statistic == "iqm_difference":
        return stats.iqm_difference_estimates(x, y, reps=reps, seed=seed)
    return stats.probability_of_improvement_estimates(x, y, reps=reps, seed=seed)


def leveled(
    statistic: str, methods: Sequence[str], x: np.ndarray, y: np.ndarray, reps: int, seed: int
) -> dict[str, tuple[float, np.ndarray]]:
    """X's IQM (``iqm``) or IQM(X) - IQM(Y) (``iqm_difference``) with an interval per method, all from ONE
    stratified bootstrap (rliable's, the global generator seeded with ``seed``, as the package seeds it),
    its percentiles read again at each method's level (arch's ``conf_int(..., reuse=True)``).

    Each interval equals the package's own call at that level (``stats.iqm_difference_estimates(...,
    confidence=c)`` for ``expanded*``, rliable's ``get_interval_estimates`` at ``c`` for ``percentile*``),
    for a quarter of the time of four calls.

    :param statistic: ``iqm`` or ``iqm_difference``
    :param methods: names in :data:`METHODS`
    :param x: X's scores, shape ``(n, num_games)``
    :param y: Y's scores, the same shape (unused for ``iqm``)
    :param reps: bootstrap resamples
    :param seed: the resampling's seed
    :return: method -> (point, interval of shape ``(2,)``)
    """
    from rliable import library

    if statistic == "iqm":
        sides, fn, point = (x,), _iqm_only, stats.iqm(x)
        bootstrap: Callable[..., object] = library.StratifiedBootstrap
    else:
        sides, fn, point = (x, y), _iqm_difference, stats.iqm(x) - stats.iqm(y)
        bootstrap = library.StratifiedIndependentBootstrap
    out: dict[str, tuple[float, np.ndarray]] = {}
    with stats.seeded_global_rng(seed):
        bs = bootstrap(*sides)
        for k, method in enumerate(methods):
            reading, confidence = METHODS[method]
            size = confidence
            if reading == "expanded":
                size = stats.bootstrap_level(confidence, min(s.shape[0] for s in sides), x.shape[1])
            ci = bs.conf_int(fn, reps=reps, size=size, method="percentile", reuse=k > 0)  # type: ignore[attr-defined]
            out[method] = point, np.asarray(ci, dtype=float).reshape(2)
    return out


def _own_value(fn: Callable[[np.ndarray], np.ndarray], column: int) -> Callable[[np.ndarray, np.ndarray], float]:
    return lambda x, y: float(fn(x)[column])


#: The 95% methods of every statistic, one call each.
BY_CALL = {"percentile": percentile, "expanded": expanded}
#: Each statistic's value for two populations, and its value when they do not differ (NaN for one
#: extractor's own aggregates, which have none).
STATISTICS: dict[str, tuple[Callable[[np.ndarray, np.ndarray], float], float]] = {
    "iqm_difference": (lambda x, y: stats.iqm(x) - stats.iqm(y), 0.0),
    "probability_of_improvement": (stats.probability_of_improvement, 0.5),
    **{name: (_own_value(stats.aggregate_metrics, column), float("nan")) for name, column in AGGREGATES.items()},
    **{name: (_own_value(_profile, column), float("nan")) for name, column in PROFILES.items()},
}


def intervals(
    statistic: str, methods: Sequence[str], x: np.ndarray, y: np.ndarray, reps: int, seed: int
) -> dict[str, tuple[float, np.ndarray]]:
    """One study's interval of ``statistic`` by each method (:func:`leveled` where it applies).

    :raises ValueError: for a 90% method asked of a statistic outside :data:`LEVELED`
    """
    if statistic in LEVELED:
        return leveled(statistic, methods, x, y, reps, seed)
    if any(m not in BY_CALL for m in methods):
        raise ValueError(f"{statistic} has the 95% methods {list(BY_CALL)} only; got {list(methods)}")
    return {m: BY_CALL[m](statistic, x, y, reps, seed) for m in methods}


def _done(path: Path) -> set[tuple[str, str, str, int, int]]:
    if not path.is_file():
        return set()
    with open(path, newline="", encoding="utf-8") as handle:
        return {
            (r["statistic"], r["method"], r["scenario"], int(r["n"]), int(r["study"])) for r in csv.DictReader(handle)
        }


def _generator(source: Source, scenario: str, n: int, k: int, prefix: str = "") -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(f"{prefix}{source.seed_key}{scenario}".encode()), n, k])


def simulate(
    source: Source, studies: int, reps: int, ns: list[int], methods: list[str], statistics: list[str],
    scenarios: list[str], out: Path,
) -> None:  # fmt: skip
    """Run every (statistic, method, scenario, n, study) not yet in ``out`` and append its row.

    Study ``k`` of a scenario and ``n`` draws with a generator seeded by (source, scenario, n, k) and
    bootstraps with seed ``k``, so a resumed or repeated simulation gives the same rows, and every
    statistic and method sees the same draws (and each statistic's methods the same resamples).
    """
    pops = source.populations
    done = _done(out)
    new = not out.is_file()
    with open(out, "a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        if new:
            writer.writeheader()
        for scenario, n in ((sc, n) for sc in scenarios for n in ns):
            x_name, y_name = source.scenarios[scenario]
            for k, statistic in ((k, st) for k in range(studies) for st in statistics):
                todo = [m for m in methods if (statistic, m, scenario, n, k) not in done]
                if not todo:
                    continue
                value, null = STATISTICS[statistic]
                truth = value(pops[x_name], pops[y_name]) if x_name != y_name or math.isnan(null) else null
                rng = _generator(source, scenario, n, k)
                x, y = draw(rng, pops[x_name], n), draw(rng, pops[y_name], n)
                for method, (point, (low, high)) in intervals(statistic, todo, x, y, reps, k).items():
                    writer.writerow({"statistic": statistic, "method": method, "scenario": scenario, "n": n,
                                     "study": k, "truth": f"{truth:.10g}", "point": f"{point:.10g}",
                                     "ci_low": f"{low:.10g}", "ci_high": f"{high:.10g}",
                                     "covered": int(low <= truth <= high),
                                     "excludes_null": int(low > null or high < null)})  # fmt: skip
                handle.flush()


def _read(out: Path) -> list[dict[str, str]]:
    with open(out, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _cells(rows: list[dict[str, str]], key: Sequence[str]) -> list[tuple[str, ...]]:
    """The distinct cells, sorted by statistic, method, then scenario in order of first appearance, then n."""
    scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
    return sorted(
        {tuple(r[k] for k in key) for r in rows},
        key=lambda c: (list(STATISTICS).index(c[0]), list(METHODS).index(c[1]), scenarios.index(c[2]), int(c[3])),
    )


def _rate(hits: int, total: int) -> str:
    ci = sps.binomtest(hits, total).proportion_ci(0.95, method="exact")
    return f"{hits / total:.3f} [{ci.low:.3f}, {ci.high:.3f}]"


def summary(out: Path) -> str:
    """The markdown table of coverage (with a Clopper-Pearson 95% interval) per statistic, method, scenario, n.

    ``percentile`` and ``expanded`` are 95% intervals, ``*_90`` 90% ones; coverage is that of the
    interval at its own level.
    """
    rows = _read(out)
    lines = [
        "| statistic | method | scenario | runs per game | studies | true value | coverage of the interval "
        "[95% CI] | excludes no difference | median width |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    key = ("statistic", "method", "scenario", "n")
    for cell in _cells(rows, key):
        block = [r for r in rows if tuple(r[k] for k in key) == cell]
        covered = sum(int(r["covered"]) for r in block)
        excludes = (
            "n/a"
            if cell[0] in AGGREGATES or cell[0] in PROFILES
            else f"{np.mean([int(r['excludes_null']) for r in block]):.3f}"
        )
        width = np.median([float(r["ci_high"]) - float(r["ci_low"]) for r in block])
        lines.append(
            f"| {' | '.join(cell)} | {len(block)} | {float(block[0]['truth']):.3f} | {_rate(covered, len(block))} "
            f"| {excludes} | {width:.3f} |"
        )
    return "\n".join(lines) + "\n"


def equivalence(out: Path, delta: float) -> str:
    """How the IQM difference's interval reads as "equivalent within +/-delta" (inside (-delta, delta)), per
    method, null scenario and n, as a markdown table.

    From the null scenarios' rows (true difference 0): the rate of "equivalent" when the difference is 0
    (the reading's power), and when it is +delta or -delta (its error; the two one-sided tests at 5% read
    the 90% interval and promise at most 5%). Those two come from the same studies with X's scores
    shifted by delta: the IQM and every resample's IQM shift by delta exactly, and so does the interval,
    so "equivalent" at +delta is ``high < 0 and low > -2 delta``, at -delta ``low > 0 and high < 2 delta``.

    :param out: the rows file
    :param delta: the declared smallest effect of interest, in human-normalised IQM points (> 0)
    :return: the table (a sentence when the file has no null row of ``iqm_difference``)
    """
    if not delta > 0:
        raise ValueError(f"delta must be > 0, got {delta}")
    rows = [r for r in _read(out) if r["statistic"] == "iqm_difference" and float(r["truth"]) == 0.0]
    if not rows:
        return "No null-scenario rows of iqm_difference: nothing to read as equivalence.\n"
    lines = [
        f"| method | scenario | runs per game | studies | equivalent within +/-{delta:g}, true difference 0 "
        f"[95% CI] | equivalent, true difference +{delta:g} / -{delta:g} | median width |",
        "|---|---|---|---|---|---|---|",
    ]
    key = ("statistic", "method", "scenario", "n")
    for cell in _cells(rows, key):
        block = [r for r in rows if tuple(r[k] for k in key) == cell]
        low = np.array([float(r["ci_low"]) for r in block])
        high = np.array([float(r["ci_high"]) for r in block])
        inside = int(np.sum((low > -delta) & (high < delta)))
        above = np.mean((high < 0) & (low > -2 * delta))
        below = np.mean((low > 0) & (high < 2 * delta))
        lines.append(
            f"| {' | '.join(cell[1:])} | {len(block)} | {_rate(inside, len(block))} | {above:.3f} / {below:.3f} "
            f"| {np.median(high - low):.3f} |"
        )
    return "\n".join(lines) + "\n"


def per_game(source: Source, studies: int, ns: list[int], scenarios: list[str]) -> str:
    """Coverage of the report's per-game Welch t-intervals (:func:`rl_coordconv.analysis.stats.difference_t_intervals`,
    the intervals the answer counts as "excludes 0 in k games"), as a markdown table.

    Each simulated study draws N runs per game of X and of Y as :func:`simulate` does (its own seeds) and
    computes the per-game intervals of mean(X) - mean(Y); the true value of a game is the difference
    of its two population means. No bootstrap: every study is kept in memory, nothing is written.
    """
    games = len(source.games)
    lines = [
        "| scenario | runs per game | studies | coverage per game, mean over games [lowest game] | games per "
        f"study whose interval excludes 0 (of {games}) |",
        "|---|---|---|---|---|",
    ]
    for scenario, n in ((sc, n) for sc in scenarios for n in ns):
        x_pop, y_pop = (source.populations[a] for a in source.scenarios[scenario])
        truth = x_pop.mean(axis=0) - y_pop.mean(axis=0)
        covered, excludes = np.zeros(x_pop.shape[1]), []
        for k in range(studies):
            rng = _generator(source, scenario, n, k, prefix="per_game/")
            x, y = draw(rng, x_pop, n), draw(rng, y_pop, n)
            _, (low, high) = stats.difference_t_intervals(x, y)
            covered += (low <= truth) & (truth <= high)
            excludes.append(int(np.sum((low > 0) | (high < 0))))
        rate = covered / studies
        lines.append(f"| {scenario} | {n} | {studies} | {rate.mean():.3f} [{rate.min():.3f}] | "
                     f"{np.mean(excludes):.2f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "data", type=Path, help="folder holding DrQ(eps).json and SPR.json (iris results/data), or a sweep folder"
    )
    parser.add_argument("--studies", type=int, default=200, help="simulated studies per scenario and n")
    parser.add_argument("--reps", type=int, default=2000, help="bootstrap resamples per interval")
    parser.add_argument("--n", type=int, nargs="+", default=[3, 5], help="runs per game")
    parser.add_argument(
        "--methods", nargs="+", choices=list(METHODS),
        help="default: percentile expanded (released data), all four (a sweep folder)",
    )  # fmt: skip
    parser.add_argument(
        "--statistics", nargs="+", choices=list(STATISTICS),
        help="default: all (released data), iqm_difference iqm (a sweep folder)",
    )  # fmt: skip
    parser.add_argument("--scenarios", nargs="+", help="default: all of the source's")
    parser.add_argument("--variant", help="a sweep folder's extractor compared with nature (default: the only other)")
    parser.add_argument(
        "--delta", type=float, nargs="+", default=[0.02], help="smallest effects, one equivalence table each"
    )
    parser.add_argument("--out", type=Path, help="rows file (default: the source's, beside this script)")
    parser.add_argument(
        "--per-game", action="store_true", help="print the coverage of the per-game Welch intervals instead"
    )
    args = parser.parse_args(argv)
    try:
        source = load_source(args.data, args.variant)
    except UserError as err:
        print(f"coverage.py: {err}", file=sys.stderr)
        return 2
    scenarios = args.scenarios or list(source.scenarios)
    unknown = [s for s in scenarios if s not in source.scenarios]
    if unknown:
        print(f"coverage.py: {source.name} has the scenarios {list(source.scenarios)}, not {unknown}", file=sys.stderr)
        return 2
    if args.per_game:
        print(per_game(source, args.studies, args.n, scenarios), end="")
        return 0
    released = source.name == "drq_spr"
    methods = args.methods or (list(BY_CALL) if released else list(METHODS))
    statistics = args.statistics or (list(STATISTICS) if released else list(LEVELED))
    narrow = [s for s in statistics if s not in LEVELED and any(m not in BY_CALL for m in methods)]
    if narrow:
        print(f"coverage.py: the 90% methods apply to {', '.join(LEVELED)} only, not {narrow}", file=sys.stderr)
        return 2
    out = args.out or source.out
    simulate(source, args.studies, args.reps, args.n, methods, statistics, scenarios, out)
    print(summary(out), end="")
    for delta in args.delta:
        print("\n" + equivalence(out, delta), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
