"""The run-folder format as types: round trips, old folders, damaged files, identity and names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from rl_coordconv import runfolder
from rl_coordconv.atari import PROTOCOLS
from rl_coordconv.errors import UserError
from rl_coordconv.runfolder import (
    FORMAT_VERSION,
    ErrorRecord,
    EvaluationConfig,
    Progress,
    RunConfig,
    RunFolderError,
    RunStatus,
)

# config.yaml as training wrote it before format_version existed (format 0), key for key.
LEGACY_CONFIG = """\
run: Breakout-a2c-nature-seed3
algo: a2c
game: Breakout
extractor: nature
extractor_kwargs: {}
seed: 3
timesteps: 800
protocol:
  name: standard
  sticky_action_prob: 0.0
  noop_max: 30
  frame_skip: 4
  screen_size: 84
  frame_stack: 4
  terminal_on_life_loss: true
  clip_reward: true
  max_frames: 108000
  full_action_space: false
backend: sb3
n_envs: 2
agent:
  algo: a2c
  policy: CnnPolicy
  n_envs: 2
  vf_coef: 0.25
  source: builtin:a2c
policy:
  features_extractor: rl_coordconv.extractors.NatureCNNExtractor
  features_extractor_kwargs: {features_dim: 512}
  net_arch: []
evaluation:
  freq: 300
  games: 2
  deterministic: false
  n_envs: 2
checkpoint_freq: 200
seeds:
  root: 3
  training: 123
  evaluation: 456
device: cpu
threads: 1
versions:
  python: 3.11.2
