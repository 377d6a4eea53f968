"""Plug-ins: your own extractors and environment backends, in every process the package starts.

A plug-in is a module of yours that registers what it defines when it is imported::

    # my_extractors.py
    from rl_coordconv.extractors import register_extractor

    class WideCNN(BaseFeaturesExtractor): ...

    register_extractor("wide", WideCNN, "NatureCNN twice as wide")

It reaches the registries through one of the package's three doors, all of which import it by name:
in Python, ``import my_extractors`` before you use the name; in a spec, ``plugins: [my_extractors]``;
on the command line, ``--plugin my_extractors`` (``train``, ``extractors``). A name is found on the
Python path, or in the current folder (:func:`import_plugins`).

**Across processes, by import path.** A sweep's workers (spawned processes, Ray tasks) start with only
the built-in registrations. The driver hands each cell's task the registrations its spec uses beyond the
built-in ones, as plain data (:class:`Plugins`, made by :func:`plugins_for`): each extractor's name,
kwargs and description with its class's import path (``module:QualName``, the class that the run's
``config.yaml`` records as ``features_extractor``), each backend (:class:`~rl_coordconv.atari.backends.EnvBackend`
names its module), and the folders those modules were imported from. The worker puts the folders on its
Python path, imports each class by its path and registers it again (:func:`install_plugins`) before the
cell runs, so one rule covers the local executor and Ray alike: a class must be importable by its path,
that is defined at the top level of a module file, not in the script being run (``__main__``) nor inside
a function. On a Ray cluster the module must also be importable on every node (installed there, or on
storage every node sees, as the sweep folder is). rl-baselines3-zoo resolves policies the same way.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rl_coordconv.errors import UserError

__all__ = [
    "ShippedExtractor",
    "Plugins",
    "import_path",
    "resolve",
    "import_plugins",
    "plugins_for",
    "install_plugins",
]


@dataclass(frozen=True)
class ShippedExtractor:
    """A registered extractor as plain data, for another process to register again.

    :param name: its registry name
    :param target: its class's import path, ``module:QualName``
    :param kwargs: the constructor kwargs the name implies
    :param description: its one-line description
    """

    name: str
    target: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class Plugins:
    """What a worker registers before it runs a cell: the spec's extractors and backend beyond the built-ins.

    Plain data (picklable without importing any of it), so a worker can first fix its Python path.

    :param extractors: the user's extractors
    :param backends: the user's environment backends (each names its module)
    :param paths: folders the plug-in modules were imported from, put on the worker's Python path
    """

    extractors: tuple[ShippedExtractor, ...] = ()
    backends: tuple[Any, ...] = ()  # EnvBackend; Any keeps this module free of the atari package
    paths: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.extractors or self.backends)


def import_path(obj: type, what: str) -> str:
    """The import path ``module:QualName`` of a class, checked to lead back to it.

    :param obj: the class
    :param what: what it is, for the message (``"extractor 'wide'"``)
    :return: the import path
    :raises UserError: when another process could not import the class by that path
    """
    module, qualname = obj.__module__, obj.__qualname__
    why = ""
    if module in ("__main__", "__mp_main__"):
        why = "it is defined in the script being run (__main__)"
    elif "<locals>" in qualname:
        why = "it is defined inside a function"
    else:
        try:
            found = resolve(f"{module}:{qualname}")
        except (ImportError, AttributeError):
            found = None
        if found is not obj:
            why = f"{module}.{qualname} does not lead back to it"
    if why:
        raise UserError(
            f"{what} is the class {module}.{qualname}, which worker processes cannot import ({why}); define it at "
            "the top level of a module file of its own (e.g. my_extractors.py) and import that module"
        )
    return f"{module}:{qualname}"


def resolve(target: str) -> Any:
    """Import the object an import path names.

    :param target: ``module:QualName`` (or ``module.QualName``)
    :return: the object
    :raises ImportError: when the module cannot be imported
    :raises AttributeError: when the module has no such name
    """
    module, sep, qualname = target.partition(":")
    if not sep:
        module, _, qualname = target.rpartition(".")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def import_plugins(modules: Iterable[str]) -> None:
    """Import plug-in modules by name, so that what they register is in this process's registries.

    The current folder is added at the end of the Python path first (as ``python -m`` adds it at the
    start), so a ``my_extractors.py`` beside you is found; installed modules come first.

    :param modules: module names, e.g. ``["my_extractors", "my_package.cnn"]``
    :raises UserError: for a module that cannot be found
    """
    here = os.getcwd()
    if here not in sys.path:
        sys.path.append(here)
    for name in modules:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name is None or not (name == err.name or name.startswith(err.name + ".")):
                raise  # the plug-in itself imports something missing: its own error, with its traceback
            raise UserError(
                f"plug-in module {name!r} not found on the Python path or in the current folder "
                f"({here}); give a module name such as my_extractors for my_extractors.py"
            ) from None


def _folder_of(module: str) -> str | None:
    """The folder on the Python path that ``module``'s top-level package was imported from."""
    top = module.split(".")[0]
    spec = importlib.util.find_spec(top)
    if spec is None:
        return None
    if spec.origin and os.path.isfile(spec.origin):
        origin = Path(spec.origin).resolve()
        return str(origin.parent.parent if spec.submodule_search_locations else origin.parent)
    locations = list(spec.submodule_search_locations or [])
    return str(Path(locations[0]).resolve().parent) if locations else None


