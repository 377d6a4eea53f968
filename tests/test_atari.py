"""Atari environments: game names, the protocols' settings checked on the env itself, whole-game scores,
and exact snapshots of the sb3 backend."""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import numpy as np
import pytest

from rl_coordconv.atari import (
    ATARI_100K_GAMES,
    PROTOCOLS,
    canonical_game,
    get_backend,
    get_protocol,
    list_games,
    make_vec_env,
)
from rl_coordconv.cli import main
from rl_coordconv.errors import UserError


@pytest.mark.parametrize("name", ["Pong", "pong", "PONG", "ALE/Pong-v5", "PongNoFrameskip-v4", "PongDeterministic-v4"])
def test_every_spelling_of_a_game_means_the_same_game(name: str) -> None:
    assert canonical_game(name) == "Pong"


def test_multiword_names_and_the_game_list() -> None:
    assert canonical_game("ms_pacman") == canonical_game("ms-pacman") == canonical_game("MsPacmanNoFrameskip-v4")
    assert canonical_game("ms_pacman") == "MsPacman"
    games = list_games()
    assert games == sorted(games) and len(games) > 50
    assert set(ATARI_100K_GAMES) <= set(games) and len(ATARI_100K_GAMES) == 26


def test_unknown_games_name_the_closest_ones() -> None:
    with pytest.raises(UserError, match=r"unknown game 'Pongg'; did you mean 'Pong'\?"):
        canonical_game("Pongg")
    with pytest.raises(UserError, match=r"unknown game 'Brekout'; did you mean 'Breakout'"):
        make_vec_env("Brekout", 1, 0)
    with pytest.raises(UserError, match="unknown game 'xyzzy'.*`games` command"):
        canonical_game("xyzzy")


def test_bad_factory_arguments() -> None:
    with pytest.raises(UserError, match="unknown protocol 'machardo'; did you mean 'machado'"):
        make_vec_env("Pong", 1, 0, "machardo")
    with pytest.raises(UserError, match="unknown environment backend 'envpool'"):
        make_vec_env("Pong", 1, 0, backend="envpool")
    with pytest.raises(UserError, match="n_envs must be a positive whole number, got 0"):
        make_vec_env("Pong", 0, 0)
    with pytest.raises(UserError, match="seed must be a non-negative whole number, got -1"):
        make_vec_env("Pong", 1, -1)


def _layers(venv: Any) -> list[Any]:
    """The gymnasium wrappers of the first environment, outermost first."""
    env, out = venv.venv.venv.envs[0], []
    while True:
        out.append(env)
        if not hasattr(env, "env"):
            return out
        env = env.env


def _find(venv: Any, name: str) -> Any:
    return next((layer for layer in _layers(venv) if type(layer).__name__ == name), None)


@pytest.mark.parametrize("protocol", ["standard", "machado"])
def test_protocol_settings_are_what_the_env_does(protocol: str) -> None:
    settings = get_protocol(protocol)
    env = make_vec_env("Breakout", 2, 0, protocol)
    try:
        assert env.observation_space.shape == (4, 84, 84) and env.observation_space.dtype == np.uint8
        assert env.reset().shape == (2, 4, 84, 84)
        ale = env.venv.venv.envs[0].unwrapped.ale
        assert ale.getFloat("repeat_action_probability") == pytest.approx(settings.sticky_action_prob)
        assert ale.getInt("max_num_frames_per_episode") == 108_000
        assert env.venv.venv.envs[0].unwrapped._frameskip == 1  # frames are skipped (and max-pooled) by the wrapper
        assert _find(env, "MaxAndSkipEnv")._skip == 4
        assert _find(env, "NoopResetEnv").noop_max == 30
        assert (_find(env, "EpisodicLifeEnv") is not None) == settings.terminal_on_life_loss
        assert _find(env, "ClipRewardEnv") is not None
        # The Monitor sits under every Atari wrapper: it sees raw rewards and whole games.
        names = [type(layer).__name__ for layer in _layers(env)]
        assert names.index("Monitor") > names.index("NoopResetEnv")
    finally:
        env.close()
    assert PROTOCOLS["standard"].sticky_action_prob == 0.0 and PROTOCOLS["standard"].terminal_on_life_loss
    assert PROTOCOLS["machado"].sticky_action_prob == 0.25 and not PROTOCOLS["machado"].terminal_on_life_loss


