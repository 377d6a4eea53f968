"""Training's phases one by one, without training: resolving the config and deciding about the run folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from rl_coordconv import runfolder
from rl_coordconv.errors import UserError
from rl_coordconv.run_plan import RunPlan, prepare_run_folder, resolve_config
from rl_coordconv.settings import RunSettings


def plan(tmp_path: Path, **changes: object) -> RunPlan:
    options: dict = {"run_dir": tmp_path / "run", "n_envs": 2, "threads": 1, "device": "cpu", "eval_episodes": 2}
    options.update(changes)
    run_dir = options.pop("run_dir")
    settings = RunSettings(**{"algo": "PPO", "game": "pong", "extractor": "CoordConv", "seed": 1, "timesteps": 1000,
                              **options})  # fmt: skip
    return resolve_config(settings, tmp_path, run_dir=run_dir)


def test_resolve_config_checks_and_names_everything_without_writing(tmp_path: Path) -> None:
    resolved = plan(tmp_path, run_dir=None, eval_freq=0)
    config = resolved.config
    assert resolved.path == tmp_path / "Pong-ppo-coordconv-seed1" and not resolved.path.exists()
    assert (config.run, config.algo, config.game, config.extractor) == (
        "Pong-ppo-coordconv-seed1",
        "ppo",
        "Pong",
        "coordconv",
    )
    assert config.n_envs == resolved.preset.n_envs == 2 and config.protocol == resolved.protocol.to_dict()
    assert config.evaluation == runfolder.EvaluationConfig(freq=0, games=2, deterministic=False, n_envs=2)
    assert config.checkpoint_freq == 100 and config.format_version == runfolder.FORMAT_VERSION
    with pytest.raises(UserError, match="timesteps must be a positive whole number"):
        resolve_config(RunSettings(algo="ppo", game="Pong", extractor="nature", seed=0, timesteps=0), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_new_run_folder_gets_its_config_and_keeps_foreign_files(tmp_path: Path) -> None:
    resolved = plan(tmp_path)
    resolved.path.mkdir()
    (resolved.path / "notes.txt").write_text("mine")
    (resolved.path / runfolder.ERROR).write_text("an old failure")
    with pytest.raises(UserError, match="holds an unfinished run; pass --resume"):
        prepare_run_folder(resolved)
    decision = prepare_run_folder(resolved, resume=True)  # nothing to resume from: start afresh
    assert decision.action == "new" and decision.checkpoint is None
    assert runfolder.RunConfig.read(resolved.path) == resolved.config
    assert sorted(p.name for p in resolved.path.iterdir()) == [runfolder.CONFIG, "notes.txt"]


def test_a_complete_run_is_kept_and_a_different_one_refused(tmp_path: Path) -> None:
    resolved = plan(tmp_path)
    prepare_run_folder(resolved)
    runfolder.RunStatus(complete=True, agent_steps=1000).write(resolved.path)
    again = plan(tmp_path, n_envs=2)
    assert prepare_run_folder(again).action == "complete"
    with pytest.raises(UserError, match=r"holds a different run \(timesteps 1000 on disk vs 2000 now\)"):
        prepare_run_folder(plan(tmp_path, run_dir=resolved.path, algo="ppo", game="Pong", extractor="coordconv",
                                timesteps=2000))  # fmt: skip
