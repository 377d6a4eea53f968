"""The two build steps pyproject.toml cannot say; every other setting is in pyproject.toml.

1. **Packages**: every package found under ``rl_coordconv/`` (so a new subpackage is never left out),
   plus the two data packages pyproject.toml maps from the top of the repository:
   ``rl_coordconv.presets`` (``agents/*.yaml``) and ``rl_coordconv.specs`` (``experiments/*.yaml``).
   setuptools' ``packages.find`` does not see mapped packages, so the list is made here.
2. **The commit**: a wheel or sdist built from a git clone carries the commit it was built from in
   ``rl_coordconv/_commit.txt`` (``-dirty`` when the package's tracked files had uncommitted changes), as
   a ``git archive`` export does through ``export-subst``; runs from an installed wheel then record it.
   The commit is found by :func:`rl_coordconv.provenance.code_commit` (loaded from its file: the build
   has none of the package's dependencies); the source tree's own ``_commit.txt`` is never changed.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
COMMIT_FILE = Path("rl_coordconv", "_commit.txt")
DATA_PACKAGES = ["rl_coordconv.presets", "rl_coordconv.specs"]


def _commit() -> str | None:
    """The commit of this source tree, or None (not a git clone, no git)."""
    spec = importlib.util.spec_from_file_location("_rl_coordconv_provenance", HERE / "rl_coordconv" / "provenance.py")
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.code_commit()


def _write_commit(root: str) -> None:
    """Fill ``root/rl_coordconv/_commit.txt`` with the commit, unless it holds one already (a ``git archive``
    export) or no commit is known. The file is replaced, never written through: in an sdist's release
    tree it is a hard link to the source tree's file."""
    target = Path(root) / COMMIT_FILE
    if target.is_file() and not target.read_text(encoding="utf-8").startswith("$Format"):
        return
    commit = _commit()
    if commit:
        target.unlink(missing_ok=True)
        target.write_text(commit + "\n", encoding="utf-8")


class BuildPy(build_py):
    """build_py that starts from an empty ``build/lib/rl_coordconv`` (a module deleted from the source must
    not linger in the next wheel) and writes the commit file."""

    def run(self) -> None:
        if self.editable_mode:  # an editable install reads the source tree, where provenance asks git itself
            super().run()
            return
        shutil.rmtree(os.path.join(self.build_lib, "rl_coordconv"), ignore_errors=True)
        super().run()
        _write_commit(self.build_lib)


class Sdist(sdist):
    """sdist whose ``_commit.txt`` says the commit it was made from (the sdist has no .git)."""

    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)
        _write_commit(base_dir)


setup(
    packages=[
        *find_namespace_packages(include=["rl_coordconv", "rl_coordconv.*"], exclude=["*.__pycache__"]),
        *DATA_PACKAGES,
    ],
    cmdclass={"build_py": BuildPy, "sdist": Sdist},
)
