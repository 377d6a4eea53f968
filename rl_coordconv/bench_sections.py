"""The four sections of ``rl-coordconv bench`` (:mod:`rl_coordconv.bench`), each measuring its contenders
side by side (:func:`~rl_coordconv.bench_method.interleave`): ``env`` (environment backends),
``extractor`` (one training step per extractor), ``train`` (end-to-end training against a plain SB3
script) and ``sweep`` (two workers against one).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rl_coordconv.bench_method import TRAIN_ALGOS, BenchSettings, interleave, summary
from rl_coordconv.checks import available_cpus
from rl_coordconv.errors import UserError

__all__ = ["bench_env", "bench_extractor", "bench_train", "bench_sweep"]


# -- env ---------------------------------------------------------------------------------------------


def _env_rate(env: Any, step: Callable[[np.ndarray], Any], n_envs: int, agent_steps: int, actions: int) -> float:
    rng = np.random.default_rng(0)
    batches = max(1, agent_steps // n_envs)
    acts = rng.integers(0, actions, size=(batches, n_envs))
    start = time.perf_counter()
    for a in acts:
        step(a)
    return batches * n_envs / (time.perf_counter() - start)


def bench_env(settings: BenchSettings) -> dict[str, Any]:
    """Agent steps/s of random play: ``ale_vector`` vs SB3's pipeline vs raw ``AtariVectorEnv``.

    :param settings: the settings
    :return: per contender: median agent steps/s, samples and ratio to raw ``AtariVectorEnv``; plus the
        ratio of ``ale_vector`` to SB3's pipeline
    """
    import ale_py
    import gymnasium as gym
    from ale_py.vector_env import AtariVectorEnv
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    from rl_coordconv.atari import canonical_game, make_vec_env
    from rl_coordconv.atari.ale_vector_backend import default_env_threads, rom_id

    gym.register_envs(ale_py)
    game, n = canonical_game(settings.game), settings.n_envs
    threads = min(n, default_env_threads())
    ours = make_vec_env(game, n, 0, backend="ale_vector")  # its default: every game in flight
    sb3 = VecFrameStack(make_atari_env(f"{game}NoFrameskip-v4", n_envs=n, seed=0), n_stack=4)
    raw = AtariVectorEnv(rom_id(game), n, num_threads=threads, reward_clipping=False, life_loss_info=True)
    space = ours.action_space
    if not isinstance(space, gym.spaces.Discrete):
        raise UserError(f"{game} has no discrete action space")
    actions = int(space.n)
    try:
        ours.reset()
        sb3.reset()
        raw.reset(seed=0)

        def step_sb3(a: np.ndarray) -> Any:
            return sb3.step(a)

        def step_raw(a: np.ndarray) -> Any:
            return raw.step(a)

        contenders = {
            "ale_vector backend": lambda: _env_rate(ours, ours.step, n, settings.env_agent_steps, actions),
            "SB3 make_atari_env + VecFrameStack": lambda: _env_rate(
                sb3, step_sb3, n, settings.env_agent_steps, actions
            ),
            "raw AtariVectorEnv": lambda: _env_rate(raw, step_raw, n, settings.env_agent_steps, actions),
        }
        interleave(contenders, 1)  # warm-up
        samples = interleave(contenders, settings.rounds)
    finally:
        ours.close()
        sb3.close()
        raw.close()
    out = summary(samples, "raw AtariVectorEnv")
    pairs = zip(samples["ale_vector backend"], samples["SB3 make_atari_env + VecFrameStack"])
    return {
        "game": game,
        "n_envs": n,
        "threads": threads,
        "contenders": out,
        "ale_vector_vs_raw": out["ale_vector backend"]["ratio_to_raw"],
        "ale_vector_vs_sb3": statistics.median(a / b for a, b in pairs),
    }


# -- extractor ---------------------------------------------------------------------------------------


def bench_extractor(settings: BenchSettings, batch: int = 256) -> dict[str, Any]:
    """Training-step time of every registered extractor against ``nature`` (lower is better).

    :param settings: the settings
    :param batch: images per step
    :return: per extractor: median seconds per step, samples and ratio of times to ``nature``
    """
    import torch
    from gymnasium import spaces
    from torch import nn

    from rl_coordconv.extractors import EXTRACTORS, policy_kwargs_for
    from rl_coordconv.learner import LearnerSettings, apply

    space = spaces.Box(0, 255, (4, 84, 84), np.uint8)
    torch.manual_seed(0)
    images = torch.rand(batch, 4, 84, 84)

    def build(name: str, learner: LearnerSettings, concatenate: bool = False) -> Callable[[], float]:
        kwargs = policy_kwargs_for(name)
        model = kwargs["features_extractor_class"](space, **kwargs["features_extractor_kwargs"])
        if concatenate:  # the same network computed as the popular ports do: AddCoords + nn.Conv2d
            model = _concatenation_form(model)
        head = nn.Linear(model.features_dim, 1)
        apply(model, learner)
        optimizer = torch.optim.Adam(list(model.parameters()) + list(head.parameters()), lr=1e-4)

        def step() -> float:
            start = time.perf_counter()
            optimizer.zero_grad(set_to_none=True)
            head(model(images)).pow(2).mean().backward()
            optimizer.step()
            return time.perf_counter() - start

        return step

    ours = LearnerSettings()
    contenders = {name: build(name, ours) for name in EXTRACTORS}
    contenders["nature (SB3 eager)"] = build("nature", LearnerSettings.from_dict(None))
    contenders["coordconv (concatenation)"] = build("coordconv", ours, concatenate=True)
    interleave(contenders, 2)  # warm-up
    samples = interleave(contenders, max(settings.rounds, 5))
    out = summary(samples, "nature", higher_is_better=False)
    return {
        "batch": batch,
        "threads": torch.get_num_threads(),
        "learner": ours.to_dict(),
        "contenders": out,
        "time_ratio_to_nature": {
            name: statistics.median(v / b for v, b in zip(samples[name], samples["nature"])) for name in samples
        },
    }


def _concatenation_form(extractor: Any) -> Any:
    """A copy of a CoordConv extractor whose CoordConv layers concatenate coordinate channels
    (``AddCoords`` + ``nn.Conv2d``), the reference the folded layer of :mod:`rl_coordconv.layers` must beat."""
    from torch import nn

    from rl_coordconv.layers import AddCoords

    layers: list[nn.Module] = []
    for module in extractor.cnn:
        if hasattr(module, "as_conv2d"):
            layers += [AddCoords(module.with_r), module.as_conv2d()]
        else:
            layers.append(module)
    body = nn.Sequential(nn.Sequential(*layers), extractor.linear)
    body.features_dim = extractor.features_dim
    return body


# -- train -------------------------------------------------------------------------------------------


def _zoo_model(algo: str, env: Any, ours: bool) -> Any:
    """The zoo-preset model: built by this package, or as a plain SB3 script would (SB3's own NatureCNN,
    its ``CnnPolicy`` defaults, the same hyperparameters and optimizer)."""
    from rl_coordconv.algorithms import get_algorithm
    from rl_coordconv.model import build_model, sb3_hyperparameters
    from rl_coordconv.preset import load_preset
    from rl_coordconv.preset_kinds import OPTIMIZERS

    preset = load_preset(algo)
    if ours:
        return build_model(preset, env, extractor="nature", seed=0, device="cpu")

    policy_kwargs = {k: v for k, v in preset.policy_kwargs.items() if k != "optimizer"}
    policy_kwargs["optimizer_class"] = OPTIMIZERS[preset.policy_kwargs.get("optimizer", "adam")]()
    cls = get_algorithm(algo).load_class()
    return cls("CnnPolicy", env, seed=0, device="cpu", policy_kwargs=policy_kwargs, **sb3_hyperparameters(preset))


def _learn_rate(model: Any, threads: int, agent_steps: int) -> Callable[[], float]:
    """A contender: ``model`` learns ``agent_steps`` more agent steps with ``threads`` torch threads.

    Every contender logs nowhere, as SB3 does at ``verbose=0``, but without the empty ``/tmp/SB3-*``
    folder SB3's default logger makes on each ``learn`` call.
    """
    import torch
    from stable_baselines3.common.logger import Logger

    model.set_logger(Logger(folder=None, output_formats=[]))

    def run() -> float:
        torch.set_num_threads(threads)
        start = time.perf_counter()
        model.learn(agent_steps, reset_num_timesteps=False)
        return agent_steps / (time.perf_counter() - start)

    return run


def bench_train(settings: BenchSettings) -> dict[str, Any]:
    """End-to-end training agent steps/s, zoo presets: this package on each backend vs a plain SB3 script.

    The package runs with its default learner settings and threads, once per environment backend
    (``rl-coordconv ale_vector``, the default backend, and ``rl-coordconv sb3``); the plain script is SB3's
    ``make_atari_env`` + ``VecFrameStack`` with SB3's NatureCNN and torch's default threads.

    :param settings: the settings
    :return: per algorithm: per contender median agent steps/s and samples, the default backend's ratio
        to plain SB3 (``ratio``) and each backend's (``ratio_by_backend``)
    """
    import torch
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    from rl_coordconv.algorithms import get_algorithm
    from rl_coordconv.atari import DEFAULT_BACKEND, canonical_game, make_vec_env
    from rl_coordconv.preset import load_preset
    from rl_coordconv.training import default_threads

    game = canonical_game(settings.game)
    torch_default = torch.get_num_threads()
    ours_threads = default_threads()
    backends = (DEFAULT_BACKEND, *(b for b in ("sb3", "ale_vector") if b != DEFAULT_BACKEND))
    out: dict[str, Any] = {}
    for algo in (a for a in TRAIN_ALGOS if a in settings.algos):
        preset = load_preset(algo)
        n_envs = preset.n_envs
        rollout = n_envs * int(preset.hyperparams.get("n_steps", 5))
        chunk = rollout * settings.train_rollouts * get_algorithm(algo).bench_rollouts
        envs = {f"rl-coordconv {b}": make_vec_env(game, n_envs, 0, backend=b) for b in backends}
        envs["plain SB3"] = VecFrameStack(make_atari_env(f"{game}NoFrameskip-v4", n_envs=n_envs, seed=0), n_stack=4)
        models = {name: _zoo_model(algo, env, name != "plain SB3") for name, env in envs.items()}
        threads = {name: ours_threads if name != "plain SB3" else torch_default for name in models}
        try:
            contenders = {name: _learn_rate(models[name], threads[name], chunk) for name in models}
            interleave(contenders, 1)  # warm-up
            samples = interleave(contenders, settings.rounds)
        finally:
            for env in envs.values():
                env.close()
        measured = summary(samples, "plain SB3")
        by_backend = {b: measured[f"rl-coordconv {b}"]["ratio_to_plain"] for b in backends}
        out[algo] = {
            "agent_steps_per_round": chunk,
            "threads": threads,
            "contenders": measured,
            "default_backend": DEFAULT_BACKEND,
            "ratio": by_backend[DEFAULT_BACKEND],
            "ratio_by_backend": by_backend,
        }
    torch.set_num_threads(torch_default)
    return out


# -- sweep -------------------------------------------------------------------------------------------


def _sweep_once(workers: int, agent_steps: int, game: str, root: Path, index: int) -> dict[str, float]:
    from rl_coordconv import runfolder
    from rl_coordconv.sweep import parse_spec, run_sweep
    from rl_coordconv.sweepfolder import RUNS

    text = (
        f"name: bench\ngames: [{game}]\nalgos: [ppo]\nextractors: [nature, coordconv]\nseeds: 1\n"
        f"agent_steps: {agent_steps}\ncheckpoint_freq: {agent_steps}\n"
        "evaluation: {eval_freq: 0, eval_episodes: 0}\n"
    )
    spec = parse_spec(text, source="<bench>")
    out = root / f"sweep-{workers}w-{index}"
    start = time.perf_counter()
    result = run_sweep(spec, out, workers=workers, progress="quiet")
    wall = time.perf_counter() - start
    if not result.ok:
        raise RuntimeError(f"the benchmark sweep in {out} failed; see the run folders' error.txt")
    steps = 0
    seconds: list[float] = []
    for run in sorted((out / RUNS).iterdir()):
        status = runfolder.RunStatus.read(run)
        if status is None or status.agent_steps is None or status.wall_seconds is None:
            raise RuntimeError(f"the benchmark sweep in {out} left {run.name} incomplete")
        steps += int(status.agent_steps)
        seconds.append(float(status.wall_seconds))
    # Side by side the cells' training overlaps (the slower one bounds it); one after another it adds up.
    train_seconds = max(seconds) if workers > 1 else sum(seconds)
    return {"wall": steps / wall, "training": steps / train_seconds if train_seconds else 0.0}


def bench_sweep(settings: BenchSettings) -> dict[str, Any]:
    """Agent steps/s of a two-cell sweep: two workers (a core each) vs one worker given every core.

    :param settings: the settings
    :return: per contender: median agent steps/s over the sweep's wall time and over the runs' own
        training time, and the ratios
    """
    from rl_coordconv.atari import canonical_game

    game = canonical_game(settings.game)
    cores = available_cpus()
    results: dict[str, dict[str, list[float]]] = {
        "2 workers": {"wall": [], "training": []},
        "1 worker": {"wall": [], "training": []},
    }
    rounds = max(1, settings.rounds // 2)
    with tempfile.TemporaryDirectory(prefix="rl-coordconv-bench-") as tmp:
        for index in range(rounds):
            for name, workers in (("2 workers", 2), ("1 worker", 1)):
                rates = _sweep_once(workers, settings.sweep_agent_steps, game, Path(tmp), index)
                for key, value in rates.items():
                    results[name][key].append(value)
    wall = {name: r["wall"] for name, r in results.items()}
    training = {name: r["training"] for name, r in results.items()}
    return {
        "cores": cores,
        "cells": 2,
        "agent_steps_per_cell": settings.sweep_agent_steps,
        "wall": summary(wall, "1 worker"),
        "training": summary(training, "1 worker"),
        "ratio": summary(wall, "1 worker")["2 workers"]["ratio_to_1"],
        "training_ratio": summary(training, "1 worker")["2 workers"]["ratio_to_1"],
    }
