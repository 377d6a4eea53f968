"""CoordConvNatureCNN, the extractor registry and policy_kwargs_for, alone and inside SB3 A2C/PPO on a
real Atari game."""

from __future__ import annotations

import ale_py
import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.env_util import make_atari_env
from stable_baselines3.common.torch_layers import NatureCNN
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper, VecFrameStack

from rl_coordconv import CoordConv2d, CoordConvNatureCNN, policy_kwargs_for
from rl_coordconv.errors import UserError
from rl_coordconv.extractors import EXTRACTORS, NATURE_MIN_SIZE, get_extractor

gym.register_envs(ale_py)

ATARI = spaces.Box(0, 255, (4, 84, 84), np.uint8)


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(
    ("coord_layers", "with_r", "extra"),
    [
        ((), False, 0),
        ("first", False, 32 * 2 * 8 * 8),
        ("first", True, 32 * 3 * 8 * 8),
        ((1,), False, 64 * 2 * 4 * 4),
        ("all", False, 32 * 2 * 8 * 8 + 64 * 2 * 4 * 4 + 64 * 2 * 3 * 3),
    ],
)
def test_parameter_count_is_nature_plus_coordinate_weights(coord_layers, with_r, extra) -> None:
    model = CoordConvNatureCNN(ATARI, coord_layers=coord_layers, with_r=with_r)
    assert n_params(model) == n_params(NatureCNN(ATARI)) + extra


def test_same_layers_as_nature_cnn() -> None:
    nature = NatureCNN(ATARI)
    coord = CoordConvNatureCNN(ATARI, coord_layers="first", coord_init="joint")  # the layout before equal init
    assert [type(m).__name__ for m in coord.cnn] == [
        "CoordConv2d",
        "ReLU",
        "Conv2d",
        "ReLU",
        "Conv2d",
        "ReLU",
        "Flatten",
    ]
    assert [n for n, _ in coord.named_parameters()] == [n for n, _ in nature.named_parameters()]
    for (name, a), (_, b) in zip(nature.named_parameters(), coord.named_parameters()):
        if name == "cnn.0.weight":
            assert b.shape == (32, 6, 8, 8)
        else:
            assert a.shape == b.shape, name
    assert coord.linear[0].in_features == 3136
    assert coord(torch.zeros(3, 4, 84, 84)).shape == (3, 512)


def test_without_coordinates_it_computes_nature_cnn() -> None:
    torch.manual_seed(0)
    nature = NatureCNN(ATARI)
    plain = CoordConvNatureCNN(ATARI, coord_layers=())
    plain.load_state_dict(nature.state_dict())
    x = torch.rand(2, 4, 84, 84)
    assert torch.allclose(plain(x), nature(x))


def test_non_square_images_and_custom_features_dim() -> None:
    space = spaces.Box(0, 255, (3, 60, 100), np.uint8)
    model = CoordConvNatureCNN(space, features_dim=64, coord_layers="all", with_r=True)
    out = model(torch.rand(2, 3, 60, 100))
    assert out.shape == (2, 64)
    # 60x100 -> 14x24 -> 6x11 -> 4x9 maps, found by the trial forward pass
    assert model.linear[0].in_features == 64 * 4 * 9
    smallest = spaces.Box(0, 255, (1, NATURE_MIN_SIZE, NATURE_MIN_SIZE), np.uint8)
    assert CoordConvNatureCNN(smallest).linear[0].in_features == 64


def test_bad_observation_spaces() -> None:
    with pytest.raises(ValueError, match="needs a gymnasium.spaces.Box image"):
        CoordConvNatureCNN(spaces.Discrete(4))
    with pytest.raises(ValueError, match=r"channel-first images of shape \(C, H, W\)"):
        CoordConvNatureCNN(spaces.Box(0, 255, (84, 84), np.uint8))
    with pytest.raises(ValueError, match="looks channel-last.*VecTransposeImage"):
        CoordConvNatureCNN(spaces.Box(0, 255, (84, 84, 4), np.uint8))
    with pytest.raises(ValueError, match="float32 images.*normalized_image=True"):
        CoordConvNatureCNN(spaces.Box(0.0, 1.0, (4, 84, 84), np.float32))
    with pytest.raises(ValueError, match=r"bounds \[0, 255\]"):
        CoordConvNatureCNN(spaces.Box(0, 100, (4, 84, 84), np.uint8))
    with pytest.raises(ValueError, match="too small.*smallest that works is 36x36"):
        CoordConvNatureCNN(spaces.Box(0, 255, (4, 35, 84), np.uint8))
    with pytest.raises(ValueError, match="coord_layers"):
        CoordConvNatureCNN(ATARI, coord_layers=(0, 3))
    with pytest.raises(ValueError, match="coord_layers"):
        CoordConvNatureCNN(ATARI, coord_layers="last")
    with pytest.raises(ValueError, match="features_dim >= 1"):
        CoordConvNatureCNN(ATARI, features_dim=0)
    # normalised float images are accepted when declared
    floats = spaces.Box(0.0, 1.0, (4, 84, 84), np.float32)
    assert CoordConvNatureCNN(floats, normalized_image=True).features_dim == 512


