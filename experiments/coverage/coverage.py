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
This script measures, on real
run-to-run variation, how often each 95% interval covers the true value, and how often it excludes "no
difference" (0, or 0.5) when there is none.

Population: the 100 runs per game of DrQ(eps) and of SPR on the 26 Atari 100k games, the final
evaluation scores Agarwal et al. 2021 ("Deep Reinforcement Learning at the Edge of the Statistical
Precipice", NeurIPS; their coverage analysis uses the same data) released with rliable, as shipped in
eloialonso/iris ``results/data/DrQ(eps).json`` and ``results/data/SPR.json`` (commit 75e5ab5). Each
simulated study draws N runs per game with replacement from those 100, so the 100 runs *are* the
population and the true values are those of all 100 x 26 human-normalised scores, exactly.

Methods, on the same simulated studies and the same bootstrap resamples (seed = study number):

* ``percentile``: rliable's stratified percentile interval as it is, at 95% (what ``analyze`` reported
  before the expanded interval);
* ``expanded``: what ``analyze`` reports now: the same resamples, read at the expanded level of
  :func:`rl_coordconv.analysis.stats.bootstrap_level` (Hesterberg 2015).

Scenarios, each with N in {3, 5} (the study's seeds 0-2, and all five):

* ``null``: X and Y both drawn from DrQ(eps); the true difference is 0 (P(X > Y) = 0.5). Coverage is one
  minus the rate of "an effect these runs resolve" when there is none.
* ``spr_vs_drq``: X drawn from SPR, Y from DrQ(eps); the true values are those of the two populations.

Usage (appends to ``coverage_studies.csv``, one row per simulated study, resumable, and prints the table)::

    git clone https://github.com/eloialonso/iris /tmp/iris-repo   # the data; commit 75e5ab5 or later
    python experiments/coverage/coverage.py /tmp/iris-repo/results/data --studies 200 --reps 2000 \\
        --statistics iqm_difference
    python experiments/coverage/coverage.py /tmp/iris-repo/results/data --studies 200 --reps 2000 \\
        --statistics probability_of_improvement --scenarios null
    python experiments/coverage/coverage.py /tmp/iris-repo/results/data --studies 200 --reps 2000 \\
        --statistics profile_0.25 profile_0.5 profile_1
    python experiments/coverage/coverage.py /tmp/iris-repo/results/data --studies 2000 --per-game
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy import stats as sps

from rl_coordconv.analysis import stats
from rl_coordconv.analysis.normalize import human_normalize

HERE = Path(__file__).resolve().parent
OUT = HERE / "coverage_studies.csv"
COLUMNS = (
    "statistic", "method", "scenario", "n", "study", "truth", "point", "ci_low", "ci_high", "covered", "excludes_null",
)  # fmt: skip
SCENARIOS = {"null": ("DrQ(eps)", "DrQ(eps)"), "spr_vs_drq": ("SPR", "DrQ(eps)")}


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


def draw(rng: np.random.Generator, scores: np.ndarray, n: int) -> np.ndarray:
    """``n`` runs per game, each game's runs drawn with replacement and independently of the others."""
    rows = rng.integers(0, scores.shape[0], size=(n, scores.shape[1]))
    return np.take_along_axis(scores, rows, axis=0)


def _iqm_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.array([stats.iqm(a) - stats.iqm(b)])


def _improvement(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.array([stats.probability_of_improvement(a, b)])


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


def _own_value(fn: Callable[[np.ndarray], np.ndarray], column: int) -> Callable[[np.ndarray, np.ndarray], float]:
    return lambda x, y: float(fn(x)[column])


METHODS = {"percentile": percentile, "expanded": expanded}
#: Each statistic's value for two populations, and its value when they do not differ (NaN for one
#: extractor's own aggregates, which have none).
STATISTICS: dict[str, tuple[Callable[[np.ndarray, np.ndarray], float], float]] = {
    "iqm_difference": (lambda x, y: stats.iqm(x) - stats.iqm(y), 0.0),
    "probability_of_improvement": (stats.probability_of_improvement, 0.5),
    **{name: (_own_value(stats.aggregate_metrics, column), float("nan")) for name, column in AGGREGATES.items()},
    **{name: (_own_value(_profile, column), float("nan")) for name, column in PROFILES.items()},
}


def _done(path: Path) -> set[tuple[str, str, str, int, int]]:
    if not path.is_file():
        return set()
    with open(path, newline="", encoding="utf-8") as handle:
        return {
            (r["statistic"], r["method"], r["scenario"], int(r["n"]), int(r["study"])) for r in csv.DictReader(handle)
        }


def simulate(
    data_dir: Path, studies: int, reps: int, ns: list[int], methods: list[str], statistics: list[str],
    scenarios: list[str], out: Path,
) -> None:  # fmt: skip
    """Run every (statistic, method, scenario, n, study) not yet in ``out`` and append its row.

    Study ``k`` of a scenario and ``n`` draws with a generator seeded by (scenario, n, k) and bootstraps
    with seed ``k``, so a resumed or repeated simulation gives the same rows, and every statistic and
    method sees the same draws (and each statistic's methods the same resamples).
    """
    pops = {}
    for name in {a for s in scenarios for a in SCENARIOS[s]}:
        _, pops[name] = population(data_dir, name)
    done = _done(out)
    new = not out.is_file()
    with open(out, "a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        if new:
            writer.writeheader()
        for scenario, n in ((sc, n) for sc in scenarios for n in ns):
            x_name, y_name = SCENARIOS[scenario]
            for k, method, statistic in ((k, m, st) for k in range(studies) for m in methods for st in statistics):
                if (statistic, method, scenario, n, k) in done:
                    continue
                value, null = STATISTICS[statistic]
                truth = value(pops[x_name], pops[y_name]) if x_name != y_name or math.isnan(null) else null
                rng = np.random.default_rng([zlib.crc32(scenario.encode()), n, k])
                x, y = draw(rng, pops[x_name], n), draw(rng, pops[y_name], n)
                point, (low, high) = METHODS[method](statistic, x, y, reps, k)
                writer.writerow({"statistic": statistic, "method": method, "scenario": scenario, "n": n, "study": k,
                                 "truth": f"{truth:.10g}", "point": f"{point:.10g}", "ci_low": f"{low:.10g}",
                                 "ci_high": f"{high:.10g}", "covered": int(low <= truth <= high),
                                 "excludes_null": int(low > null or high < null)})  # fmt: skip
                handle.flush()


def summary(out: Path) -> str:
    """The markdown table of coverage (with a Clopper-Pearson 95% interval) per statistic, method, scenario, n."""
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    lines = [
        "| statistic | method | scenario | runs per game | studies | true value | coverage of the 95% interval "
        "[95% CI] | excludes no difference | median width |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    key = ("statistic", "method", "scenario", "n")
    cells = sorted(
        {tuple(r[k] for k in key) for r in rows},
        key=lambda c: (list(STATISTICS).index(c[0]), list(METHODS).index(c[1]), list(SCENARIOS).index(c[2]), int(c[3])),
    )
    for cell in cells:
        block = [r for r in rows if tuple(r[k] for k in key) == cell]
        covered = sum(int(r["covered"]) for r in block)
        ci = sps.binomtest(covered, len(block)).proportion_ci(0.95, method="exact")
        excludes = (
            "n/a"
            if cell[0] in AGGREGATES or cell[0] in PROFILES
            else f"{np.mean([int(r['excludes_null']) for r in block]):.3f}"
        )
        width = np.median([float(r["ci_high"]) - float(r["ci_low"]) for r in block])
        lines.append(
            f"| {' | '.join(cell)} | {len(block)} | {float(block[0]['truth']):.3f} | {covered / len(block):.3f} "
            f"[{ci.low:.3f}, {ci.high:.3f}] | {excludes} | {width:.3f} |"
        )
    return "\n".join(lines) + "\n"


def per_game(data_dir: Path, studies: int, ns: list[int], scenarios: list[str]) -> str:
    """Coverage of the report's per-game Welch t-intervals (:func:`rl_coordconv.analysis.stats.difference_t_intervals`,
    the intervals the answer counts as "excludes 0 in k games"), as a markdown table.

    Each simulated study draws N runs per game of X and of Y as :func:`simulate` does (its own seeds) and
    computes the 26 per-game intervals of mean(X) - mean(Y); the true value of a game is the difference
    of its two population means. No bootstrap: every study is kept in memory, nothing is written.
    """
    pops = {name: population(data_dir, name)[1] for name in {a for s in scenarios for a in SCENARIOS[s]}}
    lines = [
        "| scenario | runs per game | studies | coverage per game, mean over games [lowest game] | games per "
        "study whose interval excludes 0 (of 26) |",
        "|---|---|---|---|---|",
    ]
    for scenario, n in ((sc, n) for sc in scenarios for n in ns):
        x_pop, y_pop = (pops[a] for a in SCENARIOS[scenario])
        truth = x_pop.mean(axis=0) - y_pop.mean(axis=0)
        covered, excludes = np.zeros(x_pop.shape[1]), []
        for k in range(studies):
            rng = np.random.default_rng([zlib.crc32(f"per_game/{scenario}".encode()), n, k])
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
    parser.add_argument("data", type=Path, help="folder holding DrQ(eps).json and SPR.json (iris results/data)")
    parser.add_argument("--studies", type=int, default=200, help="simulated studies per scenario and n")
    parser.add_argument("--reps", type=int, default=2000, help="bootstrap resamples per interval")
    parser.add_argument("--n", type=int, nargs="+", default=[3, 5], help="runs per game")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--statistics", nargs="+", default=list(STATISTICS), choices=list(STATISTICS))
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=list(SCENARIOS))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--per-game", action="store_true", help="print the coverage of the per-game Welch intervals instead"
    )
    args = parser.parse_args(argv)
    missing = [a for a in ("DrQ(eps)", "SPR") if not (args.data / f"{a}.json").is_file()]
    if missing:
        print(f"coverage.py: {args.data} lacks {', '.join(m + '.json' for m in missing)}", file=sys.stderr)
        return 2
    if args.per_game:
        print(per_game(args.data, args.studies, args.n, args.scenarios), end="")
        return 0
    simulate(args.data, args.studies, args.reps, args.n, args.methods, args.statistics, args.scenarios, args.out)
    print(summary(args.out), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
