"""A run's plan and its folder: what :func:`rl_coordconv.training.resolve_config` checked (:class:`RunPlan`),
and the decision about the run folder (:func:`prepare_run_folder`: new, resume, complete or refused).

The second phase of a run (:mod:`rl_coordconv.training` lists them all). It reads and writes the folder only
through :mod:`rl_coordconv.runfolder`'s records, and refuses a folder that holds a different run
(:func:`rl_coordconv.runfolder.identity_diff`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from rl_coordconv import checks, runfolder
from rl_coordconv.errors import UserError
from rl_coordconv.runfolder import ErrorRecord, RunConfig

if TYPE_CHECKING:
    from rl_coordconv.agents import Preset
    from rl_coordconv.atari import EnvBackend, Protocol
    from rl_coordconv.checkpoints import Checkpoint

__all__ = ["RunPlan", "FolderPlan", "prepare_run_folder", "run_folder"]


@dataclass(frozen=True)
class RunPlan:
    """What :func:`rl_coordconv.training.resolve_config` checked: the run's config and the objects it names.

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