def _play_one_game(game: str, protocol: Any, seed: int = 7) -> tuple[list[float], list[tuple[bool, dict]], dict]:
    """Random actions until the first whole game ends: learner rewards, every done (and its info), the game."""
    env = make_vec_env(game, 1, seed, protocol)
    rng = np.random.default_rng(0)
    rewards: list[float] = []
    dones: list[tuple[bool, dict]] = []
    try:
        env.reset()
        for _ in range(20_000):
            _, reward, done, infos = env.step(rng.integers(0, env.action_space.n, size=1))
            rewards.append(float(reward[0]))
            if done[0]:
                dones.append(("episode" in infos[0], infos[0]))
            if "episode" in infos[0]:
                return rewards, dones, infos[0]["episode"]
    finally:
        env.close()
    raise AssertionError("no game ended")


def test_standard_signals_each_lost_life_but_reports_the_whole_game() -> None:
    _, dones, _ = _play_one_game("Breakout", "standard")
    # Breakout has 5 lives: 4 life-loss terminals for the learner, then the game over with its score.
    assert [is_game_end for is_game_end, _ in dones] == [False, False, False, False, True]


def test_machado_gives_no_life_loss_signal() -> None:
    _, dones, _ = _play_one_game("Breakout", "machado")
    assert [is_game_end for is_game_end, _ in dones] == [True]


def test_rewards_are_clipped_for_learning_only() -> None:
    rewards, dones, game = _play_one_game("SpaceInvaders", "standard")
    assert set(rewards) <= {-1.0, 0.0, 1.0}
    positive = sum(r > 0 for r in rewards)
    assert positive > 0
    # Every Space Invaders kill is worth 5 to 30 points (more for the ship): the reported score is unclipped ...
    assert game["r"] >= 5 * positive
    # ... and spans every life (SpaceInvaders has 3: two life-loss terminals before the game ends).
    assert len(dones) == 3 and not dones[0][0] and dones[-1][0]


def test_the_frame_cap_truncates_the_game() -> None:
    short = dataclasses.replace(get_protocol("standard"), name="short", max_frames=200)
    _, dones, game = _play_one_game("Breakout", short)
    assert game["l"] == 200  # emulator frames, counted by the Monitor under the frame skip
    assert dones[-1][1]["TimeLimit.truncated"] is True  # a cut game, not a game over: SB3 bootstraps it


@pytest.mark.parametrize("protocol", ["standard", "machado"])
def test_sb3_backend_snapshot_restores_the_exact_future(protocol: str) -> None:
    backend = get_backend("sb3")
    rng = np.random.default_rng(1)
    actions = rng.integers(0, 4, size=(500, 2))

    def play(env: Any, steps: np.ndarray) -> list[tuple[int, tuple, tuple]]:
        out = []
        for a in steps:
            obs, reward, done, infos = env.step(a)
            out.append((int(obs.sum()), tuple(reward), tuple(done), tuple(i.get("episode", {}).get("r") for i in infos)))
        return out

    env = make_vec_env("Breakout", 2, 3, protocol)
    env.reset()
    play(env, actions[:150])
    snapshot = pickle.dumps(backend.get_state(env))
    expected = play(env, actions[150:])
    assert any(done for _, _, dones, _ in expected for done in dones)  # the future crosses resets
    other = make_vec_env("Breakout", 2, 999, protocol)  # built fresh, seeded differently
    backend.set_state(other, pickle.loads(snapshot))
    assert play(other, actions[150:]) == expected
    with pytest.raises(ValueError, match="does not match"):
        backend.set_state(make_vec_env("Breakout", 3, 0, protocol), pickle.loads(snapshot))


def test_games_command_lists_games_with_reference_scores(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["games"]) == 0
    out = capsys.readouterr().out
    assert any(line.split()[:3] == ["Pong", "-20.7", "14.6"] for line in out.splitlines())
    assert main(["games", "--atari100k", "--names"]) == 0
    assert capsys.readouterr().out.split() == list(ATARI_100K_GAMES)
