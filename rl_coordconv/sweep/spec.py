"""Experiment specs: a YAML file naming games x algorithms x extractors x seeds and one training budget.

A spec looks like this (every key is described in ``docs/sweeps.md``, "The spec format")::

    name: quick
    games: [Breakout]
    algos: [ppo]
    extractors: [nature, coordconv]
    seeds: 2                  # 2 means [0, 1]; or a list such as [0, 1, 7]
    agent_steps: 100_000      # per run, summed over the parallel environments
    protocol: standard        # or machado (rl_coordconv.atari.PROTOCOLS)
    score: eval               # optional: the headline score, eval or train_last_N (default: the protocol's)
    smallest_effect: 0.02     # optional: smallest effect of interest, human-normalised IQM points (equivalence)
    backend: ale_vector       # optional: environment backend (ale_vector, the default, or sb3)
    plugins: [my_extractors]  # optional: your modules that register extractors/backends (rl_coordconv.plugins)
    n_envs: 8                 # optional: the preset's value when left out
    checkpoint_freq: 25_000   # optional, in agent steps
    evaluation:               # optional; training's defaults when left out
      eval_freq: 50_000       # agent steps between evaluations (0: only the final one)
      eval_episodes: 10       # whole games per evaluation (0: no evaluation)
    hyperparameters:          # optional overrides of the agent preset, per algorithm
      ppo: {n_epochs: 4}

:func:`load_spec` validates everything on load and raises one :class:`~rl_coordconv.errors.UserError`
naming the file, the line and the key for the first problem it finds: unknown keys, unknown games,
algorithms or extractors (with close-match suggestions), non-positive budgets, wrong types, malformed
YAML (with the line from the parser's error mark). The file's shape is one record,
:class:`~rl_coordconv.sweep.spec_schema.SpecFile`, checked by the one schema checker
(:func:`rl_coordconv.schema.build`); this module puts the file and the YAML line in front of its
message. Nothing is ever ``eval``-ed.

A spec is grid axes over the defaults of a run: :meth:`Spec.defaults` is the
:class:`~rl_coordconv.settings.RunSettings` every cell of an algorithm shares, and the sweep fills in
each cell's game, algorithm, extractor and seed.

A *cell* is one run: ``(game, algo, extractor, seed)``. :meth:`Spec.cells` lists them in a fixed
order, seed outermost and extractor innermost, so that a sweep cut short holds whole seeds of every
comparison and paired extractors train side by side under the same machine load.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from rl_coordconv.algorithms import ALGOS
from rl_coordconv.atari.backends import DEFAULT_BACKEND
from rl_coordconv.atari.protocols import DEFAULT_PROTOCOL
from rl_coordconv.errors import UserError, normalize_name
from rl_coordconv.schema import KeyPath, Mismatch, build, dotted
from rl_coordconv.settings import RunSettings
from rl_coordconv.sweep.spec_schema import SPEC_KEYS, EvaluationFile, SpecFile
from rl_coordconv.sweepfolder import SweepFolder

__all__ = [
    "ALGOS",
    "Cell",
    "Spec",
    "load_spec",
    "parse_spec",
    "planned_cells",
    "builtin_specs",
    "SPEC_KEYS",
    "SPECS_PACKAGE",
]

#: The package that holds the built-in specs: ``experiments/*.yaml`` in a clone (mapped by
#: pyproject.toml), ``rl_coordconv/specs/*.yaml`` in an installed wheel.
SPECS_PACKAGE = "rl_coordconv.specs"


@dataclass(frozen=True, order=True)
class Cell:
    """One run of a sweep.

    :param game: canonical game name (e.g. ``Breakout``)
    :param algo: ``a2c`` or ``ppo``
    :param extractor: registered extractor name (e.g. ``coordconv``)
    :param seed: the run's root seed
    """

    game: str
    algo: str
    extractor: str
    seed: int

    @property
    def run_name(self) -> str:
        """The run folder's name, as ``rl-coordconv train`` names it."""
        from rl_coordconv.runfolder import run_name

        return run_name(self.game, self.algo, self.extractor, self.seed)

    def __str__(self) -> str:
        return f"{self.game}/{self.algo}/{self.extractor}/seed{self.seed}"


