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
    env = make_vec_env("Breakout", 2, 0, protocol, backend="sb3")
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


def _play(env: Any, steps: np.ndarray) -> list[tuple[int, tuple, tuple, tuple]]:
    """Step ``env`` through ``steps``: per agent step, the observations' sum, rewards, dones and game scores."""
    out = []
    for a in steps:
        obs, reward, done, infos = env.step(a)
        out.append((int(obs.sum()), tuple(reward), tuple(done), tuple(i.get("episode", {}).get("r") for i in infos)))
    return out


# Breakout under machado with seed 0: ALE's cloneState/restoreState (what the backend used before replay)
# diverged on the first step after the restore (the sticky previous action is not in ALE's snapshot);
# Qbert diverged on both protocols (TIA frame state); Amidar is the third game with known restore trouble.
@pytest.mark.parametrize(
    ("game", "protocol"),
    [
        ("Breakout", "machado"),
        ("Qbert", "standard"),
        pytest.param("Breakout", "standard", marks=pytest.mark.slow),
        pytest.param("Qbert", "machado", marks=pytest.mark.slow),
        pytest.param("Amidar", "standard", marks=pytest.mark.slow),
        pytest.param("Amidar", "machado", marks=pytest.mark.slow),
    ],
)
def test_sb3_backend_snapshot_restores_the_exact_future(game: str, protocol: str) -> None:
    backend = get_backend("sb3")
    env = make_vec_env(game, 4, 0, protocol, backend="sb3")
    actions = np.random.default_rng(0).integers(0, env.action_space.n, size=(400, 4))
    env.reset()
    _play(env, actions[:120])
    snapshot = pickle.dumps(backend.get_state(env))
    expected = _play(env, actions[120:])
    if (game, protocol) != ("Amidar", "machado"):  # (there, no game ends this soon)
        assert any(done for _, _, dones, _ in expected for done in dones)  # the future crosses resets
    other = make_vec_env(game, 4, 999, protocol, backend="sb3")  # built fresh, seeded differently
    backend.set_state(other, pickle.loads(snapshot))
    assert _play(other, actions[120:]) == expected
    with pytest.raises(ValueError, match="does not match"):
        backend.set_state(make_vec_env(game, 1, 0, protocol, backend="sb3"), pickle.loads(snapshot))


def test_sb3_snapshots_share_nothing_with_the_live_environments() -> None:
    """A snapshot kept in memory (not pickled) still restores after the live envs stepped on, twice."""
    backend = get_backend("sb3")
    env = make_vec_env("Breakout", 2, 5, "machado", backend="sb3")
    actions = np.random.default_rng(2).integers(0, 4, size=(200, 2))
    env.reset()
    _play(env, actions[:60])
    snapshot = backend.get_state(env)
    expected = _play(env, actions[60:])
    for _ in range(2):  # restoring leaves the snapshot as it was
        other = make_vec_env("Breakout", 2, 0, "machado", backend="sb3")
        backend.set_state(other, snapshot)
        assert _play(other, actions[60:]) == expected


def test_a_replay_that_misses_the_recorded_state_is_refused() -> None:
    from rl_coordconv.atari.sb3_backend import ReplayMismatchError, ReplayRecorder

    backend = get_backend("sb3")
    env = make_vec_env("Breakout", 2, 1, "standard", backend="sb3")
    env.reset()
    _play(env, np.random.default_rng(3).integers(0, 4, size=(80, 2)))
    snapshot = backend.get_state(env)
    recorder_state = next(s for name, s in snapshot["envs"][1]["layers"] if name == ReplayRecorder.__name__)
    recorder_state["actions"] = recorder_state["actions"][:-40]  # a record that lost its last 40 frames
    with pytest.raises(ReplayMismatchError, match="environment 1 did not replay to the state its checkpoint recorded"):
        backend.set_state(make_vec_env("Breakout", 2, 1, "standard", backend="sb3"), snapshot)


