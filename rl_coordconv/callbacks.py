"""SB3 callbacks of a training run, one job each, composed with SB3's ``CallbackList``.

- :class:`SessionClock` times the session (wall-clock seconds over all sessions, agent steps/s);
- :class:`EpisodeLogCallback` writes one ``episodes.csv`` row per finished training game;
- :class:`EvaluationCallback` plays evaluation games and writes ``evaluations.csv`` rows;
- :class:`RunCheckpointCallback` writes checkpoints for resume;
- :class:`ProgressCallback` keeps ``progress.json`` fresh;
- :class:`RunProgressBar` is SB3's progress bar (tqdm + rich) over the whole run.

They share one :class:`RunState` (the run's counters, saved with every checkpoint so a resumed run
continues them) and one :class:`SessionClock`; :func:`run_callbacks` builds them in the order the run
needs. This follows SB3's own ``stable_baselines3.common.callbacks`` (``EvalCallback``,
``CheckpointCallback``, ``CallbackList``), with evaluation and checkpoint thresholds in agent steps.

Evaluations and checkpoints happen in ``on_rollout_start``, i.e. after the previous rollout's gradient
update: an evaluation sees the parameters trained on every agent step counted so far, and a checkpoint
holds no half-collected rollout. Both are due at the first rollout boundary at or after each multiple of
their frequency (in agent steps); the evaluation runs before the checkpoint, so that a resumed run's
random number generators continue from where the uninterrupted run's were.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback, CallbackList, ProgressBarCallback

from rl_coordconv.evaluation import GameRecord
from rl_coordconv.runfolder import CsvLog, Progress, format_number

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

__all__ = [
    "RunState",
    "EvalSettings",
    "SessionClock",
    "EpisodeLogCallback",
    "EvaluationCallback",
    "RunCheckpointCallback",
    "ProgressCallback",
    "RunProgressBar",
    "run_callbacks",
]


@dataclass
class RunState:
    """The run's own counters (saved with each checkpoint).

    :param game_steps: agent steps of the game in progress, per environment
    :param games: training games finished
    :param evaluations: evaluations done
    :param next_eval: agent steps at which the next evaluation is due (None: no evaluations)
    :param next_checkpoint: agent steps at which the next checkpoint is due (None: no checkpoints)
    :param wall_seconds: wall-clock seconds spent training before this session
    """

    game_steps: list[int]
    games: int = 0
    evaluations: int = 0
    next_eval: int | None = None
    next_checkpoint: int | None = None
    wall_seconds: float = 0.0


#: ``play(model, n_games, seed) -> scores``: plays whole games on fresh environments.
PlayFn = Callable[["BaseAlgorithm", int, int], "Sequence[GameRecord | float]"]
#: ``save(model, state)``: writes one checkpoint.
SaveFn = Callable[["BaseAlgorithm", RunState], None]


@dataclass(frozen=True)
class EvalSettings:
    """How a run evaluates.

    :param freq: evaluate every ``freq`` agent steps (0: only at the end)
    :param games: games per evaluation
    :param play: ``play(model, n_games, seed) -> games``, playing whole games on fresh environments and
        returning one :class:`~rl_coordconv.evaluation.GameRecord` (or a bare score) per game
    :param seed: evaluation ``k`` uses seed ``seed + 1000 * k``
    """

    freq: int
    games: int
    play: PlayFn = field(repr=False)
    seed: int = 0


def _advance(due: int, freq: int, now: int) -> int:
    """The first multiple-of-``freq`` threshold strictly after ``now``, starting from ``due``."""
    while due <= now:
        due += freq
    return due


class SessionClock(BaseCallback):
    """Times the session: put it first in the list, the other callbacks read it.

    :param state: the run's counters (``wall_seconds`` holds the time of earlier sessions)
    """

    def __init__(self, state: RunState) -> None:
        super().__init__()
        self.state = state
        self._start = time.monotonic()
        self._start_steps = 0

    def _on_training_start(self) -> None:
        self._start = time.monotonic()
        self._start_steps = int(self.num_timesteps)

    def _on_step(self) -> bool:
        return True

    def wall_seconds(self) -> float:
        """Wall-clock seconds spent training, over all sessions of the run."""
        return self.state.wall_seconds + (time.monotonic() - self._start)

    def steps_per_second(self, agent_steps: int) -> float:
        """Agent steps per second in this session.

        :param agent_steps: the model's agent steps now
        :return: the rate (0 at the very start)
        """
        elapsed = time.monotonic() - self._start
        return (agent_steps - self._start_steps) / elapsed if elapsed > 0 else 0.0


class EpisodeLogCallback(BaseCallback):
    """Writes one ``episodes.csv`` row per finished training game (whole-game, unclipped score).

    :param state: the run's counters (``game_steps`` and ``games`` are kept here)
    :param log: the open ``episodes.csv``
    :param frame_skip: emulator frames per agent step (for the ``frames`` column)
    :param clock: the session's clock (for the ``wall_seconds`` column)
    """

    def __init__(self, state: RunState, log: CsvLog, frame_skip: int, clock: SessionClock) -> None:
        super().__init__()
        self.state = state
        self.log = log
        self.frame_skip = frame_skip
        self.clock = clock

    def _on_step(self) -> bool:
        steps = int(self.num_timesteps)
        for i, info in enumerate(self.locals["infos"]):
            self.state.game_steps[i] += 1
            episode = info.get("episode")
            if episode is not None:
                self.log.write(
                    {
                        "agent_steps": steps,
                        "env": i,
                        "frames": steps * self.frame_skip,
                        "return": format_number(episode["r"]),
                        "length": self.state.game_steps[i],
                        "truncated": int(bool(info.get("TimeLimit.truncated", False))),
                        "wall_seconds": round(self.clock.wall_seconds(), 3),
                    }
                )
                self.state.game_steps[i] = 0
                self.state.games += 1
        return True


class EvaluationCallback(BaseCallback):
    """Plays evaluation games when due and writes one ``evaluations.csv`` row each time.

    :param state: the run's counters (``evaluations`` and ``next_eval`` are kept here)
    :param log: the open ``evaluations.csv``
    :param settings: how to evaluate
    :param frame_skip: emulator frames per agent step (for the ``frames`` column)
    """

    def __init__(self, state: RunState, log: CsvLog, settings: EvalSettings, frame_skip: int) -> None:
        super().__init__()
        self.state = state
        self.log = log
        self.settings = settings
        self.frame_skip = frame_skip

    def evaluate(self) -> None:
        """Play the evaluation games now and log them (one ``evaluations.csv`` row, ``eval/*`` in TensorBoard)."""
        seed = self.settings.seed + 1000 * self.state.evaluations
        games = [g if isinstance(g, GameRecord) else GameRecord(float(g)) for g in self.settings.play(
            self.model, self.settings.games, seed)]  # fmt: skip
        self.state.evaluations += 1
        scores = [g.score for g in games]
        mean, std = float(np.mean(scores)), float(np.std(scores))
        steps = int(self.model.num_timesteps)
        self.log.write(
            {
                "agent_steps": steps,
                "frames": steps * self.frame_skip,
                "mean_return": format_number(mean),
                "std_return": format_number(std),
                "n_games": len(scores),
                "returns": ";".join(format_number(s) for s in scores),
                "lengths": ";".join(str(g.length) if g.length is not None else "" for g in games),
                "truncated": ";".join(str(int(g.truncated)) for g in games),
            }
        )
        self.logger.record("eval/mean_return", mean)
        self.logger.record("eval/std_return", std)

    def _on_step(self) -> bool:
        return True

    def _on_rollout_start(self) -> None:
        steps = int(self.num_timesteps)
        if steps and self.state.next_eval is not None and steps >= self.state.next_eval:
            self.evaluate()
            self.state.next_eval = _advance(self.state.next_eval, self.settings.freq, steps)


class RunCheckpointCallback(BaseCallback):
    """Writes a checkpoint when due (the first rollout boundary at or after every ``freq`` agent steps).

    :param state: the run's counters (``next_checkpoint`` is kept here; a copy is saved)
    :param freq: agent steps between checkpoints
    :param save: ``save(model, state)``, writing one checkpoint
    :param clock: the session's clock (the saved state carries the wall-clock seconds so far)
    """

    def __init__(self, state: RunState, freq: int, save: SaveFn, clock: SessionClock) -> None:
        super().__init__()
        self.state = state
        self.freq = freq
        self.save = save
        self.clock = clock

    def checkpoint(self) -> None:
        """Write a checkpoint now."""
        saved = dataclasses.replace(
            self.state, game_steps=list(self.state.game_steps), wall_seconds=self.clock.wall_seconds()
        )
        self.save(self.model, saved)

    def _on_step(self) -> bool:
        return True

    def _on_rollout_start(self) -> None:
        steps = int(self.num_timesteps)
        if steps and self.state.next_checkpoint is not None and steps >= self.state.next_checkpoint:
            self.state.next_checkpoint = _advance(self.state.next_checkpoint, self.freq, steps)
            self.checkpoint()


class ProgressCallback(BaseCallback):
    """Rewrites ``progress.json`` at the start, every ``every_seconds`` and at the end of the session.

    :param run_dir: the run folder
    :param timesteps: the run's budget in agent steps
    :param clock: the session's clock (for agent steps/s)
    :param every_seconds: rewrite at most this often while training
    """

    def __init__(self, run_dir: Path, timesteps: int, clock: SessionClock, every_seconds: float = 5.0) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.timesteps = timesteps
        self.clock = clock
        self.every_seconds = every_seconds
        self._last = 0.0

    def write(self) -> None:
        """Rewrite ``progress.json`` now (atomically)."""
        self._last = time.monotonic()
        steps = int(self.model.num_timesteps)
        Progress(
            agent_steps=steps,
            timesteps=int(self.timesteps),
            steps_per_second=round(self.clock.steps_per_second(steps), 1),
            updated=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        ).write(self.run_dir)

    def _on_training_start(self) -> None:
        self.write()

    def _on_step(self) -> bool:
        if time.monotonic() - self._last >= self.every_seconds:
            self.write()
        return True

    def _on_training_end(self) -> None:
        self.write()


class RunProgressBar(ProgressBarCallback):
    """SB3's progress bar over the whole run, with agent steps/s and the recent mean whole-game score.

    :param label: text before the bar (game, algorithm, extractor, seed)
    :param total: the run's budget in agent steps
    """

    def __init__(self, label: str, total: int) -> None:
        super().__init__()
        self.label = label
        self.total = total

    def _describe(self) -> str:
        buffer: list[dict[str, Any]] = list(self.model.ep_info_buffer or ())
        if not buffer:
            return f"{self.label} | no game finished yet |"
        mean = float(np.mean([info["r"] for info in buffer]))
        return f"{self.label} | mean return {mean:.1f} over last {len(buffer)} games |"

    def _on_training_start(self) -> None:
        from tqdm import TqdmExperimentalWarning
        from tqdm.rich import tqdm

        with warnings.catch_warnings():  # "rich is experimental/alpha": SB3's own bar uses it all the same
            warnings.simplefilter("ignore", TqdmExperimentalWarning)
            self.pbar = tqdm(
                total=self.total,
                initial=int(self.model.num_timesteps),
                unit="agent steps",
                desc=self._describe(),
            )

    def _on_step(self) -> bool:
        self.pbar.update(self.training_env.num_envs)
        if self.n_calls % 64 == 0:
            self.pbar.set_description(self._describe(), refresh=False)
        return True


@dataclass
class RunCallbacks:
    """The run's callbacks, by job, and their composition.

    :param clock: the session's clock
    :param episodes: the training-game log
    :param evaluation: the evaluations (None: the run does not evaluate)
    :param checkpoints: the checkpoints (None: the run takes none)
    :param progress: ``progress.json``
    :param extra: further callbacks run after these (a progress bar, the caller's own)
    """

    clock: SessionClock
    episodes: EpisodeLogCallback
    evaluation: EvaluationCallback | None
    checkpoints: RunCheckpointCallback | None
    progress: ProgressCallback
    extra: list[BaseCallback] = field(default_factory=list)

    def as_list(self) -> CallbackList:
        """Compose them for ``model.learn(callback=...)``: clock, games, evaluation, checkpoint, progress, extra.

        :return: SB3's ``CallbackList``
        """
        jobs: list[BaseCallback | None] = [self.clock, self.episodes, self.evaluation, self.checkpoints, self.progress]
        return CallbackList([c for c in jobs if c is not None] + list(self.extra))


def run_callbacks(
    state: RunState,
    episodes: CsvLog,
    evaluations: CsvLog,
    *,
    run_dir: Path,
    frame_skip: int,
    timesteps: int,
    evaluation: EvalSettings | None,
    checkpoint_freq: int,
    save_checkpoint: SaveFn,
) -> RunCallbacks:
    """Build a run's callbacks around one shared :class:`RunState`.

    :param state: the run's counters (fresh, or restored from a checkpoint)
    :param episodes: the open ``episodes.csv``
    :param evaluations: the open ``evaluations.csv``
    :param run_dir: the run folder (for ``progress.json``)
    :param frame_skip: emulator frames per agent step
    :param timesteps: the run's budget in agent steps
    :param evaluation: how to evaluate, or None for no evaluation
    :param checkpoint_freq: agent steps between checkpoints (0: none)
    :param save_checkpoint: ``save(model, state)``, writing one checkpoint
    :return: the callbacks
    """
    clock = SessionClock(state)
    return RunCallbacks(
        clock=clock,
        episodes=EpisodeLogCallback(state, episodes, frame_skip, clock),
        evaluation=EvaluationCallback(state, evaluations, evaluation, frame_skip) if evaluation else None,
        checkpoints=RunCheckpointCallback(state, checkpoint_freq, save_checkpoint, clock) if checkpoint_freq else None,
        progress=ProgressCallback(run_dir, timesteps, clock),
    )
