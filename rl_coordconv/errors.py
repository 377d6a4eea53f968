"""User errors: one clear sentence, a non-zero exit, no traceback.

A :class:`UserError` says that what the user asked for cannot be done (a bad name, file, shape or
number) and how to fix it. The command line prints its message on one line and exits with status 2;
anything else that escapes is a bug and keeps its traceback. ``UserError`` subclasses ``ValueError`` so
that library callers can catch the usual exception type.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable

__all__ = ["UserError", "unknown_name", "normalize_name", "check_name"]


class UserError(ValueError):
    """A mistake in the user's input, with a message that says what to do about it."""


def normalize_name(name: str) -> str:
    """Fold a user-typed name for lookups: lower case, ``-`` and spaces read as ``_``.

    :param name: the name as typed
    :return: the folded name
    """
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def unknown_name(kind: str, name: object, choices: Iterable[str]) -> UserError:
    """Build the error for a name that is not one of ``choices``, suggesting the closest ones.

    Close matches come from :func:`difflib.get_close_matches` on case-folded names, as
    rl-baselines3-zoo suggests environment ids.

    :param kind: what the name names, for the message ("game", "extractor", "preset key", ...)
    :param name: the name the user gave
    :param choices: every accepted name
    :return: a :class:`UserError` to raise
    """
    choices = sorted(set(choices))
    folded = {normalize_name(c): c for c in choices}
    close = difflib.get_close_matches(normalize_name(str(name)), list(folded), n=3, cutoff=0.6)
    if close:
        hint = "did you mean " + " or ".join(repr(folded[c]) for c in close) + "?"
    elif len(choices) <= 12:
        hint = "choose from " + ", ".join(repr(c) for c in choices) + "."
    else:
        hint = (
            f"there are {len(choices)} accepted names; list them with the command line's `--help` or `games` command."
        )
    return UserError(f"unknown {kind} {name!r}; {hint}")


def check_name(kind: str, name: object, choices: Collection[str]) -> str:
    """Fold ``name`` (:func:`normalize_name`) and check it is one of ``choices``.

    The one lookup behind every registry of the package (:meth:`rl_coordconv.registry.Registry.lookup`)
    and the fixed name choices of the toy tasks: ``check_name("split", split, SPLITS)``.

    :param kind: what the name names, for the message
    :param name: the name as the user gave it
    :param choices: the accepted (already folded) names; a dict's keys count
    :return: the folded name, a member of ``choices``
    :raises UserError: for any other name, suggesting the closest accepted ones
    """
    key = normalize_name(str(name))
    if key not in choices:
        raise unknown_name(kind, name, choices)
    return key
