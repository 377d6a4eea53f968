"""One training run: the run folder, identical results for one seed, exact resume, and user errors.

Runs are tiny (a few hundred agent steps, 2 environments, 1 torch thread) on Breakout, whose random-play
games are short enough to finish inside such budgets.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from stable_baselines3.common.callbacks import BaseCallback

from rl_coordconv import runfolder
from rl_coordconv.cli import main
from rl_coordconv.errors import UserError
from rl_coordconv.provenance import code_commit, machine
from rl_coordconv.training import derive_seeds, run_name, train

GAME = "Breakout"
STEPS = 800
# Small rollouts so a few hundred agent steps hold several updates; evaluation and checkpoints often.
TINY: dict[str, Any] = {
    "n_envs": 2,
    "eval_freq": 300,
    "eval_episodes": 2,
    "checkpoint_freq": 200,
    "progress_bar": False,
    "threads": 1,
    "quiet": True,
    # These tests pin exact resume and whole-game rows, which need the backend that restores its games:
    # the ale_vector backend's runs are tested in tests/test_ale_vector_train.py.
    "backend": "sb3",
}
PPO_TINY = {"n_steps": 32, "batch_size": 32, "n_epochs": 2}


def tiny(algo: str, extractor: str, run_dir: Path, **kwargs: Any) -> Path:
    options = {**TINY, **kwargs}
    if algo == "ppo":
        options.setdefault("hyperparameters", PPO_TINY)
    return train(algo, GAME, extractor, 3, options.pop("timesteps", STEPS), run_dir=run_dir, **options)


def rows(run: Path, name: str = runfolder.EPISODES) -> list[dict[str, str]]:
    return runfolder.read_rows(run / name)


def games(run: Path) -> list[tuple[str, str, str]]:
    return [(r["agent_steps"], r["return"], r["length"]) for r in rows(run)]


class Interrupt(BaseCallback):
    """Stands in for Ctrl-C (or a kill) once the run has passed ``at`` agent steps."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.at:
            raise KeyboardInterrupt
        return True


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="module")
def a2c_run(runs: Path) -> Path:
    return tiny("a2c", "nature", runs / "a2c-nature")


