"""Training on the ``ale_vector`` backend (ale-py's C++ AtariVectorEnv): A2C and PPO runs, their records,
evaluation, and the exact resume the README promises for this backend (its games rebuilt by replay)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from test_train import PPO_TINY, STEPS, TINY, Interrupt, games, rows

from rl_coordconv import runfolder
from rl_coordconv.cli import main
from rl_coordconv.errors import UserError
from rl_coordconv.model import load_model
from rl_coordconv.training import train

OPTIONS: dict[str, Any] = {**TINY, "backend": "ale_vector"}


def tiny(algo: str, run_dir: Path, **kwargs: Any) -> Path:
    options = {**OPTIONS, **kwargs}
    if algo == "ppo":
        options.setdefault("hyperparameters", PPO_TINY)
    return train(algo, "Breakout", "coordconv", 3, options.pop("timesteps", STEPS), run_dir=run_dir, **options)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ale_vector_runs")


@pytest.fixture(scope="module")
def finished(runs: Path) -> Callable[[str], Path]:
    """The uninterrupted tiny run of an algorithm (with evaluations and checkpoints), trained once."""
    done: dict[str, Path] = {}

    def get(algo: str) -> Path:
        if algo not in done:
            done[algo] = tiny(algo, runs / algo)
        return done[algo]

    return get


@pytest.mark.parametrize("algo", ["a2c", "ppo"])
def test_a2c_and_ppo_train_on_ale_vector(finished: Callable[[str], Path], algo: str) -> None:
    run = finished(algo)
    assert runfolder.is_complete(run)
    config = runfolder.read_yaml(run / runfolder.CONFIG)
    assert config["backend"] == "ale_vector" and config["resume"] == "exact"
    episodes = rows(run)
    assert episodes, "800 agent steps of random-ish Breakout finish some games"
    keys = [(r["agent_steps"], r["env"]) for r in episodes]
    assert len(set(keys)) == len(keys)
    for r in episodes:  # whole games: 5 lives each, so never the score of a single life only
        assert float(r["return"]) >= 0 and int(r["frames"]) == 4 * int(r["agent_steps"])
    evaluations = rows(run, runfolder.EVALUATIONS)
    final = json.loads((run / runfolder.STATUS).read_text())["agent_steps"]
    assert final >= STEPS and int(evaluations[-1]["agent_steps"]) == final  # the final evaluation
    assert all(int(r["n_games"]) == 2 and len(r["returns"].split(";")) == 2 for r in evaluations)


def test_same_seed_same_episodes_on_ale_vector(runs: Path, finished: Callable[[str], Path]) -> None:
    # Without evaluations or checkpoints (whose snapshots replay nothing into the live games): the same games.
    one = tiny("a2c", runs / "same-1", eval_episodes=0, checkpoint_freq=0)
    assert games(one) == games(finished("a2c")) and games(one)


@pytest.mark.parametrize("algo", ["a2c", pytest.param("ppo", marks=pytest.mark.slow)])
def test_resume_on_ale_vector_is_the_uninterrupted_run(runs: Path, finished: Callable[[str], Path], algo: str) -> None:
    whole = finished(algo)
    run = runs / f"interrupted-{algo}"
    with pytest.raises(KeyboardInterrupt):
        tiny(algo, run, callback=Interrupt(530))
    assert 400 <= json.loads((run / runfolder.CHECKPOINTS / "latest.json").read_text())["agent_steps"] < 530
    copy = runs / f"interrupted-{algo}-copy"
    shutil.copytree(run, copy)
    with pytest.raises(UserError, match="pass --resume"):
        tiny(algo, run)
    tiny(algo, run, resume=True)
    tiny(algo, copy, resume=True)
    # The games in progress at the checkpoint are rebuilt: the same rows as the uninterrupted run, none
    # duplicated or lost, the same evaluations, and two resumes of one checkpoint agree.
    assert games(run) == games(whole) and games(run)
    assert games(copy) == games(whole)
    keys = [(r["agent_steps"], r["env"]) for r in rows(run)]
    assert len(set(keys)) == len(keys)
    strip = [(r["agent_steps"], r["returns"]) for r in rows(run, runfolder.EVALUATIONS)]
    assert strip == [(r["agent_steps"], r["returns"]) for r in rows(whole, runfolder.EVALUATIONS)]
    status, expected = (json.loads((r / runfolder.STATUS).read_text()) for r in (run, whole))
    assert status["agent_steps"] == expected["agent_steps"] >= STEPS and status["sessions"] == 2
    final = [load_model(algo, r / runfolder.MODEL, device="cpu").policy.state_dict() for r in (run, whole)]
    assert all(torch.equal(final[0][k], final[1][k]) for k in final[1])


def test_cli_trains_on_ale_vector_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "cli-run"
    argv = ["train", "--algo", "a2c", "--game", "Pong", "--extractor", "nature", "--seed", "0"]
    argv += ["--timesteps", "200", "--n-envs", "2", "--eval-freq", "0", "--eval-episodes", "0"]
    argv += ["--threads", "1", "--backend", "ale_vector", "--run-dir", str(run), "--quiet"]
    assert main(argv) == 0, capsys.readouterr().err
    assert runfolder.read_yaml(run / runfolder.CONFIG)["backend"] == "ale_vector"


def test_an_ale_vector_checkpoint_without_its_games_still_resumes_repeatably(
    runs: Path, finished: Callable[[str], Path]
) -> None:
    # Checkpoints written before the adapter could replay its games hold no environment snapshot. Such a
    # run still resumes: the games in progress restart with seeds derived from the checkpoint, the same on
    # every resume, and no row is lost or duplicated.
    from rl_coordconv.checkpoints import latest_checkpoint, save_checkpoint

    run = runs / "old-checkpoint"
    with pytest.raises(KeyboardInterrupt):
        tiny("a2c", run, callback=Interrupt(530), eval_episodes=0)
    checkpoint = latest_checkpoint(run)
    assert checkpoint is not None and checkpoint.agent_steps == 400
    state = checkpoint.load_state()
    assert state["env"] is not None  # this code writes a snapshot; drop it, as older code did not write one
    save_checkpoint(run, load_model("a2c", checkpoint.model_path, device="cpu"), {**state, "env": None})
    copy = runs / "old-checkpoint-copy"
    shutil.copytree(run, copy)
    tiny("a2c", run, resume=True, eval_episodes=0)
    tiny("a2c", copy, resume=True, eval_episodes=0)
    assert games(run) == games(copy)
    keys = [(r["agent_steps"], r["env"]) for r in rows(run)]
    assert len(set(keys)) == len(keys) and max(int(s) for s, _ in keys) > 400
    before = [g for g in games(finished("a2c")) if int(g[0]) <= 400]
    assert [g for g in games(run) if int(g[0]) <= 400] == before and before
