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

__all__ = ["BEGIN", "END", "markers", "check_markers", "splice_answer"]

#: The marker lines between which ``--answer-into`` writes the answer.
BEGIN = "<!-- rl-coordconv answer: begin (written by `rl-coordconv analyze --answer-into`; do not edit) -->"
END = "<!-- rl-coordconv answer: end -->"


def markers(name: str | None = None) -> tuple[str, str]:
    """The marker lines of an answer block: the unnamed pair (:data:`BEGIN`, :data:`END`), or a named one,
    so that one file (the project's README) can quote the answers of several studies.

    :param name: the block's name (``--answer-block``, e.g. a study's name), None for the unnamed pair
    :return: ``(begin, end)``
    """
    if name is None:
        return BEGIN, END
    return (
        f"<!-- rl-coordconv answer {name}: begin (written by `rl-coordconv analyze --answer-into "
        f"--answer-block {name}`; do not edit) -->",
        f"<!-- rl-coordconv answer {name}: end -->",
    )


def _read(path: Path, name: str | None = None) -> tuple[list[str], int, int]:
    begin_line, end_line = markers(name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"cannot read {path} to write the answer into: {err}") from None
    lines = text.splitlines(keepends=True)
    begins = [i for i, line in enumerate(lines) if line.strip() == begin_line]
    ends = [i for i, line in enumerate(lines) if line.strip() == end_line]
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise UserError(
            f"{path} needs one line '{begin_line}' and, after it, one line '{end_line}' to write the answer between; "
            f"found {len(begins)} and {len(ends)}"
        )
    return lines, begins[0], ends[0]


def check_markers(path: str | os.PathLike[str], name: str | None = None) -> None:
    """Check that a file can take the answer: readable, with one begin line and one end line after it.

    :param path: the file
    :param name: the block's name (:func:`markers`), None for the unnamed pair
    :raises UserError: when it cannot
    """
    _read(Path(path), name)


def splice_answer(path: str | os.PathLike[str], answer: str, name: str | None = None) -> None:
    """Put ``answer`` between the begin and end lines of a file, replacing what was there.

    :param path: the file (a README)
    :param answer: the text (:func:`~rl_coordconv.analysis.answer.answer_markdown`)
    :param name: the block's name (:func:`markers`), None for the unnamed pair
    :raises UserError: when the file cannot be read or lacks exactly one pair of marker lines in order
        (the file is then left as it was)
    """
    lines, begin, end = _read(Path(path), name)
    begin_line, end_line = markers(name)
    block = [begin_line + "\n", "\n", answer if answer.endswith("\n") else answer + "\n", "\n", end_line + "\n"]
    runfolder.atomic_write_text(path, "".join(lines[:begin] + block + lines[end + 1 :]))
