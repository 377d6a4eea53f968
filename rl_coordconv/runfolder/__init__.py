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

This package is the only code that reads or writes these files, one module a job:

- :mod:`~rl_coordconv.runfolder.layout`: the files' and folders' names, :func:`clear_run`, :func:`save_model`;
- :mod:`~rl_coordconv.runfolder.config`: ``config.yaml`` (:class:`RunConfig`, :data:`FORMAT_VERSION`), the
  run's name (:func:`run_name`) and which keys make two configs the same run (:data:`IDENTITY_KEYS`,
  :func:`identity_diff`);
- :mod:`~rl_coordconv.runfolder.records`: ``status.json`` (:class:`RunStatus`, :func:`is_complete`),
  ``progress.json`` (:class:`Progress`) and ``error.txt`` (:class:`ErrorRecord`);
- :mod:`~rl_coordconv.runfolder.reading`: how they are read; a damaged file raises :class:`RunFolderError`
  (a :class:`~rl_coordconv.errors.UserError`, one line at the command line).

Every name is imported from here (``from rl_coordconv.runfolder import RunConfig``; this package's
``__all__`` is the one list of them, its modules keep none of their own), and so are those of the three
rooms below the package, which are not particular to a run: the atomic writers and YAML/JSON helpers every
write goes through (:mod:`rl_coordconv.fileio`), the CSV logs and their columns (:mod:`rl_coordconv.runlog`),
and the schema checker that reads every record (:mod:`rl_coordconv.schema`).
"""

from __future__ import annotations

from rl_coordconv.fileio import atomic_write_text, fsync_dir, fsync_file, read_yaml, write_json, write_yaml
from rl_coordconv.runfolder.config import (
    FORMAT_VERSION,
    IDENTITY_KEYS,
    EvaluationConfig,
    RunConfig,
    identity_diff,
    read_config_data,
    run_name,
)
from rl_coordconv.runfolder.layout import (
    CHECKPOINTS,
    CONFIG,
    EPISODES,
    ERROR,
    EVALUATIONS,
    INSPECT_COORD_TERMS,
    INSPECT_DIR,
    INSPECT_PROBE,
    INSPECT_RECORDS,
    INSPECT_SUMMARY,
    MODEL,
    PROGRESS,
    RUN_DIRS,
    RUN_FILES,
    STATUS,
    TENSORBOARD,
    clear_run,
    save_model,
)
from rl_coordconv.runfolder.reading import RunFolderError
from rl_coordconv.runfolder.records import ErrorRecord, Progress, RunStatus, is_complete
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