def test_run_folder_holds_every_file_with_its_columns(a2c_run: Path) -> None:
    for name in (runfolder.CONFIG, runfolder.EPISODES, runfolder.EVALUATIONS, runfolder.MODEL, runfolder.STATUS):
        assert (a2c_run / name).is_file(), name
    assert any((a2c_run / runfolder.TENSORBOARD).rglob("events.out.tfevents.*"))
    assert not (a2c_run / runfolder.CHECKPOINTS).exists()  # removed once complete: model.zip supersedes them
    assert not (a2c_run / runfolder.ERROR).exists()

    config = runfolder.read_yaml(a2c_run / runfolder.CONFIG)
    assert (config["algo"], config["game"], config["extractor"], config["seed"], config["timesteps"]) == (
        "a2c", "Breakout", "nature", 3, STEPS,
    )  # fmt: skip
    assert config["protocol"]["name"] == "standard" and config["protocol"]["max_frames"] == 108_000
    assert config["protocol"]["sticky_action_prob"] == 0.0 and config["protocol"]["terminal_on_life_loss"] is True
    assert config["n_envs"] == 2 and config["agent"]["n_envs"] == 2 and config["agent"]["vf_coef"] == 0.25
    assert config["agent"]["policy_kwargs"]["optimizer"] == "rmsprop_tf_like"
    assert config["policy"]["net_arch"] == []
    assert config["seeds"] == derive_seeds(3)
    assert set(config["versions"]) >= {"python", "torch", "stable-baselines3", "gymnasium", "ale-py"}
    assert config["commit"] == code_commit()  # this checkout's commit (None only outside git)
    assert "rl_coordconv.train('a2c', 'Breakout', 'nature', seed=3, timesteps=800)" in config["command"]

    with open(a2c_run / runfolder.EPISODES, encoding="utf-8") as handle:
        assert handle.readline().strip() == ",".join(runfolder.EPISODE_COLUMNS)
    episodes = rows(a2c_run)
    assert len(episodes) >= 2
    steps = [int(r["agent_steps"]) for r in episodes]
    assert steps == sorted(steps) and steps[-1] <= STEPS
    assert all(int(r["frames"]) == 4 * int(r["agent_steps"]) for r in episodes)
    assert all(int(r["length"]) > 0 and float(r["wall_seconds"]) >= 0 for r in episodes)
    # Every finished game is a whole game: its agent steps add up to at most those of its environment.
    assert sum(int(r["length"]) for r in episodes) <= STEPS

    with open(a2c_run / runfolder.EVALUATIONS, encoding="utf-8") as handle:
        assert handle.readline().strip() == ",".join(runfolder.EVALUATION_COLUMNS)
    evaluations = rows(a2c_run, runfolder.EVALUATIONS)
    # Due at the first rollout boundary (every 10 agent steps) at or after 300 and 600, then at the end.
    assert [int(r["agent_steps"]) for r in evaluations] == [300, 600, 800]
    for row in evaluations:
        scores = [float(s) for s in row["returns"].split(";")]
        assert len(scores) == int(row["n_games"]) == 2
        assert float(row["mean_return"]) == pytest.approx(sum(scores) / 2)

    status = json.loads((a2c_run / runfolder.STATUS).read_text())
    assert status["complete"] is True and status["agent_steps"] == STEPS and status["frames"] == 4 * STEPS
    assert status["games"] == len(episodes) and status["evaluations"] == 3
    assert status["commits"] == [code_commit() or "unknown"]
    # and the computer: CPU model, logical CPUs, OS, torch's CPU kernels (floating point follows them)
    assert status["machines"] == [machine()] and runfolder.RunConfig.read(a2c_run).machine == machine()
    assert f"{os.cpu_count()} logical CPUs" in machine() and "torch CPU kernels " in machine()
    progress = json.loads((a2c_run / runfolder.PROGRESS).read_text())
    assert progress["agent_steps"] == STEPS and progress["timesteps"] == STEPS


@pytest.mark.parametrize(("algo", "extractor"), [("a2c", "coordconv"), ("ppo", "nature"), ("ppo", "coordconv")])
def test_tiny_runs_build_the_asked_agent(runs: Path, algo: str, extractor: str) -> None:
    from rl_coordconv.extractors import get_extractor
    from rl_coordconv.model import load_model

    run = tiny(algo, extractor, runs / f"{algo}-{extractor}", timesteps=320, eval_episodes=0)
    model = load_model(algo, run / runfolder.MODEL, device="cpu")
    assert type(model.policy.features_extractor) is get_extractor(extractor).cls
    assert model.policy.net_arch == []
    assert model.num_timesteps == 320  # a whole number of rollouts for both
    assert rows(run) and not rows(run, runfolder.EVALUATIONS)  # eval_episodes=0: no evaluation at all
    assert runfolder.is_complete(run)


def test_same_seed_same_episodes(a2c_run: Path, runs: Path) -> None:
    # Without evaluations or checkpoints: neither changes what training does.
    again = tiny("a2c", "nature", runs / "a2c-nature-again", eval_episodes=0, checkpoint_freq=0)
    assert games(again) == games(a2c_run)


