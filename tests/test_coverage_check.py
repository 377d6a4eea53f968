"""The coverage check behind the report's interval labels (experiments/coverage/coverage.py): a simulated
study computes the package's own intervals on draws from a known population, writes one row each, scores
coverage against the population's true value, and resumes without repeating a row. Two data sources: the
released DrQ(eps)/SPR runs (here: made-up populations in their format) and a sweep folder's own records
(the shipped near-random results/atari100k)."""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rliable import library
from scipy import stats as sps

from rl_coordconv.analysis import stats
from rl_coordconv.analysis.normalize import human_normalize

# loaded from its file under its own name: `import coverage` could find coverage.py, the test-coverage tool
_SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "coverage" / "coverage.py"
_SPEC = importlib.util.spec_from_file_location("coverage_check_script", _SCRIPT)
assert _SPEC is not None and _SPEC.loader is not None
coverage = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = coverage
_SPEC.loader.exec_module(coverage)

GAMES = ["Alien", "Boxing", "Pong"]
STUDY = Path(__file__).resolve().parents[1] / "results" / "atari100k"
needs_study = pytest.mark.skipif(not (STUDY / "runs").is_dir(), reason="results/atari100k is not shipped here")


def populations(folder: Path) -> Path:
    """40 runs per game of two made-up algorithms, in the released data's format (game -> raw scores)."""
    rng = np.random.default_rng(0)
    folder.mkdir()
    for algo, scale in (("DrQ(eps)", 1.0), ("SPR", 1.5)):
        raw = rng.gamma(2.0, scale, size=(40, len(GAMES))) * [500.0, 10.0, 5.0] - [0.0, 0.0, 21.0]
        (folder / f"{algo}.json").write_text(json.dumps({g: raw[:, j].tolist() for j, g in enumerate(GAMES)}))
    return folder


def read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_simulated_studies_use_the_packages_intervals_and_resume(tmp_path: Path) -> None:
    data, out = populations(tmp_path / "data"), tmp_path / "studies.csv"
    args = [str(data), "--studies", "2", "--reps", "200", "--n", "3", "--out", str(out),
            "--statistics", "iqm_difference", "profile_0.5"]  # fmt: skip
    assert coverage.main(args) == 0
    rows = read(out)
    assert len(rows) == 2 * 2 * 2 * 2  # statistics x methods x scenarios x studies
    _, drq = coverage.population(data, "DrQ(eps)")
    assert np.allclose(drq, human_normalize(np.array([json.loads((data / "DrQ(eps).json").read_text())[g]
                                                      for g in GAMES]).T, GAMES))  # fmt: skip
    for row in rows:
        low, high, truth = float(row["ci_low"]), float(row["ci_high"]), float(row["truth"])
        assert row["covered"] == str(int(low <= truth <= high))
        if row["statistic"] == "profile_0.5" and row["scenario"] == "null":
            assert truth == pytest.approx(np.mean(drq > 0.5))  # the whole population's fraction above tau
        if row["statistic"] == "iqm_difference" and row["scenario"] == "null":
            assert truth == 0.0 and row["excludes_null"] == str(int(low > 0 or high < 0))
    # the expanded rows are the package's own intervals on the study's draw (same generator, same seed)
    rng = np.random.default_rng([coverage.zlib.crc32(b"null"), 3, 1])
    x, y = coverage.draw(rng, drq, 3), coverage.draw(rng, drq, 3)
    (row,) = [r for r in rows if (r["statistic"], r["method"], r["scenario"], r["study"]) ==
              ("profile_0.5", "expanded", "null", "1")]  # fmt: skip
    _, bands = stats.performance_profile_estimates({"x": x}, coverage.TAUS, reps=200, seed=1)
    assert (float(row["ci_low"]), float(row["ci_high"])) == pytest.approx(tuple(bands["x"][:, 1]), rel=1e-9)
    (row,) = [r for r in rows if (r["statistic"], r["method"], r["scenario"], r["study"]) ==
              ("iqm_difference", "expanded", "null", "1")]  # fmt: skip
    _, interval = stats.iqm_difference_estimates(x, y, reps=200, seed=1)
    assert (float(row["ci_low"]), float(row["ci_high"])) == pytest.approx(tuple(interval), rel=1e-9)
    # a second call finds every row done and adds none
    assert coverage.main(args) == 0 and read(out) == rows


