"""Plug-ins: a user's own extractor, registered in their own module, in every worker a sweep starts.

The user's module is a file in a temporary folder, as it would be in a user's project (the
``user_project`` fixture of conftest.py); the sweep's
workers are real spawned processes. The run function here is a fake (module-level, so that workers can
import it) that records what the worker's registry holds; real training with a user's extractor is in
``test_wheel.py``, and on Ray in ``test_sweep_ray.py``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from conftest import PLUGIN_SPEC

from rl_coordconv.cli import main
from rl_coordconv.errors import UserError
from rl_coordconv.runfolder import CONFIG, STATUS, read_yaml, write_json
from rl_coordconv.sweep import load_spec, run_sweep
from rl_coordconv.sweep.worker import CellTask


def registry_run(task: CellTask) -> None:
    """Record, from inside the worker, the class and kwargs its registry holds for the cell's extractor."""
    from gymnasium import spaces

    from rl_coordconv.extractors import policy_kwargs_for

    kwargs = policy_kwargs_for(task.cell.extractor)
    cls = kwargs["features_extractor_class"]
    model = cls(spaces.Box(0, 255, (4, 84, 84), "uint8"), **kwargs["features_extractor_kwargs"])
    run_dir = Path(task.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    line = f"{os.getpid()} {cls.__module__}.{cls.__qualname__} {model.features_dim}\n"
    (run_dir / "registry.txt").write_text(line, encoding="utf-8")
    write_json(run_dir / STATUS, {"complete": True})


def seen(run_dir: Path) -> list[str]:
    return (run_dir / "registry.txt").read_text(encoding="utf-8").split()


def test_a_users_extractors_reach_every_spawned_worker(user_project: Path) -> None:
    spec = load_spec(user_project / "spec.yaml")
    assert spec.extractors == ("half", "coordconv_narrow") and spec.plugins == ("my_extractors",)
    result = run_sweep(spec, user_project / "sweep", workers=2, run_fn=registry_run, progress="quiet")
    assert result.ok, result.failed
    half = seen(result.run_dir(spec.cells()[0]))
    narrow = seen(result.run_dir(spec.cells()[1]))
    assert half[1:] == ["my_extractors.HalfCNN", "256"]
    assert narrow[1:] == ["rl_coordconv.extractors.CoordConvNatureCNN", "128"]  # the name's kwargs came along
    assert half[0] != narrow[0] != str(os.getpid())  # two worker processes, neither of them this one


def test_the_user_module_is_found_by_the_command_line_too(user_project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["extractors", "--plugin", "my_extractors"]) == 0
    out = capsys.readouterr().out
    assert "half" in out and "NatureCNN with 256 features" in out and "coordconv_narrow" in out
    assert main(["sweep", "spec.yaml", "--dry-run"]) == 0  # --out defaults to runs/<the spec's name>
    out = capsys.readouterr().out
    assert "Breakout-a2c-half-seed0" in out and os.path.join("runs", "plugin", "runs") in out


def test_a_plugin_that_is_not_there_is_one_line_naming_the_key(user_project: Path) -> None:
    (user_project / "bad.yaml").write_text(PLUGIN_SPEC.replace("my_extractors", "my_extractorz"), encoding="utf-8")
    with pytest.raises(UserError, match=r"line 2, key 'plugins': plug-in module 'my_extractorz' not found"):
        load_spec(user_project / "bad.yaml")
    assert main(["extractors", "--plugin", "my_extractorz"]) == 2


def test_a_class_workers_cannot_import_is_refused_before_any_worker_starts(user_project: Path) -> None:
    from stable_baselines3.common.torch_layers import NatureCNN

    from rl_coordconv.extractors import register_extractor

    class LocalCNN(NatureCNN):
        pass

    register_extractor("local", LocalCNN)
    spec = dataclasses.replace(load_spec(user_project / "spec.yaml"), extractors=("local",), text=None)
    with pytest.raises(UserError, match=r"extractor 'local' is the class .*LocalCNN.*defined inside a function"):
        run_sweep(spec, user_project / "sweep", workers=2, run_fn=registry_run, progress="quiet")
    assert not (user_project / "sweep").exists()


def test_a_worker_that_cannot_import_the_class_fails_the_cell_saying_why(user_project: Path) -> None:
    """The module vanished between the driver's import and the worker's (a node without it, on Ray)."""
    spec = load_spec(user_project / "spec.yaml")
    (user_project / "my_extractors.py").rename(user_project / "elsewhere.py")
    result = run_sweep(spec, user_project / "sweep", workers=2, run_fn=registry_run, progress="quiet")
    assert not result.ok and len(result.failed) == 2
    message = result.failed[spec.cells()[0]]
    assert "extractor 'half': cannot import my_extractors:HalfCNN in this worker" in message


def test_plugins_change_no_experiment() -> None:
    """Two specs that differ only in where their names come from run the same experiment."""
    base = PLUGIN_SPEC.replace("plugins: [my_extractors]\n", "").replace("half, coordconv_narrow", "nature")
    from rl_coordconv.sweep import parse_spec

    with_plugins = parse_spec("plugins: [rl_coordconv.layers]\n" + base)
    assert with_plugins.plugins == ("rl_coordconv.layers",)
    assert with_plugins.resolved() == parse_spec(base).resolved()
    assert parse_spec(with_plugins.to_yaml()) == with_plugins


def test_train_takes_a_plugin_and_records_it_in_the_command(user_project: Path) -> None:
    argv = ["train", "--plugin", "my_extractors", "--algo", "a2c", "--game", "breakout", "--extractor", "half",
            "--timesteps", "20", "--out", "runs", "--n-envs", "2", "--threads", "1", "--eval-episodes", "0", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    config = read_yaml(user_project / "runs" / "Breakout-a2c-half-seed0" / CONFIG)
    assert config["policy"]["features_extractor"] == "my_extractors.HalfCNN"
    assert config["command"].startswith("rl-coordconv train --plugin my_extractors --algo a2c")
