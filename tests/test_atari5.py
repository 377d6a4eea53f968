"""Atari-5 (Aitchison, Sweetser & Hutter 2023): the packaged regression and the estimates built on it."""

from __future__ import annotations

import fnmatch
import importlib.util
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_analysis import REPS, make_run, read_csv

from rl_coordconv.analysis import atari5
from rl_coordconv.analysis.atari5 import (
    ATARI5_GAMES,
    ESTIMATE_COLUMNS,
    atari5_coefficients,
    atari5_estimates,
    atari5_median,
    atari5_model,
)
from rl_coordconv.analysis.normalize import human_normalized_score, reference_scores
from rl_coordconv.analysis.report import analyze
from rl_coordconv.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
#: The repository fitted, and where a mirror of it may sit (ATARI5_SOURCE overrides).
COMMIT = "118cad542c94bc6e57181bb259a17d020e0a330f"
SOURCE = Path(os.environ.get("ATARI5_SOURCE", "/work/.mirror/maitchison+Atari-5/repo"))

#: The first author's published Atari-5 coefficients (maitchison/PPO tools/plot_util.py @ d3e32282).
AUTHOR = {
    "BattleZone": 0.3819751237831753,
    "DoubleDunk": 0.0679099488887574,
    "NameThisGame": 0.310804148620847,
    "Phoenix": 0.12412619402774641,
    "Qbert": 0.08048518286466755,
}

#: Agents of the paper's training data (dataset.csv @ 118cad54): raw scores in the five games, their true
#: 57-game median human-normalised score (fraction) and the estimate fit_atari5.py gives.
PAPER_AGENTS = {
    "Agent57": ((934134.88, 23.93, 54386.77, 908264.15, 580328.14), 19.75814, 18.17760499307677),
    "Rainbow (noop)": ((62010.0, -0.3, 13136.0, 108528.6, 33817.5), 2.270478, 2.251046281591863),
    "DQN (noop)": ((29900.0, -6.6, 8207.8, 8485.2, 13117.3), 0.775703, 0.8993366921422127),
    "IMPALA (deep)": ((20885.0, -0.33, 21537.2, 210996.45, 351200.12), 1.918204, 2.2669999105628422),
}

GAMES = ["Pong", "Qbert", "BattleZone", "MsPacman", "Phoenix", "DoubleDunk", "NameThisGame"]


def _matrices(seed: int = 3, runs: int = 5) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"nature": rng.uniform(0.0, 0.4, (runs, len(GAMES))), "coordconv": rng.uniform(0.0, 0.4, (runs, len(GAMES)))}


# --- the packaged regression --------------------------------------------------------------------------------


def test_coefficients_are_the_papers_fit_and_match_the_authors_published_ones() -> None:
    coefficients = atari5_coefficients()
    assert tuple(coefficients) == ATARI5_GAMES
    for game, value in AUTHOR.items():
        assert coefficients[game] == pytest.approx(value, rel=1e-12, abs=0)
    model = atari5_model()
    assert model.commit == COMMIT
    assert model.repository == "https://github.com/maitchison/Atari-5"
    assert model.algorithms_fitted == 44
    assert model.r2 == pytest.approx(0.98813, abs=1e-5)
    assert model.log_mse == pytest.approx(0.0025455, rel=1e-4)
    assert model.relative_error_percent == pytest.approx(10.4, abs=0.05)  # the paper's and the author's 10.4%
    assert model.author_coefficients == AUTHOR
    assert "fully trained" in model.caveat and "extrapolates" in model.caveat


def test_the_packaged_model_predicts_the_papers_own_agents() -> None:
    for name, (scores, true_median, fitted_estimate) in PAPER_AGENTS.items():
        # this package's human-normalised scores in, re-normalised inside as the paper normalised them
        estimate = atari5_median({g: human_normalized_score(x, g) for g, x in zip(ATARI5_GAMES, scores)})
        assert estimate == pytest.approx(fitted_estimate, rel=1e-6), name
        # within twice the paper's 10.4% mean error (|ln(estimate / truth)|) for each of these agents
        assert abs(math.log(estimate / true_median)) < 0.21, name


