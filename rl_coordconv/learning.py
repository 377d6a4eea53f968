"""The fourth phase of a run: train a built session up to its budget, save ``model.zip``, evaluate a last time.

:func:`learn` wires the run's callbacks (:mod:`rl_coordconv.callbacks`: the CSV logs, the evaluations,
the checkpoints, the progress record) around SB3's ``learn``; a checkpoint holds the model with its
optimizer, the RNG states, the environments' snapshot and the session's provenance
(:mod:`rl_coordconv.checkpoints`), written after the CSV rows it covers are on disk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rl_coordconv import runfolder
from rl_coordconv.algorithms import get_algorithm

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.callbacks import BaseCallback

    from rl_coordconv.callbacks import EvalSettings, RunCallbacks, RunState, SaveFn
    from rl_coordconv.run_plan import RunPlan
    from rl_coordconv.training import Session

__all__ = ["learn"]


def learn(plan: RunPlan, session: Session, progress_bar: bool = False, callback: BaseCallback | None = None) -> float:
    """Train the session's model up to the run's budget, save ``model.zip``, and run the final evaluation.

    :param plan: the run
    :param session: the environments, model and counters
    :param progress_bar: show SB3's progress bar over the whole run
    :param callback: an extra SB3 callback, run after the run's own
    :return: wall-clock seconds of training over all sessions
    """
    from rl_coordconv.callbacks import RunProgressBar, run_callbacks

    config, model = plan.config, session.model
    with (
        runfolder.CsvLog(plan.path / runfolder.EPISODES, runfolder.EPISODE_COLUMNS) as episodes,
        runfolder.CsvLog(plan.path / runfolder.EVALUATIONS, runfolder.EVALUATION_COLUMNS) as evaluations,
    ):
        callbacks: RunCallbacks = run_callbacks(
            session.state,
            episodes,
            evaluations,
            run_dir=plan.path,
            frame_skip=plan.protocol.frame_skip,
            timesteps=config.timesteps,
            evaluation=_eval_settings(plan),
            checkpoint_freq=config.checkpoint_freq,
            save_checkpoint=_checkpoint_saver(plan, session, (episodes, evaluations)),
        )
        if progress_bar:
            callbacks.extra.append(RunProgressBar(f"{config.game} {config.algo} {config.extractor} seed {config.seed}",
                                                  config.timesteps))  # fmt: skip
        if callback is not None:
            callbacks.extra.append(callback)
        model.learn(
            total_timesteps=max(0, config.timesteps - int(model.num_timesteps)),
            callback=callbacks.as_list(),
            tb_log_name=get_algorithm(config.algo).tb_log_name,
            reset_num_timesteps=session.checkpoint is None,
        )
        runfolder.save_model(plan.path, model)
        if callbacks.evaluation is not None:
            callbacks.evaluation.evaluate()
            model.logger.dump(model.num_timesteps)
        callbacks.progress.write()
    return callbacks.clock.wall_seconds()


def _eval_settings(plan: RunPlan) -> EvalSettings | None:
    from rl_coordconv.callbacks import EvalSettings
    from rl_coordconv.evaluation import GameRecord, play_game_records

    config, evaluation = plan.config, plan.config.evaluation
    if not evaluation.games:
        return None

    def play(model: BaseAlgorithm, n_games: int, seed: int) -> list[GameRecord]:
        return play_game_records(
            model,
            config.game,
            n_games,
            seed=seed,
            protocol=plan.protocol,
            backend=plan.backend.name,
            n_envs=evaluation.n_envs,
            deterministic=evaluation.deterministic,
        )

    return EvalSettings(evaluation.freq, evaluation.games, play, config.seeds["evaluation"])


def _checkpoint_saver(plan: RunPlan, session: Session, logs: tuple[runfolder.CsvLog, ...] = ()) -> SaveFn:
    from rl_coordconv.checkpoints import rng_state, save_checkpoint

    backend = plan.backend

    def save(model: BaseAlgorithm, run_state: RunState) -> None:
        for log in logs:  # the rows up to the checkpoint are on disk before the checkpoint says so
            log.sync()
        env = model.get_env()
        state = {
            "run": run_state,
            "rng": rng_state(),
            "env": backend.get_state(env) if backend.can_snapshot and env is not None else None,
            "sessions": session.sessions,
            "commits": list(session.commits),
            "machines": list(session.machines),
            "agent_steps": int(model.num_timesteps),
        }
        save_checkpoint(plan.path, model, state)

    return save
