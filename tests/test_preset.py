"""Agent presets: zoo's values, schedules as data, strict checking, and the model they build."""

from __future__ import annotations

from pathlib import Path

import pytest

from rl_coordconv.cli import main
from rl_coordconv.errors import UserError
from rl_coordconv.model import build_model
from rl_coordconv.preset import load_preset, parse_overrides
from rl_coordconv.preset_kinds import parse_schedule


def test_builtin_presets_hold_zoo_atari_hyperparameters() -> None:
    a2c = load_preset("a2c")
    assert a2c.n_envs == 16
    assert a2c.hyperparams["n_steps"] == 5
    assert a2c.hyperparams["learning_rate"] == pytest.approx(7e-4)
    assert (a2c.hyperparams["ent_coef"], a2c.hyperparams["vf_coef"]) == (0.01, 0.25)
    assert (a2c.hyperparams["gamma"], a2c.hyperparams["gae_lambda"], a2c.hyperparams["max_grad_norm"]) == (
        0.99,
        1.0,
        0.5,
    )
    assert a2c.policy_kwargs == {"optimizer": "rmsprop_tf_like", "optimizer_kwargs": {"eps": 1e-5}}

    ppo = load_preset("ppo")
    assert ppo.n_envs == 8
    expected = {"n_steps": 128, "n_epochs": 4, "batch_size": 256, "learning_rate": "lin_2.5e-4",
                "clip_range": "lin_0.1", "ent_coef": 0.01, "vf_coef": 0.5, "gamma": 0.99, "gae_lambda": 0.95,
                "max_grad_norm": 0.5}  # fmt: skip
    assert {k: ppo.hyperparams[k] for k in expected} == expected
    assert ppo.source == "builtin:ppo"


def test_linear_schedule_is_parsed_as_data() -> None:
    lr = parse_schedule("lin_2.5e-4")
    assert lr(1.0) == pytest.approx(2.5e-4)  # progress_remaining 1: start of training
    assert lr(0.5) == pytest.approx(1.25e-4)
    assert lr(0.0) == pytest.approx(0.0)
    assert parse_schedule(7e-4) == pytest.approx(7e-4)
    assert parse_schedule("7e-4") == pytest.approx(7e-4)  # PyYAML reads 7e-4 (no dot) as a string
    for bad in ("linear", "lin_", "__import__('os').system('true')", "lin_1e-3*2", True, None):
        with pytest.raises((ValueError, TypeError)):
            parse_schedule(bad)


def test_overrides_replace_preset_values_and_are_checked() -> None:
    preset = load_preset("ppo", overrides=parse_overrides(["n_steps=16", "policy_kwargs.ortho_init=false"]), n_envs=2)
    assert (preset.n_envs, preset.hyperparams["n_steps"], preset.policy_kwargs["ortho_init"]) == (2, 16, False)
    assert preset.hyperparams["batch_size"] == 256  # untouched
    with pytest.raises(UserError, match="KEY=VALUE"):
        parse_overrides(["n_steps"])
    with pytest.raises(UserError, match="n_steps must be a whole number >= 1, got -3"):
        load_preset("ppo", overrides={"n_steps": -3})


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "preset.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_user_preset_file_is_loaded(tmp_path: Path) -> None:
    path = _write(tmp_path, "algo: a2c\nn_envs: 4\nn_steps: 20\nlearning_rate: lin_1e-3\n")
    preset = load_preset("a2c", path)
    assert (preset.n_envs, preset.hyperparams["n_steps"], preset.hyperparams["learning_rate"]) == (4, 20, "lin_1e-3")
    assert preset.source == str(path)
    assert preset.to_dict()["n_envs"] == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("algo: ppo\nn_envs: 8\nn_step: 128\n", r"unknown key 'n_step'.*did you mean 'n_steps'\?.*accepted keys: algo"),
        ("algo: ppo\nn_envs: 8\nbatch_size: big\n", r"batch_size must be a whole number >= 1, got 'big'"),
        (
            "algo: ppo\nn_envs: 8\nlearning_rate: fast\n",
            r"learning_rate must be a number \(constant\) or 'lin_<start>'",
        ),
        ("algo: ppo\nn_envs: 8\nnormalize_advantage: 1\n", r"normalize_advantage must be true or false"),
        ("algo: ppo\nn_envs: 8\npolicy_kwargs:\n  optimizer: sgd\n", r"optimizer must be one of rmsprop_tf_like"),
        ("algo: ppo\nn_envs: 8\npolicy_kwargs:\n  net_arch: [64]\n", r"unknown key 'net_arch'.*accepted keys"),
        ("algo: ppo\nn_envs: [8\n", r"not valid YAML \(line \d+\)"),
        ("- 1\n- 2\n", r"must be a YAML mapping"),
        ("algo: a2c\nn_envs: 8\n", r"is for 'a2c', not 'ppo'"),
        ("algo: ppo\nn_steps: 8\n", r"must set n_envs"),
        ("algo: ppo\npolicy: MlpPolicy\nn_envs: 8\n", r"policy must be 'CnnPolicy'"),
    ],
)
def test_bad_preset_files_are_rejected_with_what_is_accepted(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        load_preset("ppo", _write(tmp_path, text))


def test_unknown_algo_and_missing_preset_file() -> None:
    with pytest.raises(UserError, match="unknown algorithm 'dqn'; choose from 'a2c', 'ppo'"):
        load_preset("dqn")
    with pytest.raises(UserError, match="neither a built-in preset"):
        load_preset("ppo", "no/such/preset.yaml")


def test_models_follow_the_preset_and_the_extractor() -> None:
    from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike
    from stable_baselines3.common.torch_layers import NatureCNN

    from rl_coordconv.atari import make_vec_env
    from rl_coordconv.extractors import CoordConvNatureCNN

    env = make_vec_env("Pong", 2, 0)
    try:
        a2c = build_model(load_preset("a2c", n_envs=2), env, extractor="coordconv", seed=0, device="cpu")
        optimizer = a2c.policy.optimizer
        assert isinstance(optimizer, RMSpropTFLike)
        assert optimizer.defaults["eps"] == 1e-5 and optimizer.defaults["alpha"] == 0.99
        assert optimizer.defaults["lr"] == pytest.approx(7e-4)
        assert (a2c.n_steps, a2c.ent_coef, a2c.vf_coef, a2c.gae_lambda) == (5, 0.01, 0.25, 1.0)
        assert isinstance(a2c.policy.features_extractor, CoordConvNatureCNN)
        assert a2c.policy.net_arch == []  # NatureCNN's heads, not SB3's [64, 64] default

        ppo = build_model(load_preset("ppo", n_envs=2), env, extractor="nature", seed=0, device="cpu")
        assert type(ppo.policy.optimizer).__name__ == "Adam"
        assert ppo.lr_schedule(1.0) == pytest.approx(2.5e-4) and ppo.lr_schedule(0.0) == pytest.approx(0.0)
        assert ppo.clip_range(1.0) == pytest.approx(0.1) and ppo.clip_range(0.5) == pytest.approx(0.05)
        assert (ppo.n_steps, ppo.batch_size, ppo.n_epochs, ppo.vf_coef) == (128, 256, 4, 0.5)
        assert type(ppo.policy.features_extractor) is NatureCNN
    finally:
        env.close()


def test_cli_rejects_a_bad_preset_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "algo: ppo\nn_envs: 8\nclip: 0.2\n")
    status = main(["train", "--algo", "ppo", "--game", "Pong", "--preset", str(path), "--out", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "unknown key 'clip'" in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()
