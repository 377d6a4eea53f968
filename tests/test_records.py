"""Complete records and crash-safe writes: full-precision scores, game keys and frame-cap flags,
checkpoints that verify themselves, and disk errors that give one line and lose nothing."""

from __future__ import annotations

import dataclasses
import errno
import shutil
from pathlib import Path
from typing import Any

import pytest
from stable_baselines3 import PPO

from rl_coordconv import runfolder
from rl_coordconv.atari import get_protocol
from rl_coordconv.checkpoints import CHECKSUMS, MODEL_FILE, latest_checkpoint, save_checkpoint
from rl_coordconv.cli import main
from rl_coordconv.errors import UserError
from rl_coordconv.evaluation import play_game_records
from rl_coordconv.preset import load_preset
from rl_coordconv.training import train

TINY: dict[str, Any] = {
    "n_envs": 2,
    "eval_freq": 0,
    "eval_episodes": 2,
    "checkpoint_freq": 160,
    "progress_bar": False,
    "threads": 1,
    "quiet": True,
    "backend": "sb3",
}


def _tiny(run_dir: Path, **kwargs: Any) -> Path:
    return train("a2c", "Breakout", "nature", 5, 800, run_dir=run_dir, **{**TINY, **kwargs})


def _games(run: Path) -> list[tuple[str, ...]]:
    """Every column but wall_seconds (real time is not reproduced by a resume)."""
    return [
        tuple(v for k, v in r.items() if k != "wall_seconds") for r in runfolder.read_rows(run / runfolder.EPISODES)
    ]


@pytest.fixture(scope="module")
def whole_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tiny(tmp_path_factory.mktemp("records") / "whole")


def test_training_games_have_a_unique_key_and_a_frame_cap_flag(whole_run: Path) -> None:
    rows = runfolder.read_rows(whole_run / runfolder.EPISODES)
    assert rows and tuple(rows[0]) == runfolder.EPISODE_COLUMNS
    keys = [(r["agent_steps"], r["env"]) for r in rows]
    assert len(set(keys)) == len(keys)
    assert {r["env"] for r in rows} <= {"0", "1"}
    assert {r["truncated"] for r in rows} == {"0"}  # random Breakout games end long before the cap
    assert all(int(r["length"]) > 0 for r in rows)


def test_evaluations_keep_every_game_at_full_precision(whole_run: Path) -> None:
    (row,) = runfolder.read_rows(whole_run / runfolder.EVALUATIONS)
    scores = [float(x) for x in row["returns"].split(";")]
    lengths = [int(x) for x in row["lengths"].split(";")]
    flags = row["truncated"].split(";")
    assert len(scores) == len(lengths) == len(flags) == int(row["n_games"]) == 2
    assert all(n > 0 for n in lengths) and set(flags) == {"0"}
    assert float(row["mean_return"]) == pytest.approx(sum(scores) / 2)


def test_format_number_keeps_every_digit() -> None:
    assert runfolder.format_number(1234567.0) == "1234567"
    assert runfolder.format_number(-21.0) == "-21"
    assert runfolder.format_number(0.1) == "0.1"
    assert float(runfolder.format_number(2 / 3)) == 2 / 3


def test_evaluation_games_cut_at_the_cap_are_flagged(whole_run: Path) -> None:
    from rl_coordconv.model import load_model

    capped = dataclasses.replace(get_protocol("standard"), name="capped", max_frames=200)
    model = load_model("a2c", whole_run / runfolder.MODEL, device="cpu")
    games = play_game_records(model, "Pong", 2, seed=0, protocol=capped, backend="ale_vector", n_envs=2)
    assert [g.truncated for g in games] == [True, True]
    assert all(45 <= (g.length or 0) <= 51 for g in games)  # 200 frames / 4 per agent step, after the no-ops