def test_interrupted_run_resumes_exactly(a2c_run: Path, runs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rl_coordconv.run_plan
    import rl_coordconv.training

    def provenance(commit: str, computer: str) -> None:
        """What the record (run_plan's resolve_config) and the sessions (training) see as this code and computer."""
        for module in (rl_coordconv.run_plan, rl_coordconv.training):
            monkeypatch.setattr(module, "code_commit", lambda: commit)
            monkeypatch.setattr(module, "machine", lambda device="cpu": computer)

    run = runs / "a2c-nature-interrupted"
    first, later = "a" * 40, "b" * 40 + "-dirty"  # the code moves on between the two sessions
    provenance(first, "laptop")
    with pytest.raises(KeyboardInterrupt):
        tiny("a2c", "nature", run, callback=Interrupt(530))
    provenance(later, "cluster node")
    assert not runfolder.is_complete(run) and (run / runfolder.CHECKPOINTS / "latest.json").is_file()
    assert json.loads((run / runfolder.CHECKPOINTS / "latest.json").read_text())["agent_steps"] == 400
    # A kill can leave rows past the checkpoint and half a line: resume must drop both.
    with open(run / runfolder.EPISODES, "a", encoding="utf-8") as handle:
        handle.write("520,2080,9.0,99,1.0\n525,21")

    with pytest.raises(UserError, match="pass --resume"):
        tiny("a2c", "nature", run)
    tiny("a2c", "nature", run, resume=True)

    assert games(run) == games(a2c_run)  # same rows, none duplicated, none missing
    assert len(set(games(run))) == len(games(run))
    strip = [(r["agent_steps"], r["returns"]) for r in rows(run, runfolder.EVALUATIONS)]
    assert strip == [(r["agent_steps"], r["returns"]) for r in rows(a2c_run, runfolder.EVALUATIONS)]
    status = json.loads((run / runfolder.STATUS).read_text())
    assert status["agent_steps"] == STEPS and status["sessions"] == 2
    # the run's record says which code created it, and its status which code trained it, session by session
    assert runfolder.RunConfig.read(run).commit == first and status["commits"] == [first, later]
    # and on which computers (here named by the test: the same kernels, so the same numbers)
    assert runfolder.RunConfig.read(run).machine == "laptop" and status["machines"] == ["laptop", "cluster node"]


def test_a_checkpoint_from_before_commits_were_kept_says_its_code_is_unknown(runs: Path) -> None:
    """A run interrupted under an older rl-coordconv (its checkpoint keeps no commits, nor checksums)
    and resumed under this one: its status says the first session's code is unknown, not this one's."""
    import pickle

    from rl_coordconv.checkpoints import CHECKSUMS, STATE_FILE, latest_checkpoint

    run = runs / "a2c-older-checkpoint"
    with pytest.raises(KeyboardInterrupt):
        tiny("a2c", "nature", run, callback=Interrupt(230), timesteps=400, eval_episodes=0)
    checkpoint = latest_checkpoint(run)
    assert checkpoint is not None and checkpoint.agent_steps == 200
    state = checkpoint.load_state()
    del state["commits"], state["machines"]
    (checkpoint.path / STATE_FILE).write_bytes(pickle.dumps(state))
    (checkpoint.path / CHECKSUMS).unlink()
    tiny("a2c", "nature", run, resume=True, timesteps=400, eval_episodes=0)
    status = json.loads((run / runfolder.STATUS).read_text())
    assert status["sessions"] == 2 and status["commits"] == ["unknown", code_commit() or "unknown"]
    assert status["machines"] == ["unknown", machine()]


def test_resume_without_a_checkpoint_starts_afresh(runs: Path) -> None:
    run = runs / "a2c-early-stop"
    with pytest.raises(KeyboardInterrupt):
        tiny("a2c", "nature", run, callback=Interrupt(50), timesteps=200)
    assert not (run / runfolder.CHECKPOINTS).exists()
    tiny("a2c", "nature", run, resume=True, timesteps=200, eval_episodes=0)
    status = json.loads((run / runfolder.STATUS).read_text())
    assert status["agent_steps"] == 200 and status["sessions"] == 1


def test_a_complete_run_is_left_alone(a2c_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (a2c_run / runfolder.STATUS).read_text()
    assert tiny("a2c", "nature", a2c_run, quiet=False) == a2c_run
    assert "already complete" in capsys.readouterr().out
    assert (a2c_run / runfolder.STATUS).read_text() == before
    with pytest.raises(UserError, match="holds a different run.*timesteps 800 on disk vs 900 now"):
        tiny("a2c", "nature", a2c_run, timesteps=900)


def test_names_seeds_and_the_package_export() -> None:
    assert run_name("pong", "PPO", "CoordConv", 0) == "Pong-ppo-coordconv-seed0"
    assert run_name("ALE/MsPacman-v5", "a2c", "coordconv-all", 4) == "MsPacman-a2c-coordconv_all-seed4"
    seeds = [derive_seeds(s) for s in range(3)]
    assert seeds[0] == derive_seeds(0)  # stable
    assert len({s["training"] for s in seeds} | {s["evaluation"] for s in seeds}) == 6
    assert all(0 <= s["training"] < 2**30 for s in seeds)
    import rl_coordconv.training  # importing the module does not shadow the package's function

    assert rl_coordconv.train is train and rl_coordconv.training.train is train


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--game", "Pongg"], "unknown game 'Pongg'; did you mean 'Pong'?"),
        (["--algo", "dqn"], "unknown algorithm 'dqn'"),
        (["--extractor", "coordcnv"], "unknown extractor 'coordcnv'; did you mean 'coordconv'"),
        (["--timesteps", "0"], "timesteps must be a positive whole number, got 0"),
        (["--timesteps", "-5"], "timesteps must be a positive whole number, got -5"),
        (["--timesteps", "many"], "argument --timesteps: invalid int value: 'many'"),
        (["--protocol", "sticky"], "unknown protocol 'sticky'"),
        (["--set", "n_stepz=5"], "unknown key 'n_stepz'"),
        (["--device", "tpu"], "device must be 'auto', 'cpu' or 'cuda'"),
    ],
)
def test_cli_user_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    base = {"--algo": "ppo", "--game": "Pong", "--out": str(tmp_path / "runs")}
    base.update(dict(zip(argv[::2], argv[1::2])))
    try:
        status = main(["train", *[x for kv in base.items() for x in kv]])
    except SystemExit as stop:  # argparse's own checks
        status = stop.code
    err = capsys.readouterr().err
    assert status == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "runs").exists()