@dataclass(frozen=True)
class Spec:
    """A validated experiment spec (all names canonical, all numbers checked).

    :param name: the experiment's name (the file's stem when the spec does not say)
    :param games: canonical game names
    :param algos: algorithm names
    :param extractors: registered extractor names
    :param seeds: root seeds, one run per seed
    :param agent_steps: training budget of every run, in agent steps (summed over environments)
    :param protocol: ``standard`` or ``machado``
    :param score: the headline score of ``analyze``: ``eval`` (last evaluation mean) or ``train_last_N``
        (mean of the last N training games); the protocol's default when the spec does not say
        (:data:`rl_coordconv.scores.DEFAULT_SCORE`). It changes no run, so :meth:`resolved`
        leaves it out.
    :param smallest_effect: the smallest effect of interest, in human-normalised IQM points, declared
        before the first run: ``analyze`` reads an interval inside (-delta, +delta) as equivalence (TOST,
        Schuirmann 1987; Lakens 2017) and one that is neither inside nor beyond it as inconclusive. None:
        not declared (then no equivalence can be claimed). It changes no run, so :meth:`resolved` leaves
        it out.
    :param backend: the environment backend of every run (``ale_vector`` or ``sb3``)
    :param n_envs: parallel environments per run, or None for the preset's value
    :param checkpoint_freq: agent steps between checkpoints, or None for the training default
    :param eval_freq: agent steps between evaluations (0: only the final one), or None for the training
        default
    :param eval_episodes: whole games per evaluation (0: none), or None for the training default
    :param hyperparameters: per algorithm, preset keys to override
    :param description: free text
    :param plugins: modules imported before the names were checked, each registering extractors or
        backends (:mod:`rl_coordconv.plugins`); the names they register are what the runs record, so
        :meth:`resolved` leaves the modules out
    :param source: the file the spec was loaded from, if any
    :param text: the file's text, copied verbatim into a sweep's folder
    """

    name: str
    games: tuple[str, ...]
    algos: tuple[str, ...]
    extractors: tuple[str, ...]
    seeds: tuple[int, ...]
    agent_steps: int
    protocol: str = DEFAULT_PROTOCOL
    score: str = "eval"
    smallest_effect: float | None = None
    backend: str = DEFAULT_BACKEND
    n_envs: int | None = None
    checkpoint_freq: int | None = None
    eval_freq: int | None = None
    eval_episodes: int | None = None
    hyperparameters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    description: str = ""
    plugins: tuple[str, ...] = ()
    source: str | None = field(default=None, compare=False)
    text: str | None = field(default=None, compare=False, repr=False)

    def cells(self) -> list[Cell]:
        """List every run of the sweep in its fixed order: seed, game, algorithm, extractor.

        :return: one :class:`Cell` per (game, algo, extractor, seed)
        """
        return [
            Cell(game, algo, extractor, seed)
            for seed in self.seeds
            for game in self.games
            for algo in self.algos
            for extractor in self.extractors
        ]

    def defaults(self, algo: str) -> RunSettings:
        """The settings every cell of ``algo`` trains with, for the sweep to fill in each cell's own.

        A spec is grid axes (games, algorithms, extractors, seeds) over these defaults: its budget,
        protocol, backend, environments, evaluation, checkpoints and ``algo``'s hyperparameters (one
        record per algorithm, since the hyperparameters are); what the spec leaves out keeps
        :class:`~rl_coordconv.settings.RunSettings`' default. The game, extractor and seed are the
        first cell's, replaced per cell (:func:`rl_coordconv.sweep.worker.task_settings`).

        :param algo: one of the spec's algorithms
        :return: the settings
        """
        chosen: dict[str, Any] = {
            "timesteps": self.agent_steps,
            "protocol": self.protocol,
            "backend": self.backend,
            "n_envs": self.n_envs,
            "eval_freq": self.eval_freq,
            "eval_episodes": self.eval_episodes,
            "checkpoint_freq": self.checkpoint_freq,
            "hyperparameters": dict(self.hyperparameters.get(algo) or {}),
        }
        first: dict[str, Any] = {"game": self.games[0], "extractor": self.extractors[0], "seed": self.seeds[0]}
        return RunSettings(algo=algo, **first, **{key: value for key, value in chosen.items() if value is not None})

    def resolved(self) -> dict[str, Any]:
        """The spec's experimental content as plain data (canonical names; no name, description or text).

        Two specs that resolve to the same mapping run the same experiment; a sweep folder compares this
        to refuse a different spec.

        :return: a YAML-serialisable mapping
        """
        return {
            "games": list(self.games),
            "algos": list(self.algos),
            "extractors": list(self.extractors),
            "seeds": list(self.seeds),
            "agent_steps": self.agent_steps,
            "protocol": self.protocol,
            "backend": self.backend,
            "n_envs": self.n_envs,
            "checkpoint_freq": self.checkpoint_freq,
            "evaluation": {"eval_freq": self.eval_freq, "eval_episodes": self.eval_episodes},
            "hyperparameters": {algo: dict(values) for algo, values in sorted(self.hyperparameters.items())},
        }

    def to_yaml(self) -> str:
        """The spec as YAML (its original text when it was loaded from a file).

        :return: YAML text that :func:`parse_spec` reads back into an equal spec
        """
        if self.text is not None:
            return self.text
        data = {"name": self.name, "description": self.description, **self.resolved(), "score": self.score}
        if self.plugins:
            data = {"plugins": list(self.plugins), **data}
        if self.smallest_effect is not None:
            data["smallest_effect"] = self.smallest_effect
        return yaml.safe_dump(data, sort_keys=False, default_flow_style=None)


