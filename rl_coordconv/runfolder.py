"""The run folder: the one on-disk format shared by training, sweeps and analysis.

One run = one (game, algo, extractor, seed). Its folder holds::

    config.yaml        RunConfig: format_version, resolved preset, extractor, protocol, seed, versions, commit,
                       machine, command
    episodes.csv       one row per finished training game (EPISODE_COLUMNS)
    evaluations.csv    one row per periodic evaluation (EVALUATION_COLUMNS)
    tb/                TensorBoard logs
    checkpoints/       periodic checkpoints used by resume
    model.zip          the final model
    progress.json      Progress, rewritten atomically while training: agent_steps, timesteps, steps_per_second
    error.txt          ErrorRecord, only when the run failed: the error on its first line, then its traceback
    status.json        RunStatus, written LAST, atomically: {"complete": true, ..., "commits": [...]}; it says
                       the rest is there

Units are stated once, here: ``agent_steps`` counts environment steps summed over all parallel
environments (one agent step = 4 frames with frameskip 4); ``frames`` counts emulator frames;
``length`` is a game's length in agent steps; ``return`` is the whole-game, unclipped Atari score.

This module is the only one that reads or writes these files: :class:`RunConfig`, :class:`RunStatus`,
:class:`Progress` and :class:`ErrorRecord` check what they read and raise :class:`RunFolderError` (a
:class:`~rl_coordconv.errors.UserError`, one line at the command line) for a damaged file.
:data:`FORMAT_VERSION` is written into ``config.yaml``; folders without it (format 0) read the same way.
The run's name (:func:`run_name`) and which keys make two configs the same run (:data:`IDENTITY_KEYS`,
:func:`identity_diff`) live here too.

Three rooms below it hold what is not particular to a run, and are re-exported here: the atomic writers
and YAML/JSON helpers (:mod:`rl_coordconv.fileio`), the CSV logs and their columns
(:mod:`rl_coordconv.runlog`), and the schema checker that reads every record (:mod:`rl_coordconv.schema`).
"""

from __future__ import annotations

import json
import os
import shutil
import traceback
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from rl_coordconv.errors import UserError
from rl_coordconv.fileio import atomic_write_text, fsync_dir, fsync_file, json_text, read_yaml, yaml_text
from rl_coordconv.runlog import (
    EPISODE_COLUMNS,
    EVALUATION_COLUMNS,
    LEGACY_EPISODE_COLUMNS,
    LEGACY_EVALUATION_COLUMNS,
    CsvLog,
    format_number,
    read_rows,
    truncate_rows,
)
from rl_coordconv.schema import Mismatch, build, to_mapping

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "CONFIG",
    "EPISODES",
    "EVALUATIONS",
    "STATUS",
    "MODEL",
    "ERROR",
    "PROGRESS",
    "CHECKPOINTS",
    "TENSORBOARD",
    "INSPECT_DIR",
    "INSPECT_SUMMARY",
    "INSPECT_PROBE",
    "INSPECT_COORD_TERMS",
    "INSPECT_RECORDS",
    "EPISODE_COLUMNS",
    "EVALUATION_COLUMNS",
    "LEGACY_EPISODE_COLUMNS",
    "LEGACY_EVALUATION_COLUMNS",
    "format_number",
    "fsync_dir",
    "fsync_file",
    "atomic_write_text",
    "write_json",
    "write_yaml",
    "read_yaml",
    "is_complete",
    "FORMAT_VERSION",
    "RunFolderError",
    "EvaluationConfig",
    "RunConfig",
    "read_config_data",
    "RunStatus",
    "Progress",
    "ErrorRecord",
    "IDENTITY_KEYS",
    "run_name",
    "identity_diff",
    "RUN_FILES",
    "RUN_DIRS",
    "clear_run",
    "save_model",
    "CsvLog",
    "read_rows",
    "truncate_rows",
]

CONFIG = "config.yaml"
EPISODES = "episodes.csv"
EVALUATIONS = "evaluations.csv"
STATUS = "status.json"
MODEL = "model.zip"
ERROR = "error.txt"
PROGRESS = "progress.json"
CHECKPOINTS = "checkpoints"
TENSORBOARD = "tb"
#: ``rl-coordconv inspect``'s folder inside a run folder, and the files of it that hold its numbers: the
#: summary ``analyze --inspect`` reads, the translation probe and the per-filter coordinate terms. Its
#: figures, arrays and GIF are views of the weights, not records (``rl-coordconv export`` leaves them).
INSPECT_DIR = "inspect"
INSPECT_SUMMARY = "summary.json"
INSPECT_PROBE = "probe.csv"
INSPECT_COORD_TERMS = "coord_terms.csv"
INSPECT_RECORDS: tuple[str, ...] = (INSPECT_SUMMARY, INSPECT_PROBE, INSPECT_COORD_TERMS)