def test_registry_and_policy_kwargs() -> None:
    assert {"nature", "coordconv", "coordconv_all", "coordconv_r", "coordconv_const"} <= set(EXTRACTORS)
    nature = policy_kwargs_for("nature")
    assert nature == {"features_extractor_class": NatureCNN, "features_extractor_kwargs": {}, "net_arch": []}
    coord = policy_kwargs_for("coordconv")
    assert coord["features_extractor_class"] is CoordConvNatureCNN
    assert coord["features_extractor_kwargs"] == {"coord_layers": "first"}
    assert coord["net_arch"] == []
    assert policy_kwargs_for("CoordConv-R")["features_extractor_kwargs"] == {"coord_layers": "first", "with_r": True}
    assert policy_kwargs_for("coordconv_all", features_dim=256)["features_extractor_kwargs"] == {
        "coord_layers": "all",
        "features_dim": 256,
    }
    # each call returns a fresh dict: SB3 mutates features_extractor_kwargs
    policy_kwargs_for("coordconv")["features_extractor_kwargs"]["x"] = 1
    assert policy_kwargs_for("coordconv")["features_extractor_kwargs"] == {"coord_layers": "first"}


def test_unknown_extractor_names_suggest_close_ones() -> None:
    with pytest.raises(UserError, match=r"unknown extractor 'cordconv'; did you mean 'coordconv'"):
        policy_kwargs_for("cordconv")
    with pytest.raises(ValueError, match="unknown extractor 'natur'.*'nature'"):
        get_extractor("natur")
    with pytest.raises(UserError, match="does not take depth; it accepts"):
        policy_kwargs_for("coordconv", depth=3)


# --------------------------------------------------------------------------------------------------
# Inside SB3, on a real Atari game.


def atari_env(n_envs: int = 2, seed: int = 0) -> VecEnv:
    env = make_atari_env("BreakoutNoFrameskip-v4", n_envs=n_envs, seed=seed)
    return VecFrameStack(env, n_stack=4)


class FloatChannelFirst(VecEnvWrapper):
    """Float, already-normalised, channel-first observations: what `normalize_images=False` is for."""

    def __init__(self, venv: VecEnv) -> None:
        h, w, c = venv.observation_space.shape
        super().__init__(venv, observation_space=spaces.Box(0.0, 1.0, (c, h, w), np.float32))

    def _convert(self, obs: np.ndarray) -> np.ndarray:
        return np.transpose(obs, (0, 3, 1, 2)).astype(np.float32) / 255.0

    def reset(self) -> np.ndarray:
        return self._convert(self.venv.reset())

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        return self._convert(obs), rewards, dones, infos


def small_model(algo: str, env: VecEnv, policy_kwargs: dict, seed: int = 0):
    if algo == "a2c":
        return A2C("CnnPolicy", env, n_steps=5, seed=seed, policy_kwargs=policy_kwargs, device="cpu")
    return PPO(
        "CnnPolicy", env, n_steps=32, batch_size=32, n_epochs=1, seed=seed, policy_kwargs=policy_kwargs, device="cpu"
    )


@pytest.mark.parametrize("algo", ["a2c", "ppo"])
@pytest.mark.parametrize("extractor", sorted(EXTRACTORS))
def test_sb3_learns_with_every_extractor(algo: str, extractor: str) -> None:
    torch.manual_seed(0)
    env = atari_env()
    model = small_model(algo, env, policy_kwargs_for(extractor))
    policy = model.policy
    assert policy.net_arch == []  # NatureCNN's empty heads, whatever the extractor
    assert policy.action_net.in_features == 512 and policy.value_net.in_features == 512
    before = [p.detach().clone() for p in policy.features_extractor.parameters()]
    model.learn(total_timesteps=128)
    assert model.num_timesteps >= 128
    after = list(policy.features_extractor.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, after))  # the extractor was trained
    if extractor != "nature":
        coord = policy.features_extractor.cnn[0]
        assert isinstance(coord, CoordConv2d)
    env.close()


