"""Which code made a run: the rl-coordconv commit, found in a git checkout, in a tree exported by
`git archive` (export-subst), and nowhere else (issue 15: a study states the commit that ran it)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

import rl_coordconv
from rl_coordconv.provenance import code_commit

PACKAGE = Path(rl_coordconv.__file__).resolve().parent
REPO = PACKAGE.parent


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True).stdout.strip()


def _in_git_checkout() -> bool:
    try:
        return _git("rev-parse", "--is-inside-work-tree") == "true"
    except (OSError, subprocess.CalledProcessError):
        return False


def _commit_seen_from(tree: Path) -> str:
    """``code_commit()`` as a process that imports rl_coordconv from ``tree`` sees it."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    code = "from rl_coordconv.provenance import code_commit; print(code_commit())"
    done = subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


needs_git = pytest.mark.skipif(not _in_git_checkout(), reason="rl-coordconv is not running from a git checkout")


@needs_git
def test_a_checkout_gives_its_head_and_says_when_the_package_was_changed() -> None:
    head = _git("rev-parse", "HEAD")
    changed = bool(_git("status", "--porcelain", "--untracked-files=no", "--", "rl_coordconv", "agents"))
    assert code_commit() == (f"{head}-dirty" if changed else head)


@needs_git
def test_a_git_archive_of_the_package_knows_its_commit(tmp_path: Path) -> None:
    """How the study's sweep runs: from `git archive HEAD rl_coordconv ...`, a tree without .git."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD", "rl_coordconv"], capture_output=True,
                             check=True).stdout  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tmp_path, filter="data")
    assert _commit_seen_from(tmp_path) == _git("rev-parse", "HEAD")


def test_a_copy_outside_git_does_not_guess(tmp_path: Path) -> None:
    shutil.copytree(PACKAGE, tmp_path / "rl_coordconv", ignore=shutil.ignore_patterns("__pycache__"))
    assert _commit_seen_from(tmp_path) == "None"
