"""Statistics a reviewer accepts (issue 11): honest intervals with few seeds, one headline score, robust
run sets, effect sizes, per-game comparisons and sample-efficiency curves."""

from __future__ import annotations

import csv
import math
import shutil
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from scipy import stats as sps
from test_analysis import RANDOM, make_run, raw

from rl_coordconv import runfolder
from rl_coordconv.analysis import stats
from rl_coordconv.analysis.load import Run
from rl_coordconv.analysis.report import analyze
from rl_coordconv.analysis.runset import build_algo_runset, deduplicate
from rl_coordconv.cli import main
from rl_coordconv.errors import UserError
from rl_coordconv.scores import parse_score, resolve_score
from rl_coordconv.sweep.spec import parse_spec

REPS = 100


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# ----------------------------------------------------------------------------- intervals over few seeds


@pytest.mark.parametrize("n", [3, 5])
def test_t_interval_covers_close_to_95_percent_with_few_seeds(n: int) -> None:
    rng = np.random.default_rng(n)
    sims = 8_000
    values = rng.normal(10.0, 3.0, size=(n, sims))  # one column per simulated experiment
    _, band, counts = stats.mean_t_intervals(values, confidence=0.95)
    coverage = np.mean((band[0] <= 10.0) & (10.0 <= band[1]))
    assert counts.tolist() == [n] * sims
    assert abs(coverage - 0.95) < 0.015, coverage  # 8,000 draws: standard error 0.25 points
    # Welch's interval for a difference of means, with unequal seeds and variances
    x = rng.normal(1.0, 1.0, size=(n, sims))
    y = rng.normal(0.0, 2.0, size=(n + 2, sims))
    _, diff_band = stats.difference_t_intervals(x, y, confidence=0.95)
    diff_coverage = np.mean((diff_band[0] <= 1.0) & (1.0 <= diff_band[1]))
    assert abs(diff_coverage - 0.95) < 0.02, diff_coverage


def test_t_interval_matches_the_textbook_formula() -> None:
    values = np.array([[1.0, 5.0], [2.0, np.nan], [4.0, 7.0]])
    means, band, counts = stats.mean_t_intervals(values, confidence=0.9)
    half = sps.t.ppf(0.95, 2) * np.std([1.0, 2.0, 4.0], ddof=1) / math.sqrt(3)
    assert means[0] == pytest.approx(7 / 3) and band[:, 0] == pytest.approx([7 / 3 - half, 7 / 3 + half])
    half = sps.t.ppf(0.95, 1) * np.std([5.0, 7.0], ddof=1) / math.sqrt(2)
    assert band[:, 1] == pytest.approx([6.0 - half, 6.0 + half]) and counts.tolist() == [3, 2]
    _, one, _ = stats.mean_t_intervals(np.array([[3.0]]))
    assert np.isnan(one).all()  # one seed: no interval


def test_welch_difference_and_per_game_probability_by_hand() -> None:
    x, y = np.array([1.0, 3.0, 4.0]), np.array([2.0, 2.0, 0.5])
    diff, band = stats.difference_t_intervals(x.reshape(-1, 1), y.reshape(-1, 1))
    vx, vy = x.var(ddof=1) / 3, y.var(ddof=1) / 3
    df = (vx + vy) ** 2 / (vx**2 / 2 + vy**2 / 2)  # Welch-Satterthwaite
    half = sps.t.ppf(0.975, df) * math.sqrt(vx + vy)
    assert diff[0] == pytest.approx(x.mean() - y.mean())
    assert band[:, 0] == pytest.approx([diff[0] - half, diff[0] + half])
    # X = {1, 3, 4} against Y = {2, 2, 0.5}: X wins 1+3+3 = 7 of the 9 pairs
    assert stats.probability_of_improvement_per_game([x], [y]).tolist() == pytest.approx([7 / 9])
    diff, band = stats.difference_t_intervals(np.array([[1.0]]), y.reshape(-1, 1))
    assert np.isnan(band).all()


def test_effect_size_is_a_difference_of_iqms_with_its_own_interval() -> None:
    nature = np.array([[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]])
    coord = nature + 0.4
    point, band = stats.iqm_difference_estimates(coord, nature, reps=REPS, seed=0)
    assert point == pytest.approx(0.4)
    assert band[0] <= point <= band[1] and band[0] > 0  # every resample of coordconv beats every one of nature
    again = stats.iqm_difference_estimates(coord, nature, reps=REPS, seed=0)
    assert again[1].tolist() == band.tolist()  # seeded
    point, band = stats.iqm_difference_estimates(coord[:1], nature, reps=REPS)
    assert point == pytest.approx(0.5 - 0.2) and np.isnan(band).all()


