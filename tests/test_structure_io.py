"""The shape of the run-folder and sweep-folder rooms: owners for names, no stage reaching forward, rooms of one size in test_structure_size."""

from __future__ import annotations

import ast
from pathlib import Path

from test_structure import MODULES, imports_of

PACKAGE = Path(__file__).resolve().parents[1] / "rl_coordconv"

#: Modules that still spell the sweep folder's spec file, to switch to rl_coordconv.sweepfolder at merge.
SPEC_FILE_PENDING: set[str] = set()


def _string_constants(path: Path) -> set[str]:
    return {
        n.value
        for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


def test_only_the_sweep_folder_names_its_spec_file() -> None:
    offenders = sorted(
        name
        for name, path in MODULES.items()
        if name not in ("rl_coordconv.sweepfolder", *SPEC_FILE_PENDING) and "spec.yaml" in _string_constants(path)
    )
    assert offenders == []


def test_the_sweep_never_imports_the_analysis() -> None:
    wrong = [
        f"{name} imports {imported}"
        for name in MODULES
        if name == "rl_coordconv.sweep" or name.startswith("rl_coordconv.sweep.")
        for imported in imports_of(name)
        if imported.startswith("rl_coordconv.analysis")
    ]
    assert wrong == []


def _is_stage(module: str) -> bool:
    return any(module == s or module.startswith(s + ".") for s in ("rl_coordconv.analysis", "rl_coordconv.sweep"))


def test_the_score_kind_and_the_sweep_folder_sit_below_both_stages() -> None:
    assert not any(_is_stage(m) for m in imports_of("rl_coordconv.scores"))
    assert not any(_is_stage(m) for m in imports_of("rl_coordconv.sweepfolder"))