def builtin_specs() -> list[str]:
    """The names of the built-in specs, the ``*.yaml`` files of ``experiments/`` (shipped in the wheel).

    :return: the names (file names without ``.yaml``), sorted
    """
    folder = resources.files(SPECS_PACKAGE)
    return sorted(entry.name[: -len(".yaml")] for entry in folder.iterdir() if entry.name.endswith(".yaml"))


def _is_name(text: str) -> bool:
    """Whether ``text`` reads as a built-in spec's name rather than a path (no folder, no YAML suffix)."""
    return bool(text) and "/" not in text and os.sep not in text and not text.endswith((".yaml", ".yml"))


def load_spec(path: str | os.PathLike[str]) -> Spec:
    """Read and validate an experiment spec: a YAML file, or a built-in spec by name.

    :param path: the YAML file, or the name of a built-in spec (:func:`builtin_specs`, e.g. ``"quick"``
        for ``experiments/quick.yaml``); a file of that name in the current folder comes first
    :return: the validated spec
    :raises UserError: for a missing or unreadable file, an unknown name (listing the built-in ones),
        malformed YAML, or any invalid key or value; the message names the file, the line and the key
    """
    if not Path(path).exists() and _is_name(str(path)):
        path = _builtin_path(str(path))
    path = Path(path)
    if not path.is_file():
        hint = " (it is a folder)" if path.is_dir() else ""
        raise UserError(
            f"experiment spec {str(path)!r} not found{hint}; give a YAML file or a built-in spec's name "
            f"({', '.join(builtin_specs())})"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"cannot read experiment spec {str(path)!r}: {err}") from None
    return parse_spec(text, source=str(path), default_name=path.stem)


def _builtin_path(name: str) -> Path:
    """The file of the built-in spec ``name`` (case and ``-``/``_`` folded).

    :raises UserError: for an unknown name, listing the built-in ones
    """
    names = builtin_specs()
    folded = {normalize_name(n): n for n in names}
    if normalize_name(name) not in folded:
        raise UserError(
            f"{name!r} is neither a spec file nor a built-in spec; the built-in specs are {', '.join(names)} "
            "(or give the path of a YAML file)"
        )
    # the package's files are on disk, in a clone and in an installed wheel alike
    return Path(str(resources.files(SPECS_PACKAGE).joinpath(f"{folded[normalize_name(name)]}.yaml")))


