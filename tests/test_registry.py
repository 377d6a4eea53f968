"""The one registry: folded names, the one-line unknown-name error, snapshots; and that every table of
names in the package is one."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from rl_coordconv.errors import UserError
from rl_coordconv.registry import Registry

PACKAGE = Path(__file__).resolve().parents[1] / "rl_coordconv"

#: Every registry of the package, as (module, name).
REGISTRIES = (
    ("rl_coordconv.extractors", "EXTRACTORS"),
    ("rl_coordconv.atari.backends", "ENV_BACKENDS"),
    ("rl_coordconv.algorithms", "ALGORITHMS"),
    ("rl_coordconv.atari.protocols", "PROTOCOLS"),
    ("rl_coordconv.sweep.executors", "EXECUTORS"),
    ("rl_coordconv.preset_kinds", "OPTIMIZERS"),
)


def test_names_are_folded_and_read_like_a_dict() -> None:
    colours: Registry[int] = Registry("colour")
    assert colours.register("Light-Blue", 1) == 1
    colours.register("dark green", 2)
    assert colours.names() == ("light_blue", "dark_green")
    assert colours.lookup("LIGHT-BLUE") == 1 and colours.lookup("dark_green") == 2
    assert colours["light blue"] == 1 and "Dark-Green" in colours and "red" not in colours and 3 not in colours
    assert (list(colours), len(colours), dict(colours)) == (
        ["light_blue", "dark_green"],
        2,
        {"light_blue": 1, "dark_green": 2},
    )
    colours.register("light_blue", 3)  # replacing is allowed
    assert colours.lookup("light-blue") == 3 and len(colours) == 2
    with pytest.raises(KeyError):
        colours["red"]


def test_an_unknown_name_is_one_line_with_suggestions() -> None:
    backends: Registry[str] = Registry("environment backend")
    backends.register("ale_vector", "a")
    backends.register("sb3", "b")
    with pytest.raises(UserError) as err:
        backends.lookup("gym")
    assert str(err.value) == "unknown environment backend 'gym'; choose from 'ale_vector', 'sb3'."
    with pytest.raises(UserError, match=r"did you mean 'sb3'\?"):
        backends.lookup("sb2")


def test_builtin_is_a_snapshot_a_later_register_does_not_change() -> None:
    table: Registry[str] = Registry("thing")
    table.register("one", "1")
    builtin = table.builtin()
    table.register("two", "2")
    table.register("one", "uno")
    assert dict(builtin) == {"one": "1"} and table.names() == ("one", "two")
    with pytest.raises(TypeError):
        builtin["three"] = "3"  # type: ignore[index]  # read-only, which is what is tested


@pytest.mark.parametrize(("module", "name"), REGISTRIES)
def test_every_registry_is_a_registry(module: str, name: str) -> None:
    registry = getattr(importlib.import_module(module), name)
    assert isinstance(registry, Registry) and len(registry) >= 1
    for key in registry:
        assert registry.lookup(key.upper().replace("_", "-")) is registry[key]


def _module_level_tables(tree: ast.Module) -> dict[str, ast.expr]:
    """Module-level names bound to a dict (a literal, a comprehension, ``dict(...)``, or annotated ``dict``)."""
    tables: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            annotation = ast.unparse(node.annotation)
            if annotation.startswith(("dict[", "Dict[", "MutableMapping[")) or _is_dict(node.value):
                tables[node.target.id] = node.value
        elif isinstance(node, ast.Assign) and _is_dict(node.value):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    tables[target.id] = node.value
    return tables


def _is_dict(value: ast.expr) -> bool:
    if isinstance(value, (ast.Dict, ast.DictComp)):
        return True
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict"


def _looked_up_by_name(tree: ast.Module) -> set[str]:
    """Names a module treats as a table of user-typed names: the choices of ``check_name``, or a table
    subscripted with, or tested for, a ``normalize_name``/``check_name`` result."""
    found: set[str] = set()
    folding = ("normalize_name", "check_name")

    def is_fold(node: ast.expr) -> bool:
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in folding

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "check_name":
            if len(node.args) >= 3 and isinstance(node.args[2], ast.Name):
                found.add(node.args[2].id)
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and is_fold(node.slice):
            found.add(node.value.id)
        elif isinstance(node, ast.Compare) and is_fold(node.left):
            found.update(c.id for c in node.comparators if isinstance(c, ast.Name))
    return found


def test_no_table_of_names_is_a_plain_dict() -> None:
    """A module-level dict whose keys are looked up as names a user typed should be a Registry."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in ("registry.py", "errors.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        tables = _module_level_tables(tree)
        offenders += [f"{path.relative_to(PACKAGE.parent)}: {name}" for name in _looked_up_by_name(tree) & set(tables)]
    assert not offenders, f"make these tables rl_coordconv.registry.Registry: {offenders}"


def test_the_structure_check_sees_a_plain_dict_registry() -> None:
    source = (
        "THINGS: dict[str, int] = {'a': 1}\n"
        "OTHERS = {'b': 2}\n"
        "def get(name):\n"
        "    return THINGS[check_name('thing', name, THINGS)]\n"
        "def other(name):\n"
        "    return normalize_name(name) in OTHERS\n"
    )
    tree = ast.parse(source)
    assert _looked_up_by_name(tree) & set(_module_level_tables(tree)) == {"THINGS", "OTHERS"}