def test_sample_efficiency_is_the_iqm_at_each_point() -> None:
    scores = np.stack([np.full((4, 2), 0.1), np.arange(8.0).reshape(4, 2)], axis=-1)  # (runs, games, points)
    points, bands = stats.sample_efficiency_estimates({"a": scores}, reps=REPS)
    assert points["a"] == pytest.approx([0.1, 3.5])  # IQM of 0..7 = mean(2, 3, 4, 5)
    assert bands["a"].shape == (2, 2) and bands["a"][0, 1] <= 3.5 <= bands["a"][1, 1]


# ----------------------------------------------------------------------------- the headline score


def test_score_names_and_where_the_choice_comes_from() -> None:
    assert parse_score("eval").kind == "eval"
    assert (parse_score("train_last_100").kind, parse_score("train_last_100").last_n) == ("train", 100)
    for bad in ("train", "train_last_0", "last", 3):
        with pytest.raises(UserError, match="train_last_100"):
            parse_score(bad)
    assert resolve_score("train_last_10", "eval", ["standard"]).name == "train_last_10"  # --score wins
    assert resolve_score(None, "train_last_100", ["standard"]).source == "spec.yaml"
    assert resolve_score(None, None, ["standard"]).name == "eval"
    assert resolve_score(None, None, ["machado", None]).name == "train_last_100"
    with pytest.raises(UserError, match="--score"):
        resolve_score(None, None, ["standard", "machado"])
    with pytest.raises(UserError, match="^spec.yaml: score must be"):
        resolve_score(None, "best", ["standard"])


def test_spec_states_its_score_with_a_default_per_protocol() -> None:
    base = "games: [Pong]\nalgos: [ppo]\nextractors: [nature]\nseeds: 1\nagent_steps: 1000\n"
    assert parse_spec(base).score == "eval"
    assert parse_spec(base + "protocol: machado\n").score == "train_last_100"
    assert parse_spec(base + "score: train_last_50\n").score == "train_last_50"
    assert parse_spec(base + "score: train_last_50\n").resolved() == parse_spec(base).resolved()  # no run changes
    with pytest.raises(UserError, match="line 6.*'score'"):
        parse_spec(base + "score: best\n")
    with pytest.raises(UserError, match="eval_episodes is 0"):
        parse_spec(base + "score: eval\nevaluation: {eval_episodes: 0}\n")


# ----------------------------------------------------------------------------- run sets a reviewer would build


def fake_run(game: str, extractor: str, seed: int, score: float | None, complete: bool = True, steps: int = 100) -> Run:
    """A run read from nowhere: a last evaluation of ``score`` (none when None)."""
    evals = np.array([] if score is None else [score], dtype=float)
    return Run(
        path=Path(f"runs/{game}-{extractor}-{seed}-{steps}"), config={}, algo="ppo", game=game, extractor=extractor,
        seed=seed, timesteps=100, complete=complete, error=None, agent_steps=steps, frames_per_agent_step=4.0,
        episode_steps=np.array([50.0]), episode_returns=np.array([0.0]), eval_steps=np.full(evals.size, 100.0),
        eval_means=evals, eval_games=np.full(evals.size, 10),
    )  # fmt: skip