def test_missing_data_is_one_sentence_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert coverage.main([str(tmp_path)]) == 2
    assert "lacks DrQ(eps).json, SPR.json and holds no run folders" in capsys.readouterr().err
    data = populations(tmp_path / "data")
    assert coverage.main([str(data), "--scenarios", "null_pooled"]) == 2  # a sweep folder's scenario
    assert "has the scenarios ['null', 'spr_vs_drq']" in capsys.readouterr().err
    assert coverage.main([str(data), "--methods", "expanded_90", "--statistics", "median"]) == 2
    assert "the 90% methods apply to iqm_difference, iqm only" in capsys.readouterr().err


def final_evaluation(run_dir: Path) -> float:
    """The last row's mean_return of a run's evaluations.csv, read with the csv module."""
    return float(read(run_dir / "evaluations.csv")[-1]["mean_return"])


@needs_study
def test_the_shipped_records_are_a_source_of_near_random_scores(tmp_path: Path) -> None:
    """results/atari100k as the population: per game and extractor its 5 recorded final evaluations,
    human-normalised; the rows' true values are the populations' own IQMs; every level of every method is
    the package's interval at that level on the study's draw, from the same resamples."""
    source = coverage.load_source(STUDY)
    assert source.name == "atari100k" and len(source.games) == 26
    assert list(source.scenarios) == ["null_pooled", "null_nature", "coordconv_vs_nature"]
    nature, coord, pooled = (source.populations[k] for k in ("nature", "coordconv", "pooled"))
    assert nature.shape == coord.shape == (5, 26) and pooled.shape == (10, 26)
    for game, random_score, human in (("Freeway", 0.0, 29.6), ("Pong", -20.7, 14.6)):  # atari_scores.csv
        j = source.games.index(game)
        for extractor, pop in (("nature", nature), ("coordconv", coord)):
            raw = [final_evaluation(STUDY / "runs" / f"{game}-ppo-{extractor}-seed{seed}") for seed in range(5)]
            assert pop[:, j].tolist() == pytest.approx([(r - random_score) / (human - random_score) for r in raw])
    assert (nature[:, source.games.index("Freeway")] == 0).sum() == 4  # ties at the random score

    out = tmp_path / "rows.csv"
    args = [str(STUDY), "--studies", "2", "--reps", "200", "--n", "3", "--out", str(out),
            "--scenarios", "null_pooled", "coordconv_vs_nature"]  # fmt: skip
    assert coverage.main(args) == 0
    rows = read(out)
    assert len(rows) == 2 * 4 * 2 * 2  # statistics (iqm_difference, iqm) x methods x scenarios x studies
    truth = {(r["statistic"], r["scenario"]): float(r["truth"]) for r in rows}
    assert truth["iqm_difference", "null_pooled"] == 0.0
    assert truth["iqm", "null_pooled"] == pytest.approx(sps.trim_mean(pooled.ravel(), 0.25))
    assert truth["iqm_difference", "coordconv_vs_nature"] == pytest.approx(
        sps.trim_mean(coord.ravel(), 0.25) - sps.trim_mean(nature.ravel(), 0.25)
    )
    rng = np.random.default_rng([coverage.zlib.crc32(b"atari100k/coordconv_vs_nature"), 3, 1])
    x, y = coverage.draw(rng, coord, 3), coverage.draw(rng, nature, 3)
    got = {(r["statistic"], r["method"]): (float(r["ci_low"]), float(r["ci_high"])) for r in rows
           if (r["scenario"], r["study"]) == ("coordconv_vs_nature", "1")}  # fmt: skip
    for confidence, suffix in ((0.95, ""), (0.9, "_90")):
        _, interval = stats.iqm_difference_estimates(x, y, reps=200, seed=1, confidence=confidence)
        assert got["iqm_difference", f"expanded{suffix}"] == pytest.approx(tuple(interval), rel=1e-9)
        _, aggregates = stats.aggregate_interval_estimates({"x": x}, reps=200, seed=1, confidence=confidence)
        assert got["iqm", f"expanded{suffix}"] == pytest.approx(tuple(aggregates["x"][:, 0]), rel=1e-9)
        with stats.seeded_global_rng(1):  # rliable's default: the plain percentile interval
            _, plain = library.get_interval_estimates(
                {"d": [x, y]}, coverage._iqm_difference, reps=200, confidence_interval_size=confidence
            )
        assert got["iqm_difference", f"percentile{suffix}"] == pytest.approx(tuple(plain["d"].ravel()), rel=1e-9)
    # the equivalence table reads the null rows: inside (-delta, delta), counted by hand
    table = coverage.equivalence(out, 0.02)
    (line,) = [ln for ln in table.splitlines() if ln.startswith("| expanded_90 | null_pooled | 3 | 2 |")]
    null = [r for r in rows if (r["statistic"], r["method"], r["scenario"]) == ("iqm_difference", "expanded_90",
                                                                              "null_pooled")]  # fmt: skip
    inside = sum(-0.02 < float(r["ci_low"]) and float(r["ci_high"]) < 0.02 for r in null)
    assert line.split("|")[5].strip().startswith(f"{inside / 2:.3f} [")
    assert "coordconv_vs_nature" not in table  # its true difference is not 0


