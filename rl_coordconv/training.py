"""One training run: an algorithm, a game, an extractor and a seed, trained into a run folder.

:func:`train` is the function behind ``rl-coordconv train``. It builds the agent from its preset
(:mod:`rl_coordconv.preset`, the model by :mod:`rl_coordconv.model`) and the extractor's fair
``policy_kwargs``, the Atari environments from the protocol (:mod:`rl_coordconv.atari`), and writes the
run folder described in :mod:`rl_coordconv.runfolder`: ``config.yaml`` first, ``episodes.csv`` /
``evaluations.csv`` / ``tb/`` / ``progress.json`` / ``checkpoints/`` while training, then ``model.zip``
and finally ``status.json``.

Seeds. One root seed derives every other one (:func:`derive_seeds`, numpy's ``SeedSequence``):
``training`` seeds SB3 (python, numpy and torch through ``set_random_seed``) and the training
environments (environment ``i`` gets ``training + i``); ``evaluation`` seeds evaluation ``k``'s
environments (``evaluation + 1000 k + i``) and its action sampling (a forked torch RNG). Deriving instead
of using ``root + i`` keeps the environments of root seeds 0, 1, 2... from overlapping. Two CPU runs with
the same arguments on the same machine (same torch threads) write identical ``episodes.csv`` returns and
lengths; on a GPU cuDNN may not be bit-exact.

Resume. A checkpoint (:mod:`rl_coordconv.checkpoints`) is taken at the first rollout boundary at or after
every ``checkpoint_freq`` agent steps. It holds the model with its optimizer, the RNG states, the
environments' snapshot (each game's seed and recorded actions, which the resumed session replays and
checks against a checksum, plus the wrappers' or the adapter's counters and frame stacks:
:mod:`rl_coordconv.atari.replay`) and the run's counters, so a resumed run continues *exactly* as the
uninterrupted run would have, on both backends, every game and both protocols: same games, same rows,
same final model (``tests/test_faults.py`` kills runs at random moments to check it). What is not
reproduced: ``wall_seconds`` (real time), the TensorBoard events logged between the checkpoint and the
interruption (logged twice), and, with a backend that cannot snapshot its environments (or a checkpoint
written before its backend could), the games in progress at the checkpoint (the environments restart
with seeds derived from the checkpoint's agent steps, so even then a resume is repeatable, not exact).
Phases. :func:`train` runs five named steps, each a function of its own:
:func:`~rl_coordconv.run_plan.resolve_config` checks the run's settings
(:class:`~rl_coordconv.settings.RunSettings`) and builds the :class:`~rl_coordconv.runfolder.RunConfig`
(nothing touches the disk before it succeeds);
:func:`~rl_coordconv.run_plan.prepare_run_folder` decides between a new run, a resume, a run already
complete, or a refusal (a different run in the folder, or an unfinished one without ``resume``);
:func:`build_session` builds the environments and the model (fresh, or from the checkpoint);
:func:`~rl_coordconv.learning.learn` trains with the run's callbacks (:mod:`rl_coordconv.callbacks`) and
saves the model; :func:`finalise` writes ``status.json`` last.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import errno
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rl_coordconv import checks, runfolder
from rl_coordconv.errors import UserError
from rl_coordconv.learner import LearnerSettings
from rl_coordconv.learning import learn
from rl_coordconv.provenance import code_commit, machine
from rl_coordconv.run_plan import FolderPlan, RunPlan, prepare_run_folder, resolve_config
from rl_coordconv.runfolder import IDENTITY_KEYS, ErrorRecord, RunStatus, run_name
from rl_coordconv.settings import (
    DEFAULT_EVAL_EPISODES,
    RunSettings,
    default_checkpoint_freq,
    default_eval_freq,
    default_threads,
    derive_seeds,
    settings_of,
)

if TYPE_CHECKING:
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
    from stable_baselines3.common.vec_env import VecEnv

    from rl_coordconv.callbacks import RunState
    from rl_coordconv.checkpoints import Checkpoint

__all__ = [
    "train",
    "RunSettings",
    "run_name",
    "derive_seeds",
    "default_threads",
    "default_eval_freq",
    "default_checkpoint_freq",
    "DEFAULT_EVAL_EPISODES",
    "IDENTITY_KEYS",
    "RunPlan",
    "FolderPlan",
    "Session",
    "resolve_config",
    "prepare_run_folder",
    "build_session",
    "learn",
    "finalise",
]


@dataclass
class Session:
    """What :func:`build_session` built: one training session of the run.

    :param env: the training environments
    :param model: the SB3 model (fresh or loaded from the checkpoint)
    :param state: the run's counters
    :param sessions: how many sessions the run has had, this one included
    :param checkpoint: the checkpoint this session resumed from, if any
    :param commits: the rl-coordconv commits of the run's sessions so far, this one included, each once
        in order of first use (:func:`rl_coordconv.provenance.code_commit`; ``"unknown"`` where none was found)
    :param machines: the computers of the run's sessions so far, the same way
        (:func:`rl_coordconv.provenance.machine`; ``"unknown"`` for sessions that did not record one)
    """

    env: VecEnv
    model: OnPolicyAlgorithm
    state: RunState
    sessions: int
    checkpoint: Checkpoint | None = None
    commits: list[str] = field(default_factory=lambda: [_commit_now()])
    machines: list[str] = field(default_factory=lambda: [machine()])


# -- the run -----------------------------------------------------------------------------------------


def train(
    settings: RunSettings | str | None = None,
    game: str | None = None,
    extractor: str | None = None,
    seed: int | None = None,
    timesteps: int | None = None,
    out: str | Path = "runs",
    *,
    run_dir: str | Path | None = None,
    resume: bool = False,
    keep_checkpoints: bool = False,
    progress_bar: bool = True,
    command: str | None = None,
    callback: BaseCallback | None = None,
    quiet: bool = False,
    learner: LearnerSettings | None = None,
    **options: Any,
) -> Path:
    """Train one agent on one Atari game and write its run folder.

    Two forms of one call: ``train(RunSettings(algo="ppo", game="Pong"), out="runs")``, or the keyword form
    ``train("ppo", "Pong", "coordconv", seed=0, timesteps=100_000, out="runs", n_envs=8)`` whose keywords
    are :class:`~rl_coordconv.settings.RunSettings`'s fields (documented there, each once).

    :param settings: the run's settings; or, in the keyword form, the algorithm (``a2c`` or ``ppo``)
    :param game: (keyword form) any spelling of the game
    :param extractor: (keyword form) a registered extractor (default ``coordconv``)
    :param seed: (keyword form) the root seed (default 0)
    :param timesteps: (keyword form) the budget in agent steps (default 1000000)
    :param out: parent folder of the run folder (ignored when ``run_dir`` is given)
    :param run_dir: the exact run folder (default ``out / run_name(game, algo, extractor, seed)``)
    :param resume: continue an interrupted run from its last checkpoint (from scratch if it has none);
        without it an existing, incomplete run folder is refused
    :param keep_checkpoints: keep the checkpoints once the run is complete (default: delete them)
    :param progress_bar: show a progress bar (agent steps/s, recent mean score)
    :param command: the command line to record in ``config.yaml`` (default: this call)
    :param callback: an extra SB3 callback, run after the run's own
    :param quiet: print nothing
    :param learner: (keyword form) how the policy computes (:class:`rl_coordconv.learner.LearnerSettings`),
        the fields ``compile`` and ``channels_last`` of the settings
    :param options: (keyword form) any other field of :class:`~rl_coordconv.settings.RunSettings`
    :return: the run folder
    :raises UserError: for a bad setting, or a run folder that cannot be used as asked
    :raises TypeError: for a keyword that is no setting, or settings mixed with keywords
    """
    run = settings_of(settings, game, extractor, seed, timesteps, learner, **options)
    plan = resolve_config(run, out=out, run_dir=run_dir, command=command)
    try:
        folder = prepare_run_folder(plan, resume=resume)
    except OSError as err:
        raise _disk_error(plan.path, err) from None
    if folder.action == "complete":
        status = RunStatus.read(plan.path)
        summary = status.summary() if status is not None else "?"
        _say(quiet, f"{plan.path}: this run is already complete ({summary}); nothing to do.")
        return plan.path
    plan = dataclasses.replace(plan, config=folder.config)
    checks.set_torch_threads(plan.threads)
    try:
        session = build_session(plan, folder.checkpoint, quiet=quiet)
        wall_seconds = learn(plan, session, progress_bar=progress_bar, callback=callback)
        finalise(plan, session, wall_seconds, keep_checkpoints=keep_checkpoints, quiet=quiet)
    except (KeyboardInterrupt, UserError):
        raise
    except OSError as err:
        if err.errno in _DISK_ERRNOS:  # nothing more can be written; the last checkpoint is intact
            raise _disk_error(plan.path, err) from None
        ErrorRecord.from_exception(err).write(plan.path)
        raise
    except BaseException as err:  # the run folder records why it failed; the error goes on up
        ErrorRecord.from_exception(err).write(plan.path)
        raise
    return plan.path


#: Errors of the disk, not of the run: a full disk or quota, a read-only or forbidden folder.
_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})


def _disk_error(path: Path, err: OSError) -> UserError | OSError:
    """One line for a disk error (the run stays resumable); any other OSError is returned as it is."""
    if err.errno not in _DISK_ERRNOS:
        return err
    where = err.filename or path
    return UserError(
        f"cannot write to {str(where)!r}: {err.strerror or err}; free space or make the folder writable, then run "
        "the same command again (with --resume for train): the run continues from its last checkpoint"
    )


# -- phases 1 and 2 are run_plan's: resolve_config, prepare_run_folder -------------------------------


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _say(quiet: bool, text: str) -> None:
    if not quiet:
        print(text, flush=True)


# -- phase 3: build the environments and the model ---------------------------------------------------


def build_session(plan: RunPlan, checkpoint: Checkpoint | None = None, quiet: bool = False) -> Session:
    """Build the training environments and the model: fresh, or restored from ``checkpoint``.

    A restored session continues exactly when the checkpoint holds its environments' snapshot (both
    backends write one): same model, optimizer, RNG states and counters, and emulators rebuilt by
    replaying their recorded games. Otherwise (a backend without snapshots, or an ``ale_vector``
    checkpoint from before they existed) the games in progress restart with seeds derived from the
    checkpoint's agent steps (repeatable). Rows logged after the checkpoint are dropped from the CSV logs.

    :param plan: the run (its ``config`` is the one to train under)
    :param checkpoint: the checkpoint to resume from, or None for a new run
    :param quiet: print nothing
    :return: the session
    """
    from rl_coordconv.atari import make_vec_env

    config = plan.config
    env = make_vec_env(config.game, config.n_envs, config.seeds["training"], plan.protocol, backend=plan.backend)
    if checkpoint is None:
        session = _new_session(plan, env)
        _say(quiet, f"{plan.path}: training {config.algo} {config.extractor} on {config.game}, seed {config.seed}, "
                    f"{config.timesteps} agent steps, {config.n_envs} envs, {plan.threads} torch threads, "
                    f"{plan.device}")  # fmt: skip
    else:
        session = _resumed_session(plan, env, checkpoint)
        _say(quiet, f"{plan.path}: resuming from the checkpoint at {checkpoint.agent_steps} agent steps "
                    f"(of {config.timesteps})")  # fmt: skip
    return session


def _new_session(plan: RunPlan, env: VecEnv) -> Session:
    from rl_coordconv.callbacks import RunState
    from rl_coordconv.model import build_model

    config = plan.config
    model = build_model(
        plan.preset,
        env,
        extractor=config.extractor,
        extractor_kwargs=config.extractor_kwargs,
        seed=config.seeds["training"],
        device=plan.device,
        tensorboard_log=str(plan.path / runfolder.TENSORBOARD),
        learner=LearnerSettings.from_dict(config.learner),
    )
    evaluation = config.evaluation
    state = RunState(
        game_steps=[0] * config.n_envs,
        next_eval=(evaluation.freq or None) if evaluation.games else None,
        next_checkpoint=config.checkpoint_freq or None,
    )
    return Session(env, model, state, sessions=1, machines=[machine(plan.device)])


def _resumed_session(plan: RunPlan, env: VecEnv, checkpoint: Checkpoint) -> Session:
    from rl_coordconv.checkpoints import set_rng_state
    from rl_coordconv.model import load_model

    config = plan.config
    learner = LearnerSettings.from_dict(config.learner)
    model = load_model(config.algo, checkpoint.model_path, env, device=plan.device, learner=learner)
    model.tensorboard_log = str(plan.path / runfolder.TENSORBOARD)
    saved = checkpoint.load_state()
    state: RunState = saved["run"]
    if plan.backend.can_snapshot and saved.get("env") is not None:
        plan.backend.set_state(env, saved["env"])
    else:  # restart the games, repeatably
        model._last_obs = None  # SB3 resets the environments when this is None
        restart = np.random.SeedSequence([config.seeds["training"], checkpoint.agent_steps]).generate_state(1)[0]
        env.seed(int(restart % 2**30))
        state.game_steps = [0] * config.n_envs
    set_rng_state(saved["rng"])
    for log in (runfolder.EPISODES, runfolder.EVALUATIONS):
        runfolder.truncate_rows(plan.path / log, checkpoint.agent_steps)
    return Session(
        env, model, state, sessions=int(saved.get("sessions", 1)) + 1, checkpoint=checkpoint,
        commits=_so_far(saved, "commits", _commit_now()), machines=_so_far(saved, "machines", machine(plan.device)),
    )  # fmt: skip


def _so_far(saved: Mapping[str, Any], key: str, now: str) -> list[str]:
    """A checkpoint's list of what its sessions ran on (``commits``, ``machines``), this session's added once;
    ``"unknown"`` stands for sessions of a version that did not keep the list."""
    seen = [str(c) for c in saved.get(key, ["unknown"])]
    return seen + [now] * (now not in seen)


def _commit_now() -> str:
    return code_commit() or "unknown"


# -- phase 5: finalise -------------------------------------------------------------------------------


def finalise(
    plan: RunPlan, session: Session, wall_seconds: float, keep_checkpoints: bool = False, quiet: bool = False
) -> RunStatus:
    """Close the environments, write ``status.json`` (last: it says the run is complete), drop the checkpoints.

    :param plan: the run
    :param session: the session that trained it
    :param wall_seconds: wall-clock seconds of training over all sessions
    :param keep_checkpoints: keep the checkpoints (default: ``model.zip`` supersedes them)
    :param quiet: print nothing
    :return: the status written
    """
    from rl_coordconv.checkpoints import remove_checkpoints

    session.env.close()
    eval_rows = runfolder.read_rows(plan.path / runfolder.EVALUATIONS)
    final_mean = float(eval_rows[-1]["mean_return"]) if eval_rows else None
    steps = int(session.model.num_timesteps)
    status = RunStatus(
        complete=True,
        run=plan.config.run,
        agent_steps=steps,
        frames=steps * plan.protocol.frame_skip,
        timesteps=plan.config.timesteps,
        games=session.state.games,
        evaluations=session.state.evaluations,
        final_mean_return=final_mean,
        wall_seconds=round(wall_seconds, 1),
        sessions=session.sessions,
        commits=list(session.commits),
        machines=list(session.machines),
        finished=_now(),
    )
    status.write(plan.path)
    if not keep_checkpoints:
        remove_checkpoints(plan.path)
    score = f"; final evaluation mean return {final_mean:g}" if final_mean is not None else ""
    _say(quiet, f"{plan.path}: complete, {steps} agent steps in {wall_seconds:.0f} s{score}")
    return status
