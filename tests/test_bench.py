"""rl-coordconv bench: its sections measure what they say, and the report names every figure and target."""

from __future__ import annotations

import json

import pytest

from rl_coordconv.bench import BenchSettings, bench_env, bench_extractor, bench_train, format_bench, run_bench
from rl_coordconv.cli import main
from rl_coordconv.extractors import EXTRACTORS


def test_env_section_compares_three_pipelines() -> None:
    result = bench_env(BenchSettings(n_envs=2, env_agent_steps=64, rounds=2))
    rows = result["contenders"]
    assert set(rows) == {"ale_vector backend", "SB3 make_atari_env + VecFrameStack", "raw AtariVectorEnv"}
    assert all(r["median"] > 0 and len(r["samples"]) == 2 for r in rows.values())
    assert rows["raw AtariVectorEnv"]["ratio_to_raw"] == 1.0
    assert result["ale_vector_vs_raw"] > 0 and result["ale_vector_vs_sb3"] > 0


def test_extractor_section_times_every_registered_extractor() -> None:
    result = bench_extractor(BenchSettings(rounds=1), batch=4)
    assert set(EXTRACTORS) <= set(result["contenders"])
    assert {"nature (SB3 eager)", "coordconv (concatenation)"} <= set(result["contenders"])
    assert result["time_ratio_to_nature"]["nature"] == 1.0
    assert all(len(r["samples"]) == 5 for r in result["contenders"].values())  # at least 5 rounds


# PPO's rollout (8 envs x 128 steps, 4 epochs) is the slow half: it runs with `make test-slow`.
@pytest.mark.parametrize("algo", [pytest.param("ppo", marks=pytest.mark.slow), "a2c"])
def test_train_section_runs_the_package_on_both_backends_beside_plain_sb3(algo: str) -> None:
    result = bench_train(BenchSettings(rounds=1, train_rollouts=1, algos=(algo,)))
    assert set(result) == {algo}
    text = format_bench({"machine": {"cpu": "x", "cpus": 1, "torch": "t", "python": "p"}, "train": result})
    t = result[algo]
    assert set(t["contenders"]) == {"rl-coordconv sb3", "rl-coordconv ale_vector", "plain SB3"}
    assert all(r["median"] > 0 and len(r["samples"]) == 1 for r in t["contenders"].values())
    assert t["default_backend"] == "ale_vector" and t["ratio"] == t["ratio_by_backend"]["ale_vector"]
    for backend in ("sb3", "ale_vector"):
        row = t["contenders"][f"rl-coordconv {backend}"]
        assert t["ratio_by_backend"][backend] == row["ratio_to_plain"] > 0
        assert f"{algo} rl-coordconv {backend} / plain SB3" in text
    assert "(default backend)" in text


def test_report_and_targets(capsys: pytest.CaptureFixture[str]) -> None:
    results = run_bench(BenchSettings(n_envs=2, env_agent_steps=64, rounds=1, sections=("env",)))
    (target,) = results["targets"]
    assert target["figure"] == "ale_vector_vs_raw" and target["target"] == ">= 0.9"
    assert target["met"] == (target["value"] >= 0.9)
    text = format_bench(results)
    assert "raw AtariVectorEnv" in text and "targets:" in text


def test_cli_json_and_bad_section(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--only", "nothing"]) == 2
    assert "unknown benchmark section" in capsys.readouterr().err
    assert main(["bench", "--only", "train", "--algo", "dqn"]) == 2
    assert "unknown or no training algorithm" in capsys.readouterr().err
    assert main(["bench", "--only", "env", "--env-steps", "0"]) == 2
    assert "--env-steps" in capsys.readouterr().err
    assert main(["bench", "--quick", "--only", "env", "--rounds", "1", "--env-steps", "256", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"machine", "settings", "env", "targets"}
    assert data["settings"]["env_agent_steps"] == 256 and data["env"]["contenders"]["raw AtariVectorEnv"]["median"] > 0


@pytest.mark.slow
def test_quick_bench_runs_every_section(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {t["section"] for t in data["targets"]} == {"env", "extractor", "train", "sweep"}