_R = TypeVar("_R", bound="DataclassInstance")

# -- the typed records ---------------------------------------------------------------------------------

#: The run-folder format written by this version. Folders without ``format_version`` (written before
#: it existed) are format 0 and read the same way: the keys did not change.
FORMAT_VERSION = 1


def write_json(path: str | os.PathLike[str], data: Mapping[str, Any]) -> None:
    """Atomically write ``data`` as indented JSON (through this module's :func:`atomic_write_text`).

    :param path: destination
    :param data: a JSON-serialisable mapping
    """
    atomic_write_text(path, json_text(data))


def write_yaml(path: str | os.PathLike[str], data: Mapping[str, Any]) -> None:
    """Atomically write ``data`` as block-style YAML, keys in the order given.

    :param path: destination
    :param data: a YAML-serialisable mapping (plain Python types)
    """
    atomic_write_text(path, yaml_text(data))


class RunFolderError(UserError):
    """A run-folder file exists but cannot be read as the format says (damaged, or written by another tool)."""


def _problem(path: Path, message: str) -> RunFolderError:
    return RunFolderError(f"{path}: {message}; the file is damaged or was not written by rl-coordconv")


def _from_mapping(cls: type[_R], data: Mapping[str, Any], path: Path) -> _R:
    """:func:`rl_coordconv.schema.build`, turning a mismatch into a :class:`RunFolderError` naming the file."""
    try:
        return build(cls, data)
    except Mismatch as err:
        raise _problem(path, str(err)) from None


