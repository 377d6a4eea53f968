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
YAML (with the line from the parser's error mark). Nothing is ever ``eval``-ed.

A *cell* is one run: ``(game, algo, extractor, seed)``. :meth:`Spec.cells` lists them in a fixed
order, seed outermost and extractor innermost, so that a sweep cut short holds whole seeds of every
comparison and paired extractors train side by side under the same machine load.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from rl_coordconv.agents import ALGOS
from rl_coordconv.atari.backends import DEFAULT_BACKEND
from rl_coordconv.checks import as_whole
from rl_coordconv.errors import UserError, check_name, normalize_name, unknown_name
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

#: Top-level keys a spec accepts, and whether each is required.
SPEC_KEYS: dict[str, bool] = {
    "name": False,
    "description": False,
    "plugins": False,
    "games": True,
    "algos": True,
    "extractors": True,
    "seeds": True,
    "agent_steps": True,
    "protocol": False,
    "score": False,
    "smallest_effect": False,
    "backend": False,
    "n_envs": False,
    "checkpoint_freq": False,
    "evaluation": False,
    "hyperparameters": False,
}
#: Keys accepted under ``evaluation``.
EVALUATION_KEYS: tuple[str, ...] = ("eval_freq", "eval_episodes")


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
    protocol: str = "standard"
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
    return _Validator(source, lines).spec(data, default_name, text)


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


def _key_lines(node: yaml.Node, source: str) -> dict[tuple[Any, ...], int]:
    """Map each key path (``("evaluation", "eval_freq")``, ``("games", 2)``) to its 1-based line.

    Duplicate keys in a mapping are refused here, since the YAML loader would silently keep the last.
    """
    lines: dict[tuple[Any, ...], int] = {(): node.start_mark.line + 1}

    def walk(n: yaml.Node, path: tuple[Any, ...]) -> None:
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
                child: tuple[Any, ...] = (*path, key)
                lines[child] = line
                walk(value_node, child)
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                child = (*path, i)
                lines[child] = item.start_mark.line + 1
                walk(item, child)

    walk(node, ())
    return lines


class _Validator:
    """Checks one parsed document, turning every problem into a UserError with file, line and key."""

    def __init__(self, source: str, lines: Mapping[tuple[Any, ...], int]) -> None:
        self.source = source
        self.lines = lines

    def error(self, path: tuple[Any, ...], message: str) -> UserError:
        line = self.lines.get(path)
        probe = path
        while line is None and probe:
            probe = probe[:-1]
            line = self.lines.get(probe)
        key = ".".join(str(p) for p in path if not isinstance(p, int)) or "(top level)"
        where = f", line {line}" if line is not None else ""
        return UserError(f"{self.source}{where}, key {key!r}: {message}")

    # -- scalar checks -------------------------------------------------------------------------------
    def positive_int(self, path: tuple[Any, ...], value: Any, optional: bool = False) -> int | None:
        if value is None and optional:
            return None
        number = as_whole(value)
        if number is None:
            raise self.error(path, f"must be a positive whole number (e.g. 100_000), got {value!r}")
        if number <= 0:
            raise self.error(path, f"must be positive, got {number}")
        return number

    def whole(self, path: tuple[Any, ...], value: Any) -> int | None:
        """A whole number >= 0, or None (left out)."""
        if value is None:
            return None
        number = as_whole(value)
        if number is None or number < 0:
            raise self.error(path, f"must be a whole number >= 0, got {value!r}")
        return number

    def name_list(self, path: tuple[Any, ...], value: Any) -> list[tuple[tuple[Any, ...], str]]:
        """Accept a name or a non-empty list of names; return (path, name) pairs."""
        if isinstance(value, str):
            return [(path, value)]
        if not isinstance(value, list) or not value:
            raise self.error(path, f"must be a name or a non-empty list of names, got {value!r}")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.error((*path, i), f"entries must be names (strings), got {item!r}")
            out.append(((*path, i), item))
        return out

    def unique(self, path: tuple[Any, ...], pairs: list[tuple[tuple[Any, ...], str]], canon: list[str]) -> None:
        seen: dict[str, str] = {}
        for (item_path, raw), name in zip(pairs, canon, strict=True):
            if name in seen:
                raise self.error(item_path, f"{raw!r} is listed twice (it is {seen[name]!r} again)")
            seen[name] = raw

    # -- the document --------------------------------------------------------------------------------
    def spec(self, data: Any, default_name: str, text: str) -> Spec:
        if not isinstance(data, dict):
            raise self.error((), f"a spec is a mapping of keys to values, got a {type(data).__name__}")
        for key in data:
            if key not in SPEC_KEYS:
                err = unknown_name("key", key, SPEC_KEYS)
                raise self.error((key,), str(err))
        missing = [k for k, required in SPEC_KEYS.items() if required and k not in data]
        if missing:
            raise self.error((), "missing required key(s): " + ", ".join(missing))

        name = data.get("name", default_name)
        if not isinstance(name, str) or not name.strip():
            raise self.error(("name",), f"must be a non-empty string, got {name!r}")
        description = data.get("description") or ""
        if not isinstance(description, str):
            raise self.error(("description",), f"must be a string, got {description!r}")
        plugins = self.plugins(data.get("plugins"))  # first: they register names the keys below use

        games = self.games(data["games"])
        algos = self.algos(data["algos"])
        extractors = self.extractors(data["extractors"])
        seeds = self.seeds(data["seeds"])
        agent_steps = self.positive_int(("agent_steps",), data["agent_steps"])
        assert agent_steps is not None

        protocol = self.protocol(data.get("protocol", "standard"))
        backend = self.backend(data.get("backend", DEFAULT_BACKEND))

        n_envs = self.positive_int(("n_envs",), data.get("n_envs"), optional=True)
        checkpoint_freq = self.positive_int(("checkpoint_freq",), data.get("checkpoint_freq"), optional=True)
        eval_freq, eval_episodes = self.evaluation(data.get("evaluation"))
        score = self.score(data.get("score"), protocol, eval_episodes)
        smallest_effect = self.smallest_effect(data.get("smallest_effect"))
        hyper = self.hyperparameters(data.get("hyperparameters"), algos, n_envs)

        return Spec(
            name=name.strip(),
            games=tuple(games),
            algos=tuple(algos),
            extractors=tuple(extractors),
            seeds=tuple(seeds),
            agent_steps=agent_steps,
            protocol=protocol,
            score=score,
            smallest_effect=smallest_effect,
            backend=backend,
            n_envs=n_envs,
            checkpoint_freq=checkpoint_freq,
            eval_freq=eval_freq,
            eval_episodes=eval_episodes,
            hyperparameters=hyper,
            description=description.strip(),
            plugins=tuple(plugins),
            source=self.source,
            text=text,
        )

    def plugins(self, value: Any) -> list[str]:
        from rl_coordconv.plugins import import_plugins

        if value is None:
            return []
        pairs = self.name_list(("plugins",), value)
        for path, name in pairs:
            try:
                import_plugins([name])
            except UserError as err:
                raise self.error(path, str(err)) from None
        return [name for _, name in pairs]

    def games(self, value: Any) -> list[str]:
        from rl_coordconv.atari import canonical_game

        pairs = self.name_list(("games",), value)
        canon = []
        for path, raw in pairs:
            try:
                canon.append(canonical_game(raw))
            except UserError as err:
                raise self.error(path, str(err)) from None
        self.unique(("games",), pairs, canon)
        return canon

    def protocol(self, value: Any) -> str:
        from rl_coordconv.atari import get_protocol

        if not isinstance(value, str):
            raise self.error(("protocol",), f"must be a protocol name such as 'standard' or 'machado', got {value!r}")
        try:
            return get_protocol(value).name
        except UserError as err:
            raise self.error(("protocol",), str(err)) from None

    def backend(self, value: Any) -> str:
        from rl_coordconv.atari import get_backend

        if not isinstance(value, str):
            raise self.error(("backend",), f"must be a backend name such as 'ale_vector' or 'sb3', got {value!r}")
        try:
            return get_backend(value).name
        except UserError as err:
            raise self.error(("backend",), str(err)) from None

    def score(self, value: Any, protocol: str, eval_episodes: int | None) -> str:
        from rl_coordconv.scores import default_score, parse_score

        if value is None:
            return default_score(protocol)
        try:
            chosen = parse_score(value)
        except UserError as err:
            raise self.error(("score",), str(err)) from None
        if chosen.kind == "eval" and eval_episodes == 0:
            raise self.error(
                ("score",),
                "is 'eval' but evaluation.eval_episodes is 0, so no run will have an evaluation; "
                "raise eval_episodes or choose 'train_last_100'",
            )
        return chosen.name

    def smallest_effect(self, value: Any) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
            raise self.error(
                ("smallest_effect",),
                f"must be a number of human-normalised IQM points between 0 and 1 (e.g. 0.02), got {value!r}",
            )
        return float(value)

    def algos(self, value: Any) -> list[str]:
        pairs = self.name_list(("algos",), value)
        canon = []
        for path, raw in pairs:
            try:
                canon.append(check_name("algorithm", raw, ALGOS))
            except UserError as err:
                raise self.error(path, str(err)) from None
        self.unique(("algos",), pairs, canon)
        return canon

    def extractors(self, value: Any) -> list[str]:
        from rl_coordconv.extractors import get_extractor

        pairs = self.name_list(("extractors",), value)
        canon = []
        for path, raw in pairs:
            try:
                canon.append(get_extractor(raw).name)
            except UserError as err:
                raise self.error(path, str(err)) from None
        self.unique(("extractors",), pairs, canon)
        return canon

    def seeds(self, value: Any) -> list[int]:
        path = ("seeds",)
        if isinstance(value, int) and not isinstance(value, bool):
            if value <= 0:
                raise self.error(path, f"a number of seeds must be positive, got {value}")
            return list(range(value))
        if not isinstance(value, list) or not value:
            raise self.error(path, f"must be a number of seeds (3 means 0, 1, 2) or a list of seeds, got {value!r}")
        seeds: list[int] = []
        for i, item in enumerate(value):
            if isinstance(item, float) or as_whole(item) is None or item < 0:
                raise self.error((*path, i), f"seeds must be whole numbers >= 0, got {item!r}")
            if item in seeds:
                raise self.error((*path, i), f"seed {item} is listed twice")
            seeds.append(item)
        return seeds

    def evaluation(self, value: Any) -> tuple[int | None, int | None]:
        path = ("evaluation",)
        if value is None:
            return None, None
        if not isinstance(value, dict):
            raise self.error(path, f"must be a mapping with keys {', '.join(EVALUATION_KEYS)}, got {value!r}")
        for key in value:
            if key not in EVALUATION_KEYS:
                raise self.error((*path, key), str(unknown_name("evaluation key", key, EVALUATION_KEYS)))
        freq = self.whole((*path, "eval_freq"), value.get("eval_freq"))
        episodes = self.whole((*path, "eval_episodes"), value.get("eval_episodes"))
        return freq, episodes

    def hyperparameters(self, value: Any, algos: list[str], n_envs: int | None) -> dict[str, dict[str, Any]]:
        from rl_coordconv.agents import load_preset

        path = ("hyperparameters",)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(path, f"must map an algorithm to preset keys (e.g. ppo: {{n_epochs: 4}}), got {value!r}")
        out: dict[str, dict[str, Any]] = {}
        for algo, overrides in value.items():
            try:
                key = check_name("algorithm", algo, ALGOS)
            except UserError as err:
                raise self.error((*path, algo), str(err)) from None
            if key not in algos:
                raise self.error(
                    (*path, algo),
                    f"{key!r} is not one of this spec's algos ({', '.join(algos)}); remove it or add it there",
                )
            if not isinstance(overrides, dict) or not all(isinstance(k, str) for k in overrides):
                raise self.error((*path, algo), f"must map preset keys to values, got {overrides!r}")
            try:
                load_preset(key, overrides=overrides, n_envs=n_envs)
            except UserError as err:
                raise self.error((*path, algo), str(err)) from None
            out[key] = dict(overrides)
        return out
