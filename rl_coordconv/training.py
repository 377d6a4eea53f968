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
every ``checkpoint_freq`` agent steps. With the ``sb3`` backend it holds the model with its optimizer,
the RNG states, the environments' full snapshot (emulator state with ALE's RNG, wrapper counters, frame
stacks) and the run's counters, so a resumed run continues *exactly* as the uninterrupted run would have:
same games, same rows, same final model. What is not reproduced: ``wall_seconds`` (real time), the
TensorBoard events logged between the checkpoint and the interruption (logged twice), and, with a backend
that cannot snapshot its environments, the games in progress at the checkpoint (the environments restart
with seeds derived from the checkpoint's agent steps, so even then a resume is repeatable).
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rl_coordconv import runfolder
from rl_coordconv.errors import UserError
from rl_coordconv.runfolder import IDENTITY_KEYS, ErrorRecord, EvaluationConfig, RunConfig, RunStatus, run_name

if TYPE_CHECKING:
    from stable_baselines3.common.callbacks import BaseCallback

__all__ = [
    "train",
    "run_name",
    "derive_seeds",
    "default_threads",
    "default_eval_freq",
    "default_checkpoint_freq",
    "IDENTITY_KEYS",
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
    """Torch threads for one run: half the CPUs this process may use, at least 1 and at most 4.

    Half, because the environments step on the main thread too, and because torch's OpenMP threads
    busy-wait: on a machine shared with other work, more threads than free cores is catastrophic (measured
    here, PPO on a 2-core machine with ~6 other busy processes: 2 threads took 127 s where 1 thread took
    27 s, and 2 threads with ``OMP_WAIT_POLICY=PASSIVE`` 29 s). Several 1-thread runs side by side also
    use a machine better than one run with many threads (REFERENCE.md: 1.5x the throughput). NatureCNN-sized
    networks on small batches gain little beyond 4 threads. The sweep passes ``threads`` explicitly.

    :return: the number of threads
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus // 2))


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


# -- argument checks ---------------------------------------------------------------------------------


def _algo(algo: str) -> str:
    from rl_coordconv.agents import canonical_algo

    return canonical_algo(algo)


def _whole(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        floor = "positive" if minimum == 1 else "non-negative" if minimum == 0 else f">= {minimum}"
        raise UserError(f"{name} must be a {floor} whole number, got {value!r}")
    return int(value)


def _device(device: str) -> str:
    import torch

    text = str(device).strip().lower()
    if text == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if text == "cpu":
        return "cpu"
    if text == "cuda" or text.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise UserError(f"device {device!r} asked for, but torch sees no CUDA GPU; use --device cpu or auto")
        return text
    raise UserError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")


def _run_dir(out: str | Path, run_dir: str | Path | None, name: str) -> Path:
    if run_dir is None:
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise UserError(f"--out {str(out)!r} is a file; pass a folder for the runs")
        path = out / name
    else:
        path = Path(run_dir)
    if path.exists() and not path.is_dir():
        raise UserError(f"run folder {str(path)!r} is a file; pass another --out or run_dir")
    return path


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for dist in ("rl-coordconv", "torch", "stable-baselines3", "gymnasium", "ale-py", "numpy"):
        try:
            found[dist] = version(dist)
        except PackageNotFoundError:
            found[dist] = "not installed"
    return found


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _set_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # set already in this process, or parallel work has started
        pass


def _say(quiet: bool, text: str) -> None:
    if not quiet:
        print(text, flush=True)


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
    backend: str = "sb3",
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
    :param backend: the environment backend (``sb3``)
    :param command: the command line to record in ``config.yaml`` (default: this call)
    :param callback: an extra SB3 callback, run after the run's own
    :param quiet: print nothing
    :return: the run folder
    :raises UserError: for a bad argument, or a run folder that cannot be used as asked
    """
    from rl_coordconv.agents import load_preset
    from rl_coordconv.atari import canonical_game, get_backend, get_protocol
    from rl_coordconv.extractors import get_extractor, policy_kwargs_for

    # 1. Check every argument before touching the disk.
    algo = _algo(algo)
    name = run_name(game, algo, extractor, seed)
    game_name = canonical_game(game)
    extractor_name = get_extractor(extractor).name
    seed = _whole(seed, "seed", 0)
    timesteps = _whole(timesteps, "timesteps", 1)
    proto = get_protocol(protocol)
    env_backend = get_backend(backend)
    agent = load_preset(algo, preset, hyperparameters, n_envs=_whole(n_envs, "n_envs", 1) if n_envs is not None else None)
    extractor_kwargs = dict(extractor_kwargs or {})
    policy_kwargs = policy_kwargs_for(extractor_name, **extractor_kwargs)  # checks the kwargs
    eval_episodes = _whole(eval_episodes, "eval_episodes", 0)
    eval_freq = default_eval_freq(timesteps) if eval_freq is None else _whole(eval_freq, "eval_freq", 0)
    checkpoint_freq = (
        default_checkpoint_freq(timesteps) if checkpoint_freq is None else _whole(checkpoint_freq, "checkpoint_freq", 0)
    )
    threads = default_threads() if threads is None else _whole(threads, "threads", 1)
    device_name = _device(device)
    seeds = derive_seeds(seed)
    path = _run_dir(out, run_dir, name)

    config = RunConfig(
        run=name,
        algo=algo,
        game=game_name,
        extractor=extractor_name,
        extractor_kwargs=extractor_kwargs,
        seed=seed,
        timesteps=timesteps,
        protocol=proto.to_dict(),
        backend=env_backend.name,
        n_envs=agent.n_envs,
        agent={**agent.to_dict(), "source": agent.source},
        policy={
            "features_extractor": f"{policy_kwargs['features_extractor_class'].__module__}."
            f"{policy_kwargs['features_extractor_class'].__qualname__}",
            "features_extractor_kwargs": dict(policy_kwargs["features_extractor_kwargs"]),
            "net_arch": list(policy_kwargs["net_arch"]),
        },
        evaluation=EvaluationConfig(
            freq=eval_freq,
            games=eval_episodes,
            deterministic=bool(eval_deterministic),
            n_envs=min(agent.n_envs, eval_episodes) if eval_episodes else 0,
        ),
        checkpoint_freq=checkpoint_freq,
        seeds=seeds,
        device=device_name,
        threads=threads,
        versions=_versions(),
        command=command or _python_call(algo, game_name, extractor_name, seed, timesteps),
        created=_now(),
    )

    # 2. Decide what to do with the run folder.
    checkpoint = None
    if path.is_dir() and any(path.iterdir()):
        on_disk = _read_config(path)
        if runfolder.is_complete(path):
            _refuse_other_run(path, on_disk, config)
            status = RunStatus.read(path)
            _say(quiet, f"{path}: this run is already complete ({status.summary() if status else '?'}); nothing to do.")
            return path
        if not resume:
            raise UserError(
                f"run folder {str(path)!r} holds an unfinished run; pass --resume (resume=True) to continue it, "
                "or choose another --out"
            )
        from rl_coordconv.checkpoints import latest_checkpoint

        checkpoint = latest_checkpoint(path)
        if checkpoint is not None and on_disk is not None:
            _refuse_other_run(path, on_disk, config)  # (without a checkpoint there is nothing to continue)
            config = on_disk  # keep the original record (its command, seeds, creation time)
    if checkpoint is None:
        runfolder.clear_run(path)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise UserError(f"cannot create run folder {str(path)!r}: {err.strerror or err}") from None
        config.write(path)
    else:
        ErrorRecord.remove(path)

    _set_threads(threads)
    try:
        _run(path, config, agent, proto, env_backend, checkpoint, device_name, progress_bar, callback, quiet, keep_checkpoints)
    except (KeyboardInterrupt, UserError):
        raise
    except BaseException as err:
        ErrorRecord.from_exception(err).write(path)
        raise
    return path


def _python_call(algo: str, game: str, extractor: str, seed: int, timesteps: int) -> str:
    argv = " ".join(shlex.quote(a) for a in sys.argv)
    return f"rl_coordconv.train({algo!r}, {game!r}, {extractor!r}, seed={seed}, timesteps={timesteps}) [in: {argv}]"


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


def _run(
    path: Path,
    config: RunConfig,
    agent: Any,
    proto: Any,
    env_backend: Any,
    checkpoint: Any,
    device: str,
    progress_bar: bool,
    extra_callback: BaseCallback | None,
    quiet: bool,
    keep_checkpoints: bool,
) -> None:
    from stable_baselines3.common.callbacks import CallbackList

    from rl_coordconv.agents import build_model, load_model
    from rl_coordconv.atari import make_vec_env
    from rl_coordconv.callbacks import EvalSettings, RunCallback, RunProgressBar, RunState
    from rl_coordconv.checkpoints import remove_checkpoints, rng_state, save_checkpoint, set_rng_state
    from rl_coordconv.evaluation import play_games

    algo, game, seeds = config.algo, config.game, config.seeds
    timesteps, n_envs = config.timesteps, config.n_envs
    evaluation_cfg = config.evaluation
    checkpoint_freq = config.checkpoint_freq
    tb_dir = str(path / runfolder.TENSORBOARD)

    env = make_vec_env(game, n_envs, seeds["training"], proto, backend=env_backend)
    if checkpoint is None:
        model = build_model(
            agent,
            env,
            extractor=config.extractor,
            extractor_kwargs=config.extractor_kwargs,
            seed=seeds["training"],
            device=device,
            tensorboard_log=tb_dir,
        )
        state = RunState(
            game_steps=[0] * n_envs,
            next_eval=(evaluation_cfg.freq or None) if evaluation_cfg.games else None,
            next_checkpoint=checkpoint_freq or None,
        )
        sessions = 1
        _say(quiet, f"{path}: training {algo} {config.extractor} on {game}, seed {config.seed}, "
                    f"{timesteps} agent steps, {n_envs} envs, {config.threads} torch threads, {device}")
    else:
        model = load_model(algo, checkpoint.model_path, env, device=device)
        model.tensorboard_log = tb_dir
        saved = checkpoint.load_state()
        state = saved["run"]
        sessions = int(saved.get("sessions", 1)) + 1
        if env_backend.can_snapshot and saved.get("env") is not None:
            env_backend.set_state(env, saved["env"])
        else:  # restart the games, repeatably
            model._last_obs = None
            env.seed(int(np.random.SeedSequence([seeds["training"], checkpoint.agent_steps]).generate_state(1)[0] % 2**30))
            state.game_steps = [0] * n_envs
        set_rng_state(saved["rng"])
        for log in (runfolder.EPISODES, runfolder.EVALUATIONS):
            runfolder.truncate_rows(path / log, checkpoint.agent_steps)
        _say(quiet, f"{path}: resuming from the checkpoint at {checkpoint.agent_steps} agent steps "
                    f"(of {timesteps})")

    def save(model: Any, run_state: RunState) -> None:
        save_checkpoint(
            path,
            model,
            {
                "run": run_state,
                "rng": rng_state(),
                "env": env_backend.get_state(model.get_env()) if env_backend.can_snapshot else None,
                "sessions": sessions,
                "agent_steps": int(model.num_timesteps),
            },
        )

    evaluation = None
    if evaluation_cfg.games:

        def play(model: Any, n_games: int, seed: int) -> list[float]:
            return play_games(
                model,
                game,
                n_games,
                seed=seed,
                protocol=proto,
                backend=env_backend.name,
                n_envs=evaluation_cfg.n_envs,
                deterministic=evaluation_cfg.deterministic,
            )

        evaluation = EvalSettings(evaluation_cfg.freq, evaluation_cfg.games, play, seeds["evaluation"])

    with runfolder.CsvLog(path / runfolder.EPISODES, runfolder.EPISODE_COLUMNS) as episodes, runfolder.CsvLog(
        path / runfolder.EVALUATIONS, runfolder.EVALUATION_COLUMNS
    ) as evaluations:
        run_callback = RunCallback(
            state,
            episodes,
            evaluations,
            frame_skip=proto.frame_skip,
            timesteps=timesteps,
            run_dir=path,
            evaluation=evaluation,
            checkpoint_freq=checkpoint_freq,
            save_checkpoint=save,
        )
        callbacks: list[BaseCallback] = [run_callback]
        if progress_bar:
            label = f"{game} {algo} {config.extractor} seed {config.seed}"
            callbacks.append(RunProgressBar(label, timesteps))
        if extra_callback is not None:
            callbacks.append(extra_callback)
        remaining = max(0, timesteps - int(model.num_timesteps))
        model.learn(
            total_timesteps=remaining,
            callback=CallbackList(callbacks),
            tb_log_name=algo.upper(),
            reset_num_timesteps=checkpoint is None,
        )
        runfolder.save_model(path, model)
        if evaluation is not None:
            run_callback.evaluate()
            model.logger.dump(model.num_timesteps)
        run_callback.write_progress()
    env.close()

    eval_rows = runfolder.read_rows(path / runfolder.EVALUATIONS)
    final_mean = float(eval_rows[-1]["mean_return"]) if eval_rows else None
    steps = int(model.num_timesteps)
    RunStatus(
        complete=True,
        run=config.run,
        agent_steps=steps,
        frames=steps * proto.frame_skip,
        timesteps=timesteps,
        games=state.games,
        evaluations=state.evaluations,
        final_mean_return=final_mean,
        wall_seconds=round(run_callback.wall_seconds(), 1),
        sessions=sessions,
        finished=_now(),
    ).write(path)
    if not keep_checkpoints:
        remove_checkpoints(path)
    score = f"; final evaluation mean return {final_mean:g}" if final_mean is not None else ""
    _say(quiet, f"{path}: complete, {steps} agent steps in {run_callback.wall_seconds():.0f} s{score}")

