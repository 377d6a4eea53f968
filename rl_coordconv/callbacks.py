"""SB3 callbacks of a training run: logs, evaluations, checkpoints, progress.

:class:`RunCallback` writes one ``episodes.csv`` row per finished training game, evaluates and
checkpoints at rollout boundaries, and keeps ``progress.json`` fresh. Its counters live in a
:class:`RunState`, saved with every checkpoint so a resumed run continues them.

Evaluations and checkpoints happen in ``on_rollout_start``, i.e. after the previous rollout's gradient
update: an evaluation sees the parameters trained on every agent step counted so far, and a checkpoint
holds no half-collected rollout. Both are due at the first rollout boundary at or after each multiple of
their frequency (in agent steps).

:class:`RunProgressBar` is SB3's progress bar (tqdm + rich) counting agent steps over the whole run,
showing agent steps/s and the mean whole-game score of the last 100 training games.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback, ProgressBarCallback

from rl_coordconv.runfolder import CsvLog, Progress

__all__ = ["RunState", "EvalSettings", "RunCallback", "RunProgressBar"]


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


@dataclass(frozen=True)
class EvalSettings:
    """How a run evaluates.

    :param freq: evaluate every ``freq`` agent steps (0: only at the end)
    :param games: games per evaluation
    :param play: ``play(model, n_games, seed) -> scores``, playing whole games on fresh environments
    :param seed: evaluation ``k`` uses seed ``seed + 1000 * k``
    """

    freq: int
    games: int
    play: Callable[[Any, int, int], list[float]] = field(repr=False)
    seed: int = 0


def _advance(due: int, freq: int, now: int) -> int:
    """The first multiple-of-``freq`` threshold strictly after ``now``, starting from ``due``."""
    while due <= now:
        due += freq
    return due


class RunCallback(BaseCallback):
    """Log games, evaluate, checkpoint and report progress for one run.

    :param state: the run's counters (fresh, or restored from a checkpoint)
    :param episodes: the open ``episodes.csv`` log
    :param evaluations: the open ``evaluations.csv`` log
    :param frame_skip: emulator frames per agent step (for the ``frames`` column)
    :param timesteps: the run's budget in agent steps (for ``progress.json``)
    :param run_dir: the run folder
    :param evaluation: evaluation settings, or None for no evaluation
    :param checkpoint_freq: checkpoint every this many agent steps (0: never)
    :param save_checkpoint: ``save_checkpoint(model, state)``, writing one checkpoint
    :param progress_seconds: rewrite ``progress.json`` at most this often
    """

    def __init__(
        self,
        state: RunState,
        episodes: CsvLog,
        evaluations: CsvLog,
        *,
        frame_skip: int,
        timesteps: int,
        run_dir: Path,
        evaluation: EvalSettings | None,
        checkpoint_freq: int,
        save_checkpoint: Callable[[Any, RunState], None],
        progress_seconds: float = 5.0,
    ) -> None:
        super().__init__()
        self.state = state
        self.episodes = episodes
        self.evaluations_log = evaluations
        self.frame_skip = frame_skip
        self.timesteps = timesteps
        self.run_dir = Path(run_dir)
        self.evaluation = evaluation
        self.checkpoint_freq = checkpoint_freq
        self._save_checkpoint = save_checkpoint
        self.progress_seconds = progress_seconds
        self._session_start = time.monotonic()
        self._session_steps = 0
        self._last_progress = 0.0

    # -- helpers -------------------------------------------------------------------------------------
    def wall_seconds(self) -> float:
        """Wall-clock seconds spent training, over all sessions of the run."""
        return self.state.wall_seconds + (time.monotonic() - self._session_start)

    def steps_per_second(self) -> float:
        """Agent steps per second in this session."""
        elapsed = time.monotonic() - self._session_start
        return (self.num_timesteps - self._session_steps) / elapsed if elapsed > 0 else 0.0

    def write_progress(self) -> None:
        """Rewrite ``progress.json`` (atomically)."""
        self._last_progress = time.monotonic()
        Progress(
            agent_steps=int(self.num_timesteps),
            timesteps=int(self.timesteps),
            steps_per_second=round(self.steps_per_second(), 1),
            updated=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        ).write(self.run_dir)

    def evaluate(self) -> None:
        """Play the evaluation games now and log them (one ``evaluations.csv`` row)."""
        assert self.evaluation is not None
        seed = self.evaluation.seed + 1000 * self.state.evaluations
        scores = self.evaluation.play(self.model, self.evaluation.games, seed)
        self.state.evaluations += 1
        mean, std = float(np.mean(scores)), float(np.std(scores))
        self.evaluations_log.write(
            {
                "agent_steps": int(self.num_timesteps),
                "frames": int(self.num_timesteps) * self.frame_skip,
                "mean_return": mean,
                "std_return": std,
                "n_games": len(scores),
                "returns": ";".join(f"{s:g}" for s in scores),
            }
        )
        self.logger.record("eval/mean_return", mean)
        self.logger.record("eval/std_return", std)

    def checkpoint(self) -> None:
        """Write a checkpoint now."""
        saved = dataclasses.replace(
            self.state, game_steps=list(self.state.game_steps), wall_seconds=self.wall_seconds()
        )
        self._save_checkpoint(self.model, saved)

    # -- SB3 hooks -----------------------------------------------------------------------------------
    def _on_training_start(self) -> None:
        self._session_start = time.monotonic()
        self._session_steps = int(self.num_timesteps)
        self.write_progress()

    def _on_step(self) -> bool:
        infos = self.locals["infos"]
        steps = int(self.num_timesteps)
        for i, info in enumerate(infos):
            self.state.game_steps[i] += 1
            episode = info.get("episode")
            if episode is not None:
                self.episodes.write(
                    {
                        "agent_steps": steps,
                        "frames": steps * self.frame_skip,
                        "return": float(episode["r"]),
                        "length": self.state.game_steps[i],
                        "wall_seconds": round(self.wall_seconds(), 3),
                    }
                )
                self.state.game_steps[i] = 0
                self.state.games += 1
        if time.monotonic() - self._last_progress >= self.progress_seconds:
            self.write_progress()
        return True

    def _on_rollout_start(self) -> None:
        steps = int(self.num_timesteps)
        if steps == 0:
            return
        if self.evaluation is not None and self.state.next_eval is not None and steps >= self.state.next_eval:
            self.evaluate()
            self.state.next_eval = _advance(self.state.next_eval, self.evaluation.freq, steps)
        if self.state.next_checkpoint is not None and steps >= self.state.next_checkpoint:
            self.state.next_checkpoint = _advance(self.state.next_checkpoint, self.checkpoint_freq, steps)
            self.checkpoint()

    def _on_training_end(self) -> None:
        self.write_progress()


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
        buffer = self.model.ep_info_buffer or []
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
