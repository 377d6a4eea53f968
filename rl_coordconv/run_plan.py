"""A run's plan and its folder: the first two phases of a run (:mod:`rl_coordconv.training` lists them all).

:func:`resolve_config` turns a run's :class:`~rl_coordconv.settings.RunSettings` into canonical names,
defaults and the :class:`~rl_coordconv.runfolder.RunConfig` a new run writes (:class:`RunPlan`), touching
nothing on disk; :func:`prepare_run_folder` decides about the run folder (new, resume, complete or refused).
It reads and writes the folder only through :mod:`rl_coordconv.runfolder`'s records, and refuses a folder
that holds a different run (:func:`rl_coordconv.runfolder.identity_diff`). The parameters of a run are
declared once, as :class:`~rl_coordconv.settings.RunSettings`' fields; the keyword form of
:func:`rl_coordconv.training.train` is :func:`rl_coordconv.settings.settings_of`.
"""

from __future__ import annotations

import datetime as _dt
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from rl_coordconv import checks, runfolder
from rl_coordconv.errors import UserError
from rl_coordconv.learner import LearnerSettings
from rl_coordconv.provenance import code_commit, machine, software_versions
from rl_coordconv.runfolder import ErrorRecord, EvaluationConfig, RunConfig, run_name
from rl_coordconv.settings import (
    RunSettings,
    default_checkpoint_freq,
    default_eval_freq,
    default_threads,
    derive_seeds,
)

if TYPE_CHECKING:
    from rl_coordconv.atari import EnvBackend, Protocol
    from rl_coordconv.checkpoints import Checkpoint
    from rl_coordconv.preset import Preset

__all__ = ["RunPlan", "FolderPlan", "resolve_config", "prepare_run_folder", "run_folder"]


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


def resolve_config(
    settings: RunSettings,
    out: str | Path = "runs",
    *,
    run_dir: str | Path | None = None,
    command: str | None = None,
) -> RunPlan:
    """Check a run's settings, resolve every name and default, and build its config; nothing is written.

    :param settings: the run's settings (the keyword form of a call becomes one through
        :func:`rl_coordconv.settings.settings_of`)
    :param out: parent folder of the run folder (ignored when ``run_dir`` is given)
    :param run_dir: the exact run folder (default ``out / run_name(game, algo, extractor, seed)``)
    :param command: the command line to record (default: this Python call)
    :return: the plan
    :raises UserError: for the first bad setting
    """
    from rl_coordconv.algorithms import get_algorithm
    from rl_coordconv.atari import canonical_game, get_backend, get_protocol
    from rl_coordconv.extractors import get_extractor, policy_kwargs_for
    from rl_coordconv.preset import load_preset

    s = settings
    algo, game, extractor = get_algorithm(s.algo).name, canonical_game(s.game), get_extractor(s.extractor).name
    proto, env_backend = get_protocol(s.protocol), get_backend(s.backend)
    agent = load_preset(algo, s.preset, s.hyperparameters or None, n_envs=s.n_envs)
    policy_kwargs = policy_kwargs_for(extractor, **s.extractor_kwargs)  # checks the kwargs
    eval_freq = default_eval_freq(s.timesteps) if s.eval_freq is None else s.eval_freq
    checkpoint_freq = default_checkpoint_freq(s.timesteps) if s.checkpoint_freq is None else s.checkpoint_freq
    threads = default_threads() if s.threads is None else s.threads
    device = checks.torch_device(s.device)
    learner = LearnerSettings(channels_last=s.channels_last, compile=s.compile)
    name = run_name(game, algo, extractor, s.seed)
    config = RunConfig(
        run=name, algo=algo, game=game, extractor=extractor, extractor_kwargs=dict(s.extractor_kwargs), seed=s.seed,
        timesteps=s.timesteps, protocol=proto.to_dict(), backend=env_backend.name, n_envs=agent.n_envs,
        agent={**agent.to_dict(), "source": agent.source}, policy=_policy_record(policy_kwargs),
        evaluation=EvaluationConfig(
            freq=eval_freq, games=s.eval_episodes, deterministic=bool(s.eval_deterministic),
            n_envs=min(agent.n_envs, s.eval_episodes) if s.eval_episodes else 0,
        ),
        checkpoint_freq=checkpoint_freq, seeds=derive_seeds(s.seed), device=device, threads=threads,
        resume=env_backend.resume, learner=learner.to_dict(), versions=software_versions(), commit=code_commit(),
        machine=machine(device), command=command or _python_call(algo, game, extractor, s.seed, s.timesteps),
        created=_now(),
    )  # fmt: skip
    path = run_folder(out, run_dir, name)
    return RunPlan(path, config, agent, proto, env_backend, device, threads)


def _policy_record(policy_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    from rl_coordconv.extractors import recorded_kwargs

    cls = policy_kwargs["features_extractor_class"]
    return {
        "features_extractor": f"{cls.__module__}.{cls.__qualname__}",
        "features_extractor_kwargs": recorded_kwargs(cls, policy_kwargs["features_extractor_kwargs"]),
        "net_arch": list(policy_kwargs["net_arch"]),
    }


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _python_call(algo: str, game: str, extractor: str, seed: int, timesteps: int) -> str:
    argv = " ".join(shlex.quote(a) for a in sys.argv)
    return f"rl_coordconv.train({algo!r}, {game!r}, {extractor!r}, seed={seed}, timesteps={timesteps}) [in: {argv}]"


def run_folder(out: str | Path, run_dir: str | Path | None, name: str) -> Path:
    """The run folder of a run: ``run_dir`` when given, else ``out / name``.

    :param out: the parent folder (``--out``)
    :param run_dir: the exact run folder, or None
    :param name: the run's name (:func:`rl_coordconv.runfolder.run_name`)
    :return: the folder (not created)
    :raises UserError: when ``out`` is not a usable folder, or the run folder is a file
    """
    if run_dir is None:
        path = checks.output_folder(out, "--out") / name
    else:
        path = Path(run_dir)
    if path.exists() and not path.is_dir():
        raise UserError(f"run folder {str(path)!r} is a file; pass another --out or run_dir")
    return path


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
