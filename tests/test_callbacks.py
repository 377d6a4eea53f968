"""Each of a run's SB3 callbacks, alone, on a real (tiny) A2C run on CartPole.

CartPole pays 1 per step, so a finished game's whole score equals its length: the episode log can be
checked against itself. Rollouts are 2 environments x 8 steps = 16 agent steps.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stable_baselines3 import A2C
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env

from rl_coordconv import runfolder
from rl_coordconv.callbacks import (
    EpisodeLogCallback,
    EvalSettings,
    EvaluationCallback,
    ProgressCallback,
    RunCheckpointCallback,
    RunState,
    SessionClock,
    run_callbacks,
)

ROLLOUT = 16
STEPS = 10 * ROLLOUT


def model() -> A2C:
    env = make_vec_env("CartPole-v1", n_envs=2, seed=0)
    return A2C("MlpPolicy", env, n_steps=8, seed=0, device="cpu")


def fit(model: A2C, *callbacks: BaseCallback) -> None:
    model.learn(STEPS, callback=list(callbacks))


def test_session_clock_counts_earlier_sessions_and_the_rate() -> None:
    state = RunState(game_steps=[0, 0], wall_seconds=100.0)
    clock = SessionClock(state)
    fit(model(), clock)
    assert 100.0 < clock.wall_seconds() < 100.0 + 120
    assert clock.steps_per_second(STEPS) > 0 and clock.steps_per_second(0) <= 0


def test_episode_log_writes_one_row_per_finished_game(tmp_path: Path) -> None:
    state = RunState(game_steps=[0, 0])
    clock = SessionClock(state)
    with runfolder.CsvLog(tmp_path / runfolder.EPISODES, runfolder.EPISODE_COLUMNS) as log:
        fit(model(), clock, EpisodeLogCallback(state, log, frame_skip=4, clock=clock))
    rows = runfolder.read_rows(tmp_path / runfolder.EPISODES)
    assert len(rows) == state.games >= 2
    assert all(float(r["return"]) == int(r["length"]) for r in rows)  # 1 per step: score = length
    assert all(int(r["frames"]) == 4 * int(r["agent_steps"]) for r in rows)
    assert sum(int(r["length"]) for r in rows) + sum(state.game_steps) == STEPS


def test_evaluation_is_due_at_the_first_rollout_boundary_after_each_multiple(tmp_path: Path) -> None:
    seeds: list[int] = []

    def play(model: object, n_games: int, seed: int) -> list[float]:
        seeds.append(seed)
        return [float(seed % 7), 1.0][:n_games]

    state = RunState(game_steps=[0, 0], next_eval=40)
    with runfolder.CsvLog(tmp_path / runfolder.EVALUATIONS, runfolder.EVALUATION_COLUMNS) as log:
        callback = EvaluationCallback(state, log, EvalSettings(40, 2, play, seed=5), frame_skip=4)
        fit(model(), callback)
        callback.evaluate()  # the final one
    rows = runfolder.read_rows(tmp_path / runfolder.EVALUATIONS)
    assert [int(r["agent_steps"]) for r in rows] == [48, 80, 128, STEPS]
    assert seeds == [5, 1005, 2005, 3005] and state.evaluations == 4 and state.next_eval == 160
    assert rows[1]["returns"] == "4;1" and float(rows[1]["mean_return"]) == 2.5 and rows[1]["n_games"] == "2"


def test_checkpoints_are_due_like_evaluations_and_carry_the_state() -> None:
    saved: list[tuple[int, RunState]] = []
    state = RunState(game_steps=[0, 0], next_checkpoint=50, wall_seconds=7.0)
    clock = SessionClock(state)
    callback = RunCheckpointCallback(state, 50, lambda m, s: saved.append((int(m.num_timesteps), s)), clock)
    fit(model(), clock, callback)
    assert [steps for steps, _ in saved] == [64, 112]
    assert state.next_checkpoint == 150 and saved[-1][1].next_checkpoint == 150
    assert saved[0][1] is not state and saved[0][1].wall_seconds >= 7.0


def test_progress_file_follows_the_run(tmp_path: Path) -> None:
    clock = SessionClock(RunState(game_steps=[0, 0]))
    fit(model(), clock, ProgressCallback(tmp_path, timesteps=STEPS, clock=clock))
    progress = runfolder.Progress.read(tmp_path)
    assert progress is not None and progress.agent_steps == STEPS and progress.timesteps == STEPS
    assert progress.steps_per_second > 0
    assert set(json.loads((tmp_path / runfolder.PROGRESS).read_text())) == {
        "agent_steps", "timesteps", "steps_per_second", "updated",
    }  # fmt: skip


@pytest.mark.parametrize(("games", "freq"), [(0, 0), (2, 0)])
def test_run_callbacks_compose_only_the_jobs_asked_for(tmp_path: Path, games: int, freq: int) -> None:
    state = RunState(game_steps=[0, 0])
    settings = EvalSettings(0, games, lambda m, n, s: [0.0] * n) if games else None
    with (
        runfolder.CsvLog(tmp_path / "e.csv", runfolder.EPISODE_COLUMNS) as episodes,
        runfolder.CsvLog(tmp_path / "v.csv", runfolder.EVALUATION_COLUMNS) as evaluations,
    ):
        built = run_callbacks(
            state, episodes, evaluations, run_dir=tmp_path, frame_skip=4, timesteps=STEPS,
            evaluation=settings, checkpoint_freq=freq, save_checkpoint=lambda m, s: None,
        )  # fmt: skip
        order = [type(c).__name__ for c in built.as_list().callbacks]
    expected = ["SessionClock", "EpisodeLogCallback"] + (["EvaluationCallback"] if games else []) + ["ProgressCallback"]
    assert order == expected
    assert built.episodes.state is built.progress.clock.state is state
