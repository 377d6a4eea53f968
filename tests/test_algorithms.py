"""The algorithm registry: a new algorithm is one entry plus its preset, and nothing else lists algorithms."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from test_structure import MODULES, PACKAGE

from rl_coordconv.algorithms import ALGORITHMS, ALGOS, Algorithm, algorithm_names, get_algorithm, register_algorithm
from rl_coordconv.errors import UserError
from rl_coordconv.preset import COMMON_KEYS, builtin_presets, load_preset
from rl_coordconv.sweep.estimate import worker_rate

#: The registry's own module: the one place that names the algorithms (besides their preset files).
REGISTRY = "rl_coordconv.algorithms"
#: The modules that hold the preset concept (split out of the old ``agents`` module, issue #33).
PRESET_ROOMS = ("rl_coordconv.algorithms", "rl_coordconv.preset", "rl_coordconv.preset_kinds", "rl_coordconv.model")


def test_every_entry_has_its_preset_schedules_and_a_class_that_loads() -> None:
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

    for name, entry in ALGORITHMS.items():
        assert entry.name == name == name.lower()
        assert resources.files("rl_coordconv.presets").joinpath(f"{entry.preset}.yaml").is_file()
        preset = load_preset(name)
        assert preset.algo == name and preset.source == f"builtin:{entry.preset}"
        assert set(entry.schedules) <= set(entry.hyperparameters)
        assert set(preset.hyperparams) <= set(entry.hyperparameters)
        assert not set(entry.hyperparameters) & set(COMMON_KEYS)
        assert {rule.key for rule in entry.no_effect} <= set(entry.hyperparameters)
        cls = entry.load_class()
        assert issubclass(cls, OnPolicyAlgorithm) and cls.__name__ == entry.label
        assert set(entry.hyperparameters) <= set(inspect.signature(cls).parameters)  # SB3's constructor takes them
        assert entry.steps_per_second and entry.bench_rollouts >= 1


def test_the_shipped_presets_are_the_registry_s() -> None:
    shipped = {
        p.name[: -len(".yaml")] for p in resources.files("rl_coordconv.presets").iterdir() if p.name.endswith(".yaml")
    }
    assert shipped == set(builtin_presets())
    assert ALGOS == algorithm_names() == ("a2c", "ppo")


def test_names_are_looked_up_in_any_spelling_with_one_clear_error() -> None:
    assert get_algorithm("PPO").name == "ppo" and get_algorithm(" A2C ").name == "a2c"
    with pytest.raises(UserError, match=r"^unknown algorithm 'dqn'; choose from 'a2c', 'ppo'\.$"):
        get_algorithm("dqn")
    with pytest.raises(UserError, match="did you mean 'ppo'"):
        get_algorithm("ppp")


def test_a_new_algorithm_is_one_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = Algorithm(
        "a2c_short",
        "A2CShort",
        "stable_baselines3.A2C",
        dict(ALGORITHMS["a2c"].hyperparameters),
        schedules=("learning_rate",),
        steps_per_second={1: 100.0},
    )
    monkeypatch.setitem(ALGORITHMS, "a2c_short", entry)
    preset_file = tmp_path / "a2c_short.yaml"
    preset_file.write_text("algo: a2c_short\nn_envs: 2\nn_steps: 3\nclip_range: 0.1\n", encoding="utf-8")
    with pytest.raises(UserError, match="unknown key 'clip_range'"):  # the entry's keys, not PPO's
        load_preset("A2C-Short", preset_file)
    preset_file.write_text("algo: a2c_short\nn_envs: 2\nn_steps: 3\n", encoding="utf-8")
    preset = load_preset("A2C-Short", preset_file)
    assert (preset.algo, preset.n_envs, preset.hyperparams) == ("a2c_short", 2, {"n_steps": 3})
    assert get_algorithm("a2c-short").tb_log_name == "A2CShort"
    assert worker_rate("a2c_short", 1, 1, {"a2c_short": entry.steps_per_second}) == 100.0
    assert register_algorithm(entry) is entry  # replacing an entry is allowed (monkeypatch restores the table)


def _algorithm_literals(tree: ast.AST, names: set[str]) -> list[str]:
    """Places that spell an algorithm's name as data: in a tuple, list or set, as a dict key, or compared."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            values = node.elts
        elif isinstance(node, ast.Dict):
            values = [k for k in node.keys if k is not None]
        elif isinstance(node, ast.Compare):
            values = [node.left, *node.comparators]
        else:
            continue
        found += [
            f"line {node.lineno}: {v.value!r}" for v in values if isinstance(v, ast.Constant) and v.value in names
        ]
    return found


def test_nothing_but_the_registry_lists_the_algorithms() -> None:
    names = set(ALGORITHMS)
    offenders = {
        name: found
        for name, path in MODULES.items()
        if name != REGISTRY and (found := _algorithm_literals(ast.parse(path.read_text(encoding="utf-8")), names))
    }
    assert offenders == {}


def test_the_literal_guard_sees_each_way_of_listing() -> None:
    code = 'A = ("a2c", "ppo")\nB = ["ppo"]\nC = {"a2c": 1}\nif algo == "ppo":\n    pass\nD = "ppo is fine in text"\n'
    assert len(_algorithm_literals(ast.parse(code), {"a2c", "ppo"})) == 5


def test_importing_the_registry_and_presets_imports_no_torch() -> None:
    code = (
        "import sys, rl_coordconv.algorithms, rl_coordconv.preset; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'stable_baselines3')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_one_name_for_presets() -> None:
    """The preset concept lives in modules named for it (``preset``, ``preset_kinds``, ``model``, the data
    package ``rl_coordconv.presets``); the old ``rl_coordconv.agents`` module is gone, not kept as a
    second name."""
    assert set(PRESET_ROOMS) <= set(MODULES)  # their size: tests/test_structure_size.py
    assert not (PACKAGE / "agents.py").exists()
    assert "rl_coordconv.agents" not in MODULES
