"""The shape of the analysis side (analysis, inspection, tables, the bench, the ale_vector backend): rooms
of one size, no reach into another package's private names, and one CSV writer."""

from __future__ import annotations

import ast

from test_structure import MODULES, PACKAGE

#: The modules these guards hold for: the analysis and inspection packages, the tables, the benchmark,
#: the games' names, the ale_vector backend and their subcommands.
GUARDED = sorted(
    name
    for name in MODULES
    if name.startswith(("rl_coordconv.analysis", "rl_coordconv.inspection", "rl_coordconv.bench"))
    or name
    in {
        "rl_coordconv.tables",
        "rl_coordconv.atari.games",
        "rl_coordconv.atari.ale_vector_backend",
        "rl_coordconv.atari.ale_vector_resume",
        "rl_coordconv.cli.analyze",
        "rl_coordconv.cli.inspect",
        "rl_coordconv.cli.bench",
    }
)
MAX_LINES = 500


def _tree(name: str) -> ast.Module:
    return ast.parse(MODULES[name].read_text(encoding="utf-8"))


def test_the_guarded_modules_are_found() -> None:
    assert {"rl_coordconv.analysis.report", "rl_coordconv.tables", "rl_coordconv.bench"} <= set(GUARDED)
    assert all(MODULES[name].is_relative_to(PACKAGE) for name in GUARDED)


def test_rooms_of_one_size() -> None:
    """About 500 lines at most, each module a concept one can name."""
    long = {
        name: n for name in GUARDED if (n := len(MODULES[name].read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_analysis_imports_no_private_name_of_atari() -> None:
    """Game-name folding is public in rl_coordconv.atari.games; analysis uses that, not its internals."""
    found = [
        f"{name}: {node.module}.{alias.name}"
        for name in MODULES
        if name.startswith("rl_coordconv.analysis")
        for node in ast.walk(_tree(name))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rl_coordconv.atari")
        for alias in node.names
        if alias.name.startswith("_")
    ]
    assert found == []


def _own_csv_writing(tree: ast.Module) -> list[str]:
    """Uses of ``csv.writer``, ``csv.DictWriter`` and pandas' ``to_csv``, however imported."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"writer", "DictWriter", "to_csv"}:
            if node.attr == "to_csv" or (isinstance(node.value, ast.Name) and node.value.id == "csv"):
                found.append(ast.unparse(node))
        elif isinstance(node, ast.ImportFrom) and node.module == "csv":
            found += [f"from csv import {a.name}" for a in node.names if a.name in {"writer", "DictWriter"}]
    return found


def test_one_csv_writer() -> None:
    """Every whole CSV table goes through rl_coordconv.tables.csv_text (a float format per table)."""
    found = {
        name: uses for name in GUARDED if name != "rl_coordconv.tables" and (uses := _own_csv_writing(_tree(name)))
    }
    assert found == {}


def test_the_csv_guard_sees_each_way_of_writing() -> None:
    code = "import csv\nfrom csv import DictWriter\ncsv.writer(b)\nframe.to_csv(p)\n"
    assert _own_csv_writing(ast.parse(code)) == ["from csv import DictWriter", "csv.writer", "frame.to_csv"]
