"""One training run: an algorithm, a game, an extractor and a seed, trained into a run folder.

:func:`train` is the function behind ``rl-coordconv train``. It builds the agent from its preset
(:mod:`rl_coordconv.agents`) and the extractor's fair ``policy_kwargs``, the Atari environments from the
protocol (:mod:`rl_coordconv.atari`), and writes the run folder described in
:mod:`rl_coordconv.runfolder`: ``config.yaml`` first, ``episodes.csv`` / ``evaluations.csv`` / ``tb/``
/ ``progress.json`` / ``checkpoints/`` while training, then ``model.zip`` and finally ``status.json``.

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

Phases. :func:`train` runs five named steps, each a function of its own: :func:`resolve_config` checks
every argument and builds the :class:`~rl_coordconv.runfolder.RunConfig` (nothing touches the disk before
it succeeds); :func:`prepare_run_folder` decides between a new run, a resume, a run already complete, or
a refusal (a different run in the folder, or an unfinished one without ``resume``); :func:`build_session`
builds the environments and the model (fresh, or from the checkpoint); :func:`learn` trains with the
run's callbacks (:mod:`rl_coordconv.callbacks`) and saves the model; :func:`finalise` writes
``status.json`` last.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import errno
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from rl_coordconv import checks, runfolder
from rl_coordconv.atari.backends import DEFAULT_BACKEND
from rl_coordconv.errors import UserError
from rl_coordconv.learner import LearnerSettings
from rl_coordconv.provenance import code_commit, machine, software_versions
from rl_coordconv.runfolder import IDENTITY_KEYS, ErrorRecord, EvaluationConfig, RunConfig, RunStatus, run_name

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
    from stable_baselines3.common.vec_env import VecEnv

    from rl_coordconv.agents import Preset
    from rl_coordconv.atari import EnvBackend, Protocol
    from rl_coordconv.callbacks import EvalSettings, RunCallbacks, RunState, SaveFn
    from rl_coordconv.checkpoints import Checkpoint

__all__ = [
    "train",
    "run_name",
    "derive_seeds",
    "default_threads",
    "default_eval_freq",
    "default_checkpoint_freq",
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

DEFAULT_EVAL_EPISODES = 10


def derive_seeds(root: int) -> dict[str, int]:
    """Derive the run's seeds from its root seed (numpy ``SeedSequence``, as dqn_zoo derives its seeds).

    :param root: the root seed (>= 0)
    :return: ``{"root", "training", "evaluation"}``; each derived seed is below 2**30
    """
    training, evaluation = (int(x) % 2**30 for x in np.random.SeedSequence(root).generate_state(2))
    return {"root": int(root), "training": training, "evaluation": evaluation}


def default_threads() -> int:
    """Torch threads for one run: the CPUs this process may use, at most 8.

    With the ``ale_vector`` backend the games step in C++ threads while the learner waits, and
    the learner computes while the games wait, so one run may use every core it is given. Torch's OpenMP
    threads busy-wait, so on a machine shared with other work pass fewer threads (``--threads``); a sweep
    gives each worker its share explicitly, and several one-thread runs side by side use a small machine
    better than one run with many threads. NatureCNN-sized networks gain little beyond 8 threads.

    :return: the number of threads
    """
    return max(1, min(8, checks.available_cpus()))


def default_eval_freq(timesteps: int) -> int:
    """Default agent steps between evaluations: a tenth of the run, kept within [50k, 250k].

    Runs of 50k agent steps or fewer are evaluated at the end only.

    :param timesteps: the run's budget in agent steps
    :return: the frequency in agent steps
    """
    return int(min(250_000, max(50_000, timesteps // 10)))


def default_checkpoint_freq(timesteps: int) -> int:
    """Default agent steps between checkpoints: a tenth of the run, at most 100k.

    :param timesteps: the run's budget in agent steps
    :return: the frequency in agent steps
    """
    return int(min(100_000, max(1, timesteps // 10)))


# -- the phases' results -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RunPlan:
    """What :func:`resolve_config` checked: the run's config and the objects it names.

    :param path: the run folder
    :param config: the config a new run would write
    :param preset: the resolved agent preset
    :param protocol: the evaluation protocol
    :param backend: the environment backend
    :param device: the torch device of this session
    :param threads: torch threads of this session
    """

    path: Path
    config: RunConfig
    preset: Preset
    protocol: Protocol
    backend: EnvBackend
    device: str
    threads: int


@dataclass(frozen=True)
class FolderPlan:
    """What :func:`prepare_run_folder` decided.

    :param action: ``new`` (start from scratch), ``resume`` (continue from ``checkpoint``) or ``complete``
        (the folder holds this run, finished: nothing to do)
    :param config: the config to train under (for a resume, the one on disk: its command, seeds, creation time)
    :param checkpoint: the checkpoint to resume from (``resume`` only)
    """

    action: Literal["new", "resume", "complete"]
    config: RunConfig
    checkpoint: Checkpoint | None = None


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
    algo: str,
    game: str,
    extractor: str = "coordconv",
    seed: int = 0,
    timesteps: int = 1_000_000,
    out: str | Path = "runs",
    *,
    run_dir: str | Path | None = None,
    protocol: str = "standard",
    n_envs: int | None = None,
    preset: str | Path | None = None,
    hyperparameters: Mapping[str, Any] | None = None,
    extractor_kwargs: Mapping[str, Any] | None = None,
    device: str = "auto",
    eval_freq: int | None = None,
    eval_episodes: int = DEFAULT_EVAL_EPISODES,
    eval_deterministic: bool = False,
    checkpoint_freq: int | None = None,
    keep_checkpoints: bool = False,
    resume: bool = False,
    progress_bar: bool = True,
    threads: int | None = None,
    backend: str = DEFAULT_BACKEND,
    learner: LearnerSettings | None = None,
    command: str | None = None,
    callback: BaseCallback | None = None,
    quiet: bool = False,
) -> Path:
    """Train one agent on one Atari game and write its run folder.

    :param algo: ``a2c`` or ``ppo``
    :param game: any spelling of the game (``Pong``, ``ALE/Pong-v5``, ``PongNoFrameskip-v4``)
    :param extractor: a registered extractor (``nature``, ``coordconv``, ``coordconv_all``, ``coordconv_r``)
    :param seed: the root seed; every other seed derives from it (:func:`derive_seeds`)
    :param timesteps: the budget in agent steps (summed over the parallel environments); training stops at
        the first rollout boundary at or after it
    :param out: parent folder of the run folder (ignored when ``run_dir`` is given)
    :param run_dir: the exact run folder (default ``out / run_name(game, algo, extractor, seed)``)
    :param protocol: ``standard`` (zoo/SB3 numbers) or ``machado`` (sticky actions, no life-loss signal)
    :param n_envs: parallel environments (default: the preset's, 16 for A2C, 8 for PPO)
    :param preset: a preset file or built-in name (default: the built-in preset of ``algo``)
    :param hyperparameters: values overriding the preset's, e.g. ``{"n_steps": 16}``
    :param extractor_kwargs: extra constructor arguments for the extractor
    :param device: ``auto``, ``cpu`` or ``cuda``
    :param eval_freq: agent steps between evaluations (default :func:`default_eval_freq`; 0: only the
        final evaluation)
    :param eval_episodes: whole games per evaluation (0: no evaluation at all)
    :param eval_deterministic: evaluate with the most likely action (default: sample, as zoo does on Atari)
    :param checkpoint_freq: agent steps between checkpoints (default :func:`default_checkpoint_freq`;
        0: none, and no resume)
    :param keep_checkpoints: keep the checkpoints once the run is complete (default: delete them)
    :param resume: continue an interrupted run from its last checkpoint (from scratch if it has none);
        without it an existing, incomplete run folder is refused
    :param progress_bar: show a progress bar (agent steps/s, recent mean score)
    :param threads: torch threads (default :func:`default_threads`); set for the whole process
    :param backend: the environment backend: ``ale_vector`` (the default; ale-py's C++ vector env) or
        ``sb3`` (SB3's Atari wrappers, game after game in Python); both resume exactly
    :param learner: how the policy computes (:class:`rl_coordconv.learner.LearnerSettings`; default
        channels-last weights, no ``torch.compile``); it never changes what is learned
    :param command: the command line to record in ``config.yaml`` (default: this call)
    :param callback: an extra SB3 callback, run after the run's own
    :param quiet: print nothing
    :return: the run folder
    :raises UserError: for a bad argument, or a run folder that cannot be used as asked
    """
    plan = resolve_config(
        algo, game, extractor, seed, timesteps, out,
        run_dir=run_dir, protocol=protocol, n_envs=n_envs, preset=preset, hyperparameters=hyperparameters,
        extractor_kwargs=extractor_kwargs, device=device, eval_freq=eval_freq, eval_episodes=eval_episodes,
        eval_deterministic=eval_deterministic, checkpoint_freq=checkpoint_freq, threads=threads, backend=backend,
        learner=learner, command=command,
    )  # fmt: skip
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


# -- phase 1: resolve the config ---------------------------------------------------------------------


def resolve_config(
    algo: str,
    game: str,
    extractor: str,
    seed: int,
    timesteps: int,
    out: str | Path,
    *,
    run_dir: str | Path | None = None,
    protocol: str = "standard",
    n_envs: int | None = None,
    preset: str | Path | None = None,
    hyperparameters: Mapping[str, Any] | None = None,
    extractor_kwargs: Mapping[str, Any] | None = None,
    device: str = "auto",
    eval_freq: int | None = None,
    eval_episodes: int = DEFAULT_EVAL_EPISODES,
    eval_deterministic: bool = False,
    checkpoint_freq: int | None = None,
    threads: int | None = None,
    backend: str = DEFAULT_BACKEND,
    learner: LearnerSettings | None = None,
    command: str | None = None,
) -> RunPlan:
    """Check every argument of :func:`train` and build the run's config; nothing is written.

    The parameters are :func:`train`'s.

    :return: the plan
    :raises UserError: for the first bad argument
    """
    from rl_coordconv.agents import canonical_algo, load_preset
    from rl_coordconv.atari import canonical_game, get_backend, get_protocol
    from rl_coordconv.extractors import get_extractor, policy_kwargs_for

    algo, game, extractor = canonical_algo(algo), canonical_game(game), get_extractor(extractor).name
    seed, timesteps = checks.whole(seed, "seed", 0), checks.whole(timesteps, "timesteps", 1)
    proto, env_backend = get_protocol(protocol), get_backend(backend)
    agent = load_preset(algo, preset, hyperparameters, n_envs=checks.optional_whole(n_envs, "n_envs", 1))
    extractor_kwargs = dict(extractor_kwargs or {})
    policy_kwargs = policy_kwargs_for(extractor, **extractor_kwargs)  # checks the kwargs
    eval_episodes = checks.whole(eval_episodes, "eval_episodes", 0)
    eval_freq = default_eval_freq(timesteps) if eval_freq is None else checks.whole(eval_freq, "eval_freq", 0)
    checkpoint_freq = (
        default_checkpoint_freq(timesteps)
        if checkpoint_freq is None
        else checks.whole(checkpoint_freq, "checkpoint_freq", 0)
    )
    threads = default_threads() if threads is None else checks.whole(threads, "threads", 1)
    device = checks.torch_device(device)
    name = run_name(game, algo, extractor, seed)
    config = RunConfig(
        run=name, algo=algo, game=game, extractor=extractor, extractor_kwargs=extractor_kwargs, seed=seed,
        timesteps=timesteps, protocol=proto.to_dict(), backend=env_backend.name, n_envs=agent.n_envs,
        agent={**agent.to_dict(), "source": agent.source}, policy=_policy_record(policy_kwargs),
        evaluation=EvaluationConfig(
            freq=eval_freq, games=eval_episodes, deterministic=bool(eval_deterministic),
            n_envs=min(agent.n_envs, eval_episodes) if eval_episodes else 0,
        ),
        checkpoint_freq=checkpoint_freq, seeds=derive_seeds(seed), device=device, threads=threads,
        resume=env_backend.resume, learner=(learner or LearnerSettings()).to_dict(), versions=software_versions(),
        commit=code_commit(), machine=machine(device), command=command or _python_call(algo, game, extractor, seed, timesteps), created=_now(),
    )  # fmt: skip
    path = _run_dir(out, run_dir, name)
    return RunPlan(path, config, agent, proto, env_backend, device, threads)


def _policy_record(policy_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    from rl_coordconv.extractors import recorded_kwargs

    cls = policy_kwargs["features_extractor_class"]
    return {
        "features_extractor": f"{cls.__module__}.{cls.__qualname__}",
        "features_extractor_kwargs": recorded_kwargs(cls, policy_kwargs["features_extractor_kwargs"]),
        "net_arch": list(policy_kwargs["net_arch"]),
    }


def _run_dir(out: str | Path, run_dir: str | Path | None, name: str) -> Path:
    if run_dir is None:
        path = checks.output_folder(out, "--out") / name
    else:
        path = Path(run_dir)
    if path.exists() and not path.is_dir():
        raise UserError(f"run folder {str(path)!r} is a file; pass another --out or run_dir")
    return path


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _python_call(algo: str, game: str, extractor: str, seed: int, timesteps: int) -> str:
    argv = " ".join(shlex.quote(a) for a in sys.argv)
    return f"rl_coordconv.train({algo!r}, {game!r}, {extractor!r}, seed={seed}, timesteps={timesteps}) [in: {argv}]"


def _say(quiet: bool, text: str) -> None:
    if not quiet:
        print(text, flush=True)


# -- phase 2: prepare the run folder -----------------------------------------------------------------


def prepare_run_folder(plan: RunPlan, resume: bool = False) -> FolderPlan:
    """Decide what to do with the run folder, and make it ready: new, resume, complete, or refused.

    A new run clears what an earlier attempt wrote (only the run's own files) and writes ``config.yaml``;
    a resumed run removes its stale ``error.txt``; a complete run is left untouched.

    :param plan: the checked run
    :param resume: whether an unfinished run may be continued
    :return: the decision
    :raises UserError: when the folder holds a different run, or an unfinished one and ``resume`` is off
    """
    from rl_coordconv.checkpoints import latest_checkpoint

    path, config = plan.path, plan.config
    decision = FolderPlan("new", config)
    if path.is_dir() and any(path.iterdir()):
        on_disk = _read_config(path)
        if runfolder.is_complete(path):
            _refuse_other_run(path, on_disk, config)
            return FolderPlan("complete", on_disk or config)
        if not resume:
            raise UserError(
                f"run folder {str(path)!r} holds an unfinished run; pass --resume (resume=True) to continue it, "
                "or choose another --out"
            )
        checkpoint = latest_checkpoint(path)
        if checkpoint is not None and on_disk is not None:
            _refuse_other_run(path, on_disk, config)  # (without a checkpoint there is nothing to continue)
            decision = FolderPlan("resume", on_disk, checkpoint)  # keep the original record
    if decision.action == "resume":
        ErrorRecord.remove(path)
        return decision
    runfolder.clear_run(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create run folder {str(path)!r}: {err.strerror or err}") from None
    config.write(path)
    return decision


def _read_config(path: Path) -> RunConfig | None:
    try:
        return RunConfig.read(path)
    except runfolder.RunFolderError:
        return None


def _refuse_other_run(path: Path, on_disk: RunConfig | None, config: RunConfig) -> None:
    if on_disk is None:
        return
    diffs = runfolder.identity_diff(on_disk, config)
    if diffs:
        raise UserError(
            f"run folder {str(path)!r} holds a different run ({'; '.join(diffs[:3])}); choose another --out or run_dir"
        )


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
    from rl_coordconv.agents import build_model
    from rl_coordconv.callbacks import RunState

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
    from rl_coordconv.agents import load_model
    from rl_coordconv.checkpoints import set_rng_state

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


# -- phase 4: learn ----------------------------------------------------------------------------------


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
            tb_log_name=config.algo.upper(),
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
