"""A run's ``config.yaml`` (:class:`RunConfig`): everything that defines the run and how it was made,
written first; the run's name (:func:`run_name`), and which keys make two configs the same run
(:data:`IDENTITY_KEYS`, :func:`identity_diff`).

:data:`FORMAT_VERSION` is written into ``config.yaml``; folders without it (format 0) read the same way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rl_coordconv import fileio
from rl_coordconv.runfolder.layout import CONFIG
from rl_coordconv.runfolder.reading import RunFolderError, build_record, load_mapping
from rl_coordconv.schema import to_mapping

#: The run-folder format written by this version. Folders without ``format_version`` (written before
#: it existed) are format 0 and read the same way: the keys did not change.
FORMAT_VERSION = 1


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
    :param agent: the resolved agent preset (:meth:`rl_coordconv.preset.Preset.to_dict`) and its ``source``
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
        return build_record(cls, {"format_version": 0, **data}, Path(source))

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
        data = load_mapping(path, "yaml")
        if data is None:
            raise RunFolderError(f"{str(Path(run_dir))!r} is not a run folder (it has no {CONFIG})")
        return cls.from_dict(data, path)

    def write(self, run_dir: str | os.PathLike[str]) -> None:
        """Write ``config.yaml`` atomically (at the current :data:`FORMAT_VERSION`).

        :param run_dir: the run folder
        """
        self.format_version = FORMAT_VERSION
        fileio.write_yaml(Path(run_dir) / CONFIG, self.to_dict())

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
        return dict(load_mapping(Path(run_dir) / CONFIG, "yaml") or {})
    except RunFolderError:
        return {}


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
    from rl_coordconv.algorithms import get_algorithm
    from rl_coordconv.atari.games import canonical_game
    from rl_coordconv.checks import whole
    from rl_coordconv.extractors import get_extractor

    return f"{canonical_game(game)}-{get_algorithm(algo).name}-{get_extractor(extractor).name}-seed{whole(seed, 'seed', 0)}"


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
