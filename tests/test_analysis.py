"""Analysis on synthetic run folders with hand-computed expectations (issue 6, items 3 and 5)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from rl_coordconv import runfolder
from rl_coordconv.analysis import load, stats
from rl_coordconv.analysis.normalize import canonical_game, human_normalize, human_normalized_score
from rl_coordconv.analysis.report import analyze
from rl_coordconv.atari import PROTOCOLS
from rl_coordconv.cli import main
from rl_coordconv.errors import UserError

# Random and human scores (REFERENCE.md): Pong -20.7 / 14.6, Breakout 1.7 / 30.5.
RANDOM = {"Pong": -20.7, "Breakout": 1.7}
HUMAN = {"Pong": 14.6, "Breakout": 30.5}
REPS = 100  # few resamples keep the tests fast; determinism does not depend on the number


def raw(game: str, hns: float) -> float:
    """The raw score whose human-normalised score is ``hns``."""
    return RANDOM[game] + hns * (HUMAN[game] - RANDOM[game])


def make_run(
    root: Path,
    game: str,
    extractor: str,
    seed: int,
    train_returns: list[float],
    eval_means: list[float] | None = None,
    complete: bool = True,
    algo: str = "a2c",
    timesteps: int = 10_000,
    error: str | None = None,
    commits: tuple[str, ...] = (),
    machines: tuple[str, ...] = (),
) -> Path:
    """Write a run folder the way training does (through the runfolder types): config.yaml, episodes.csv,
    evaluations.csv, status.json last; ``commits``: the code of each session (none: an older run)."""
    path = root / "runs" / f"{game}_{algo}_{extractor}_s{seed}"
    path.mkdir(parents=True)
    runfolder.RunConfig(
        run=runfolder.run_name(game, algo, extractor, seed),
        algo=algo,
        game=game,
        extractor=extractor,
        seed=seed,
        timesteps=timesteps,
        protocol=PROTOCOLS["standard"].to_dict(),
        backend="sb3",
        n_envs=2,
        agent={"algo": algo, "n_envs": 2},
        evaluation=runfolder.EvaluationConfig(freq=timesteps // 2, games=2),
        seeds={"root": seed},
        versions={
            "python": "3.11",
            "torch": "2.13.0",
            "stable_baselines3": "2.9.2",
            "gymnasium": "1.4",
            "ale_py": "0.12",
        },
        commit=commits[0] if commits else None,
        machine=machines[0] if machines else None,
    ).write(path)
    reached = timesteps if complete else timesteps // 2
    n = len(train_returns)
    with runfolder.CsvLog(path / runfolder.EPISODES, runfolder.EPISODE_COLUMNS) as log:
        for k, ret in enumerate(train_returns):
            steps = int(reached * (k + 1) / n)
            log.write(
                {
                    "agent_steps": steps,
                    "env": k % 2,
                    "frames": 4 * steps,
                    "return": ret,
                    "length": 100,
                    "truncated": 0,
                    "wall_seconds": k,
                }
            )
    if eval_means is not None:
        with runfolder.CsvLog(path / runfolder.EVALUATIONS, runfolder.EVALUATION_COLUMNS) as log:
            for k, mean in enumerate(eval_means):
                steps = int(reached * (k + 1) / len(eval_means))
                log.write(
                    {
                        "agent_steps": steps,
                        "frames": 4 * steps,
                        "mean_return": mean,
                        "std_return": 0.0,
                        "n_games": 2,
                        "returns": f"{mean};{mean}",
                        "lengths": "100;100",
                        "truncated": "0;0",
                    }
                )
    if error:
        runfolder.ErrorRecord(error + "\nTraceback ...\n").write(path)
    if complete:
        runfolder.RunStatus(
            complete=True, agent_steps=timesteps, frames=4 * timesteps, timesteps=timesteps,
            wall_seconds=60.0 * (seed + 1), commits=list(commits) or None, machines=list(machines) or None,
        ).write(path)  # fmt: skip
    return path


# Human-normalised final evaluation scores per extractor and seed (same on both games).
NATURE_HNS = [0.1, 0.2, 0.3]
COORD_HNS = [0.5, 0.6, 0.7]
#: The code that trained each seed: one commit; sessions of unknown, known and uncommitted code; not recorded.
COMMITS: list[tuple[str, ...]] = [("c" * 40,), ("unknown", "c" * 40, "d" * 40 + "-dirty"), ()]
#: The computers that trained each seed: one; a session of an older version, then two; not recorded.
MACHINES: list[tuple[str, ...]] = [
    ("EPYC, 2 logical CPUs",),
    ("unknown", "EPYC, 2 logical CPUs", "Xeon, 2 logical CPUs"),
    (),
]


def make_sweep(root: Path) -> Path:
    """2 games x {nature, coordconv} x 3 seeds, complete, coordconv clearly better; plus one incomplete run."""
    root.mkdir(parents=True, exist_ok=True)
    runfolder.write_yaml(root / "spec.yaml", {"name": "synthetic", "games": ["Pong", "Breakout"]})
    for game in ("Pong", "Breakout"):
        for extractor, levels in (("nature", NATURE_HNS), ("coordconv", COORD_HNS)):
            for seed, level in enumerate(levels):
                # 20 early games at the random score, then 100 games at the final level.
                train = [RANDOM[game]] * 20 + [raw(game, level)] * 100
                evals = [RANDOM[game], raw(game, level)]
                make_run(root, game, extractor, seed, train, evals, commits=COMMITS[seed], machines=MACHINES[seed])
    # An incomplete (interrupted) coordconv run with absurd scores: mixing it in would show.
    make_run(root, "Pong", "coordconv", 3, [1000.0] * 5, [1000.0], complete=False)
    return root


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# ----------------------------------------------------------------------------- pure functions


def test_human_normalisation_matches_hand_computation() -> None:
    assert human_normalized_score(-20.7, "Pong") == pytest.approx(0.0)
    assert human_normalized_score(14.6, "Pong") == pytest.approx(1.0)
    assert human_normalized_score(-3.05, "Pong") == pytest.approx(0.5)  # halfway: (-3.05 + 20.7) / 35.3
    assert human_normalized_score(16.1, "Breakout") == pytest.approx((16.1 - 1.7) / 28.8)
    got = human_normalize(np.array([[-20.7, 30.5], [14.6, 1.7]]), ["Pong", "Breakout"])
    np.testing.assert_allclose(got, [[0.0, 1.0], [1.0, 0.0]], atol=1e-12)
    for name in ("ALE/Pong-v5", "PongNoFrameskip-v4", "pong"):
        assert canonical_game(name) == "Pong"
    assert canonical_game("MsPacman") == "MsPacman"
    with pytest.raises(UserError, match="Pong"):
        human_normalize(np.zeros((1, 1)), ["Pongg"])


def test_iqm_and_aggregates_match_hand_computation() -> None:
    scores = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 100.0]])
    # 8 scores; IQM drops the lowest 2 and highest 2: mean(3, 4, 5, 6) = 4.5.
    assert stats.iqm(scores) == pytest.approx(4.5)
    iqm, median, mean, gap = stats.aggregate_metrics(scores)
    # per-game means 4 and 28: median = mean = 16; every score >= 1 so the optimality gap is 0.
    assert (iqm, median, mean, gap) == pytest.approx((4.5, 16.0, 16.0, 0.0))
    # optimality gap: 1 - mean(min(score, 1)) = 1 - (0.5 + 1) / 2
    assert stats.aggregate_metrics(np.array([[0.5, 2.0]]))[3] == pytest.approx(0.25)


def test_confidence_intervals_contain_the_point_estimate() -> None:
    rng = np.random.default_rng(0)
    scores = {"a": rng.normal(0.5, 0.2, size=(5, 4)), "b": rng.normal(1.0, 0.5, size=(3, 4))}
    points, intervals = stats.aggregate_interval_estimates(scores, reps=REPS, seed=1)
    for key in scores:
        assert intervals[key].shape == (2, 4)
        assert np.all(intervals[key][0] <= points[key] + 1e-12)
        assert np.all(points[key] <= intervals[key][1] + 1e-12)
        assert np.all(intervals[key][0] < intervals[key][1])
    means, bands, counts = stats.mean_t_intervals(scores["a"])
    np.testing.assert_allclose(means, scores["a"].mean(axis=0))
    assert np.all(bands[0] <= means) and np.all(means <= bands[1])
    assert counts.tolist() == [5, 5, 5, 5]


def test_one_run_gives_points_and_no_interval() -> None:
    points, intervals = stats.aggregate_interval_estimates({"a": np.array([[0.3, 0.7]])}, reps=REPS)
    assert points["a"][0] == pytest.approx(0.5)
    assert np.isnan(intervals["a"]).all()
    values = np.array([[1.0, np.nan], [3.0, 5.0]])
    means, bands, counts = stats.mean_t_intervals(values)
    assert means.tolist() == [2.0, 5.0] and counts.tolist() == [2, 1]
    assert np.isfinite(bands[:, 0]).all() and np.isnan(bands[:, 1]).all()


def test_probability_of_improvement_equals_rliables() -> None:
    # The vectorised statistic gives rliable's numbers exactly, ties and unequal run counts included.
    from rliable import metrics

    rng = np.random.default_rng(7)
    for nx, ny, games in ((5, 5, 26), (3, 4, 7), (2, 5, 1), (1, 1, 3)):
        x = rng.integers(0, 6, size=(nx, games)).astype(float)  # small integers: many ties
        y = rng.integers(0, 6, size=(ny, games)).astype(float)
        assert stats.probability_of_improvement(x, y) == float(metrics.probability_of_improvement(x, y))
        z = rng.normal(size=(nx, games))
        assert stats.probability_of_improvement(z, y) == float(metrics.probability_of_improvement(z, y))
    same = rng.normal(size=(4, 5))
    assert stats.probability_of_improvement(same, same.copy()) == 0.5


def test_probability_of_improvement() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(0.0, 1.0, size=(5, 3))
    assert stats.probability_of_improvement(y + 100.0, y) == pytest.approx(1.0)
    assert stats.probability_of_improvement(y, y) == pytest.approx(0.5)
    # one game, by hand: X = {1, 3, 4}, Y = {2, 2}: 4 of the 6 pairs have X > Y.
    x, y = np.array([[1.0], [3.0], [4.0]]), np.array([[2.0], [2.0]])
    assert stats.probability_of_improvement(x, y) == pytest.approx(4 / 6)
    p, band = stats.probability_of_improvement_estimates(y + 100.0, y, reps=REPS)
    assert p == pytest.approx(1.0) and band[0] <= p <= band[1]


def test_binned_learning_curve() -> None:
    edges = np.array([0.0, 10.0, 20.0, 30.0, 40.0])
    # games end at 5, 8 (bin 0), none in bin 1 (carried), 25 (bin 2); nothing after: bin 3 is NaN.
    got = load.bin_returns(np.array([5.0, 8.0, 25.0]), np.array([1.0, 3.0, 10.0]), edges)
    assert got[:3].tolist() == [2.0, 2.0, 10.0] and math.isnan(got[3])


# ----------------------------------------------------------------------------- run folders and report


def test_report_statistics_match_hand_computation(tmp_path: Path) -> None:
    root = make_sweep(tmp_path / "sweep")
    report = analyze(root, reps=REPS)
    out = root / "report"
    assert report.score_kind == "eval"
    for name in (
        "report.md",
        "final_scores.csv",
        "final_scores.md",
        "aggregates.csv",
        "aggregates.md",
        "probability_of_improvement.csv",
        "probability_of_improvement.md",
        "run_scores.csv",
        "curves.csv",
        "curves_a2c_Pong.png",
        "curves_a2c_Breakout.png",
        "aggregates_a2c.png",
        "probability_of_improvement_a2c.png",
        "performance_profiles_a2c.png",
    ):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert (out / "curves_a2c_Pong.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    aggregates = {(r["extractor"], r["metric"]): r for r in read_csv(out / "aggregates.csv")}
    # nature: normalised scores {0.1, 0.2, 0.3} on both games; IQM of the six = mean(0.1, 0.2, 0.2, 0.3) = 0.2.
    assert float(aggregates["nature", "IQM"]["point"]) == pytest.approx(0.2)
    assert float(aggregates["nature", "Mean"]["point"]) == pytest.approx(0.2)
    assert float(aggregates["nature", "Optimality Gap"]["point"]) == pytest.approx(0.8)
    assert float(aggregates["coordconv", "IQM"]["point"]) == pytest.approx(0.6)
    assert float(aggregates["coordconv", "Median"]["point"]) == pytest.approx(0.6)
    for row in aggregates.values():
        assert float(row["ci_low"]) <= float(row["point"]) + 1e-9 <= float(row["ci_high"]) + 2e-9
        assert row["n_runs_per_game"] == "3" and row["n_games"] == "2"  # the incomplete run is not in

    (poi,) = read_csv(out / "probability_of_improvement.csv")
    assert (poi["x"], poi["y"]) == ("coordconv", "nature")
    assert float(poi["probability"]) == pytest.approx(1.0)

    finals = {(r["game"], r["extractor"]): r for r in read_csv(out / "final_scores.csv")}
    pong = finals["Pong", "nature"]
    # mean over seeds of the last 100 training games (the 20 early random games are not in them)
    assert float(pong["train_mean"]) == pytest.approx(np.mean([raw("Pong", h) for h in NATURE_HNS]))
    assert float(pong["eval_mean"]) == pytest.approx(raw("Pong", 0.2))
    assert float(pong["train_ci_low"]) <= float(pong["train_mean"]) <= float(pong["train_ci_high"])
    assert finals["Pong", "coordconv"]["n_runs"] == "3"

    # report.md says what was run and links the figures
    text = report.markdown.read_text()
    for needle in (
        "Pong",
        "Breakout",
        "nature",
        "coordconv",
        "0, 1, 2",
        "10,000 agent steps",
        "40,000 frames",
        "standard",
        "stable_baselines3",
        "2.9.2",
        "synthetic",
        "last evaluation",
        "IQM",
        "Agarwal",
        "curves_a2c_Pong.png",
        "aggregates_a2c.png",
        "performance_profiles_a2c.png",
    ):
        assert needle in text, needle
    # training wall time: seeds 0, 1, 2 took 1, 2, 3 minutes in each of the 4 (game, extractor) cells
    assert "| training wall time per run | median 2.0 min, total 0.4 h over 12 run(s) (`status.json`;" in text
    # which code trained the runs: every session's commit, counted per run, and the runs that record none
    code = text.split("### Code\n\n", 1)[1].split("\n### ", 1)[0]
    assert f"| `{'c' * 40}` | 8 |" in code and f"| `{'d' * 40}-dirty` (with uncommitted changes) | 4 |" in code
    assert "| unknown (no git commit found, or a session of an older rl-coordconv) | 4 |" in code
    assert "4 run(s) record no commit" in code
    # and on which computers, the same way
    machines = text.split("### Machines\n\n", 1)[1].split("\n### ", 1)[0]
    assert "| EPYC, 2 logical CPUs | 8 |" in machines and "| Xeon, 2 logical CPUs | 4 |" in machines
    assert "| unknown (a session of an older rl-coordconv) | 4 |" in machines
    assert "4 run(s) record no machine" in machines


def test_incomplete_runs_are_left_out_and_reported(tmp_path: Path) -> None:
    root = make_sweep(tmp_path / "sweep")
    make_run(root, "Breakout", "nature", 7, [500.0] * 3, None, complete=False, error="RuntimeError: boom")
    report = analyze(root, reps=REPS)
    assert len(report.left_out) == 2 and all(not r.complete for r in report.left_out)
    assert any("incomplete" in w for w in report.warnings)
    rows = {r["path"]: r for r in read_csv(root / "report" / "run_scores.csv")}
    assert rows["runs/Pong_a2c_coordconv_s3"]["in_statistics"] == "no"
    assert rows["runs/Pong_a2c_coordconv_s3"]["state"] == "incomplete"
    assert rows["runs/Breakout_a2c_nature_s7"]["state"] == "failed"
    text = (root / "report" / "report.md").read_text()
    assert "runs/Pong_a2c_coordconv_s3" in text and "RuntimeError: boom" in text and "left out" in text
    curves = read_csv(root / "report" / "curves.csv")
    assert max(float(r["mean"]) for r in curves if r["mean"]) < 100  # the 1000-point games are not in the curves

    included = analyze(root, out=tmp_path / "with", reps=REPS, include_incomplete=True)
    assert not included.left_out and len(included.used) == len(included.runs)
    rows = {r["path"]: r for r in read_csv(tmp_path / "with" / "run_scores.csv")}
    assert rows["runs/Pong_a2c_coordconv_s3"]["in_statistics"] == "yes"
    assert "INCLUDED" in (tmp_path / "with" / "report.md").read_text()


def test_analyze_twice_gives_identical_tables(tmp_path: Path) -> None:
    root = make_sweep(tmp_path / "sweep")
    analyze(root, out=tmp_path / "a", reps=REPS)
    analyze(root, out=tmp_path / "b", reps=REPS)
    names = sorted(p.name for p in (tmp_path / "a").iterdir() if p.suffix in (".csv", ".md"))
    assert len(names) == 25  # 14 CSV tables, 9 markdown tables, answer.md, report.md
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    # without figures: the same tables, no PNG, and report.md says why it shows none
    assert main(["analyze", str(root), "--out", str(tmp_path / "c"), "--reps", str(REPS), "--no-figures"]) == 0
    c = tmp_path / "c"
    assert not list(c.glob("*.png")) and list((tmp_path / "a").glob("*.png"))
    for name in names:
        if name != "report.md":
            assert (c / name).read_bytes() == (tmp_path / "a" / name).read_bytes(), name
    text = (c / "report.md").read_text()
    assert "Figures not drawn (`analyze --no-figures`)" in text and ".png)" not in text


def test_one_game_one_seed_still_works(tmp_path: Path) -> None:
    root = tmp_path / "tiny"
    make_run(root, "Pong", "nature", 0, [-20.0, -19.0])
    make_run(root, "Pong", "coordconv", 0, [-18.0, -15.0])
    report = analyze(root, reps=REPS, score="train_last_100")
    assert report.score_kind == "train"  # no evaluations: the last training games, asked for
    aggregates = {(r["extractor"], r["metric"]): r for r in report.aggregates}
    assert aggregates["nature", "Mean"]["point"] == pytest.approx(human_normalized_score(-19.5, "Pong"))
    assert math.isnan(aggregates["nature", "IQM"]["ci_low"])
    assert report.improvement[0]["probability"] == pytest.approx(1.0)
    text = report.markdown.read_text()
    assert "n/a" in text and "at least two runs" in text


def test_only_incomplete_runs_writes_a_report_without_statistics(tmp_path: Path) -> None:
    root = tmp_path / "running"
    make_run(root, "Pong", "nature", 0, [-20.0], complete=False)
    report = analyze(root, reps=REPS)
    assert not report.used and not report.aggregates
    assert "no complete run" in report.markdown.read_text()


def test_cli_analyze(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_sweep(tmp_path / "sweep")
    assert main(["analyze", str(root), "--reps", str(REPS)]) == 0
    captured = capsys.readouterr()
    assert str(root / "report" / "report.md") in captured.out
    assert "incomplete" in captured.err  # the warning about the left-out run
    assert (root / "report" / "report.md").is_file()


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_cli_analyze_without_runs_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    target = tmp_path / kind
    if kind == "empty":
        target.mkdir()
    assert main(["analyze", str(target)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "analyze" in err


def test_odd_folders_do_not_crash(tmp_path: Path) -> None:
    root = tmp_path / "odd"
    for algo, extractors in (("a2c", ("nature", "coordconv")), ("ppo", ("coordconv", "coordconv_all"))):
        for extractor in extractors:
            for seed in range(2):
                make_run(root, "Pong", extractor, seed, [-20.0 + seed + len(extractor)] * 5, algo=algo)
    weird = root / "runs" / "weird"  # a game with no reference score and a config missing most keys
    weird.mkdir(parents=True)
    runfolder.write_yaml(weird / runfolder.CONFIG, {"game": "CartPole", "extractor": "nature"})
    runfolder.write_json(weird / runfolder.STATUS, {"complete": True})
    broken = root / "runs" / "broken"  # an unreadable config: an incomplete, unknown run
    broken.mkdir(parents=True)
    (broken / runfolder.CONFIG).write_text(": : [")
    report = analyze(root, reps=REPS, score="train_last_100")
    assert {r["algo"] for r in report.aggregates} == {"a2c", "ppo"}
    assert [r["algo"] for r in report.improvement] == ["a2c"]  # ppo has no 'nature' to compare with
    assert any("CartPole" in w for w in report.warnings)
    assert any("ppo" in w and "nature" in w for w in report.warnings)
    assert "runs/broken" in report.markdown.read_text()


def _nature_runs(root: Path, game: str, algo: str, timesteps: int, levels: list[float]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for seed, level in enumerate(levels):
        make_run(root, game, "nature", seed, [level] * 10, [level], algo=algo, timesteps=timesteps)
    return root


def test_baseline_table_sets_nature_beside_the_packaged_zoo_score(tmp_path: Path) -> None:
    # rl-baselines3-zoo's PPO Breakout agent (10M agent steps, standard protocol) scored 398.033.
    root = _nature_runs(tmp_path / "zoo", "Breakout", "ppo", 10_000_000, [300.0, 350.0, 400.0])
    analyze(root, reps=REPS)
    rows = read_csv(root / "report" / "baselines.csv")
    assert len(rows) == 1
    row = rows[0]
    assert (row["algo"], row["game"], row["protocol"], row["agent_steps"]) == (
        "ppo",
        "Breakout",
        "standard",
        "10000000",
    )
    assert float(row["published"]) == pytest.approx(398.033)
    assert float(row["nature_mean"]) == pytest.approx(350.0)
    # t-interval over 3 seeds: 350 +- t(0.975, 2) * 50 / sqrt(3)
    half = 4.302652729911275 * 50.0 / math.sqrt(3)
    assert float(row["nature_ci_low"]) == pytest.approx(350.0 - half, rel=1e-6)
    assert float(row["nature_ci_high"]) == pytest.approx(350.0 + half, rel=1e-6)
    assert "rl-baselines3-zoo" in row["source"]


def test_baseline_table_takes_extra_published_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A 100k-step run has no packaged comparator: the table stays empty unless one is given.
    root = _nature_runs(tmp_path / "a100k", "Pong", "ppo", 100_000, [-20.0, -19.0])
    analyze(root, reps=REPS)
    assert read_csv(root / "report" / "baselines.csv") == []
    extra = tmp_path / "extra.csv"
    extra.write_text(
        "algo,game,protocol,agent_steps,score,seeds,score_kind,source\n"
        'ppo,Pong,standard,100000,-20.4,5,train_last10pct_derived,"DERIVED from released curves"\n'
        'ppo,Pong,machado,100000,-20.9,5,eval,"another protocol: never shown"\n'
        'ppo,Pong,standard,500000,-10.0,5,eval,"another budget: never shown"\n',
        encoding="utf-8",
    )
    assert main(["analyze", str(root), "--reps", str(REPS), "--published", str(extra)]) == 0
    rows = read_csv(root / "report" / "baselines.csv")
    assert [(r["published"], r["published_score_kind"], r["source"]) for r in rows] == [
        ("-20.4", "train_last10pct_derived", "DERIVED from released curves")
    ]
    assert float(rows[0]["nature_mean"]) == pytest.approx(-19.5)
    baselines_md = (root / "report" / "baselines.md").read_text(encoding="utf-8")
    # the table numbers each source and quotes it once below, in full
    assert "| 5 (train_last10pct_derived) | (1) |\n\nSources:" in baselines_md
    assert baselines_md.count("DERIVED from released curves") == 1
    assert "Sources:\n\n- (1) DERIVED from released curves\n" in baselines_md
    # one line per kind of published score: -19.5 [-25.85, -13.15] over 2 seeds against -20.4
    assert (
        "- Against `train_last10pct_derived` (1 game(s)): `nature`'s mean is higher in 1 and lower in 0; of the 1 "
        "game(s) with a 95% t-interval over seeds, the published score lies inside it in 1, above it in 0 and "
        "below it in 0." in baselines_md
    )
    capsys.readouterr()
    bad = tmp_path / "bad.csv"
    bad.write_text("algo,game,score\nppo,Pong,1\n", encoding="utf-8")
    assert main(["analyze", str(root), "--published", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "lacks the column(s) protocol, agent_steps, seeds, score_kind, source" in err[0]
    assert main(["analyze", str(root), "--published", str(tmp_path / "nowhere.csv")]) == 2
    assert "cannot read the published-scores table" in capsys.readouterr().err


def test_a_sweep_folder_counts_only_its_own_runs_not_pilots_kept_beside_them(tmp_path: Path) -> None:
    # results/a2c-atari5 holds the study's spec.yaml and runs/ and, beside them, its learning checks'
    # sweep folders (pilot-1m/, pilot-3m/): their runs are not the study's
    study = tmp_path / "study"
    for seed in range(2):
        make_run(study, "Pong", "nature", seed, [-20.0 + seed] * 5)
    (study / "spec.yaml").write_text("name: study\n")
    make_run(study / "pilot-1m", "Pong", "nature", 0, [-21.0] * 5)
    assert [p.name for p in load.find_run_dirs(study)] == [p.name for p in load.find_run_dirs(study / "runs")]
    assert len(load.load_runs(study)) == 2
    assert len(load.load_runs(study / "pilot-1m")) == 1
    assert len(load.find_run_dirs(tmp_path)) == 3  # a plain folder of folders is still searched throughout