def _old_format_snapshot(venv: Any) -> dict[str, Any]:
    """A snapshot as the backend wrote it before replay: per layer its attributes, ALE's cloneState."""
    from rl_coordconv.atari.sb3_backend import ReplayRecorder

    links = {"env", "venv", "envs", "ale", "class_attributes"}

    def own(layer: Any) -> dict[str, Any]:
        return {k: v for k, v in vars(layer).items() if k not in links}

    def env_layers(env: Any) -> list[dict[str, Any]]:
        out = []
        for layer in [layer for layer in _layers_of_env(env) if not isinstance(layer, ReplayRecorder)]:
            state = own(layer)
            if hasattr(layer, "ale"):
                state["__ale_state__"] = layer.ale.cloneState(include_rng=True)
            out.append(state)
        return out

    return {
        "wrappers": [(type(w).__name__, own(w)) for w in (venv, venv.venv)],
        "base": own(venv.venv.venv),
        "envs": [env_layers(env) for env in venv.venv.venv.envs],
    }


def _layers_of_env(env: Any) -> list[Any]:
    out = [env]
    while hasattr(out[-1], "env"):
        out.append(out[-1].env)
    return out


def test_checkpoints_from_before_replay_still_restore_and_record_from_the_next_game() -> None:
    from rl_coordconv.atari.sb3_backend import ReplayRecorder

    backend = get_backend("sb3")
    env = make_vec_env("Breakout", 2, 6, "standard", backend="sb3")
    actions = np.random.default_rng(4).integers(0, 4, size=(400, 2))
    env.reset()
    _play(env, actions[:60])
    old = pickle.dumps(_old_format_snapshot(env))
    expected = _play(env, actions[60:])
    other = make_vec_env("Breakout", 2, 0, "standard", backend="sb3")
    with pytest.warns(RuntimeWarning, match="predates replayable environment snapshots"):
        backend.set_state(other, pickle.loads(old))
    got = _play(other, actions[60:])
    # Breakout under the standard protocol is one of the games ALE's own snapshots restore exactly, up to the
    # end of the games in progress; the next games are seeded by segment (the old code did not), and recorded
    ends = [
        (k, i) for k, (_, _, _, scores) in enumerate(expected) for i, score in enumerate(scores) if score is not None
    ]
    assert ends, "no game ended"
    first = ends[0][0]
    assert got[: first + 1] == expected[: first + 1]
    recorders = [next(x for x in _layers_of_env(e) if isinstance(x, ReplayRecorder)) for e in other.venv.venv.envs]
    assert all(recorders[i].segment_seed is not None for _, i in ends)
    assert pickle.loads(pickle.dumps(backend.get_state(other)))["format"] == "replay-1"


def test_every_game_start_is_recorded_and_segments_reseed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Games start with ALE's reset inside a segment; a new segment (reseed) opens after SEGMENT_FRAMES frames."""
    from rl_coordconv.atari import sb3_backend

    monkeypatch.setattr(sb3_backend, "SEGMENT_FRAMES", 3000)
    recorder_class = sb3_backend.ReplayRecorder
    env = make_vec_env("Breakout", 1, 4, "standard", backend="sb3")
    recorder = next(layer for layer in _layers(env) if isinstance(layer, recorder_class))
    env.reset()
    assert (recorder.base_seed, recorder.segment, recorder.segment_seed) == (4, 0, recorder_class.segment_seed_of(4, 0))
    rng = np.random.default_rng(0)
    games, before = 0, bytearray()
    while recorder.segment == 0:
        before = bytearray(recorder.actions)
        games += "episode" in env.step(rng.integers(0, 4, size=1))[3][0]
    assert len(before) >= 3000 and games >= 2
    assert before.count(recorder_class.RESET) == games - 1  # each game after the segment's first one
    assert recorder.segment == 1 and recorder.segment_seed == recorder_class.segment_seed_of(4, 1)
    assert recorder.RESET not in recorder.actions and len(recorder.actions) <= 30 + 2 * 4  # no-ops, FIRE, 2


def test_games_command_lists_games_with_reference_scores(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["games"]) == 0
    out = capsys.readouterr().out
    assert any(line.split()[:3] == ["Pong", "-20.7", "14.6"] for line in out.splitlines())
    assert main(["games", "--atari100k", "--names"]) == 0
    assert capsys.readouterr().out.split() == list(ATARI_100K_GAMES)