def test_old_csv_columns_still_append(tmp_path: Path) -> None:
    path = tmp_path / runfolder.EPISODES
    path.write_text(",".join(runfolder.LEGACY_EPISODE_COLUMNS) + "\n10,40,3,10,0.5\n")
    with runfolder.CsvLog(path, runfolder.EPISODE_COLUMNS) as log:
        assert log.columns == runfolder.LEGACY_EPISODE_COLUMNS
        log.write({"agent_steps": 20, "env": 1, "frames": 80, "return": 2, "length": 10, "truncated": 0,
                   "wall_seconds": 1.0})  # fmt: skip
        log.sync()
    assert path.read_text().splitlines()[-1] == "20,80,2,10,1.0"


def test_a_damaged_newest_checkpoint_falls_back_to_the_previous(tmp_path: Path) -> None:
    model = PPO("MlpPolicy", "CartPole-v1", n_steps=16, batch_size=16, seed=0, device="cpu")
    model.num_timesteps = 16
    save_checkpoint(tmp_path, model, {"n": 1})
    model.num_timesteps = 32
    newest = save_checkpoint(tmp_path, model, {"n": 2})
    assert (newest.path / CHECKSUMS).is_file()
    assert latest_checkpoint(tmp_path) == newest
    with open(newest.path / MODEL_FILE, "r+b") as handle:  # a lost write: same size, other bytes
        handle.seek(100)
        handle.write(b"\0" * 64)
    with pytest.warns(RuntimeWarning, match="damaged"):
        found = latest_checkpoint(tmp_path)
    assert found is not None and found.agent_steps == 16 and found.load_state() == {"n": 1}


def test_a_full_disk_gives_one_line_and_the_run_resumes_to_the_same_rows(
    whole_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    written = {"rows": 0}
    original = runfolder.CsvLog.write

    def fill_up(self: runfolder.CsvLog, row: Any) -> None:
        written["rows"] += 1
        if written["rows"] > 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(self.path))
        original(self, row)

    monkeypatch.setattr(runfolder.CsvLog, "write", fill_up)
    run = tmp_path / "full"
    args = ["train", "--algo", "a2c", "--game", "Breakout", "--extractor", "nature", "--seed", "5", "--timesteps",
            "800", "--run-dir", str(run), "--n-envs", "2", "--eval-freq", "0", "--eval-episodes", "2",
            "--checkpoint-freq", "160", "--threads", "1", "--backend", "sb3", "--quiet", "--no-progress"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0] and "again" in err[0]
    assert not runfolder.is_complete(run) and not (run / runfolder.ERROR).exists()
    monkeypatch.setattr(runfolder.CsvLog, "write", original)
    assert main([*args, "--resume"]) == 0
    assert _games(run) == _games(whole_run)
    assert runfolder.read_rows(run / runfolder.EVALUATIONS) == runfolder.read_rows(whole_run / runfolder.EVALUATIONS)


def test_a_read_only_folder_gives_one_line_and_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from rl_coordconv import fileio

    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")

    def read_only(path: Any, text: str) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(fileio, "atomic_write_text", read_only)  # the one place every record is written
    assert main(["train", "--algo", "ppo", "--game", "Pong", "--timesteps", "64", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Read-only file system" in err[0]
    assert [p.name for p in out.iterdir()] == ["notes.txt"] or (out / "notes.txt").read_text() == "mine"
    assert (out / "notes.txt").read_text() == "mine"


def test_preset_keys_without_effect_are_refused() -> None:
    with pytest.raises(UserError, match="rms_prop_eps has no effect"):
        load_preset("a2c", overrides={"rms_prop_eps": 1e-3})
    with pytest.raises(UserError, match="use_rms_prop has no effect"):
        load_preset("a2c", overrides={"use_rms_prop": False})
    assert load_preset("a2c").algo == "a2c"


def test_copy_of_a_run_keeps_rows_identical(whole_run: Path, tmp_path: Path) -> None:
    # The (agent_steps, env) key makes rows comparable across copies and resumes.
    copy = tmp_path / "copy"
    shutil.copytree(whole_run, copy)
    assert _games(copy) == _games(whole_run)
