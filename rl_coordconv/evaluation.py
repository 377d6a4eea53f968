"""Play whole Atari games with a trained policy: the scores a run reports, and an optional GIF.

Each evaluation builds fresh environments. Reusing them is a trap with SB3's ``EpisodicLifeEnv``: its
``reset()`` after a mid-game stop only plays a no-op, so the next evaluation's first "game" would
continue the previous one (and ignore its seed). Scores come from the ``Monitor`` under the Atari
wrappers (``info["episode"]["r"]``): whole games, all lives, unclipped.

Evaluation draws its action samples from a forked torch RNG seeded for that evaluation, so it neither
depends on nor disturbs the training run's random numbers: a run with evaluations trains exactly like the
same run without them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from rl_coordconv.atari.backends import DEFAULT_BACKEND
from rl_coordconv.atari.protocols import DEFAULT_PROTOCOL
from rl_coordconv.checks import whole
from rl_coordconv.errors import UserError

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

    from rl_coordconv.atari import Protocol

__all__ = ["GameRecord", "play_game_records", "play_games", "record_gif", "evaluate_run"]

#: A GIF keeps at most this many agent steps (about 5 minutes of play at 15 images per second).
MAX_GIF_FRAMES = 4500


def _torch_rng_devices(model: BaseAlgorithm) -> list[int]:
    device = getattr(model, "device", None)
    if device is not None and device.type == "cuda":
        return [device.index or 0]
    return []


@dataclass(frozen=True)
class GameRecord:
    """One whole evaluation game.

    :param score: the whole-game, unclipped score
    :param length: its length in agent steps (None when not measured)
    :param truncated: whether the protocol's frame cap cut it
    """

    score: float
    length: int | None = None
    truncated: bool = False


def play_game_records(
    model: BaseAlgorithm,
    game: str,
    n_games: int,
    *,
    seed: int,
    protocol: str | Protocol = DEFAULT_PROTOCOL,
    backend: str = DEFAULT_BACKEND,
    n_envs: int = 8,
    deterministic: bool = False,
) -> list[GameRecord]:
    """Play ``n_games`` whole games and return each one's score, length and frame-cap flag.

    Games are spread evenly over ``min(n_envs, n_games)`` fresh environments (SB3's
    ``evaluate_policy``, which counts only real game ends). Environment ``i`` is seeded ``seed + i`` and
    the policy's action sampling uses a torch RNG seeded with ``seed``, forked from the global one.

    :param model: a trained SB3 model
    :param game: any spelling of the game
    :param n_games: number of whole games (at least 1)
    :param seed: the evaluation's seed
    :param protocol: the protocol the model was trained under
    :param backend: the environment backend
    :param n_envs: at most this many parallel environments
    :param deterministic: take the most likely action instead of sampling (rl-baselines3-zoo samples on
        Atari: ``deterministic_eval = not is_atari``)
    :return: one record per game, in the order the games ended
    """
    import torch
    from stable_baselines3.common.evaluation import evaluate_policy

    from rl_coordconv.atari import make_vec_env

    n_games = whole(n_games, "the number of games", 1)
    env = make_vec_env(game, min(n_envs, n_games), seed, protocol, backend=backend)
    steps = [0] * env.num_envs
    ended: list[tuple[int, bool]] = []

    def count(local: dict[str, Any], _: dict[str, Any]) -> None:
        # Called by evaluate_policy once per counted environment per agent step, before it records a
        # finished game (info["episode"] on a done), so the games line up with its returns.
        i = int(local["i"])
        steps[i] += 1
        info = local["info"]
        if local["done"] and "episode" in info:
            ended.append((steps[i], bool(info.get("TimeLimit.truncated", False))))
            steps[i] = 0

    try:
        with torch.random.fork_rng(devices=_torch_rng_devices(model)):
            torch.manual_seed(seed)
            returns, _ = evaluate_policy(
                model,
                env,
                n_eval_episodes=n_games,
                deterministic=deterministic,
                return_episode_rewards=True,
                warn=False,
                callback=count,
            )
    finally:
        env.close()
    per_game = cast("list[float]", returns)  # return_episode_rewards=True: one return per game
    return [GameRecord(float(r), length, truncated) for r, (length, truncated) in zip(per_game, ended)]


def play_games(
    model: BaseAlgorithm,
    game: str,
    n_games: int,
    *,
    seed: int,
    protocol: str | Protocol = DEFAULT_PROTOCOL,
    backend: str = DEFAULT_BACKEND,
    n_envs: int = 8,
    deterministic: bool = False,
) -> list[float]:
    """Play ``n_games`` whole games and return their unclipped scores (see :func:`play_game_records`).

    :param model: a trained SB3 model
    :param game: any spelling of the game
    :param n_games: number of whole games (at least 1)
    :param seed: the evaluation's seed
    :param protocol: the protocol the model was trained under
    :param backend: the environment backend
    :param n_envs: at most this many parallel environments
    :param deterministic: take the most likely action instead of sampling
    :return: one whole-game score per game, in the order the games ended
    """
    records = play_game_records(
        model, game, n_games, seed=seed, protocol=protocol, backend=backend, n_envs=n_envs, deterministic=deterministic
    )
    return [r.score for r in records]


def _check_gif_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".gif":
        raise UserError(f"the recording must be a .gif file, got {str(path)!r}")
    if not path.parent.is_dir():
        raise UserError(f"cannot write {str(path)!r}: folder {str(path.parent)!r} does not exist")
    return path


def record_gif(
    model: BaseAlgorithm,
    game: str,
    path: str | Path,
    *,
    seed: int,
    protocol: str | Protocol = DEFAULT_PROTOCOL,
    backend: str = DEFAULT_BACKEND,
    deterministic: bool = False,
    max_frames: int = MAX_GIF_FRAMES,
) -> tuple[float, int]:
    """Play one whole game and save it as an animated GIF (Pillow), one image per agent step.

    :param model: a trained SB3 model
    :param game: any spelling of the game
    :param path: the GIF to write
    :param seed: the game's seed
    :param protocol: the protocol the model was trained under
    :param backend: the environment backend; one that cannot render RGB screens (``ale_vector``) is
        replaced by ``sb3`` for this one game (same protocol, same observations)
    :param deterministic: take the most likely action instead of sampling
    :param max_frames: keep at most this many images (the game is still played to its end)
    :return: the game's whole-game score and the number of images written
    """
    import torch
    from PIL import Image

    from rl_coordconv.atari import get_backend, get_protocol, make_vec_env

    path = _check_gif_path(path)
    if not get_backend(backend).renders:
        backend = "sb3"
    frame_ms = round(1000 * get_protocol(protocol).frame_skip / 60)
    env = make_vec_env(game, 1, seed, protocol, backend=backend)
    frames: list[Any] = []
    score: float | None = None
    try:
        with torch.random.fork_rng(devices=_torch_rng_devices(model)):
            torch.manual_seed(seed)
            obs = env.reset()
            while score is None:
                images = env.get_images()
                if not images or images[0] is None:
                    raise UserError(f"the {backend!r} environment backend cannot render frames for a GIF")
                if len(frames) < max_frames:
                    frames.append(Image.fromarray(np.asarray(images[0])))
                action, _ = model.predict(np.asarray(obs), deterministic=deterministic)  # (one image array)
                obs, _, _, infos = env.step(action)
                if "episode" in infos[0]:
                    score = float(infos[0]["episode"]["r"])
    finally:
        env.close()
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=frame_ms, loop=0)
    return score, len(frames)


def evaluate_run(
    run_dir: str | Path,
    n_games: int = 10,
    *,
    seed: int | None = None,
    deterministic: bool | None = None,
    gif: str | Path | None = None,
    device: str = "auto",
    use_checkpoint: bool = False,
) -> dict[str, Any]:
    """Play a run's saved model on fresh games of its own game and protocol.

    :param run_dir: a run folder (``config.yaml`` and ``model.zip``)
    :param n_games: whole games to play
    :param seed: the games' seed (default: derived from the run's seeds, so repeating the call repeats
        the scores, and distinct from the run's own evaluations)
    :param deterministic: most likely actions instead of samples (default: as the run evaluated)
    :param gif: also record one more game to this ``.gif`` file
    :param device: ``auto``, ``cpu`` or ``cuda``
    :param use_checkpoint: evaluate the newest checkpoint of an unfinished run instead of ``model.zip``
    :return: ``{"scores": [...], "model": path, "agent_steps": int, "seed": int, "gif": path or None,
        "gif_score": float or None}``
    :raises UserError: when the folder is no run folder, or has no model to play
    """
    from rl_coordconv import runfolder
    from rl_coordconv.checkpoints import latest_checkpoint
    from rl_coordconv.model import load_model

    run_dir = Path(run_dir)
    if gif is not None:
        _check_gif_path(gif)
    config = runfolder.RunConfig.read(run_dir)
    if use_checkpoint:
        checkpoint = latest_checkpoint(run_dir)
        if checkpoint is None:
            raise UserError(f"run folder {str(run_dir)!r} has no checkpoint to evaluate")
        model_path = checkpoint.model_path
    else:
        model_path = run_dir / runfolder.MODEL
        if not model_path.is_file():
            hint = " (it has a checkpoint: pass --checkpoint to play that)" if latest_checkpoint(run_dir) else ""
            raise UserError(f"run folder {str(run_dir)!r} has no {runfolder.MODEL}: the run is not complete{hint}")
    from rl_coordconv.atari import Protocol
    from rl_coordconv.checks import torch_device

    protocol = Protocol(**config.protocol)
    backend = config.backend
    if seed is None:
        seed = int(config.seeds.get("evaluation", 0)) + 1000 * 1000
    if deterministic is None:
        deterministic = config.evaluation.deterministic
    model = load_model(config.algo, model_path, device=torch_device(device))
    n_envs = config.n_envs
    scores = play_games(
        model,
        config.game,
        n_games,
        seed=seed,
        protocol=protocol,
        backend=backend,
        n_envs=n_envs,
        deterministic=deterministic,
    )
    gif_score = None
    if gif is not None:
        gif_score, _ = record_gif(
            model,
            config.game,
            gif,
            seed=seed + 999,
            protocol=protocol,
            backend=backend,
            deterministic=deterministic,
        )
    return {
        "scores": scores,
        "model": model_path,
        "agent_steps": int(model.num_timesteps),
        "seed": seed,
        "gif": Path(gif) if gif is not None else None,
        "gif_score": gif_score,
    }
