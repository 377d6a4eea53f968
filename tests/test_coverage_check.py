"""The coverage check behind the report's interval labels (experiments/coverage/coverage.py): a simulated
study computes the package's own intervals on draws from a known population, writes one row each, scores
coverage against the population's true value, and resumes without repeating a row."""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

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
    assert "lacks DrQ(eps).json, SPR.json" in capsys.readouterr().err


def test_per_game_welch_intervals_cover_about_95_percent_when_nothing_differs(tmp_path: Path) -> None:
    """The per-game table: on a null scenario of moderately skewed scores, the Welch intervals the answer
    counts cover close to 95% (3 games x 300 studies: a standard error of about 0.7 points)."""
    data = populations(tmp_path / "data")
    table = coverage.per_game(data, studies=300, ns=[5], scenarios=["null"])
    (row,) = [line for line in table.splitlines() if line.startswith("| null |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:3] == ["null", "5", "300"]
    mean_coverage = float(cells[3].split()[0])
    assert 0.92 < mean_coverage < 0.985
    assert float(cells[4]) == pytest.approx(3 * (1 - mean_coverage), abs=0.006)  # null: misses = exclusions
