"""What a run is: :class:`RunSettings`, every parameter a user chooses for one training run, declared once.

CleanRL declares a run once, as one dataclass that is its command line, its config and its log
(``cleanrl/ppo_atari.py``: ``Args`` + ``tyro.cli``). :class:`RunSettings` is ours: each field has its
type, its default and, in its metadata (:func:`setting`), the help text of its command-line option (the
option itself is generated from the field by :mod:`rl_coordconv.settings_cli`, and so is the command a run
records to be redone), the ``config.yaml`` key its resolved value lands in, and the smallest whole number
it accepts. The record is what the user chose, as spelled (``pong`` stays ``pong``; ``None`` means "the
default"): :func:`rl_coordconv.run_plan.resolve_config` turns it into canonical names and a
:class:`~rl_coordconv.runfolder.RunConfig`. A new training option is one field here plus its use.

Numbers are checked when the record is made (one line each, e.g. ``timesteps must be a positive whole
number, got 0``); names (game, algorithm, extractor, protocol, backend, preset, device) are checked by the
registries that know them, when the run is resolved.

The run's seeds and the defaults that depend on its budget live here too (:func:`derive_seeds`,
:func:`default_eval_freq`, :func:`default_checkpoint_freq`, :func:`default_threads`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rl_coordconv import checks
from rl_coordconv.algorithms import ALGORITHMS, algorithm_names
from rl_coordconv.atari.backends import DEFAULT_BACKEND
from rl_coordconv.atari.protocols import DEFAULT_PROTOCOL

__all__ = [
    "RunSettings",
    "FolderOptions",
    "setting",
    "settings_of",
    "DEFAULT_EVAL_EPISODES",
    "derive_seeds",
    "default_threads",
    "default_eval_freq",
    "default_checkpoint_freq",
]

DEFAULT_EVAL_EPISODES = 10


def setting(
    default: Any = dataclasses.MISSING,
    *,
    help: str,
    record: str | None = None,
    flag: str | None = None,
    metavar: str | None = None,
    minimum: int | None = None,
    factory: Any = dataclasses.MISSING,
) -> Any:
    """Declare one field of a settings record: its default and what the command line and checks need.

    :param default: the default (leave it out for a required field)
    :param help: the command-line option's help text
    :param record: the ``config.yaml`` key (dotted for a nested one) the resolved value lands in
    :param flag: the option's name when it is not ``--`` + the field's name with dashes (e.g. ``--set``)
    :param metavar: how the help shows the option's value
    :param minimum: for a whole number: the smallest accepted value (checked when the record is made)
    :param factory: a default factory, for a mutable default
    :return: a :func:`dataclasses.field`
    """
    metadata = {"help": help, "record": record, "flag": flag, "metavar": metavar, "minimum": minimum}
    if factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def _check_numbers(record: Any) -> None:
    """Check (and make ``int``) every field declared with a ``minimum``; copy mappings so the record owns them."""
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        minimum = f.metadata.get("minimum")
        if minimum is not None:
            object.__setattr__(record, f.name, checks.optional_whole(value, f.name, minimum))
        elif isinstance(value, Mapping):
            object.__setattr__(record, f.name, dict(value))


@dataclass(frozen=True, kw_only=True)
class RunSettings:
    """Every parameter a user chooses for one training run (:func:`rl_coordconv.training.train`).

    :param algo: ``a2c`` or ``ppo``
    :param game: any spelling of the game (``Pong``, ``ALE/Pong-v5``, ``PongNoFrameskip-v4``)
    :param extractor: a registered extractor (``nature``, ``coordconv``, ``coordconv_all``, ``coordconv_r``)
    :param seed: the root seed; every other seed derives from it (:func:`derive_seeds`)
    :param timesteps: the budget in agent steps (summed over the parallel environments); training stops at
        the first rollout boundary at or after it
    :param protocol: ``standard`` (zoo/SB3 numbers) or ``machado`` (sticky actions, no life-loss signal)
    :param n_envs: parallel environments (None: the preset's, 16 for A2C, 8 for PPO)
    :param preset: a preset file or built-in name (None: the built-in preset of ``algo``)
    :param hyperparameters: values overriding the preset's, e.g. ``{"n_steps": 16}``
    :param extractor_kwargs: extra constructor arguments for the extractor
    :param device: ``auto``, ``cpu`` or ``cuda``
    :param eval_freq: agent steps between evaluations (None: :func:`default_eval_freq`; 0: only the final
        evaluation)
    :param eval_episodes: whole games per evaluation (0: no evaluation at all)
    :param eval_deterministic: evaluate with the most likely action (default: sample, as zoo does on Atari)
    :param checkpoint_freq: agent steps between checkpoints (None: :func:`default_checkpoint_freq`; 0: none,
        and no resume)
    :param threads: torch threads (None: :func:`default_threads`); set for the whole process
    :param backend: the environment backend: ``ale_vector`` (the default; ale-py's C++ vector env) or
        ``sb3`` (SB3's Atari wrappers, game after game in Python); both resume exactly
    :param compile: ``torch.compile`` the features extractor (:class:`rl_coordconv.learner.LearnerSettings`);
        it never changes what is learned
    :param channels_last: keep the policy's convolution weights NHWC (``torch.channels_last``; the default)
    :raises UserError: for a number out of its range (one line naming the field)
    """

    algo: str = setting(help="the algorithm", record="algo", metavar="{" + ",".join(algorithm_names()) + "}")
    game: str = setting(help="Atari game: Pong, pong, ALE/Pong-v5 ... (list: rl-coordconv games)", record="game")
    extractor: str = setting(
        "coordconv", help="features extractor (list: rl-coordconv extractors); default coordconv", record="extractor"
    )
    seed: int = setting(0, help="root seed; every other seed derives from it (default 0)", record="seed", minimum=0)
    timesteps: int = setting(
        1_000_000,
        help="budget in agent steps, summed over envs (default 1000000)",
        record="timesteps",
        minimum=1,
    )
    protocol: str = setting(
        DEFAULT_PROTOCOL,
        help=f"standard (zoo/SB3 numbers) or machado (sticky actions); default {DEFAULT_PROTOCOL}",
        record="protocol.name",
    )
    n_envs: int | None = setting(None, help="parallel environments (default: the preset's)", record="n_envs", minimum=1)
    preset: str | Path | None = setting(
        None,
        help=f"agent preset: {', '.join(a.preset for a in ALGORITHMS.values())} or a YAML file (default: the algo's)",
        record="agent.source",
    )
    hyperparameters: dict[str, Any] = setting(
        factory=dict,
        help="override a preset value, e.g. --set n_steps=64 --set learning_rate=lin_1e-3 (repeatable)",
        record="agent",
        flag="--set",
        metavar="KEY=VALUE",
    )
    extractor_kwargs: dict[str, Any] = setting(
        factory=dict,
        help="an extra constructor argument of the extractor, e.g. --extractor-arg with_r=true (repeatable)",
        record="extractor_kwargs",
        flag="--extractor-arg",
        metavar="KEY=VALUE",
    )
    device: str = setting("auto", help="auto, cpu or cuda (default auto)", record="device")
    eval_freq: int | None = setting(
        None,
        help="agent steps between evaluations (default: a tenth of the run, within 50k-250k; 0: at the end only)",
        record="evaluation.freq",
        minimum=0,
    )
    eval_episodes: int = setting(
        DEFAULT_EVAL_EPISODES,
        help="whole games per evaluation (default 10; 0: no evaluation)",
        record="evaluation.games",
        minimum=0,
    )
    eval_deterministic: bool = setting(
        False, help="evaluate with the most likely action (default: sample)", record="evaluation.deterministic"
    )
    checkpoint_freq: int | None = setting(
        None,
        help="agent steps between checkpoints (default: a tenth of the run, at most 100k; 0: none)",
        record="checkpoint_freq",
        minimum=0,
    )
    threads: int | None = setting(
        None, help="torch threads (default: the CPUs available, at most 8)", record="threads", minimum=1
    )
    backend: str = setting(
        DEFAULT_BACKEND,
        help="environment backend: ale_vector (ale-py's C++ vector env, faster) or sb3 (SB3's wrappers in Python, "
        f"the pipeline of zoo's published scores); both resume exactly; default {DEFAULT_BACKEND}",
        record="backend",
    )
    compile: bool = setting(
        False,
        help="torch.compile the features extractor (faster updates after a start-up cost; same learning)",
        record="learner.compile",
    )
    channels_last: bool = setting(
        True,
        help="keep the convolution weights NCHW instead of channels-last (slower on CPU; same learning)",
        record="learner.channels_last",
    )

    def __post_init__(self) -> None:
        _check_numbers(self)


@dataclass(frozen=True, kw_only=True)
class FolderOptions:
    """Where a run's folder is and what stays in it: not what the run is, but part of the command that redoes it.

    :param out: parent folder of the run folder (ignored when ``run_dir`` is given)
    :param run_dir: the exact run folder (None: ``out / run_name(game, algo, extractor, seed)``)
    :param keep_checkpoints: keep the checkpoints once the run is complete (default: delete them)
    """

    out: str | Path = setting("runs", help="parent folder of the run folder (default runs/)")
    run_dir: str | Path | None = setting(None, help="exact run folder (default OUT/GAME-ALGO-EXTRACTOR-seedSEED)")
    keep_checkpoints: bool = setting(False, help="keep checkpoints once the run is complete")


def settings_of(
    settings: RunSettings | str | None,
    game: str | None = None,
    extractor: str | None = None,
    seed: int | None = None,
    timesteps: int | None = None,
    learner: Any = None,
    **fields: Any,
) -> RunSettings:
    """The settings of a call in either form: a :class:`RunSettings`, or the keyword form ``train(algo, game, ...)``.

    :param settings: the settings, or (keyword form) the algorithm
    :param game: the game (keyword form)
    :param extractor: the extractor (keyword form)
    :param seed: the root seed (keyword form)
    :param timesteps: the budget in agent steps (keyword form)
    :param learner: a :class:`rl_coordconv.learner.LearnerSettings` (keyword form): its ``compile`` and
        ``channels_last`` fields
    :param fields: any other field of :class:`RunSettings`, by name
    :return: the settings
    :raises TypeError: for a RunSettings mixed with keywords, or a keyword that is no field
    :raises UserError: for a number out of its range
    """
    positional = {"game": game, "extractor": extractor, "seed": seed, "timesteps": timesteps}
    if isinstance(settings, RunSettings):
        if fields or learner is not None or any(v is not None for v in positional.values()):
            raise TypeError("pass either a RunSettings or keyword arguments, not both")
        return settings
    values: dict[str, Any] = {k: v for k, v in positional.items() if v is not None}
    if settings is not None:
        values["algo"] = settings
    if learner is not None:
        values.update(compile=learner.compile, channels_last=learner.channels_last)
    values.update(fields)
    names = {f.name for f in dataclasses.fields(RunSettings)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise TypeError(f"unknown training option(s) {', '.join(unknown)}; the options are {', '.join(sorted(names))}")
    missing = [name for name in ("algo", "game") if name not in values]
    if missing:
        raise TypeError(f"missing training option(s): {', '.join(missing)}")
    return RunSettings(**values)


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
