"""The answer's place in a README: the text between two marker lines, rewritten by
``rl-coordconv analyze --answer-into FILE`` (the answer itself: :mod:`~rl_coordconv.analysis.answer`).

Kept apart from the statistics so the command line can check a file's markers, and print them in
``--help``, without importing numpy or pandas.
"""

from __future__ import annotations

import os
from pathlib import Path

from rl_coordconv import runfolder
from rl_coordconv.errors import UserError

__all__ = ["BEGIN", "END", "check_markers", "splice_answer"]

#: The marker lines between which ``--answer-into`` writes the answer.
BEGIN = "<!-- rl-coordconv answer: begin (written by `rl-coordconv analyze --answer-into`; do not edit) -->"
END = "<!-- rl-coordconv answer: end -->"


def _read(path: Path) -> tuple[list[str], int, int]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"cannot read {path} to write the answer into: {err}") from None
    lines = text.splitlines(keepends=True)
    begins = [i for i, line in enumerate(lines) if line.strip() == BEGIN]
    ends = [i for i, line in enumerate(lines) if line.strip() == END]
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise UserError(
            f"{path} needs one line '{BEGIN}' and, after it, one line '{END}' to write the answer between; "
            f"found {len(begins)} and {len(ends)}"
        )
    return lines, begins[0], ends[0]


def check_markers(path: str | os.PathLike[str]) -> None:
    """Check that a file can take the answer: readable, with one :data:`BEGIN` line and one :data:`END` after it.

    :param path: the file
    :raises UserError: when it cannot
    """
    _read(Path(path))


def splice_answer(path: str | os.PathLike[str], answer: str) -> None:
    """Put ``answer`` between the :data:`BEGIN` and :data:`END` lines of a file, replacing what was there.

    :param path: the file (a README)
    :param answer: the text (:func:`~rl_coordconv.analysis.answer.answer_markdown`)
    :raises UserError: when the file cannot be read or lacks exactly one pair of marker lines in order
        (the file is then left as it was)
    """
    lines, begin, end = _read(Path(path))
    block = [BEGIN + "\n", "\n", answer if answer.endswith("\n") else answer + "\n", "\n", END + "\n"]
    runfolder.atomic_write_text(path, "".join(lines[:begin] + block + lines[end + 1 :]))