def plugins_for(extractors: Iterable[str], backend: str | None = None) -> Plugins:
    """The registrations a worker needs for these names beyond the built-in ones.

    :param extractors: extractor names (registered in this process)
    :param backend: the environment backend's name, if any
    :return: the :class:`Plugins` to hand each cell's task (empty when only built-ins are used)
    :raises UserError: for an unknown name, or a class other processes could not import
    """
    from rl_coordconv.atari.backends import BUILTIN_BACKENDS, get_backend
    from rl_coordconv.extractors import BUILTIN_EXTRACTORS, get_extractor

    shipped, modules = [], []
    for name in extractors:
        spec = get_extractor(name)
        if BUILTIN_EXTRACTORS.get(spec.name) is spec:
            continue
        target = import_path(spec.cls, f"extractor {spec.name!r}")
        shipped.append(ShippedExtractor(spec.name, target, dict(spec.kwargs), spec.description))
        modules.append(target.partition(":")[0])
    backends = []
    if backend is not None:
        env_backend = get_backend(backend)
        if BUILTIN_BACKENDS.get(env_backend.name) is not env_backend:
            backends.append(env_backend)
            modules.append(env_backend.module)
    paths = []
    for module in modules:
        folder = _folder_of(module)
        if folder is not None and folder not in paths:
            paths.append(folder)
    return Plugins(tuple(shipped), tuple(backends), tuple(paths))


def install_plugins(plugins: Plugins) -> None:
    """Register, in this (worker) process, what :func:`plugins_for` collected in the driver.

    :param plugins: the registrations
    :raises UserError: when a class cannot be imported here by its path
    """
    if not plugins:
        return
    from rl_coordconv.atari.backends import register_backend
    from rl_coordconv.extractors import register_extractor

    for folder in plugins.paths:
        if folder not in sys.path:
            sys.path.append(folder)
    for ext in plugins.extractors:
        try:
            cls = resolve(ext.target)
        except (ImportError, AttributeError) as err:
            raise UserError(
                f"extractor {ext.name!r}: cannot import {ext.target} in this worker ({err}); its module must be "
                "importable in every worker: on a Ray cluster install it on every node or keep it on storage "
                "every node sees"
            ) from None
        register_extractor(ext.name, cls, ext.description, **ext.kwargs)
    for backend in plugins.backends:
        register_backend(backend)