def _load(path: Path, kind: str) -> Any:
    """Parse a YAML or JSON file; None when it is missing; RunFolderError when it does not parse."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise RunFolderError(f"cannot read {path}: {err}") from None
    try:
        data = json.loads(text) if kind == "json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise _problem(path, f"malformed {kind.upper()} ({first})") from None
    if not isinstance(data, dict):
        raise _problem(path, f"expected a mapping of keys to values, got {type(data).__name__}")
    return data


@dataclass
class EvaluationConfig:
    """How a run evaluates (``config.yaml``'s ``evaluation``).

    :param freq: agent steps between evaluations (0: only the final one)
    :param games: whole games per evaluation (0: no evaluation at all)
    :param deterministic: play the most likely action instead of sampling
    :param n_envs: parallel environments used to play the evaluation games
    """

    freq: int
    games: int
    deterministic: bool = False
    n_envs: int = 0


@dataclass(kw_only=True)
class RunConfig:
    """A run's ``config.yaml``: everything that defines it and how it was made, written first.

    New fields get a default, so folders written before them still read; keys this version does not know
    (written by a newer one) are kept in :attr:`extra` and written back unchanged.

    :param format_version: the run-folder format (:data:`FORMAT_VERSION`; 0 for folders that predate it)
    :param run: the run's name (:func:`run_name`)
    :param algo: ``a2c`` or ``ppo``
    :param game: the canonical game name
    :param extractor: the registered extractor name
    :param extractor_kwargs: the extractor's extra constructor arguments
    :param seed: the root seed
    :param timesteps: the budget in agent steps
    :param protocol: the protocol's settings (:meth:`rl_coordconv.atari.Protocol.to_dict`)
    :param backend: the environment backend's name
    :param n_envs: parallel training environments
    :param agent: the resolved agent preset (:meth:`rl_coordconv.agents.Preset.to_dict`) and its ``source``
    :param policy: the policy's extractor class, its kwargs and ``net_arch``
    :param evaluation: the evaluation settings
    :param checkpoint_freq: agent steps between checkpoints (0: none)
    :param seeds: the derived seeds (``root``, ``training``, ``evaluation``)
    :param device: the torch device trained on
    :param threads: torch threads
    :param resume: how the run resumes after an interruption: ``exact`` (the environment backend restores
        the games in progress) or ``repeatable`` (they restart with seeds derived from the checkpoint)
    :param learner: how the policy computed (:class:`rl_coordconv.learner.LearnerSettings` as a mapping;
        None for runs made before those settings existed: eager float32, NCHW)
    :param versions: software versions
    :param commit: the git commit of the rl-coordconv code that created the run, ``-dirty`` when its
        files had uncommitted changes; None when unknown, or for runs made before commits were recorded
        (:func:`rl_coordconv.provenance.code_commit`; ``status.json`` lists every session's)
    :param machine: the computer that created the run (:func:`rl_coordconv.provenance.machine`); None for
        runs made before machines were recorded (``status.json`` lists every session's)
    :param command: the command line (or Python call) that started the run
    :param created: when the run folder was created (ISO 8601, UTC)
    :param extra: keys this version does not know, kept verbatim
    """

    format_version: int = FORMAT_VERSION
    run: str
    algo: str
    game: str
    extractor: str
    extractor_kwargs: dict[str, Any] = field(default_factory=dict)
    seed: int
    timesteps: int
    protocol: dict[str, Any]
    backend: str
    n_envs: int
    agent: dict[str, Any]
    policy: dict[str, Any] = field(default_factory=dict)
    evaluation: EvaluationConfig
    checkpoint_freq: int = 0
    seeds: dict[str, int]
    device: str = "cpu"
    threads: int = 1
    resume: str = "exact"
    learner: dict[str, Any] | None = None
    versions: dict[str, str] = field(default_factory=dict)
    commit: str | None = None
    machine: str | None = None
    command: str = ""
    created: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str | os.PathLike[str] = CONFIG) -> RunConfig:
        """Check a mapping (a parsed ``config.yaml``) and build the config.

        :param data: the mapping
        :param source: where it came from, for messages
        :return: the config
        :raises RunFolderError: for a missing key, a value of the wrong type, or a newer format
        """
        version = data.get("format_version", 0)
        if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
            raise RunFolderError(
                f"{source}: run-folder format {version} is newer than this rl-coordconv reads ({FORMAT_VERSION}); "
                "upgrade rl-coordconv"
            )
        return _from_mapping(cls, {"format_version": 0, **data}, Path(source))

    def to_dict(self) -> dict[str, Any]:
        """The config as plain data, in ``config.yaml``'s key order (``format_version`` first).

        :return: a YAML-serialisable mapping
        """
        return to_mapping(self)

    @classmethod
    def read(cls, run_dir: str | os.PathLike[str]) -> RunConfig:
        """Read and check a run folder's ``config.yaml``.

        :param run_dir: the run folder
        :return: the config
        :raises RunFolderError: when the file is missing or malformed
        """
        path = Path(run_dir) / CONFIG
        data = _load(path, "yaml")
        if data is None:
            raise RunFolderError(f"{str(Path(run_dir))!r} is not a run folder (it has no {CONFIG})")
        return cls.from_dict(data, path)

    def write(self, run_dir: str | os.PathLike[str]) -> None:
        """Write ``config.yaml`` atomically (at the current :data:`FORMAT_VERSION`).

        :param run_dir: the run folder
        """
        self.format_version = FORMAT_VERSION
        write_yaml(Path(run_dir) / CONFIG, self.to_dict())

    @property
    def frame_skip(self) -> int:
        """Emulator frames per agent step under the run's protocol."""
        return int(self.protocol.get("frame_skip", 4))


def read_config_data(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a ``config.yaml`` leniently, for listings that must show damaged or foreign folders too.

    :param run_dir: the run folder
    :return: the parsed mapping; empty when the file is missing or does not parse
    """
    try:
        return dict(_load(Path(run_dir) / CONFIG, "yaml") or {})
    except RunFolderError:
        return {}


@dataclass
class RunStatus:
    """A run's ``status.json``, written last: its presence says the rest of the folder is there.

    :param complete: the run finished
    :param run: the run's name
    :param agent_steps: agent steps trained
    :param frames: emulator frames (agent steps x frame skip)
    :param timesteps: the budget in agent steps
    :param games: training games finished
    :param evaluations: evaluations done
    :param final_mean_return: the final evaluation's mean whole-game score (None without evaluation)
    :param wall_seconds: wall-clock seconds of training over all sessions
    :param sessions: how many times the run was started (1 + resumes)
    :param commits: the rl-coordconv commits its sessions ran, each once, in order (``"unknown"`` where
        none was found; None for runs made before commits were recorded)
    :param machines: the computers its sessions ran on, each once, in order (``"unknown"`` for sessions
        of a version that did not record them; None for runs made before machines were recorded)
    :param finished: when it finished (ISO 8601, UTC)
    :param extra: keys this version does not know, kept verbatim
    """

    complete: bool
    run: str | None = None
    agent_steps: int | None = None
    frames: int | None = None
    timesteps: int | None = None
    games: int | None = None
    evaluations: int | None = None
    final_mean_return: float | None = None
    wall_seconds: float | None = None
    sessions: int | None = None
    commits: list[str] | None = None
    machines: list[str] | None = None
    finished: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, run_dir: str | os.PathLike[str]) -> RunStatus | None:
        """Read and check ``status.json``.

        :param run_dir: the run folder
        :return: the status, or None when the run has not finished (no status file)
        :raises RunFolderError: when the file is malformed
        """
        path = Path(run_dir) / STATUS
        data = _load(path, "json")
        return None if data is None else _from_mapping(cls, data, path)

    def write(self, run_dir: str | os.PathLike[str]) -> None:
        """Write ``status.json`` atomically (do it last).

        :param run_dir: the run folder
        """
        write_json(Path(run_dir) / STATUS, to_mapping(self))

    def summary(self) -> str:
        """One phrase for messages: agent steps and the final evaluation's mean.

        :return: e.g. ``"800 agent steps, final evaluation mean 1.5"``
        """
        score = f", final evaluation mean {self.final_mean_return:g}" if self.final_mean_return is not None else ""
        steps = self.agent_steps if self.agent_steps is not None else "?"
        return f"{steps} agent steps{score}"


@dataclass
class Progress:
    """A running run's ``progress.json``, rewritten atomically every few seconds.

    :param agent_steps: agent steps done so far
    :param timesteps: the run's budget in agent steps
    :param steps_per_second: agent steps per second in the current session
    :param updated: when it was written (ISO 8601, UTC)
    :param extra: keys this version does not know, kept verbatim
    """

    agent_steps: int
    timesteps: int | None = None
    steps_per_second: float = 0.0
    updated: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, run_dir: str | os.PathLike[str]) -> Progress | None:
        """Read and check ``progress.json``.

        :param run_dir: the run folder
        :return: the progress, or None when the run has not written one
        :raises RunFolderError: when the file is malformed
        """
        path = Path(run_dir) / PROGRESS
        data = _load(path, "json")
        return None if data is None else _from_mapping(cls, data, path)

    @classmethod
    def peek(cls, run_dir: str | os.PathLike[str]) -> Progress | None:
        """Like :meth:`read`, but None for a malformed file too (for live displays that must not stop).

        :param run_dir: the run folder
        :return: the progress, or None
        """
        try:
            return cls.read(run_dir)
        except RunFolderError:
            return None

    def write(self, run_dir: str | os.PathLike[str]) -> None:
        """Write ``progress.json`` atomically.

        :param run_dir: the run folder
        """
        write_json(Path(run_dir) / PROGRESS, to_mapping(self))


@dataclass(frozen=True)
class ErrorRecord:
    """A failed run's ``error.txt``: the error on its first line, then its traceback.

    :param text: the whole text
    """

    text: str

    @classmethod
    def from_exception(cls, err: BaseException, prefix: str = "") -> ErrorRecord:
        """The record of the exception being handled (call inside ``except``).

        :param err: the exception
        :param prefix: put before the error's line, e.g. ``"Pong/ppo/nature/seed0 failed: "``
        :return: the record, with the current traceback
        """
        return cls(f"{prefix}{type(err).__name__}: {err}\n\n{traceback.format_exc()}")

    @property
    def summary(self) -> str:
        """The first line (the error), or a placeholder for an empty file."""
        lines = self.text.strip().splitlines()
        return lines[0] if lines else "failed (empty error.txt)"

    @classmethod
    def read(cls, run_dir: str | os.PathLike[str]) -> ErrorRecord | None:
        """Read ``error.txt``.

        :param run_dir: the run folder
        :return: the record, or None when the run has not failed
        """
        path = Path(run_dir) / ERROR
        try:
            return cls(path.read_text(encoding="utf-8", errors="replace"))
        except FileNotFoundError:
            return None
        except OSError as err:
            return cls(f"cannot read {path}: {err}")

    def write(self, run_dir: str | os.PathLike[str]) -> None:
        """Write ``error.txt`` atomically (creating the folder).

        :param run_dir: the run folder
        """
        atomic_write_text(Path(run_dir) / ERROR, self.text if self.text.endswith("\n") else self.text + "\n")

    @staticmethod
    def exists(run_dir: str | os.PathLike[str]) -> bool:
        """Say whether the run folder holds an ``error.txt``.

        :param run_dir: the run folder
        :return: True when it does
        """
        return (Path(run_dir) / ERROR).is_file()

    @staticmethod
    def remove(run_dir: str | os.PathLike[str]) -> None:
        """Delete a stale ``error.txt`` (before the run is tried again).

        :param run_dir: the run folder
        """
        (Path(run_dir) / ERROR).unlink(missing_ok=True)


def is_complete(run_dir: str | os.PathLike[str]) -> bool:
    """Say whether a run folder holds a finished run.

    :param run_dir: the run folder
    :return: True when ``status.json`` exists, parses and says ``complete``
    """
    try:
        status = RunStatus.read(run_dir)
    except RunFolderError:
        return False
    return bool(status and status.complete)


# -- names and identity --------------------------------------------------------------------------------

#: ``config.yaml`` keys that define a run: resuming (or re-running a complete run) with other values is refused.
IDENTITY_KEYS: tuple[str, ...] = (
    "algo",
    "game",
    "extractor",
    "extractor_kwargs",
    "seed",
    "timesteps",
    "protocol",
    "backend",
    "agent",
    "evaluation",
)


def run_name(game: str, algo: str, extractor: str, seed: int) -> str:
    """The run folder's name: game, algorithm, extractor and seed, e.g. ``Pong-ppo-coordconv-seed0``.

    :param game: any spelling of the game
    :param algo: ``a2c`` or ``ppo``
    :param extractor: a registered extractor name
    :param seed: the root seed (a whole number >= 0)
    :return: the name (canonical spellings)
    :raises UserError: for an unknown game, algorithm or extractor, or a bad seed
    """
    from rl_coordconv.agents import canonical_algo
    from rl_coordconv.atari.games import canonical_game
    from rl_coordconv.checks import whole
    from rl_coordconv.extractors import get_extractor

    return f"{canonical_game(game)}-{canonical_algo(algo)}-{get_extractor(extractor).name}-seed{whole(seed, 'seed', 0)}"


def identity_diff(old: RunConfig, new: RunConfig) -> list[str]:
    """How two configs differ in what defines a run (:data:`IDENTITY_KEYS`); the agent's ``source`` is ignored.

    :param old: the config on disk
    :param new: the config asked for now
    :return: one phrase per differing key, ``"seed 0 on disk vs 1 now"``; empty when they are the same run
    """
    a_all, b_all = old.to_dict(), new.to_dict()
    diffs = []
    for key in IDENTITY_KEYS:
        a, b = a_all.get(key), b_all.get(key)
        if key == "agent" and isinstance(a, Mapping) and isinstance(b, Mapping):
            a = {k: v for k, v in a.items() if k != "source"}
            b = {k: v for k, v in b.items() if k != "source"}
        if a != b:
            diffs.append(f"{key} {a!r} on disk vs {b!r} now")
    return diffs


#: Files a run writes; :func:`clear_run` removes exactly these (nothing else the user put there).
RUN_FILES: tuple[str, ...] = (CONFIG, EPISODES, EVALUATIONS, STATUS, MODEL, ERROR, PROGRESS)
#: Folders a run writes.
RUN_DIRS: tuple[str, ...] = (CHECKPOINTS, TENSORBOARD)


def clear_run(run_dir: str | os.PathLike[str]) -> None:
    """Remove what a run wrote (before starting it again from scratch); other files stay.

    :param run_dir: the run folder (nothing happens when it does not exist)
    """
    path = Path(run_dir)
    if not path.is_dir():
        return
    for name in RUN_FILES:
        (path / name).unlink(missing_ok=True)
    for name in RUN_DIRS:
        shutil.rmtree(path / name, ignore_errors=True)


class _Saveable(typing.Protocol):
    def save(self, path: str) -> None: ...


def save_model(run_dir: str | os.PathLike[str], model: _Saveable) -> Path:
    """Save the final model as ``model.zip`` through a temporary file and a rename.

    :param run_dir: the run folder
    :param model: anything with ``save(path)`` (an SB3 model)
    :return: the path of ``model.zip``
    """
    path = Path(run_dir)
    tmp = path / f".{MODEL}.tmp.zip"
    model.save(str(tmp))
    fsync_file(tmp)
    os.replace(tmp, path / MODEL)
    fsync_dir(path)
    return path / MODEL
