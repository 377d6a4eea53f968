"""Which code, software and machine made a run: the rl-coordconv commit, the stack's versions, the machine.

A run's ``config.yaml`` records them when the run is created (``commit``, ``versions``, ``machine``) and
its ``status.json`` the commits and machines of every session that trained it (``commits``,
``machines``: a run resumed after the code moved on, or on another computer, says so). The machine
matters beside the versions: the same code and seeds give other floating-point results on a CPU whose
kernels differ (PyTorch's reproducibility notes: "completely reproducible results are not guaranteed
across PyTorch releases, individual commits, or different platforms"), so a run resumed elsewhere is
not bit for bit the uninterrupted one.

The commit is found the way setuptools-scm and versioneer find theirs:

* in a git checkout, ``git rev-parse HEAD`` of the repository that tracks this package, with
  ``-dirty`` appended when tracked files of the package or of its presets (``agents/``) have
  uncommitted changes (``git describe --dirty``'s convention);
* in a tree exported by ``git archive`` (or a GitHub source tarball), ``_commit.txt``, which git's
  ``export-subst`` attribute (``rl_coordconv/.gitattributes``; gitattributes(5)) fills with the
  archived commit;
* in a wheel or sdist built from a git clone, ``_commit.txt`` too: the build writes the commit it was
  made from (``setup.py``, with this function; ``-dirty`` included);
* otherwise (a copied tree, a wheel built from one) it is unknown: None.
"""

from __future__ import annotations

import os
import platform
import subprocess
from functools import lru_cache
from pathlib import Path

__all__ = ["code_commit", "software_versions", "machine", "PACKAGES"]

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


def _cpu_model() -> str:
    try:  # Linux names the model; platform.processor() there is often just the architecture
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


@lru_cache(maxsize=4)
def machine(device: str = "cpu") -> str:
    """The computer running now, in one line: CPU model, logical CPUs, OS and architecture, the CPU
    kernels PyTorch dispatches to (``torch.backends.cpu.get_cpu_capability``) and, for a CUDA device,
    the GPU's name.

    :param device: the torch device the run trains on (``cpu``, ``cuda``, ``cuda:1``, ...)
    :return: e.g. ``"Intel(R) Xeon(R) Processor, 2 logical CPUs, Linux x86_64, torch CPU kernels AVX512"``
    """
    import torch

    parts = [_cpu_model(), f"{os.cpu_count() or '?'} logical CPUs", f"{platform.system()} {platform.machine()}"]
    parts.append(f"torch CPU kernels {torch.backends.cpu.get_cpu_capability()}")
    if device.startswith("cuda") and torch.cuda.is_available():
        parts.append(f"GPU {torch.cuda.get_device_name(torch.device(device))}")
    return ", ".join(parts)