def test_run_set_rules_on_hand_built_runs() -> None:
    runs = [fake_run("Pong", "nature", s, float(s)) for s in (0, 1, 2, 3)]
    runs += [fake_run("Breakout", "nature", s, 10.0 + s) for s in (2, 3)]
    runs += [fake_run("Pong", "coordconv", 0, 5.0), fake_run("Breakout", "coordconv", 0, None)]
    runs += [fake_run("Alien", "coordconv", 0, 1.0)]  # a game nature has no run of
    runs += [fake_run("Pong", "nature", 1, 99.0, complete=False, steps=50)]  # duplicate of seed 1, interrupted
    kept, duplicates = deduplicate(runs)
    assert len(kept) == len(runs) - 1 and [d.agent_steps for _, d in duplicates] == [50]  # the complete one stays
    rs = build_algo_runset("ppo", kept, parse_score("eval"), lambda game: game != "Nonsense")
    assert rs.extractors == ("nature", "coordconv")  # every extractor stays
    assert [r.game for r in rs.unscored] == ["Breakout"]  # coordconv's Breakout run has no evaluation
    assert rs.aggregate_games == ("Pong",)
    assert rs.dropped_games == {"Alien": "no scored run of nature", "Breakout": "no scored run of coordconv"}
    # Pong nature has 4 scored seeds; with Breakout gone every game has them all: nothing is cut
    assert rs.matrices["nature"][:, 0].tolist() == [0.0, 1.0, 2.0, 3.0] and "nature" not in rs.left_out_of_matrices
    # with both games in, nature's matrix takes 2 runs per game, the seeds Pong shares with Breakout (2, 3)
    both = build_algo_runset("ppo", [r for r in kept if r.extractor == "nature"], parse_score("eval"), bool)
    assert both.aggregate_games == ("Breakout", "Pong")
    assert both.matrices["nature"].tolist() == [[12.0, 2.0], [13.0, 3.0]]
    assert sorted(r.seed for r in both.left_out_of_matrices["nature"]) == [0, 1]
    assert both.scores("nature", "Pong").tolist() == [0.0, 1.0, 2.0, 3.0]  # per-game statistics keep all four


def messy_sweep(root: Path) -> Path:
    """Pong and Breakout, nature vs coordconv, few and unequal seeds, with the usual accidents.

    - Pong: nature 3 seeds (0, 1, 2), coordconv 2 seeds (0, 1) plus a duplicate folder of coordconv seed 0;
    - Breakout: nature 2 seeds; coordconv 2 seeds that finished no evaluation (interrupted before it);
    - one Pong nature run (seed 2) has no evaluation either.
    Scores are human-normalised levels: nature 0.1 + 0.1 * seed, coordconv 0.5 + 0.1 * seed.
    """
    root.mkdir(parents=True, exist_ok=True)
    runfolder.write_yaml(root / "spec.yaml", {"name": "messy", "games": ["Pong", "Breakout"]})
    for game, extractor, seeds in (("Pong", "nature", (0, 1, 2)), ("Pong", "coordconv", (0, 1)),
                                   ("Breakout", "nature", (0, 1)), ("Breakout", "coordconv", (0, 1))):  # fmt: skip
        for seed in seeds:
            level = (0.1 if extractor == "nature" else 0.5) + 0.1 * seed
            train = [RANDOM[game]] * 10 + [raw(game, level)] * 30  # 40 training games: fewer than 100
            no_eval = (game == "Breakout" and extractor == "coordconv") or (game, extractor, seed) == (
                "Pong",
                "nature",
                2,
            )
            make_run(root, game, extractor, seed, train, None if no_eval else [RANDOM[game], raw(game, level)])
    shutil.copytree(root / "runs" / "Pong_a2c_coordconv_s0", root / "runs" / "zz_copy_of_Pong_a2c_coordconv_s0")
    return root