@pytest.mark.skipif(not SOURCE.exists(), reason=f"no Atari-5 repository at {SOURCE} (set ATARI5_SOURCE)")
def test_the_script_refits_the_packaged_record_from_the_repository(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("fit_atari5", ROOT / "experiments" / "atari5" / "fit_atari5.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main([str(SOURCE), "--check", "--out", str(ROOT / "rl_coordconv" / "data" / "atari5.json")]) == 0
    assert "matches" in capsys.readouterr().out


def test_the_record_ships_in_the_wheel() -> None:
    # tomllib is Python 3.11+; the package supports 3.10, so read the one line
    line = re.search(r'^"rl_coordconv\.data" = \[(.*)\]$', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M)
    assert line is not None
    patterns = [p.strip().strip('"') for p in line.group(1).split(",")]
    assert any(fnmatch.fnmatch("atari5.json", pattern) for pattern in patterns)


# --- atari5_median ------------------------------------------------------------------------------------------


def test_median_by_hand_in_fractions_with_the_papers_percent_inside() -> None:
    c = atari5_coefficients()
    # 9% of human in BattleZone: log10(1 + 9) = 1; at or below random elsewhere: log10(1 + 0) = 0
    one_game = {"BattleZone": 0.09, "DoubleDunk": 0.0, "NameThisGame": -0.5, "Phoenix": 0.0, "Qbert": -0.01}
    assert atari5_median(one_game) == pytest.approx((10 ** c["BattleZone"] - 1) / 100, rel=1e-12)
    # human everywhere (both tables agree on the human scores): log10(1 + 100) in every game
    human = (10 ** (math.log10(101) * sum(c.values())) - 1) / 100
    assert atari5_median(dict.fromkeys(ATARI5_GAMES, 1.0)) == pytest.approx(human, rel=1e-12)
    assert human == pytest.approx(0.8505, abs=1e-4)
    assert atari5_median(dict.fromkeys(ATARI5_GAMES, -0.2)) == 0.0  # below random in every game


def test_median_renormalises_against_the_scores_the_paper_used() -> None:
    c = atari5_coefficients()
    zero = dict.fromkeys(ATARI5_GAMES, -1.0)  # below random: contributes nothing
    # DoubleDunk -18.55 is 0.05 / 2.2 of human here (random -18.6) but the paper's random score: counts 0
    assert atari5_median({**zero, "DoubleDunk": human_normalized_score(-18.55, "DoubleDunk")}) == 0.0
    # -17.475, halfway from the paper's random (-18.55) to human (-16.4): 50% there, log10(51)
    halfway = atari5_median({**zero, "DoubleDunk": human_normalized_score(-17.475, "DoubleDunk")})
    assert halfway == pytest.approx((10 ** (c["DoubleDunk"] * math.log10(51)) - 1) / 100, rel=1e-12)


def test_median_reads_other_spellings_ignores_other_games_and_propagates_nan() -> None:
    hns = {"BattleZoneNoFrameskip-v4": 0.3, "doubledunk": 0.1, "ALE/NameThisGame-v5": 0.2, "Phoenix": 0.4,
           "Qbert": 0.05, "Pong": 5.0}  # fmt: skip
    assert atari5_median(hns) == pytest.approx(atari5_median(dict(zip(ATARI5_GAMES, (0.3, 0.1, 0.2, 0.4, 0.05)))))
    assert math.isnan(atari5_median({**dict.fromkeys(ATARI5_GAMES, 0.1), "Qbert": float("nan")}))


def test_median_without_a_game_says_which() -> None:
    with pytest.raises(UserError, match="missing: Phoenix"):
        atari5_median({g: 0.1 for g in ATARI5_GAMES if g != "Phoenix"})


# --- atari5_estimates ---------------------------------------------------------------------------------------


def test_estimates_are_the_median_of_per_game_means_with_a_deterministic_interval_around_them() -> None:
    normalised = _matrices()
    table = atari5_estimates(normalised, GAMES, reps=2000, seed=7, confidence=0.95)
    assert list(table.columns) == list(ESTIMATE_COLUMNS)
    assert list(table["extractor"]) == ["nature", "coordconv", "coordconv - nature"]
    assert list(table["kind"]) == ["estimate", "estimate", "difference"]
    for ext in ("nature", "coordconv"):
        row = table[table["extractor"] == ext].iloc[0]
        means = dict(zip(GAMES, normalised[ext].mean(axis=0)))
        assert row["estimate"] == pytest.approx(atari5_median(means))
        assert row["ci_low"] < row["estimate"] < row["ci_high"]
        assert row[f"mean_{'Qbert'}"] == pytest.approx(means["Qbert"])
    diff = table.iloc[2]
    assert diff["estimate"] == pytest.approx(table.iloc[1]["estimate"] - table.iloc[0]["estimate"])
    assert diff["ci_low"] < diff["estimate"] < diff["ci_high"] and diff["paired"] == "no"
    assert table["level"].iloc[0] > 0.95  # the expanded percentile level, 5 runs of 5 games
    again = atari5_estimates(normalised, GAMES, reps=2000, seed=7, confidence=0.95)
    pd.testing.assert_frame_equal(table, again)
    other_seed = atari5_estimates(normalised, GAMES, reps=2000, seed=8, confidence=0.95)
    assert not np.allclose(table["ci_low"], other_seed["ci_low"])


def test_estimates_do_not_depend_on_column_order_or_the_other_extractors() -> None:
    normalised = _matrices()
    table = atari5_estimates(normalised, GAMES, reps=500, seed=1, confidence=0.9)
    order = np.random.default_rng(0).permutation(len(GAMES))
    shuffled = atari5_estimates(
        {k: v[:, order] for k, v in normalised.items()}, [GAMES[i] for i in order], reps=500, seed=1, confidence=0.9
    )
    pd.testing.assert_frame_equal(table, shuffled)
    alone = atari5_estimates({"coordconv": normalised["coordconv"]}, GAMES, reps=500, seed=1, confidence=0.9)
    pd.testing.assert_frame_equal(alone.iloc[[0]].reset_index(drop=True), table.iloc[[1]].reset_index(drop=True))


def test_a_paired_difference_resamples_the_same_seeds_on_both_sides() -> None:
    base = _matrices()["nature"]
    # the variant is the baseline plus a constant per seed: the paired interval is far narrower
    shift = np.linspace(0.0, 0.2, base.shape[0])[:, None]
    normalised = {"nature": base, "coordconv": base + shift}
    independent = atari5_estimates(normalised, GAMES, reps=2000, seed=0, confidence=0.95).iloc[2]
    paired = atari5_estimates(normalised, GAMES, reps=2000, seed=0, confidence=0.95, paired=True).iloc[2]
    assert paired["paired"] == "yes" and paired["estimate"] == independent["estimate"]
    assert paired["ci_high"] - paired["ci_low"] < independent["ci_high"] - independent["ci_low"]
    assert paired["ci_low"] > 0.0  # every seed improves in every game


def test_identical_seeds_give_a_zero_width_interval_and_one_seed_none() -> None:
    row = np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]])
    table = atari5_estimates({"nature": np.repeat(row, 3, axis=0)}, GAMES, reps=200, seed=0, confidence=0.95)
    assert table.iloc[0]["ci_low"] == pytest.approx(table.iloc[0]["estimate"])
    assert table.iloc[0]["ci_high"] == pytest.approx(table.iloc[0]["estimate"])
    single = atari5_estimates({"nature": row, "coordconv": row}, GAMES, reps=200, seed=0, confidence=0.95)
    assert single["ci_low"].isna().all() and single["ci_high"].isna().all()
    assert single.iloc[2]["estimate"] == 0.0


