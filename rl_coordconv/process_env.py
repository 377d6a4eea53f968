"""The environment the package's own processes start with: the command line, sweep workers, Ray tasks.

Importing :mod:`rl_coordconv` changes no environment variable; the package's entry points apply
:data:`PROCESS_DEFAULTS` where its processes start, before anything imports torch: the command line's
``main`` (:func:`apply_process_defaults`), and the environment of every local worker process and Ray
task a sweep starts (:func:`process_defaults`, through :func:`rl_coordconv.sweep.worker.thread_env`).
A value the user set is kept.

In your own script, set them before the first ``import torch`` (or export them in the shell) to get the
same behaviour: ``os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")``.
"""

from __future__ import annotations

import os

__all__ = ["PROCESS_DEFAULTS", "process_defaults", "apply_process_defaults"]

#: OpenMP threads that spin while waiting (``OMP_WAIT_POLICY=ACTIVE``, the OpenMP specification's section
#: on the wait policy) make torch several times slower when other processes share the cores. It must be
#: set before torch is first imported.
PROCESS_DEFAULTS: dict[str, str] = {"OMP_WAIT_POLICY": "PASSIVE"}


def process_defaults() -> dict[str, str]:
    """The variables of :data:`PROCESS_DEFAULTS`, each with the user's own value where one is set.

    :return: variable -> value, for a child process's environment
    """
    return {name: os.environ.get(name, value) for name, value in PROCESS_DEFAULTS.items()}


def apply_process_defaults() -> None:
    """Set each variable of :data:`PROCESS_DEFAULTS` in this process unless it is set already.

    Called where the package's own processes start, before anything imports torch.
    """
    for name, value in PROCESS_DEFAULTS.items():
        os.environ.setdefault(name, value)
