"""Rooms of one size: every module of the package is at most 500 lines and says in its docstring what it is."""

from __future__ import annotations

import ast

from test_structure import MODULES

#: The most lines a module may have: past it, a module holds more than one concept you can name.
MAX_LINES = 500


def test_no_module_is_over_500_lines() -> None:
    assert {"rl_coordconv.runfolder.layout", "rl_coordconv.sweep.spec"} <= set(MODULES)  # subpackages are counted
    long = {
        name: n
        for name, path in MODULES.items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_every_module_says_what_it_is() -> None:
    silent = sorted(
        name for name, path in MODULES.items() if not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    )
    assert silent == []