def test_a_missing_game_gives_an_empty_frame_and_a_bad_matrix_an_error() -> None:
    without = [g for g in GAMES if g != "DoubleDunk"]
    empty = atari5_estimates({"nature": np.zeros((3, len(without)))}, without, reps=10, seed=0, confidence=0.95)
    assert empty.empty and list(empty.columns) == list(ESTIMATE_COLUMNS)
    assert atari5_estimates({}, GAMES, reps=10, seed=0, confidence=0.95).empty
    with pytest.raises(ValueError, match="shape"):
        atari5_estimates({"nature": np.zeros((3, 2))}, GAMES, reps=10, seed=0, confidence=0.95)


def test_the_caveat_is_the_packaged_one() -> None:
    assert atari5.CAVEAT == atari5_model().caveat


# --- in the report and the answer ---------------------------------------------------------------------------


def test_analyze_estimates_a_baseline_on_its_own_runs_while_the_variant_has_fewer_games(tmp_path: Path) -> None:
    # a running study: nature has the five games (2 seeds each), coordconv only two of them. The aggregates
    # wait on those two, yet nature's estimate is the regression of its own per-game means; no difference yet
    def raw(game: str, h: float) -> float:
        low, high = reference_scores()[game]
        return low + h * (high - low)

    hns = {g: (0.05 + 0.1 * i, 0.15 + 0.1 * i) for i, g in enumerate(ATARI5_GAMES)}
    for game, finals in hns.items():
        for seed, h in enumerate(finals):
            make_run(tmp_path, game, "nature", seed, [raw(game, 0.0)] * 20, [raw(game, h)])
            if game in ("BattleZone", "Qbert"):
                make_run(tmp_path, game, "coordconv", seed, [raw(game, 0.0)] * 20, [raw(game, h)])
    report = analyze(tmp_path, reps=REPS, figures=False)
    rows = read_csv(report.out / "atari5.csv")
    assert [(r["kind"], r["extractor"]) for r in rows] == [("estimate", "nature")]
    expected = atari5_median({g: float(np.mean(v)) for g, v in hns.items()})
    assert float(rows[0]["estimate"]) == pytest.approx(expected)
    assert rows[0]["n_runs_x"] == "2" and float(rows[0]["ci_low"]) < expected < float(rows[0]["ci_high"])
    answer = (report.out / "answer.md").read_text()
    assert "- Atari-5 estimate of the 57-game median human-normalised score [95% CI over seeds]" in answer
    assert f"`nature` {expected:.3f} [" in answer
    # once the variant has the five games, the difference is there too, after both estimates
    for game in ("DoubleDunk", "NameThisGame", "Phoenix"):
        for seed, h in enumerate(hns[game]):
            make_run(tmp_path, game, "coordconv", seed, [raw(game, 0.0)] * 20, [raw(game, h + 0.1)])
    rows = read_csv(analyze(tmp_path, reps=REPS, figures=False).out / "atari5.csv")
    assert [r["extractor"] for r in rows] == ["nature", "coordconv", "coordconv - nature"]
    assert float(rows[2]["estimate"]) == pytest.approx(float(rows[1]["estimate"]) - float(rows[0]["estimate"]))
