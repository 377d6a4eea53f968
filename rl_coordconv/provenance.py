"""Which code and software made a run: the rl-coordconv commit and the versions of the stack.

A run's ``config.yaml`` records both when the run is created (``commit``, ``versions``) and its
``status.json`` the commits of every session that trained it (``commits``: a run resumed after the
code moved on says so). The commit is found the way setuptools-scm and versioneer find theirs:

* in a git checkout, ``git rev-parse HEAD`` of the repository that tracks this package, with
  ``-dirty`` appended when tracked files of the package or of its presets (``agents/``) have
  uncommitted changes (``git describe --dirty``'s convention);
* in a tree exported by ``git archive`` (or a GitHub source tarball), ``_commit.txt``, which git's
  ``export-subst`` attribute (``rl_coordconv/.gitattributes``; gitattributes(5)) fills with the
  archived commit;
* otherwise (an installed wheel, a copied tree) it is unknown: None.
"""

from __future__ import annotations

import platform
import subprocess
from functools import lru_cache
from pathlib import Path

__all__ = ["code_commit", "software_versions", "PACKAGES"]

_HERE = Path(__file__).resolve().parent
#: The distributions whose versions a run records, besides Python.
PACKAGES = ("rl-coordconv", "torch", "stable-baselines3", "gymnasium", "ale-py", "numpy")


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(_HERE), *args], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@lru_cache(maxsize=1)
def code_commit() -> str | None:
    """The git commit of the rl-coordconv code running now.

    :return: the full commit hash, with ``-dirty`` when the package's tracked files differ from it;
        None when no commit can be found (found once per process)
    """
    archived = (_HERE / "_commit.txt").read_text(encoding="utf-8").strip() if (_HERE / "_commit.txt").is_file() else ""
    if archived and not archived.startswith("$Format"):
        return archived
    # only a repository that tracks this package is rl-coordconv's (not, say, a project whose
    # virtual environment holds an installed copy)
    if _git("ls-files", "--error-unmatch", "__init__.py") is None:
        return None
    head = _git("rev-parse", "HEAD")
    if not head:
        return None
    changes = _git("status", "--porcelain", "--untracked-files=no", "--", ".", "../agents")  # code and presets
    return f"{head}-dirty" if changes else head


def software_versions() -> dict[str, str]:
    """Python's version and those of :data:`PACKAGES` (``"not installed"`` for a missing one).

    :return: name -> version
    """
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for dist in PACKAGES:
        try:
            found[dist] = version(dist)
        except PackageNotFoundError:
            found[dist] = "not installed"
    return found