def test_cli_refuses_an_out_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "runs.txt"
    out.write_text("not a folder")
    assert main(["train", "--algo", "a2c", "--game", "Pong", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "is a file" in err and err.count("\n") == 1


def test_cli_trains_and_evaluates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["train", "--algo", "a2c", "--game", "breakout", "--extractor", "coordconv", "--timesteps", "120",
            "--out", str(tmp_path), "--n-envs", "2", "--threads", "1", "--eval-episodes", "1", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    run = tmp_path / "Breakout-a2c-coordconv-seed0"
    assert runfolder.is_complete(run)
    assert runfolder.read_yaml(run / runfolder.CONFIG)["command"].startswith(
        "rl-coordconv train --algo a2c --game breakout --extractor coordconv --seed 0 --timesteps 120"
    )
    capsys.readouterr()

    # A run on the default backend (ale_vector, which renders no screens): its GIF is played on sb3.
    assert runfolder.read_yaml(run / runfolder.CONFIG)["backend"] == "ale_vector"
    gif = tmp_path / "game.gif"
    assert main(["evaluate", str(run), "--episodes", "2", "--gif", str(gif)]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.strip().startswith("game")]
    assert len(lines) == 2 and "over 2 whole games" in out
    assert gif.read_bytes()[:4] == b"GIF8"
    assert main(["evaluate", str(run), "--episodes", "2"]) == 0  # seeded: the same games again
    assert [line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("game")] == lines

    assert main(["evaluate", str(tmp_path), "--episodes", "1"]) == 2
    err = capsys.readouterr().err
    assert "is not a run folder" in err and err.count("\n") == 1