def test_policy_differs_from_nature_by_exactly_the_coordinate_weights() -> None:
    env = atari_env(n_envs=1)
    nature = PPO("CnnPolicy", env, seed=0, policy_kwargs=policy_kwargs_for("nature"), device="cpu").policy
    default = PPO("CnnPolicy", env, seed=0, device="cpu").policy  # what SB3 builds by itself
    legacy = policy_kwargs_for("coordconv", coord_init="joint")  # the layout of results/atari100k's runs
    coord = PPO("CnnPolicy", env, seed=0, policy_kwargs=legacy, device="cpu").policy
    env.close()
    assert [(n, p.shape) for n, p in nature.named_parameters()] == [(n, p.shape) for n, p in default.named_parameters()]
    nature_params = dict(nature.named_parameters())
    coord_params = dict(coord.named_parameters())
    assert nature_params.keys() == coord_params.keys()
    differing = {n for n in nature_params if nature_params[n].shape != coord_params[n].shape}
    assert differing == {"features_extractor.cnn.0.weight"}
    assert (
        coord_params["features_extractor.cnn.0.weight"][:, :4].shape
        == nature_params["features_extractor.cnn.0.weight"].shape
    )
    assert n_params(coord) - n_params(nature) == 32 * 2 * 8 * 8
    # SB3's orthogonal init reached the whole CoordConv weight (as for a plain conv over C+2 channels)
    flat = coord_params["features_extractor.cnn.0.weight"].detach().reshape(32, -1)
    assert torch.allclose(flat @ flat.T, 2 * torch.eye(32), atol=1e-4)


def test_without_the_helper_sb3_adds_mlp_heads() -> None:
    # The trap policy_kwargs_for exists for: documents SB3's behaviour, fails if SB3 ever changes it.
    env = atari_env(n_envs=1)
    model = PPO("CnnPolicy", env, policy_kwargs={"features_extractor_class": CoordConvNatureCNN}, device="cpu")
    env.close()
    assert model.policy.net_arch == {"pi": [64, 64], "vf": [64, 64]}


@pytest.mark.parametrize("algo", ["a2c", "ppo"])
def test_separate_features_extractors(algo: str) -> None:
    env = atari_env()
    kwargs = {**policy_kwargs_for("coordconv"), "share_features_extractor": False}
    model = small_model(algo, env, kwargs)
    policy = model.policy
    assert policy.pi_features_extractor is not policy.vf_features_extractor
    assert isinstance(policy.vf_features_extractor, CoordConvNatureCNN)
    model.learn(total_timesteps=64)
    env.close()
    assert model.num_timesteps >= 64


def test_float_images_with_normalize_images_false() -> None:
    env = FloatChannelFirst(atari_env())
    kwargs = {**policy_kwargs_for("coordconv"), "normalize_images": False}
    model = small_model("a2c", env, kwargs)
    assert model.policy.features_extractor_kwargs["normalized_image"] is True  # as SB3 does for NatureCNN
    model.learn(total_timesteps=64)
    obs = env.reset()
    assert obs.dtype == np.float32 and obs.max() <= 1.0
    actions, _ = model.predict(obs, deterministic=True)
    assert actions.shape == (2,)
    env.close()


@pytest.mark.parametrize("algo", ["a2c", "ppo"])
def test_save_load_gives_identical_deterministic_actions(algo: str, tmp_path) -> None:
    env = atari_env()
    model = small_model(algo, env, policy_kwargs_for("coordconv_r"))
    model.learn(total_timesteps=64)
    obs = env.reset()
    for _ in range(10):
        obs, *_ = env.step(env.action_space.sample()[None].repeat(2, 0))
    actions, _ = model.predict(obs, deterministic=True)
    path = tmp_path / "model.zip"
    model.save(path)
    loaded = (A2C if algo == "a2c" else PPO).load(path, device="cpu")
    assert isinstance(loaded.policy.features_extractor, CoordConvNatureCNN)
    assert loaded.policy.features_extractor.with_r is True
    loaded_actions, _ = loaded.predict(obs, deterministic=True)
    assert np.array_equal(actions, loaded_actions)
    for (name, a), (_, b) in zip(model.policy.named_parameters(), loaded.policy.named_parameters()):
        assert torch.equal(a, b), name
    env.close()


