"""The ``ale_vector`` backend (ale-py's C++ AtariVectorEnv) beside the ``sb3`` backend on the same games."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest
from stable_baselines3.common.monitor import Monitor

from rl_coordconv.atari import get_backend, get_protocol, make_vec_env
from rl_coordconv.atari.ale_vector_backend import default_env_threads, reset_actions, rom_id
from rl_coordconv.errors import UserError

BACKENDS = ("ale_vector", "sb3")


def _play(env, n_games: int, seed: int = 0, max_steps: int = 20_000):
    """Random play until ``n_games`` whole games ended; per game: (env, dones seen in that game, score)."""
    rng = np.random.default_rng(seed)
    env.reset()
    dones_in_game = [0] * env.num_envs
    games: list[dict] = []
    clipped: list[float] = [0.0] * env.num_envs
    for _ in range(max_steps):
        obs, rewards, dones, infos = env.step(rng.integers(0, env.action_space.n, size=env.num_envs))
        assert obs.dtype == np.uint8 and obs.shape == (env.num_envs, 4, 84, 84)
        for i, info in enumerate(infos):
            clipped[i] += float(rewards[i])
            if dones[i]:
                assert "terminal_observation" in info
                assert info["terminal_observation"].shape == (4, 84, 84)
                dones_in_game[i] += 1
            if "episode" in info:
                assert dones[i], "a game can only end on a done"
                games.append(
                    {
                        "env": i,
                        "dones": dones_in_game[i],
                        "score": info["episode"]["r"],
                        "clipped": clipped[i],
                        "frames": info["episode"]["l"],
                        "truncated": info.get("TimeLimit.truncated", False),
                        "rewards": None,
                    }
                )
                dones_in_game[i] = 0
                clipped[i] = 0.0
        if len(games) >= n_games:
            return games
    raise AssertionError(f"only {len(games)} games ended in {max_steps} agent steps")


@pytest.mark.parametrize("game", ["Breakout", "Pong"])
def test_same_spaces_as_sb3(game):
    envs = [make_vec_env(game, 2, 0, "standard", backend=b) for b in BACKENDS]
    try:
        fast, ref = envs
        assert fast.observation_space == ref.observation_space
        assert fast.action_space == ref.action_space
        assert fast.num_envs == ref.num_envs == 2
        assert fast.reset().shape == ref.reset().shape == (2, 4, 84, 84)
        assert fast.env_is_wrapped(Monitor) == [True, True]  # SB3's evaluate_policy counts whole games
    finally:
        for env in envs:
            env.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_life_loss_is_terminal_for_the_learner_only(backend):
    # Breakout has 5 lives: under the standard protocol a game gives the learner 5 dones (4 lost lives
    # and the game over), and only the last one carries the whole game's score.
    env = make_vec_env("Breakout", 4, 3, "standard", backend=backend)
    try:
        games = _play(env, 4)
    finally:
        env.close()
    assert [g["dones"] for g in games] == [5, 5, 5, 5]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_policy_that_never_fires_still_loses_every_life(backend):
    # Breakout serves a new ball only after FIRE. SB3's FireResetEnv presses it after every lost life, and
    # ale_vector plays the same hidden steps. A NOOP-only policy therefore loses its 5 lives
    # in a few hundred steps on both backends, instead of waiting for the 108,000-frame cap.
    env = make_vec_env("Breakout", 1, 0, "standard", backend=backend)
    dones = 0
    try:
        env.reset()
        for _ in range(2_000):
            _, _, done, infos = env.step(np.zeros(1, dtype=np.int64))
            dones += int(done[0])
            if "episode" in infos[0]:
                break
        else:
            raise AssertionError(f"{backend}: the game did not end within 2,000 NOOP steps ({dones} dones)")
    finally:
        env.close()
    assert dones == 5
    assert infos[0]["TimeLimit.truncated"] is False


def test_reset_actions_are_sb3s():
    breakout = ["NOOP", "FIRE", "RIGHT", "LEFT"]
    assert reset_actions(breakout, get_protocol("standard")) == ((1, 2), (0, 1, 2))
    assert reset_actions(breakout, get_protocol("machado")) == ((1, 2), ())
    no_fire = ["NOOP", "UP", "DOWN"]  # Freeway
    assert reset_actions(no_fire, get_protocol("standard")) == ((), (0,))
    assert reset_actions(no_fire, get_protocol("machado")) == ((), ())
    with pytest.raises(ValueError, match="FIRE as action 1"):
        reset_actions(["NOOP", "UP", "FIRE"], get_protocol("standard"))


def test_reset_steps_are_played_unseen():
    # Reference: ale-py's own vector env without its FIRE reset, sent SB3's reset actions by hand
    # (FIRE, action 2 at the game's start; NOOP, FIRE, action 2 after a lost life). The adapter, sent LEFT
    # throughout, must play the same game with those steps hidden in the done, as SB3's wrappers hide them:
    # the learner never sees them or their rewards, the whole-game score keeps them.
    from ale_py.vector_env import AtariVectorEnv
    from gymnasium.vector import AutoresetMode

    proto = get_protocol("standard")
    env = make_vec_env("Breakout", 1, 11, proto, backend="ale_vector")
    raw = AtariVectorEnv(
        "breakout",
        1,
        num_threads=1,
        repeat_action_probability=0.0,
        autoreset_mode=AutoresetMode.SAME_STEP,
        noop_max=proto.noop_max,
        episodic_life=False,
        life_loss_info=True,
        reward_clipping=False,
        use_fire_reset=False,
    )

    def hidden(actions):
        score = 0.0
        for action in actions:
            ref, reward, terminated, _, _ = raw.step(np.array([action]))
            assert not terminated[0]
            score += float(reward[0])
        return ref, score

    try:
        obs = env.reset()
        raw.reset(seed=np.array([11]))
        ref, score = hidden([1, 2])
        assert np.array_equal(obs[0, -1], ref[0, -1]) and not obs[0, :-1].any()
        lives_lost, steps = 0, 0
        while lives_lost < 2:
            obs, rewards, dones, _ = env.step(np.array([3]))
            ref, reward, terminated, _, _ = raw.step(np.array([3]))
            steps += 1
            assert dones[0] == terminated[0], f"step {steps}"
            assert rewards[0] == np.sign(reward[0])
            if dones[0]:
                lives_lost += 1
                ref, _ = hidden([0, 1, 2])
                assert not obs[0, :-1].any()
            assert np.array_equal(obs[0, -1], ref[0, -1]), f"step {steps}"
        assert steps > 40
    finally:
        env.close()
        raw.close()


@pytest.mark.parametrize("protocol", ["standard", "machado"])
def test_the_learner_sees_what_sb3_shows_it(protocol):
    # Same game, same actions, no-op starts and sticky actions off on both backends (their random draws
    # come from different generators): step for step the learner gets the same observations, rewards and
    # dones, and the same whole-game scores, through several games, lost lives and SB3's reset steps.
    proto = dataclasses.replace(get_protocol(protocol), sticky_action_prob=0.0)
    sb3 = make_vec_env("Breakout", 2, 0, dataclasses.replace(proto, noop_max=0), backend="sb3")
    ours = make_vec_env("Breakout", 2, 0, dataclasses.replace(proto, noop_max=1), backend="ale_vector")  # 0 no-ops
    rng = np.random.default_rng(1)
    games = dones_seen = 0
    try:
        assert np.array_equal(sb3.reset(), ours.reset())
        for t in range(1_000):
            action = rng.integers(0, 4, size=2)
            a, b = sb3.step(action), ours.step(action)
            assert np.array_equal(a[0], b[0]), f"observation at step {t}"
            assert np.array_equal(a[1], b[1]) and np.array_equal(a[2], b[2]), f"reward or done at step {t}"
            for i in np.flatnonzero(a[2]):
                dones_seen += 1
                assert a[3][i].get("episode", {}).get("r") == b[3][i].get("episode", {}).get("r")
                games += "episode" in a[3][i]
    finally:
        sb3.close()
        ours.close()
    assert games >= 5 and dones_seen >= (5 * games if protocol == "standard" else games)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_agent_starts_each_life_where_sb3_starts_it(backend):
    # A NOOP-only agent on Breakout: SB3 serves the ball just before the agent's first decision, so the
    # ball falls past the unmoved paddle after the same number of the agent's own steps in every life
    # (23, in a game's first life and after a lost life). ale_vector, with ALE's own reset, served the
    # ball before its no-ops and the first lives lasted 17-24 steps.
    env = make_vec_env("Breakout", 4, 0, "standard", backend=backend)
    first, later = [], []
    try:
        env.reset()
        steps, lives = np.zeros(4, dtype=int), np.zeros(4, dtype=int)
        for _ in range(700):
            _, _, dones, infos = env.step(np.zeros(4, dtype=np.int64))
            steps += 1
            for i in np.flatnonzero(dones):
                (first if lives[i] == 0 else later).append(int(steps[i]))
                lives[i] = 0 if "episode" in infos[i] else lives[i] + 1
                steps[i] = 0
    finally:
        env.close()
    mode = lambda xs: max(set(xs), key=xs.count)  # noqa: E731  (a paddle hit now and then lengthens a life)
    assert len(first) >= 4 and len(later) >= 12
    assert (mode(first), mode(later)) == (23, 23)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("protocol", ["standard", "machado"])
def test_every_episode_starts_on_a_zeroed_stack(backend, protocol):
    # SB3's VecFrameStack: after every done (a new game, or a lost life under the standard protocol) the
    # stack holds the newest frame only, then fills up one frame per step (SB3's reset steps are hidden
    # in that done, on both backends).
    env = make_vec_env("Breakout", 2, 1, protocol, backend=backend)
    rng = np.random.default_rng(0)
    checked = 0
    try:
        obs = env.reset()
        assert not obs[:, :3].any() and obs[:, 3].any()
        since = np.ones(2, dtype=int)
        for _ in range(3_000):
            obs, _, dones, infos = env.step(rng.integers(0, env.action_space.n, size=2))
            since = np.where(dones, 1, since + 1)
            for i in range(2):
                empty = max(0, 4 - since[i])
                assert not obs[i, :empty].any(), f"frames older than the episode start at step {since[i]}"
                assert obs[i, empty:].reshape(4 - empty, -1).any(axis=1).all()
                if dones[i]:
                    assert infos[i]["terminal_observation"].reshape(4, -1).any(axis=1).all()
                    checked += 1
    finally:
        env.close()
    assert checked >= 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_machado_protocol_has_no_life_loss_signal(backend):
    env = make_vec_env("Breakout", 4, 3, "machado", backend=backend)
    try:
        games = _play(env, 4)
    finally:
        env.close()
    assert len(games) >= 4 and [g["dones"] for g in games] == [1] * len(games)


@pytest.mark.parametrize("backend", BACKENDS)
def test_scores_are_whole_game_and_unclipped(backend):
    # Space Invaders pays 5 to 30 points an alien: the learner sees +1 per kill, the score the sum.
    env = make_vec_env("SpaceInvaders", 2, 0, "standard", backend=backend)
    try:
        games = _play(env, 2)
    finally:
        env.close()
    for g in games:
        assert g["score"] > g["clipped"] > 0
        assert g["score"] % 5 == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_learner_rewards_are_clipped(backend):
    env = make_vec_env("SpaceInvaders", 2, 0, "standard", backend=backend)
    rng = np.random.default_rng(0)
    seen: set[float] = set()
    try:
        env.reset()
        for _ in range(400):
            _, rewards, _, _ = env.step(rng.integers(0, env.action_space.n, size=2))
            seen |= set(np.unique(rewards).tolist())
    finally:
        env.close()
    assert seen <= {-1.0, 0.0, 1.0} and 1.0 in seen


@pytest.mark.parametrize("backend", BACKENDS)
def test_frame_cap_is_a_truncation(backend):
    # A 400-frame cap: every game is cut there, as a truncation (PPO/A2C bootstrap from its last state).
    proto = dataclasses.replace(get_protocol("machado"), name="capped", max_frames=400)
    env = make_vec_env("Pong", 2, 0, proto, backend=backend)
    try:
        games = _play(env, 4)
    finally:
        env.close()
    for g in games:
        assert g["truncated"] is True
        # sb3: ALE counts the no-op start in the cap; ale_vector: from the end of the no-op start.
        assert 400 - 31 <= g["frames"] <= 404


def test_seeding_repeats_and_differs():
    def run(seed):
        env = make_vec_env("Breakout", 2, seed, "machado", backend="ale_vector")
        rng = np.random.default_rng(1)
        try:
            out = [env.reset()]
            for _ in range(200):
                obs, rewards, dones, _ = env.step(rng.integers(0, 4, size=2))
                out.append(obs)
        finally:
            env.close()
        return np.stack(out)

    a, b, c = run(5), run(5), run(6)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_sb3_seed_convention():
    # VecEnv.seed(s) before reset seeds environment i with s + i, like SB3's own VecEnvs.
    env = make_vec_env("Breakout", 2, 0, "machado", backend="ale_vector")
    one = make_vec_env("Breakout", 1, 8, "machado", backend="ale_vector")
    rng = np.random.default_rng(2)
    try:
        env.seed(7)
        env.reset()
        one.reset()
        for _ in range(100):
            action = rng.integers(0, 4, size=1)
            obs, *_ = env.step(np.concatenate([action, action]))
            obs_one, *_ = one.step(action)
        assert np.array_equal(obs[1], obs_one[0])
    finally:
        env.close()
        one.close()


def test_backend_facts():
    backend = get_backend("ale_vector")
    assert backend.resume == "exact" and backend.can_snapshot and not backend.renders
    assert get_backend("sb3").resume == "exact"
    assert rom_id("MsPacman") == "ms_pacman" and rom_id("UpNDown") == "up_n_down"
    assert default_env_threads() >= 1
    with pytest.raises(UserError, match="threads"):
        make_vec_env("Pong", 1, 0, backend="ale_vector", threads=0)


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="thread affinity is read from Linux's /proc")
def test_threads_pins_the_games_to_that_many_cpus():
    # Each game steps in its own C++ thread; ``threads=1`` pins them all to the process's first CPU, and
    # without it they may run on every CPU the process may use.
    def affinities() -> dict[str, str]:
        out = {}
        for task in Path("/proc/self/task").iterdir():
            status = (task / "status").read_text()
            out[task.name] = next(
                line.split()[1] for line in status.splitlines() if line.startswith("Cpus_allowed_list")
            )
        return out

    cpus = sorted(os.sched_getaffinity(0))
    before = affinities()
    pinned = make_vec_env("Breakout", 3, 0, backend="ale_vector", threads=1)
    try:
        new = {tid: cpu for tid, cpu in affinities().items() if tid not in before}
        assert len(new) >= 3 and list(new.values()).count(str(cpus[0])) >= 3
    finally:
        pinned.close()
    if len(cpus) > 1:
        before = affinities()
        free = make_vec_env("Breakout", 3, 0, backend="ale_vector")
        try:
            new = {tid: cpu for tid, cpu in affinities().items() if tid not in before}
            assert len(new) >= 3 and str(cpus[0]) not in new.values()
        finally:
            free.close()


def test_unsupported_calls_say_so():
    env = make_vec_env("Pong", 1, 0, backend="ale_vector")
    try:
        assert env.get_images() == [None]
        assert env.env_method("get_action_meanings") == [["NOOP", "FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE"]]
        with pytest.raises(AttributeError, match="ale_vector"):
            env.env_method("clone_state")
        with pytest.raises(AttributeError, match="ale_vector"):
            env.set_attr("frameskip", 2)
    finally:
        env.close()
        env.close()  # idempotent


def test_specs_choose_the_backend():
    from rl_coordconv.sweep import parse_spec

    base = "games: [Pong]\nalgos: [ppo]\nextractors: [nature]\nseeds: 1\nagent_steps: 100\n"
    assert parse_spec(base).backend == "ale_vector"  # the default: ale-py's C++ vector env
    assert parse_spec(base + "backend: ALE_vector\n").backend == "ale_vector"
    assert parse_spec(base + "backend: SB3\n").backend == "sb3"
    assert parse_spec(base + "backend: sb3\n").resolved()["backend"] == "sb3"
    with pytest.raises(UserError, match=r"line 6.*backend.*environment backend"):
        parse_spec(base + "backend: envpool\n")


def _stream(env, actions: np.ndarray) -> list[tuple]:
    """Everything the learner and the records get from ``env`` for these actions."""
    out = []
    for action in actions:
        obs, rewards, dones, infos = env.step(action)
        ends = [(i.get("episode", {}).get("r"), i.get("TimeLimit.truncated")) for i in infos]
        terminal = [i["terminal_observation"].tobytes() if "terminal_observation" in i else None for i in infos]
        out.append((obs.tobytes(), rewards.tolist(), dones.tolist(), ends, terminal))
    return out


@pytest.mark.parametrize(("game", "protocol"), [("Breakout", "standard"), ("MsPacman", "machado")])
def test_a_restored_snapshot_plays_on_as_the_original(monkeypatch, game, protocol):
    """Exact resume: a snapshot restored (by replay) into a fresh adapter continues step for step as the
    adapter it was taken from, across replay segments, game ends and (machado) sticky actions."""
    import pickle

    from rl_coordconv.atari import ale_vector_backend

    monkeypatch.setattr(ale_vector_backend, "SEGMENT_FRAMES", 1500)
    backend = get_backend("ale_vector")
    env = make_vec_env(game, 2, 5, protocol, backend="ale_vector")
    other = make_vec_env(game, 2, 77, protocol, backend="ale_vector")
    actions = np.random.default_rng(1).integers(0, env.action_space.n, size=(1400, 2))
    try:
        env.reset()
        _stream(env, actions[:700])
        assert min(env._segments) >= 1, "segments opened after the first"
        snapshot = pickle.dumps(backend.get_state(env))
        expected = _stream(env, actions[700:])
        assert sum(e[0] is not None for step in expected for e in step[3]) >= 2, "games ended after the snapshot"
        backend.set_state(other, pickle.loads(snapshot))
        assert _stream(other, actions[700:]) == expected
    finally:
        env.close()
        other.close()


def test_a_replay_that_misses_its_checksum_is_refused_and_snapshots_wait_for_the_step():
    from rl_coordconv.atari.replay import ReplayMismatchError

    backend = get_backend("ale_vector")
    env = make_vec_env("Breakout", 2, 1, "standard", backend="ale_vector")
    other = make_vec_env("Breakout", 2, 1, "standard", backend="ale_vector")
    pong = make_vec_env("Pong", 2, 1, "standard", backend="ale_vector")
    try:
        env.reset()
        _stream(env, np.random.default_rng(3).integers(0, 4, size=(80, 2)))
        snapshot = backend.get_state(env)
        snapshot["lanes"][1]["actions"] = snapshot["lanes"][1]["actions"][:-40]  # a record that lost 40 steps
        with pytest.raises(ReplayMismatchError, match="environment 1 did not replay to the state its checkpoint"):
            backend.set_state(other, snapshot)
        with pytest.raises(ValueError, match="does not match this VecEnv"):
            backend.set_state(pong, snapshot)
        env.step_async(np.zeros(2, dtype=np.int64))
        with pytest.raises(RuntimeError, match="in flight"):
            backend.get_state(env)
        env.step_wait()
    finally:
        for venv in (env, other, pong):
            venv.close()