def planned_cells(folder: str | os.PathLike[str]) -> int | None:
    """How many runs a sweep folder's ``spec.yaml`` plans (its cells), or None without a valid spec.

    ``rl-coordconv analyze`` states it beside the complete runs, so a partial study says it is partial.

    :param folder: the sweep folder (or any folder of run folders)
    :return: the number of cells, or None when the folder has no spec or one that does not validate
        (a folder of runs gathered by hand may carry some other ``spec.yaml``)
    """
    path = SweepFolder.at(folder).spec
    if not path.is_file():
        return None
    try:
        return len(load_spec(path).cells())
    except UserError:
        return None


def parse_spec(text: str, source: str = "<spec>", default_name: str = "experiment") -> Spec:
    """Validate an experiment spec given as YAML text.

    :param text: the YAML document
    :param source: where it came from, for messages
    :param default_name: the spec's name when it has no ``name`` key
    :return: the validated spec
    :raises UserError: naming the line and key of the first problem
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise UserError(_yaml_message(source, err)) from None
    if node is None:
        raise UserError(f"{source}: the spec is empty; it needs at least {_required_list()}")
    lines = _key_lines(node, source)
    if not isinstance(data, dict):
        problem = f"a spec is a mapping of keys to values, got a {type(data).__name__}"
        raise UserError(_located(source, lines, (), problem))
    try:
        record = build(SpecFile, data, strict=True)
    except Mismatch as err:
        path, problem = err.path, err.problem
        if err.missing:
            path, problem = err.path[:-1], "missing required key(s): " + ", ".join(err.missing)
        raise UserError(_located(source, lines, path, problem)) from None
    return _spec_of(record, default_name, source, text)


def _spec_of(record: SpecFile, default_name: str, source: str, text: str) -> Spec:
    """The :class:`Spec` of a checked file: its defaults filled in (the name, the protocol's score)."""
    from rl_coordconv.scores import default_score

    evaluation = record.evaluation or EvaluationFile()
    same = {f.name: getattr(record, f.name) for f in dataclasses.fields(record) if f.name not in _FILLED_IN}
    return Spec(
        **same,
        name=record.name or default_name.strip(),
        score=record.score or default_score(record.protocol),
        eval_freq=evaluation.eval_freq,
        eval_episodes=evaluation.eval_episodes,
        source=source,
        text=text,
    )


#: The keys of a spec file that its :class:`Spec` fills in or flattens; the others it takes as they are.
_FILLED_IN = ("name", "score", "evaluation")


def _located(source: str, lines: Mapping[KeyPath, int], path: KeyPath, problem: str) -> str:
    """One line naming the file, the line of ``path`` (or of the nearest key above it) and its key."""
    line = lines.get(path)
    probe = path
    while line is None and probe:
        probe = probe[:-1]
        line = lines.get(probe)
    where = f", line {line}" if line is not None else ""
    return f"{source}{where}, key {dotted(path) or '(top level)'!r}: {problem}"


def _required_list() -> str:
    return ", ".join(k for k, required in SPEC_KEYS.items() if required)


def _yaml_message(source: str, err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    context, context_mark = getattr(err, "context", None), getattr(err, "context_mark", None)
    if context and context_mark is not None and mark is not None and context_mark.line != mark.line:
        problem = f"{problem} ({context} that starts on line {context_mark.line + 1})"
    return f"{source}{where}: malformed YAML: {problem}"


def _key_lines(node: yaml.Node, source: str) -> dict[KeyPath, int]:
    """Map each key path (``("evaluation", "eval_freq")``, ``("games", 2)``) to its 1-based line.

    Duplicate keys in a mapping are refused here, since the YAML loader would silently keep the last.
    """
    lines: dict[KeyPath, int] = {(): node.start_mark.line + 1}

    def walk(n: yaml.Node, path: KeyPath) -> None:
        if isinstance(n, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in n.value:
                key = key_node.value
                line = key_node.start_mark.line + 1
                if key in seen:
                    dotted = ".".join(str(p) for p in (*path, key))
                    raise UserError(
                        f"{source}, line {line}: key {dotted!r} appears twice (first on line {seen[key]}); keep one"
                    )
                seen[key] = line
                child: KeyPath = (*path, key)
                lines[child] = line
                walk(value_node, child)
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                child = (*path, i)
                lines[child] = item.start_mark.line + 1
                walk(item, child)

    walk(node, ())
    return lines
