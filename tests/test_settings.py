"""The settings spine: every field of RunSettings reaches the command line, config.yaml and the recorded command.

Adding a field to :class:`rl_coordconv.settings.RunSettings` without wiring it fails here: it needs a
sample value below (one that differs from its default), a ``config.yaml`` key its value lands in, and the
generated option must parse the recorded command back into the same settings.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from rl_coordconv import runfolder
from rl_coordconv.cli import build_parser
from rl_coordconv.cli.train import recorded_command
from rl_coordconv.errors import UserError
from rl_coordconv.learner import LearnerSettings
from rl_coordconv.run_plan import resolve_config
from rl_coordconv.settings import FolderOptions, RunSettings, settings_of
from rl_coordconv.settings_cli import format_pairs, from_args, options_of
from rl_coordconv.sweep.spec import Cell
from rl_coordconv.sweep.worker import CellTask

BASE = RunSettings(algo="ppo", game="Pong", timesteps=5000, device="cpu")

#: A value other than BASE's for every field: a new field must get one here.
SAMPLES: dict[str, Any] = {
    "algo": "a2c",
    "game": "Breakout",
    "extractor": "nature",
    "seed": 3,
    "timesteps": 6000,
    "protocol": "machado",
    "n_envs": 2,
    "preset": "PRESET_FILE",  # a copy of the built-in ppo preset, written by the test
    "hyperparameters": {"n_steps": 64, "policy_kwargs": {"ortho_init": False}},
    "extractor_kwargs": {"with_r": True},
    "device": "auto",  # resolves to the same device as "cpu" on a machine without CUDA
    "eval_freq": 0,
    "eval_episodes": 3,
    "eval_deterministic": True,
    "checkpoint_freq": 0,
    "threads": 1,
    "backend": "sb3",
    "compile": True,
    "channels_last": False,
}

FIELDS = [f.name for f in dataclasses.fields(RunSettings)]


def _preset_file(tmp_path: Path) -> str:
    path = tmp_path / "my_ppo.yaml"
    path.write_text(resources.files("rl_coordconv.presets").joinpath("ppo.yaml").read_text(encoding="utf-8"))
    return str(path)


def _sample(name: str, tmp_path: Path) -> Any:
    return _preset_file(tmp_path) if name == "preset" else SAMPLES[name]


def _at(data: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        assert isinstance(data, dict) and key in data, f"config.yaml has no key {dotted!r}"
        data = data[key]
    return data


def _parse(command: str) -> tuple[RunSettings, FolderOptions]:
    words = shlex.split(command)
    assert words[:2] == ["rl-coordconv", "train"]
    args = build_parser().parse_args(words[1:])
    return from_args(RunSettings, args), from_args(FolderOptions, args)


def test_every_field_has_a_sample_a_help_and_a_config_key() -> None:
    assert sorted(SAMPLES) == sorted(FIELDS)
    for f in dataclasses.fields(RunSettings):
        assert f.metadata.get("help"), f"{f.name} has no help text"
        assert f.metadata.get("record"), f"{f.name} names no config.yaml key"


def test_every_field_is_an_option_of_the_train_command() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    train = subparsers.choices["train"]
    flags = {flag for action in train._actions for flag in action.option_strings}
    dests = {action.dest for action in train._actions}
    for option in options_of(RunSettings) + options_of(FolderOptions):
        assert option.flag in flags and option.name in dests
    # today's names are kept
    for flag in ("--algo", "--game", "--n-envs", "--set", "--eval-freq", "--checkpoint-freq", "--compile", "--run-dir"):
        assert flag in flags


@pytest.mark.parametrize("name", FIELDS)
def test_every_field_reaches_config_yaml(name: str, tmp_path: Path) -> None:
    """A field changed from BASE changes the config.yaml value its metadata names."""
    record = next(f for f in dataclasses.fields(RunSettings) if f.name == name).metadata["record"]
    changed = dataclasses.replace(BASE, **{name: _sample(name, tmp_path)})
    if name == "extractor_kwargs":
        base, changed = (
            dataclasses.replace(BASE, extractor="coordconv"),
            dataclasses.replace(changed, extractor="coordconv"),
        )
    else:
        base = BASE
    before = resolve_config(base, out=tmp_path).config.to_dict()
    after = resolve_config(changed, out=tmp_path).config.to_dict()
    if name != "device":  # "auto" and "cpu" are the same device where torch sees no GPU
        assert _at(before, record) != _at(after, record)
    else:
        _at(after, record)
    written = tmp_path / "written"
    written.mkdir()
    resolve_config(changed, run_dir=written).config.write(written)
    assert _at(runfolder.read_yaml(written / runfolder.CONFIG), record) == _at(after, record)


def test_the_recorded_command_parses_back_into_the_same_settings(tmp_path: Path) -> None:
    everything = RunSettings(**{name: _sample(name, tmp_path) for name in FIELDS})
    folder = FolderOptions(out=str(tmp_path), run_dir=str(tmp_path / "r"), keep_checkpoints=True)
    for settings in (BASE, everything, RunSettings(algo="a2c", game="pong")):
        command = recorded_command(settings, folder, ["my_module"])
        assert _parse(command) == (settings, folder)
    assert recorded_command(BASE, FolderOptions(), ()).startswith(
        "rl-coordconv train --algo ppo --game Pong --extractor coordconv --seed 0 --timesteps 5000"
    )
    assert list(format_pairs({"lr": "lin_1e-3", "a": {"b": "64", "c": None}})) == [
        "lr=lin_1e-3",
        "a.b='64'",
        "a.c=null",
    ]


def test_the_keyword_form_and_the_record_are_one_run(tmp_path: Path) -> None:
    keywords = settings_of(
        "PPO", "pong", "CoordConv", 1, 1000, n_envs=2, device="cpu", learner=LearnerSettings(compile=True)
    )
    by_keywords = resolve_config(keywords, tmp_path)
    record = RunSettings(algo="PPO", game="pong", extractor="CoordConv", seed=1, timesteps=1000, n_envs=2,
                         device="cpu", compile=True)  # fmt: skip
    by_record = resolve_config(record, out=tmp_path)
    assert runfolder.identity_diff(by_keywords.config, by_record.config) == []
    assert by_keywords.config.learner == by_record.config.learner == {"channels_last": True, "compile": True}
    assert by_keywords.path == by_record.path
    with pytest.raises(TypeError, match="unknown training option.*timestep"):
        settings_of("ppo", "Pong", timestep=5)
    with pytest.raises(TypeError, match="not both"):
        settings_of(BASE, seed=1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"seed": -1}, "seed must be a non-negative whole number, got -1"),
        ({"timesteps": 0}, "timesteps must be a positive whole number, got 0"),
        ({"n_envs": 0}, "n_envs must be a positive whole number, got 0"),
        ({"eval_episodes": 1.5}, "eval_episodes must be a non-negative whole number, got 1.5"),
        ({"threads": 0}, "threads must be a positive whole number, got 0"),
    ],
)
def test_numbers_are_checked_when_the_record_is_made(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError, match=message):
        dataclasses.replace(BASE, **changes)


def test_the_sweep_task_carries_the_settings(tmp_path: Path) -> None:
    from rl_coordconv.sweep.worker import task_settings

    cell = Cell("Pong", "ppo", "nature", 2)
    defaults = RunSettings(algo="ppo", game="Breakout", timesteps=800, eval_freq=0)
    task = CellTask(cell=cell, run_dir=str(tmp_path / "r"), log_path=str(tmp_path / "l"), threads=3,
                    settings=task_settings(cell, 3, defaults), command="rl-coordconv sweep x")  # fmt: skip
    assert task.settings == RunSettings(algo="ppo", game="Pong", extractor="nature", seed=2, timesteps=800,
                                        eval_freq=0, threads=3)  # fmt: skip
    assert task.command == "rl-coordconv sweep x"
    bare = CellTask(cell=cell, run_dir="r", log_path="l")
    assert bare.run_settings.timesteps == RunSettings(algo="a", game="g").timesteps and bare.run_settings.threads == 1
    with pytest.raises(ValueError, match="describe another cell"):
        CellTask(cell=cell, run_dir="r", log_path="l", settings=dataclasses.replace(task.run_settings, seed=5))


PACKAGE = Path(__file__).resolve().parents[1] / "rl_coordconv"
RUN_MODULES = ("training.py", "run_plan.py", "learning.py", "settings.py", "settings_cli.py", "cli/train.py",
               "sweep/worker.py")  # fmt: skip


@pytest.mark.parametrize("module", RUN_MODULES)
def test_the_run_modules_are_rooms_of_one_size(module: str) -> None:
    lines = (PACKAGE / module).read_text(encoding="utf-8").count("\n")
    assert lines <= 500, f"{module} has {lines} lines; split it along a seam"


def test_the_train_command_names_no_run_option_by_hand() -> None:
    """Its options come from RunSettings and FolderOptions; by hand only what a session does (not what a run is)."""
    code = (PACKAGE / "cli" / "train.py").read_text(encoding="utf-8")
    by_hand = sorted(set(re.findall(r"add_argument\(\s*\"(--[a-z-]+)\"", code)))
    assert by_hand == ["--no-progress", "--quiet", "--resume"]


def test_a_spec_can_hand_the_worker_one_record_for_every_cell() -> None:
    from rl_coordconv.sweep.worker import task_settings

    defaults = RunSettings(algo="-", game="-", timesteps=800, protocol="machado", hyperparameters={"n_steps": 16})
    settings = task_settings(Cell("Pong", "a2c", "nature", 4), 2, defaults)
    assert settings == dataclasses.replace(defaults, algo="a2c", game="Pong", extractor="nature", seed=4, threads=2)
    task = CellTask(cell=Cell("Pong", "a2c", "nature", 4), run_dir="r", log_path="l", settings=settings)
    assert task.run_settings is settings
