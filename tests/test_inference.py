"""What a difference may be read as (issue 31): the learning check, equivalence, seed-paired intervals,
per-game q-values, the noise budget and baselines that say what they are, each against an independent
computation (scipy or numpy by hand on small arrays)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from scipy import stats as sps
from test_analysis import REPS, make_run, make_sweep, raw, read_csv

from rl_coordconv import runfolder
from rl_coordconv.analysis import inference, stats
from rl_coordconv.analysis.learning import run_learning
from rl_coordconv.analysis.load import load_run
from rl_coordconv.analysis.report import analyze
from rl_coordconv.cli import main
from rl_coordconv.errors import UserError

# ----------------------------------------------------------------------------- pure functions


def test_paired_bootstrap_keeps_seeds_together() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(0.0, 1.0, (5, 6))  # seeds differ a lot ...
    x = y + 0.1  # ... and x is y shifted: pairing sees an exact shift
    point, band = inference.paired_iqm_difference_estimates(x, y, reps=500, seed=0)
    assert point == pytest.approx(0.1)
    assert band == pytest.approx([0.1, 0.1])
    _, independent = stats.iqm_difference_estimates(x, y, reps=500, seed=0)
    assert independent[1] - independent[0] > 0.5  # the independent one sees the seeds' spread


def test_paired_bootstrap_matches_a_bootstrap_by_hand() -> None:
    rng = np.random.default_rng(2)
    base = rng.normal(0.0, 1.0, (4, 5))
    x, y = base + rng.normal(0.2, 0.3, (4, 5)), base
    _, band = inference.paired_iqm_difference_estimates(x, y, reps=4_000, seed=0)
    # by hand: per game, draw 4 seed indices, take them from both sides; IQM = 25% trimmed mean of all entries
    draw = np.random.default_rng(3)
    diffs = []
    for _ in range(4_000):
        idx = draw.integers(0, 4, size=(4, 5))
        cols = np.arange(5)
        diffs.append(sps.trim_mean(x[idx, cols].ravel(), 0.25) - sps.trim_mean(y[idx, cols].ravel(), 0.25))
    level = stats.bootstrap_level(0.95, 4, 5)
    lo, hi = np.percentile(diffs, [50 * (1 - level), 50 * (1 + level)])
    assert band[0] == pytest.approx(lo, abs=0.04) and band[1] == pytest.approx(hi, abs=0.04)


def test_paired_bootstrap_refuses_unpaired_shapes() -> None:
    with pytest.raises(ValueError, match="same"):
        inference.paired_iqm_difference_estimates(np.zeros((3, 2)), np.zeros((4, 2)))


@pytest.mark.parametrize(
    ("low", "high", "low90", "high90", "delta", "reading", "within"),
    [
        (0.01, 0.05, 0.015, 0.045, 0.02, "better", False),
        (0.001, 0.01, 0.002, 0.009, 0.02, "better", True),  # resolved, but smaller than delta
        (-0.05, -0.01, -0.045, -0.015, 0.02, "worse", False),
        (-0.015, 0.012, -0.012, 0.01, 0.02, "equivalent", True),
        (-0.03, 0.012, -0.025, 0.01, 0.02, "inconclusive", False),
        (-0.015, 0.012, -0.012, 0.01, None, "inconclusive", False),  # no delta: never equivalent
        (math.nan, math.nan, math.nan, math.nan, 0.02, "inconclusive", False),
    ],
)
def test_equivalence_reading_is_two_one_sided_tests(
    low: float, high: float, low90: float, high90: float, delta: float | None, reading: str, within: bool
) -> None:
    got = inference.equivalence_reading(low, high, low90, high90, delta)
    assert (got.reading, got.within) == (reading, within)
    assert got.declared == (delta is not None)


def test_equivalence_needs_a_positive_delta() -> None:
    with pytest.raises(ValueError, match="positive"):
        inference.equivalence_reading(-1, 1, -1, 1, 0.0)


def test_welch_p_values_by_hand() -> None:
    x, y = np.array([3.0, 5.0, 4.0, 6.0]), np.array([1.0, 2.0, 2.5])
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    t = (x.mean() - y.mean()) / math.sqrt(vx + vy)
    df = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))  # Welch-Satterthwaite
    p = inference.welch_p_values([x, np.array([1.0]), np.array([2.0, 2.0])], [y, y, np.array([2.0, 2.0])])
    assert p[0] == pytest.approx(2 * sps.t.sf(abs(t), df))
    assert math.isnan(p[1])  # one run a side: no test
    assert p[2] == 1.0  # both sides constant and equal


def test_bh_q_values_by_hand() -> None:
    p = np.array([0.01, 0.04, 0.03, math.nan, 0.5])
    q = inference.bh_q_values(p)
    # by hand over the 4 finite p: sorted 0.01, 0.03, 0.04, 0.5 -> p * m / rank, then the running minimum
    # from the top: 0.04, 0.0533, 0.0533, 0.5
    assert q[[0, 2, 1, 4]] == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.5])
    assert math.isnan(q[3])


def test_paired_t_interval_by_hand() -> None:
    d = np.array([1.0, 2.0, 4.0])
    mean, low, high, p = inference.paired_t_interval(d)
    half = sps.t.ppf(0.975, 2) * d.std(ddof=1) / math.sqrt(3)
    assert (mean, low, high) == pytest.approx((7 / 3, 7 / 3 - half, 7 / 3 + half))
    assert p == pytest.approx(2 * sps.t.sf(mean / (d.std(ddof=1) / math.sqrt(3)), 2))
    assert math.isnan(inference.paired_t_interval(np.array([1.0]))[1])


def test_equivalence_reading_covers_as_declared() -> None:
    """Simulated: with the true difference at +delta (not equivalent), the reading claims equivalence in at
    most about 5% of studies (TOST at 5%, read from the 90% expanded bootstrap interval); with a true
    difference of 0 and a delta three times the standard error, it claims it in most."""
    rng = np.random.default_rng(7)
    games, seeds, sd, delta = 8, 5, 0.1, 0.1
    claims = {0.0: 0, delta: 0}
    sims = 60
    for shift in claims:
        for _ in range(sims):
            y = rng.normal(0.0, sd, (seeds, games))
            x = rng.normal(shift, sd, (seeds, games))
            _, b95 = stats.iqm_difference_estimates(x, y, reps=300, seed=1, confidence=0.95)
            _, b90 = stats.iqm_difference_estimates(x, y, reps=300, seed=1, confidence=0.90)
            got = inference.equivalence_reading(b95[0], b95[1], b90[0], b90[1], delta)
            claims[shift] += got.reading == "equivalent"
    assert claims[delta] / sims <= 0.12  # 5% nominal; 60 simulations leave binomial room
    assert claims[0.0] / sims >= 0.5


# ----------------------------------------------------------------------------- learning, noise, baselines


def test_a_runs_own_learning_test_by_hand(tmp_path: Path) -> None:
    early, late = [0.0, 2.0] * 50, [5.0, 7.0] * 50  # 100 games each
    path = make_run(tmp_path, "Pong", "nature", 0, early + late, [6.0])
    got = run_learning(load_run(path))
    se = math.sqrt(np.var(early, ddof=1) / 100 + np.var(late, ddof=1) / 100)
    assert (got.k, got.first, got.last, got.se) == (100, 1.0, 6.0, pytest.approx(se))
    assert got.clearly_improves
    flat = run_learning(load_run(make_run(tmp_path, "Pong", "nature", 1, [0.0, 2.0] * 30, [1.0])))
    assert flat.k == 30 and not flat.clearly_improves  # 60 games: windows of 30, no gain


def test_learning_check_opens_the_answer_and_says_near_random(tmp_path: Path) -> None:
    root = tmp_path / "near"
    for game in ("Pong", "Breakout"):
        for ext in ("nature", "coordconv"):
            for seed in range(3):
                start = [raw(game, 0.0)] * 100
                make_run(root, game, ext, seed, start + [raw(game, 0.01 + 0.01 * seed)] * 100, [raw(game, 0.01 * seed)])
    report = analyze(root, reps=REPS, figures=False)
    answer = (report.out / "answer.md").read_text()
    assert "- Learning check (human-normalised: 0 = random, 1 = human): `nature` IQM" in answer
    assert "**The `nature` agents barely learned**" in answer
    assert answer.index("Learning check") < answer.index("IQM(`coordconv`) - IQM(`nature`)")
    rows = {(r["game"], r["extractor"]): r for r in read_csv(report.out / "learning.csv")}
    pong = rows[("Pong", "nature")]
    # final = the last evaluation (0, 0.01, 0.02 HNS); start = the first 100 games (random): mean gain 0.01 HNS
    assert float(pong["gain"]) == pytest.approx(0.01 * (14.6 + 20.7))
    assert float(pong["start_mean"]) == pytest.approx(-20.7)
    assert pong["runs_clearly_improving"] == "3"  # from random to above it, without spread: each run passes
    summary = {r["extractor"]: r for r in read_csv(report.out / "learning_summary.csv")}
    assert summary["nature"]["near_random"] == "True"


def test_a_running_studys_learning_check_covers_the_baselines_own_games(tmp_path: Path) -> None:
    # nature has finished two games, coordconv one: the aggregates wait on Pong only, but nature's level
    # beside "below random in k of 2 games" must be over its 2 games (scipy's 25%-trimmed mean by hand)
    root = tmp_path / "running"
    hns = {("Pong", "nature"): [0.1, 0.2, 0.3], ("Breakout", "nature"): [0.5, 0.9, 1.3],
           ("Pong", "coordconv"): [0.1, 0.2, 0.3]}  # fmt: skip
    for (game, ext), finals in hns.items():
        for seed, h in enumerate(finals):
            make_run(root, game, ext, seed, [raw(game, 0.0)] * 100 + [raw(game, h)] * 100, [raw(game, h)])
    report = analyze(root, reps=REPS, figures=False)
    summary = {r["extractor"]: r for r in read_csv(report.out / "learning_summary.csv")}
    nature = hns[("Pong", "nature")] + hns[("Breakout", "nature")]
    assert float(summary["nature"]["iqm"]) == pytest.approx(sps.trim_mean(nature, 0.25))
    assert float(summary["nature"]["median"]) == pytest.approx(np.median([0.2, 0.9]))  # of the per-game means
    assert summary["nature"]["n_games"] == "2"
    assert float(summary["coordconv"]["iqm"]) == pytest.approx(0.2)  # its own game: the aggregates' one
    aggregates = {(r["extractor"], r["metric"]): r for r in read_csv(report.out / "aggregates.csv")}
    assert float(aggregates[("nature", "IQM")]["point"]) == pytest.approx(0.2)  # Pong only
    assert aggregates[("nature", "IQM")]["n_games"] == "1"
    text = report.markdown.read_text()
    assert "the learning check's IQM and median cover each extractor's own games (nature: 2)" in text


def test_a_learning_baseline_is_said_to_learn(tmp_path: Path) -> None:
    report = analyze(make_sweep(tmp_path / "sweep"), reps=REPS, figures=False)
    answer = (report.out / "answer.md").read_text()
    assert "The `nature` agents learned: the comparison below is between agents that play." in answer
    assert "No smallest effect of interest was declared" in answer


def test_noise_budget_by_hand(tmp_path: Path) -> None:
    root = tmp_path / "noise"
    for seed, games in enumerate([[0.0, 2.0, 4.0], [1.0, 3.0, 5.0], [10.0, 12.0, 14.0]]):
        path = make_run(root, "Pong", "nature", seed, [0.0] * 10, [float(np.mean(games))])
        rows = runfolder.read_rows(path / runfolder.EVALUATIONS)
        rows[-1]["returns"] = ";".join(str(g) for g in games)
        rows[-1]["n_games"] = "3"
        with open(path / runfolder.EVALUATIONS, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    report = analyze(root, reps=REPS, figures=False)
    (row,) = read_csv(report.out / "noise.csv")
    noise = np.var([0.0, 2.0, 4.0], ddof=1) / 3  # the same spread in every run
    between = np.var([2.0, 3.0, 12.0], ddof=1)
    assert float(row["noise_variance"]) == pytest.approx(noise)
    assert float(row["between_seed_variance"]) == pytest.approx(between)
    assert float(row["ratio"]) == pytest.approx(noise / between)
    assert "seeds dominate" in report.markdown.read_text()


def _declare(root: Path, delta: float) -> None:
    spec = runfolder.read_yaml(root / "spec.yaml")
    runfolder.write_yaml(root / "spec.yaml", {**spec, "smallest_effect": delta})


def test_the_spec_declares_delta_and_the_answer_reads_it(tmp_path: Path) -> None:
    root = make_sweep(tmp_path / "sweep")
    _declare(root, 0.05)
    report = analyze(root, reps=REPS, figures=False)
    (effect,) = report.effects
    assert effect["smallest_effect"] == 0.05 and effect["reading"] == "better"
    answer = (report.out / "answer.md").read_text()
    assert "Better, against the smallest effect of interest, +/-0.050 HNS IQM points (spec.yaml" in answer
    assert effect["paired"] == "yes" and effect["paired_ci_low"] > 0  # same seeds 0-2 on both sides
    # the command line may set another one, and says the spec declared this one
    again = analyze(root, out=tmp_path / "r2", reps=REPS, figures=False, smallest_effect=0.9)
    text = (again.out / "answer.md").read_text()
    assert "--smallest-effect (the spec declares 0.05)" in text
    assert again.effects[0]["within_smallest_effect"] == "yes"  # 0.4 resolved, and well inside +/-0.9
    assert "Better, but by less than the smallest effect of interest" in text
    with pytest.raises(UserError, match="between 0 and 1"):
        analyze(root, reps=REPS, figures=False, smallest_effect=2.0)


def test_per_game_q_values_are_bh_over_the_games(tmp_path: Path) -> None:
    report = analyze(make_sweep(tmp_path / "sweep"), reps=REPS, figures=False)
    rows = read_csv(report.out / "per_game.csv")
    p = np.array([float(r["p_value"]) for r in rows])
    assert [float(r["q_value"]) for r in rows] == pytest.approx(list(sps.false_discovery_control(p)))
    assert (
        "After the Benjamini-Hochberg correction over the 2 games' Welch tests"
        in (report.out / "answer.md").read_text()
    )


def test_the_baseline_section_names_the_published_file_it_was_given(tmp_path: Path) -> None:
    root = make_sweep(tmp_path / "sweep")
    table = tmp_path / "my_reference.csv"
    table.write_text(
        "algo,game,protocol,agent_steps,score,seeds,score_kind,source,differences\n"
        "a2c,Pong,standard,10000,-19.0,3,train_last_100,My lab's runs,64x64 colour frames\n",
        encoding="utf-8",
    )
    report = analyze(root, reps=REPS, figures=False, published=[table])
    text = report.markdown.read_text()
    assert f"- `{table}`: 1 matching row(s)" in text
    assert "how its protocol differs from these runs: 64x64 colour frames" in text
    assert "its own median human-normalised score over these 1 game(s) is 0.048" in text  # (-19 + 20.7) / 35.3
    assert "not this report's headline score (`eval`)" in text
    assert "rl_coordconv/data/published_scores.csv" not in text.split("beside published scores")[1].split("###")[0]


def test_cli_smallest_effect_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_sweep(tmp_path / "sweep")
    assert main(["analyze", str(root), "--reps", str(REPS), "--no-figures", "--smallest-effect", "0.1"]) == 0
    assert "--smallest-effect (not declared in the spec)" in (root / "report" / "answer.md").read_text()
    assert main(["analyze", str(root), "--reps", str(REPS), "--no-figures", "--smallest-effect", "3"]) == 2
    assert "between 0 and 1" in capsys.readouterr().err


def test_atari5_games_get_the_57_game_median_estimate(tmp_path: Path) -> None:
    from rl_coordconv.analysis.atari5 import atari5_median
    from rl_coordconv.analysis.normalize import reference_scores

    table = reference_scores()
    games = ("BattleZone", "DoubleDunk", "NameThisGame", "Phoenix", "Qbert")
    root = tmp_path / "five"
    for game in games:
        low, high = table[game]
        for ext, level in (("nature", 0.1), ("coordconv", 0.2)):
            for seed in range(2):
                score = low + (level + 0.01 * seed) * (high - low)
                make_run(root, game, ext, seed, [low] * 10 + [score] * 10, [score])
    report = analyze(root, reps=REPS, figures=False)
    rows = {r["extractor"]: r for r in read_csv(report.out / "atari5.csv")}
    expected = atari5_median({g: 0.105 for g in games})  # per-game means over the 2 seeds
    assert float(rows["nature"]["estimate"]) == pytest.approx(expected)
    assert rows["coordconv - nature"]["paired"] == "yes"
    text = report.markdown.read_text()
    assert "### Atari-5 estimate of the 57-game median" in text and "Caveat:" in text