def test_equivalence_at_plus_or_minus_delta_is_read_from_the_null_studies_shifted(tmp_path: Path) -> None:
    """The equivalence table's error columns (the true difference +delta or -delta) come from the null
    studies, their intervals shifted by delta; simulating X's population shifted by +delta or -delta on the
    same draws and resamples gives those intervals, and so the same studies read "equivalent", counted
    directly."""
    pop = np.random.default_rng(3).normal(0.02, 0.01, size=(10, 4))
    delta = 0.01
    games = (*GAMES, "Qbert")

    def source(shift: float, name: str) -> Any:
        return coverage.Source(
            "toy", games, {"a": pop, "x": pop + shift}, {"null": ("x", "a")}, "toy/", tmp_path / name
        )

    null = source(0.0, "0.0.csv")
    direct = []
    for shift in (0.0, delta, -delta):
        moved = source(shift, f"{shift}.csv")
        coverage.simulate(moved, 40, 100, [3], ["expanded_90"], ["iqm_difference"], ["null"], moved.out)
        if shift == 0.0:
            continue
        base, rows = read(null.out), read(moved.out)
        assert [float(r["truth"]) for r in rows] == pytest.approx([shift] * 40)
        for a, b in zip(base, rows, strict=True):
            assert float(b["ci_low"]) == pytest.approx(float(a["ci_low"]) + shift, abs=1e-10)
            assert float(b["ci_high"]) == pytest.approx(float(a["ci_high"]) + shift, abs=1e-10)
        direct.append(np.mean([-delta < float(r["ci_low"]) and float(r["ci_high"]) < delta for r in rows]))
    (line,) = [ln for ln in coverage.equivalence(null.out, delta).splitlines() if ln.startswith("| expanded_90")]
    assert line.split("|")[6].strip() == f"{direct[0]:.3f} / {direct[1]:.3f}"
    assert sum(direct) > 0  # some studies near the boundary read "equivalent", wrongly, as a 90% interval may


def test_per_game_welch_intervals_cover_about_95_percent_when_nothing_differs(tmp_path: Path) -> None:
    """The per-game table: on a null scenario of moderately skewed scores, the Welch intervals the answer
    counts cover close to 95% (3 games x 300 studies: a standard error of about 0.7 points)."""
    data = populations(tmp_path / "data")
    table = coverage.per_game(coverage.load_source(data), studies=300, ns=[5], scenarios=["null"])
    (row,) = [line for line in table.splitlines() if line.startswith("| null |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:3] == ["null", "5", "300"]
    mean_coverage = float(cells[3].split()[0])
    assert 0.92 < mean_coverage < 0.985
    assert float(cells[4]) == pytest.approx(3 * (1 - mean_coverage), abs=0.006)  # null: misses = exclusions