command: rl-coordconv train a2c Breakout nature --seed 3
created: '2026-11-28T10:00:00+00:00'
"""


def config(**changes: object) -> RunConfig:
    values: dict[str, Any] = {
        "run": "Pong-ppo-coordconv-seed0",
        "algo": "ppo",
        "game": "Pong",
        "extractor": "coordconv",
        "seed": 0,
        "timesteps": 1000,
        "protocol": PROTOCOLS["standard"].to_dict(),
        "backend": "sb3",
        "n_envs": 2,
        "agent": {"algo": "ppo", "n_envs": 2, "source": "builtin:ppo"},
        "evaluation": EvaluationConfig(freq=500, games=2, n_envs=2),
        "seeds": {"root": 0, "training": 1, "evaluation": 2},
    }
    values.update(changes)
    return RunConfig(**values)


def test_config_round_trips_with_its_format_version(tmp_path: Path) -> None:
    written = config(extractor_kwargs={"with_r": True})
    written.write(tmp_path)
    raw = yaml.safe_load((tmp_path / runfolder.CONFIG).read_text())
    assert list(raw)[:3] == ["format_version", "run", "algo"] and raw["format_version"] == FORMAT_VERSION
    assert raw["evaluation"] == {"freq": 500, "games": 2, "deterministic": False, "n_envs": 2}
    assert RunConfig.read(tmp_path) == written


def test_a_folder_written_before_format_version_still_reads(tmp_path: Path) -> None:
    (tmp_path / runfolder.CONFIG).write_text(LEGACY_CONFIG)
    old = RunConfig.read(tmp_path)
    assert old.format_version == 0 and old.extra == {}
    assert (old.algo, old.game, old.seed, old.timesteps, old.n_envs) == ("a2c", "Breakout", 3, 800, 2)
    assert old.evaluation == EvaluationConfig(freq=300, games=2, deterministic=False, n_envs=2)
    assert old.frame_skip == 4 and old.agent["vf_coef"] == 0.25
    # Rewriting keeps every key it had with its value, and adds the version.
    old.write(tmp_path)
    again = yaml.safe_load((tmp_path / runfolder.CONFIG).read_text())
    legacy = yaml.safe_load(LEGACY_CONFIG)
    assert {key: again[key] for key in legacy} == legacy and again["format_version"] == FORMAT_VERSION


def test_unknown_keys_are_kept_and_new_fields_have_defaults(tmp_path: Path) -> None:
    data = {**config().to_dict(), "future_setting": {"a": 1}}
    del data["threads"], data["device"]
    (tmp_path / runfolder.CONFIG).write_text(yaml.safe_dump(data))
    read = RunConfig.read(tmp_path)
    assert read.extra == {"future_setting": {"a": 1}} and read.threads == 1 and read.device == "cpu"
    assert read.to_dict()["future_setting"] == {"a": 1}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (": : [\n", "malformed YAML"),
        ("- a\n- b\n", "expected a mapping"),
        (LEGACY_CONFIG.replace("seed: 3\n", "seed: three\n"), "'seed' must be a whole number, got 'three'"),
        (LEGACY_CONFIG.replace("algo: a2c\ngame", "game"), "the key 'algo' is missing"),
        (LEGACY_CONFIG.replace("  freq: 300\n", "  freq: often\n"), "'evaluation.freq' must be a whole number"),
        (f"format_version: {FORMAT_VERSION + 1}\n" + LEGACY_CONFIG, "newer than this rl-coordconv reads"),
    ],
)
def test_a_damaged_config_is_one_clear_user_error(tmp_path: Path, text: str, says: str) -> None:
    (tmp_path / runfolder.CONFIG).write_text(text)
    with pytest.raises(RunFolderError, match=says) as caught:
        RunConfig.read(tmp_path)
    assert isinstance(caught.value, UserError) and "\n" not in str(caught.value)
    assert str(tmp_path) in str(caught.value)


def test_a_folder_without_config_is_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(RunFolderError, match="is not a run folder"):
        RunConfig.read(tmp_path)
    assert runfolder.read_config_data(tmp_path) == {}
    (tmp_path / runfolder.CONFIG).write_text(": : [")
    assert runfolder.read_config_data(tmp_path) == {}


def test_status_progress_and_error_round_trip(tmp_path: Path) -> None:
    assert RunStatus.read(tmp_path) is None and not runfolder.is_complete(tmp_path)
    status = RunStatus(complete=True, run="x", agent_steps=800, frames=3200, final_mean_return=1.5, sessions=2)
    status.write(tmp_path)
    assert RunStatus.read(tmp_path) == status and runfolder.is_complete(tmp_path)
    assert json.loads((tmp_path / runfolder.STATUS).read_text())["final_mean_return"] == 1.5
    assert status.summary() == "800 agent steps, final evaluation mean 1.5"
    (tmp_path / runfolder.STATUS).write_text('{"complete": "yes"}')
    assert not runfolder.is_complete(tmp_path)
    with pytest.raises(RunFolderError, match="'complete' must be true or false"):
        RunStatus.read(tmp_path)

    assert Progress.read(tmp_path) is None
    Progress(agent_steps=320, timesteps=800, steps_per_second=55.5, updated="now").write(tmp_path)
    assert Progress.read(tmp_path) == Progress(320, 800, 55.5, "now")
    (tmp_path / runfolder.PROGRESS).write_text("{")
    assert Progress.peek(tmp_path) is None
    with pytest.raises(RunFolderError, match="malformed JSON"):
        Progress.read(tmp_path)

    assert ErrorRecord.read(tmp_path) is None
    try:
        raise RuntimeError("emulator died")
    except RuntimeError as err:
        record = ErrorRecord.from_exception(err, prefix="Pong/a2c/nature/seed0 failed: ")
    record.write(tmp_path)
    read = ErrorRecord.read(tmp_path)
    assert read is not None and read.summary == "Pong/a2c/nature/seed0 failed: RuntimeError: emulator died"
    assert "Traceback" in read.text and ErrorRecord.exists(tmp_path)
    ErrorRecord.remove(tmp_path)
    assert not ErrorRecord.exists(tmp_path)
    (tmp_path / runfolder.ERROR).write_text("")
    empty = ErrorRecord.read(tmp_path)
    assert empty is not None and empty.summary == "failed (empty error.txt)"


def test_identity_ignores_the_agent_source_and_names_what_differs() -> None:
    a = config()
    b = config(agent={**a.agent, "source": "presets/ppo.yaml"}, command="other", created="later", threads=4)
    assert runfolder.identity_diff(a, b) == []
    c = config(seed=1, evaluation=EvaluationConfig(freq=100, games=2, n_envs=2))
    diffs = runfolder.identity_diff(a, c)
    assert [d.split()[0] for d in diffs] == ["seed", "evaluation"] and "0 on disk vs 1 now" in diffs[0]


def test_run_name_uses_canonical_spellings() -> None:
    assert runfolder.run_name("pong", "PPO", "CoordConv", 0) == "Pong-ppo-coordconv-seed0"
    with pytest.raises(UserError, match="seed must be a non-negative whole number"):
        runfolder.run_name("Pong", "ppo", "nature", -1)
    from rl_coordconv.training import run_name  # the old import still works

    assert run_name is runfolder.run_name


def test_clear_run_removes_only_what_a_run_writes(tmp_path: Path) -> None:
    config().write(tmp_path)
    RunStatus(complete=True).write(tmp_path)
    (tmp_path / runfolder.CHECKPOINTS).mkdir()
    (tmp_path / "notes.txt").write_text("mine")
    runfolder.clear_run(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
