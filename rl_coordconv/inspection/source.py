"""What an inspection looks at: a run's saved policy, and frames of its own game played by that policy.

:func:`open_run` reads a run folder's config and loads its ``model.zip``; :func:`play_frames` plays
whole games of the run's game under the run's protocol and backend (through
:func:`rl_coordconv.atari.make_vec_env`, as evaluation does) and keeps an evenly spaced sample of the
observations the policy saw; :func:`matching_run` finds the ``nature`` run that differs from a run only by
its extractor in the same sweep folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rl_coordconv import checks, runfolder
from rl_coordconv.errors import UserError

if TYPE_CHECKING:
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

    from rl_coordconv.atari import Protocol

__all__ = [
    "RunSource",
    "Frames",
    "open_run",
    "load_policy_model",
    "play_frames",
    "matching_run",
    "derived_seed",
    "evenly_spaced",
    "protocol_of",
]

#: Keys of ``config.yaml`` that must agree for two runs to differ only by their extractor.
_SAME_RUN_KEYS: tuple[str, ...] = ("algo", "game", "seed", "timesteps", "protocol", "n_envs")


@dataclass(frozen=True)
class RunSource:
    """The parts of a run folder an inspection needs.

    :param path: the run folder
    :param algo: ``a2c`` or ``ppo``
    :param game: canonical game name
    :param extractor: registered extractor name
    :param seed: the run's root seed
    :param protocol: the protocol's settings, as recorded (:meth:`rl_coordconv.atari.Protocol.to_dict`)
    :param backend: the environment backend the run trained on
    :param evaluation_seed: the run's derived evaluation seed
    :param deterministic: whether the run evaluates with the most likely action
    :param identity: the values of the keys that define the run apart from its extractor
    """

    path: Path
    algo: str
    game: str
    extractor: str
    seed: int
    protocol: dict[str, Any]
    backend: str
    evaluation_seed: int
    deterministic: bool
    identity: tuple[tuple[str, Any], ...]

    @property
    def model_path(self) -> Path:
        """The run's final model, ``model.zip``."""
        return self.path / runfolder.MODEL


@dataclass(frozen=True)
class Frames:
    """Observations of whole games played by a policy.

    :param observations: uint8 frame stacks as the policy saw them, shape ``(num_frames, C, H, W)``
        (``(n, 4, 84, 84)`` under both protocols), in the order they were played
    :param agent_steps: agent steps played in all (every one of them was a candidate frame)
    :param scores: whole-game, unclipped score of each game played
    :param seed: the games' seed
    """

    observations: np.ndarray
    agent_steps: int
    scores: tuple[float, ...]
    seed: int


def open_run(run_dir: str | os.PathLike[str]) -> RunSource:
    """Read what an inspection needs from a finished run folder.

    :param run_dir: a run folder holding ``config.yaml`` and ``model.zip``
    :return: the run's description
    :raises UserError: when the folder is not a run folder or has no final model
    """
    path = Path(run_dir)
    if not path.is_dir():
        raise UserError(f"{str(path)!r} is not a folder; give a run folder written by rl-coordconv train or sweep")
    config = runfolder.RunConfig.read(path)
    if not (path / runfolder.MODEL).is_file():
        raise UserError(
            f"run folder {str(path)!r} has no {runfolder.MODEL}: the run is not complete (finish it with --resume)"
        )
    data = config.to_dict()
    return RunSource(
        path=path,
        algo=config.algo,
        game=config.game,
        extractor=config.extractor,
        seed=config.seed,
        protocol=dict(config.protocol),
        backend=config.backend,
        evaluation_seed=int(config.seeds.get("evaluation", 0)),
        deterministic=config.evaluation.deterministic,
        identity=tuple((key, _frozen(data.get(key))) for key in _SAME_RUN_KEYS),
    )


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def load_policy_model(run: RunSource, device: str = "cpu") -> OnPolicyAlgorithm:
    """Load the run's final model for prediction only.

    :param run: the run
    :param device: torch device (inspections are meant for the CPU)
    :return: the SB3 model, its policy in evaluation mode
    """
    from rl_coordconv.model import load_model

    model = load_model(run.algo, run.model_path, device=device)
    model.policy.set_training_mode(False)
    return model


