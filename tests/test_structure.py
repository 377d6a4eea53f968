"""The package's shape: no import cycles, short functions in training, run-folder files read in one place."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "rl_coordconv"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports_of(name: str) -> set[str]:
    """Every rl_coordconv module ``name`` imports, at module level or inside functions (lazy imports
    count: they run too), leaving out ``if TYPE_CHECKING:`` blocks (annotations only)."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _type_checking_only(node):
            for child in getattr(node, "orelse", []):
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in found if m in MODULES and m != name}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := walk(nxt)):
                return cycle
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := walk(node)):
            return cycle
    return None


def test_the_package_has_no_import_cycle() -> None:
    # A package's own __init__ importing its submodules is the package's job, not a cycle.
    graph = {
        name: {m for m in imports_of(name) if not (name.startswith(m + ".") and MODULES[m].name == "__init__.py")}
        for name in MODULES
    }
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_the_flow_goes_one_way() -> None:
    """spec -> sweep -> run -> run folder -> analysis: no stage imports a later one's caller."""
    later = {
        "rl_coordconv.analysis": ("rl_coordconv.training", "rl_coordconv.sweep", "rl_coordconv.callbacks"),
        "rl_coordconv.training": ("rl_coordconv.sweep", "rl_coordconv.analysis"),
        "rl_coordconv.runfolder": ("rl_coordconv.training", "rl_coordconv.sweep", "rl_coordconv.analysis"),
    }
    wrong = [
        f"{name} imports {imported}"
        for name in MODULES
        for stage, forbidden in later.items()
        if name == stage or name.startswith(stage + ".")
        for imported in imports_of(name)
        if any(imported == f or imported.startswith(f + ".") for f in forbidden)  # a stage, not a name prefix
    ]
    wrong += [
        f"{name} imports {imported}"
        for name in MODULES
        if not name.startswith("rl_coordconv.cli") and name != "rl_coordconv.__main__"
        for imported in imports_of(name)
        if imported.startswith("rl_coordconv.cli")
    ]
    assert wrong == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def _body_lines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring does not count
    return (body[-1].end_lineno or 0) - body[0].lineno + 1 if body else 0


def test_training_functions_are_short() -> None:
    tree = ast.parse((PACKAGE / "training.py").read_text(encoding="utf-8"))
    long = {
        node.name: _body_lines(node)
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _body_lines(node) > 60
    }
    assert long == {}


RUN_FILE_NAMES = ('"config.yaml"', '"status.json"', '"progress.json"', '"error.txt"')


#: The one module that spells the run folder's file names: the rest of the runfolder package reads and
#: writes the files through its constants, every other module through the package's types.
RUN_FILE_NAMES_OWNER = "rl_coordconv.runfolder.layout"


def test_only_runfolder_names_the_run_folder_files() -> None:
    """Other modules go through rl_coordconv.runfolder's types, not through the files' names."""
    assert RUN_FILE_NAMES_OWNER in MODULES
    offenders = []
    for name, path in MODULES.items():
        if name == RUN_FILE_NAMES_OWNER:
            continue
        code = path.read_text(encoding="utf-8")
        offenders += [f"{name}: {literal}" for literal in RUN_FILE_NAMES if literal in code]
    assert offenders == []


def test_the_package_cites_nothing_outside_the_repository() -> None:
    """Docstrings cite papers and public sources; notes kept outside the repository go stale unseen."""
    outside = ("DESIGN.md", "REFERENCE.md", "../shared")
    found = [f"{name}: {word}" for name, path in MODULES.items() for word in outside if word in path.read_text()]
    assert found == []
