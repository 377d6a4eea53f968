"""Checkpoints of a training run: what resume needs to continue exactly where the run stopped.

A checkpoint is a folder ``checkpoints/step_<agent steps>/`` holding

- ``model.zip``: the SB3 model (weights, optimizer state, agent-step counter, schedules' progress, the
  last observation), written by ``model.save``;
- ``state.pkl``: everything else that decides what happens next: the random number generators
  (python, numpy, torch), the environments' snapshot from the env backend (for ``sb3``: each emulator's
  seed and recorded frame actions, replayed on resume and checked against a checksum, and the wrappers'
  counters, buffers and frame stacks), and the run's own counters.

It is written into a temporary folder (each file fsynced, with ``checksums.json``: the SHA-256 of both
files), renamed (the folder fsynced), then ``checkpoints/latest.json`` is replaced atomically, so a run
killed or powered off at any moment has a whole checkpoint to resume from. :func:`latest_checkpoint`
verifies the checksums and, when the newest checkpoint is damaged (a disk that lost a write), falls back
to the previous one with a warning. Older checkpoints beyond the last ``keep`` are removed. ``state.pkl`` is a pickle: load checkpoints only from run folders you trust
(your own).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import random
import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rl_coordconv.runfolder import CHECKPOINTS, fsync_dir, fsync_file, write_json

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

__all__ = [
    "Checkpoint",
    "rng_state",
    "set_rng_state",
    "save_checkpoint",
    "latest_checkpoint",
    "remove_checkpoints",
]

LATEST = "latest.json"
MODEL_FILE = "model.zip"
STATE_FILE = "state.pkl"
CHECKSUMS = "checksums.json"
_STEP_DIR = re.compile(r"step_(\d+)")


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint on disk.

    :param agent_steps: the agent steps done when it was taken
    :param path: its folder
    """

    agent_steps: int
    path: Path

    @property
    def model_path(self) -> Path:
        """The saved SB3 model."""
        return self.path / MODEL_FILE

    def load_state(self) -> dict[str, Any]:
        """Read ``state.pkl``.

        :return: the state saved with the checkpoint
        """
        with open(self.path / STATE_FILE, "rb") as handle:
            return pickle.load(handle)


def rng_state() -> dict[str, Any]:
    """Capture the global random number generators (python, numpy, torch CPU and CUDA).

    :return: a picklable mapping for :func:`set_rng_state`
    """
    import torch

    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the generators captured by :func:`rng_state`.

    :param state: the mapping
    """
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: str | os.PathLike[str]) -> str | None:
    """Check a checkpoint folder against its ``checksums.json``.

    :param path: the checkpoint folder
    :return: None when it is whole (or predates checksums), else what is wrong
    """
    path = Path(path)
    for name in (MODEL_FILE, STATE_FILE):
        if not (path / name).is_file():
            return f"{name} is missing"
    sums = path / CHECKSUMS
    if not sums.is_file():
        return None
    try:
        expected = json.loads(sums.read_text(encoding="utf-8"))
        for name in (MODEL_FILE, STATE_FILE):
            if _sha256(path / name) != expected[name]:
                return f"{name} does not match its checksum"
    except (OSError, ValueError, KeyError, TypeError) as err:
        return f"{CHECKSUMS} is unreadable ({err})"
    return None


def _step_dirs(root: Path) -> list[tuple[int, Path]]:
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        match = _STEP_DIR.fullmatch(child.name)
        if match and child.is_dir() and (child / MODEL_FILE).is_file() and (child / STATE_FILE).is_file():
            found.append((int(match.group(1)), child))
    return sorted(found)


def save_checkpoint(
    run_dir: str | os.PathLike[str], model: BaseAlgorithm, state: dict[str, Any], keep: int = 2
) -> Checkpoint:
    """Write a checkpoint of ``model`` and ``state`` at ``model.num_timesteps`` agent steps.

    :param run_dir: the run folder
    :param model: the SB3 model
    :param state: the rest of the state (RNGs, env snapshot, counters), picklable
    :param keep: how many of the newest checkpoints to keep (at least 1)
    :return: the checkpoint written
    """
    root = Path(run_dir) / CHECKPOINTS
    root.mkdir(parents=True, exist_ok=True)
    steps = int(model.num_timesteps)
    final = root / f"step_{steps:012d}"
    tmp = root / f".tmp-{final.name}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    model.save(tmp / MODEL_FILE)
    fsync_file(tmp / MODEL_FILE)
    with open(tmp / STATE_FILE, "wb") as handle:
        pickle.dump(state, handle, protocol=pickle.HIGHEST_PROTOCOL)
        handle.flush()
        os.fsync(handle.fileno())
    sums = {name: _sha256(tmp / name) for name in (MODEL_FILE, STATE_FILE)}
    write_json(tmp / CHECKSUMS, sums)
    fsync_dir(tmp)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    fsync_dir(root)
    write_json(root / LATEST, {"agent_steps": steps, "path": final.name, "sha256": sums})
    for _, old in _step_dirs(root)[: -max(1, keep)]:
        shutil.rmtree(old, ignore_errors=True)
    return Checkpoint(steps, final)


def latest_checkpoint(run_dir: str | os.PathLike[str]) -> Checkpoint | None:
    """Find the newest whole checkpoint of a run, verified against its checksums.

    The newest checkpoint that fails its checksums is skipped with a warning (a disk that lost a write
    after a power loss), and the previous one is used.

    :param run_dir: the run folder
    :return: the checkpoint, or None when there is none
    """
    root = Path(run_dir) / CHECKPOINTS
    for steps, path in reversed(_step_dirs(root)):
        problem = verify(path)
        if problem is None:
            return Checkpoint(steps, path)
        warnings.warn(
            f"checkpoint {path} is damaged ({problem}); resuming from the one before it", RuntimeWarning, stacklevel=2
        )
    return None


def remove_checkpoints(run_dir: str | os.PathLike[str]) -> None:
    """Delete a run's checkpoints (done once the run is complete: ``model.zip`` supersedes them).

    :param run_dir: the run folder
    """
    shutil.rmtree(Path(run_dir) / CHECKPOINTS, ignore_errors=True)