# --- equal arms by construction (coord_init="zeros", the default) ----------------------------------

COORD_EXTRACTORS = ["coordconv", "coordconv_all", "coordconv_r", "coordconv_const"]


def build_policy(algo: str, extractor: str, env: VecEnv, **extractor_kwargs):
    cls = A2C if algo == "a2c" else PPO
    return cls("CnnPolicy", env, seed=3, device="cpu", policy_kwargs=policy_kwargs_for(extractor, **extractor_kwargs))


@pytest.mark.parametrize("algo", ["a2c", "ppo"])
@pytest.mark.parametrize("extractor", COORD_EXTRACTORS)
def test_every_nature_weight_is_equal_at_the_same_seed(algo: str, extractor: str) -> None:
    env = atari_env(n_envs=1)
    nature = build_policy(algo, "nature", env).policy
    coord = build_policy(algo, extractor, env).policy
    nature_params = dict(nature.named_parameters())
    coord_params = dict(coord.named_parameters())
    extra = set(coord_params) - set(nature_params)
    assert extra and all(name.endswith(".weight_coords") for name in extra)
    for name, value in nature_params.items():  # image weights of the first conv, later layers, both heads
        assert torch.equal(coord_params[name], value), name
    for name in extra:
        assert not coord_params[name].any(), name  # the coordinate weights start at zero
    # so the two agents start as one function: same values, same action probabilities
    obs = torch.as_tensor(np.stack([env.observation_space.sample() for _ in range(3)])).permute(0, 3, 1, 2)
    with torch.no_grad():
        dn, dc = nature.get_distribution(obs.float()), coord.get_distribution(obs.float())
        assert torch.allclose(dn.distribution.probs, dc.distribution.probs, atol=1e-6)
        assert torch.allclose(nature.predict_values(obs.float()), coord.predict_values(obs.float()), atol=1e-5)
    env.close()


def test_joint_init_is_the_old_confound() -> None:
    # what equal init removes: drawn over 4 + 2 channels, the image weights come out ~0.82x as large and
    # every later draw from the same stream is shifted
    env = atari_env(n_envs=1)
    nature = build_policy("ppo", "nature", env).policy
    joint = build_policy("ppo", "coordconv", env, coord_init="joint").policy
    env.close()
    image = joint.features_extractor.cnn[0].image_weight
    ratio = float(image.detach().std() / nature.features_extractor.cnn[0].weight.detach().std())
    assert 0.78 < ratio < 0.86
    assert not torch.equal(joint.action_net.weight, nature.action_net.weight)


def test_legacy_coordconv_model_loads_with_its_optimizer(tmp_path) -> None:
    import zipfile

    from stable_baselines3.common.save_util import data_to_json, json_to_data

    from rl_coordconv.model import load_model

    env = atari_env(n_envs=1)
    old = A2C(
        "CnnPolicy",
        env,
        n_steps=5,
        seed=0,
        device="cpu",
        policy_kwargs=policy_kwargs_for("coordconv", coord_init="joint"),
    )
    old.learn(10)
    old.save(tmp_path / "new.zip")
    # what a model saved before coord_init existed holds: the joint layout, and no coord_init in its kwargs
    with zipfile.ZipFile(tmp_path / "new.zip") as src, zipfile.ZipFile(tmp_path / "old.zip", "w") as dst:
        for item in src.infolist():
            payload = src.read(item.filename)
            if item.filename == "data":
                data = json_to_data(payload.decode())
                del data["policy_kwargs"]["features_extractor_kwargs"]["coord_init"]
                payload = data_to_json(data).encode()
            dst.writestr(item, payload)
    with pytest.raises(
        ValueError, match="parameter group"
    ):  # plain SB3: the weights convert, the optimizer state cannot
        A2C.load(tmp_path / "old.zip", env=env, device="cpu")
    loaded = load_model("a2c", tmp_path / "old.zip", env, device="cpu")
    assert loaded.policy.features_extractor.cnn[0].coord_init == "joint"
    assert loaded.policy.features_extractor.cnn[0].weight.shape == (32, 6, 8, 8)
    for (name, a), (_, b) in zip(old.policy.named_parameters(), loaded.policy.named_parameters(), strict=True):
        assert torch.equal(a, b), name
    loaded.learn(10)  # the optimizer state matched the layout
    env.close()