def protocol_of(run: RunSource) -> Protocol:
    """The run's protocol as :func:`rl_coordconv.atari.make_vec_env` takes it.

    :param run: the run
    :return: the recorded protocol
    """
    from rl_coordconv.atari import Protocol

    return Protocol(**run.protocol)


def derived_seed(run: RunSource, offset: int) -> int:
    """A seed for an inspection's games, derived from the run's evaluation seed.

    ``rl-coordconv evaluate`` uses ``evaluation + 1,000,000`` (and ``+ 999`` for its GIF); inspections use
    offsets from ``2,000,000`` on, so their games are other games than the run's own evaluations.

    :param run: the run
    :param offset: 0 for the sampled frames, 1 for the GIF
    :return: the seed
    """
    return run.evaluation_seed + 2_000_000 + 1_000 * offset


def evenly_spaced(n: int, keep: int) -> list[int]:
    """``keep`` indices spread evenly over ``range(n)``, first and last included (all of them if fewer).

    :param n: number of items
    :param keep: indices wanted
    :return: sorted distinct indices
    """
    if n <= keep:
        return list(range(n))
    if keep == 1:
        return [0]
    return sorted({int(i) for i in np.linspace(0, n - 1, keep).round()})


def play_frames(
    model: OnPolicyAlgorithm,
    run: RunSource,
    n_games: int = 1,
    *,
    seed: int,
    max_frames: int = 256,
) -> Frames:
    """Play ``n_games`` whole games with the run's own policy and keep evenly spaced observations.

    The games are the run's game under its protocol and environment backend, in one environment seeded
    ``seed``; actions are sampled (or taken greedily) as the run evaluates, from a torch RNG seeded with
    ``seed`` and forked from the global one, so the same call gives the same frames. Memory stays bounded
    on long games: the kept observations are thinned to every second one whenever they reach
    ``2 * max_frames``.

    :param model: the run's model
    :param run: the run
    :param n_games: whole games to play (at least 1)
    :param seed: the games' seed
    :param max_frames: observations to keep at most
    :return: the frames
    :raises UserError: for a bad ``n_games`` or ``max_frames``
    """
    import torch

    from rl_coordconv.atari import make_vec_env

    n_games = checks.whole(n_games, "the number of games", 1)
    max_frames = checks.whole(max_frames, "max_frames", 1)
    env = make_vec_env(run.game, 1, seed, protocol_of(run), backend=run.backend)
    kept: list[np.ndarray] = []
    stride, played = 1, 0
    scores: list[float] = []
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            obs = _images(env.reset())
            while len(scores) < n_games:
                if played % stride == 0:
                    kept.append(np.ascontiguousarray(obs[0], dtype=np.uint8).copy())
                    if len(kept) >= 2 * max_frames:
                        kept = kept[::2]
                        stride *= 2
                action, _ = model.predict(obs, deterministic=run.deterministic)
                step, _, _, infos = env.step(action)
                obs = _images(step)
                played += 1
                if "episode" in infos[0]:
                    scores.append(float(infos[0]["episode"]["r"]))
    finally:
        env.close()
    chosen = evenly_spaced(len(kept), max_frames)
    return Frames(np.stack([kept[i] for i in chosen]), played, tuple(scores), seed)


def _images(obs: object) -> np.ndarray:
    if not isinstance(obs, np.ndarray):
        raise TypeError(f"expected image observations from the environment, got {type(obs).__name__}")
    return obs


def matching_run(run: RunSource, extractor: str = "nature") -> RunSource | None:
    """The run in the same sweep folder that differs from ``run`` only by its extractor.

    Sibling folders of ``run.path`` are searched (a sweep keeps its runs side by side under ``runs/``);
    the match must have the same algorithm, game, seed, budget, protocol and number of environments, and
    a ``model.zip``.

    :param run: the run
    :param extractor: the other run's extractor
    :return: that run, or None when the folder has none (or ``run`` itself uses ``extractor``)
    """
    if run.extractor == extractor:
        return None
    parent = run.path.resolve().parent
    for sibling in sorted(p for p in parent.iterdir() if p.is_dir() and p.resolve() != run.path.resolve()):
        if not (sibling / runfolder.CONFIG).is_file() or not (sibling / runfolder.MODEL).is_file():
            continue
        try:
            other = open_run(sibling)
        except UserError:
            continue
        if other.extractor == extractor and other.identity == run.identity:
            return other
    return None