def test_messy_run_set_keeps_every_extractor_and_says_what_it_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rl_coordconv.atari.games

    root = messy_sweep(tmp_path / "messy")
    # analysis must not need ale-py: importing it fails, and its game registry must not be consulted
    monkeypatch.setitem(sys.modules, "ale_py", None)

    def no_registry() -> dict[str, str]:
        raise AssertionError("analysis looked a game up in ale-py's registry")

    monkeypatch.setattr(rl_coordconv.atari.games, "_registry", no_registry)
    report = analyze(root, reps=REPS)
    out = root / "report"
    assert report.score.name == "eval"  # the standard protocol's default, not switched to training scores
    text = report.markdown.read_text()
    first = "\n".join(text.splitlines()[:16])
    assert "Headline score: `eval`" in first and "3 run(s) lack the headline score" in first
    for lacking in ("runs/Breakout_a2c_coordconv_s0", "runs/Breakout_a2c_coordconv_s1", "runs/Pong_a2c_nature_s2"):
        assert lacking in first
    # Breakout has no scored coordconv run: the GAME leaves the aggregates, no extractor does
    aggregates = {(r["extractor"], r["metric"]): r for r in read_csv(out / "aggregates.csv")}
    assert {e for e, _ in aggregates} == {"nature", "coordconv"}
    assert aggregates["nature", "IQM"]["n_games"] == "1" and aggregates["nature", "IQM"]["n_runs_per_game"] == "2"
    assert aggregates["coordconv", "IQM"]["n_runs_per_game"] == "2"  # the duplicate folder counted once
    assert float(aggregates["nature", "Mean"]["point"]) == pytest.approx(0.15)  # Pong seeds 0, 1
    assert float(aggregates["coordconv", "Mean"]["point"]) == pytest.approx(0.55)
    assert "Breakout** left out of the aggregates (no scored run of coordconv)" in text
    # the report names the percentiles its intervals over games were read at, for the matrices it analysed
    assert stats.bootstrap_level(0.95, 2, 1) > 0.9995  # 2 runs of 1 game: a normal quantile of 18
    assert "a2c, 2 runs per game on 1 game: the 95% interval takes the whole range of the resamples" in text
    assert any("duplicate cell a2c/Pong/coordconv/seed 0" in w for w in report.warnings)
    # the effect, per game and over games
    (effect,) = read_csv(out / "effect.csv")
    assert (effect["x"], effect["y"]) == ("coordconv", "nature")
    assert float(effect["difference"]) == pytest.approx(0.4)
    per_game = {r["game"]: r for r in read_csv(out / "per_game.csv")}
    assert set(per_game) == {"Pong"}  # Breakout has no scored coordconv run to compare
    pong = per_game["Pong"]
    assert (pong["n_runs_x"], pong["n_runs_y"]) == ("2", "2")
    assert float(pong["hns_difference"]) == pytest.approx(0.4) and float(pong["probability"]) == 1.0
    assert float(pong["hns_ci_low"]) < 0.4 < float(pong["hns_ci_high"])
    # sample efficiency from the evaluations (every scored run has the same two evaluation points)
    efficiency = read_csv(out / "sample_efficiency.csv")
    assert {r["source"] for r in efficiency} == {"evaluations"} and {r["agent_steps"] for r in efficiency} == {
        "5000",
        "10000",
    }
    last = {r["extractor"]: float(r["iqm"]) for r in efficiency if r["agent_steps"] == "10000"}
    assert last == pytest.approx({"nature": 0.15, "coordconv": 0.55})
    # per-game final scores keep every run: both Breakout coordconv runs are in the training column
    finals = {(r["game"], r["extractor"]): r for r in read_csv(out / "final_scores.csv")}
    assert (
        finals["Breakout", "coordconv"]["train_n_runs"] == "2" and finals["Breakout", "coordconv"]["eval_n_runs"] == "0"
    )
    assert finals["Pong", "nature"]["n_runs"] == "3" and finals["Pong", "coordconv"]["n_runs"] == "2"
    assert "40 games each (fewer than 100)" in text  # how many games each "last 100" mean averaged
    for name in ("effect_a2c.png", "per_game_a2c.png", "sample_efficiency_a2c.png", "curves_a2c_Pong.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG", name
        assert f"]({name})" in text
    seeds = read_csv(out / "curves_per_seed.csv")  # each seed's own curve, drawn thin under the mean
    assert {r["seed"] for r in seeds if r["game"] == "Pong" and r["extractor"] == "nature"} == {"0", "1", "2"}


def test_training_score_from_the_spec(tmp_path: Path) -> None:
    root = messy_sweep(tmp_path / "messy")
    runfolder.write_yaml(
        root / "spec.yaml", {"name": "messy", "games": ["Pong", "Breakout"], "score": "train_last_100"}
    )
    report = analyze(root, reps=REPS)
    assert (report.score.name, report.score.source) == ("train_last_100", "spec.yaml")
    aggregates = {(r["extractor"], r["metric"]): r for r in report.aggregates}
    assert aggregates["coordconv", "IQM"]["n_games"] == 2  # every run has training games: Breakout is back
    assert any("fewer than 100 training games" in w for w in report.warnings)
    # the last 100 training games of a 40-game run are all 40, the 10 random-level ones included
    rows = {r["path"]: r for r in read_csv(root / "report" / "run_scores.csv")}
    expected = (10 * RANDOM["Pong"] + 30 * raw("Pong", 0.1)) / 40
    assert float(rows["runs/Pong_a2c_nature_s0"]["score"]) == pytest.approx(expected)
    assert rows["runs/Pong_a2c_nature_s0"]["score_games"] == "40"
    assert rows["runs/zz_copy_of_Pong_a2c_coordconv_s0"]["note"] == "duplicate of runs/Pong_a2c_coordconv_s0"


def test_a_score_no_run_has_is_refused_in_one_line_and_score_overrides(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "noeval"
    make_run(root, "Pong", "nature", 0, [-20.0, -19.0])
    make_run(root, "Pong", "coordconv", 0, [-18.0, -15.0])
    runfolder.write_yaml(root / "spec.yaml", {"name": "noeval", "score": "eval"})
    assert main(["analyze", str(root), "--reps", str(REPS)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "none of the 2 runs" in err and "--score train_last_100" in err
    assert main(["analyze", str(root), "--score", "best"]) == 2
    assert "train_last_100" in capsys.readouterr().err
    # --score on the command line wins over the spec
    assert main(["analyze", str(root), "--reps", str(REPS), "--score", "train_last_100"]) == 0
    assert "headline score: train_last_100" in capsys.readouterr().out
    text = (root / "report" / "report.md").read_text()
    assert "**Headline score: `train_last_100`** (--score)" in text
    assert "2 games each (fewer than 100)" in text


# ----------------------------------------------------------------------------- expanded bootstrap intervals


def test_bootstrap_level_is_hesterbergs_expanded_percentile_level() -> None:
    # z of the level = sqrt(n / (n - 1)) * t_{0.975, games (n - 1)} (Hesterberg 2015's ExpandProbs, pooled df)
    for runs, games in ((3, 26), (5, 26), (2, 4)):
        z = math.sqrt(runs / (runs - 1)) * sps.t.ppf(0.975, games * (runs - 1))
        assert stats.bootstrap_level(0.95, runs, games) == pytest.approx(2 * sps.norm.cdf(z) - 1)
    assert stats.bootstrap_level(0.95, 3, 26) == pytest.approx(0.98601, abs=1e-5)
    assert stats.bootstrap_level(0.95, 5, 26) == pytest.approx(0.97338, abs=1e-5)
    assert 0.95 < stats.bootstrap_level(0.95, 1000, 26) < 0.9502  # many runs: the plain level
    assert 0.999 < stats.bootstrap_level(0.95, 2, 1) < 1.0  # 2 runs of 1 game: capped below 1, the resamples' range
    with pytest.raises(ValueError, match="at least 2 runs"):
        stats.bootstrap_level(0.95, 1, 26)


def test_stratified_intervals_are_read_at_the_expanded_level() -> None:
    """The package's intervals over games are rliable's resamples read at the expanded level: wider than
    rliable's plain percentile interval on the same resamples by the ratio of the two normal quantiles
    (about 1.25 with 3 runs per game), and equal to rliable asked for the expanded level; the probability
    of improvement keeps rliable's plain interval."""
    from rliable import library, metrics

    rng = np.random.default_rng(3)
    x, y = rng.normal(0.5, 0.2, size=(3, 26)), rng.normal(0.4, 0.2, size=(3, 26))

    def plain(level: float) -> np.ndarray:
        def diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return np.array([metrics.aggregate_iqm(a) - metrics.aggregate_iqm(b)])

        with stats.seeded_global_rng(0):
            _, ci = library.get_interval_estimates({"d": [x, y]}, diff, reps=2000, confidence_interval_size=level)
        return np.asarray(ci["d"], dtype=float).reshape(2)

    _, ours = stats.iqm_difference_estimates(x, y, reps=2000, seed=0)
    level = stats.bootstrap_level(0.95, 3, 26)
    np.testing.assert_allclose(ours, plain(level))
    narrow = plain(0.95)
    ratio = (ours[1] - ours[0]) / (narrow[1] - narrow[0])
    assert ratio == pytest.approx(sps.norm.ppf((1 + level) / 2) / sps.norm.ppf(0.975), rel=0.08)
    points, intervals = stats.aggregate_interval_estimates({"x": x}, reps=2000, seed=0)
    with stats.seeded_global_rng(0):
        _, ci = library.get_interval_estimates(
            {"x": x}, stats.aggregate_metrics, reps=2000, confidence_interval_size=level
        )
    np.testing.assert_allclose(intervals["x"], ci["x"])
    # the probability of improvement keeps the plain percentile interval (its plain one covers ~95%)
    _, poi = stats.probability_of_improvement_estimates(x, y, reps=2000, seed=0)
    with stats.seeded_global_rng(0):
        _, ci = library.get_interval_estimates(
            {"p": [x, y]}, stats.probability_of_improvement, reps=2000, confidence_interval_size=0.95
        )
    np.testing.assert_allclose(poi, np.asarray(ci["p"]).reshape(2))
