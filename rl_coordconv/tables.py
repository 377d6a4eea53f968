"""Tables as CSV text: the one writer behind every whole ``*.csv`` table the package reports (analysis,
inspection, toy tasks). A run's own logs, appended row by row while it trains, are ``runfolder.CsvLog``'s.

Fixed columns, a header line, ``\\n`` line ends, quoting only where a cell needs it, and an empty cell for
None. How a float reads is the table's :data:`FloatFormat`, named once here:

- :func:`ten_digits` (the default; analysis reports, toy tasks): 10 significant digits, NaN and
  infinities empty, so that pandas' ``read_csv`` reads the tables back as numbers and gaps;
- :func:`shortest` (``inspect_comparison.csv``): Python's shortest round-trip spelling, NaN empty;
- :func:`shortest_with_nan` (an inspection's ``probe.csv`` and ``coord_terms.csv``): the shortest
  round-trip spelling, NaN and infinities spelled out (``nan``, ``inf``).

The three are kept apart because every table already written must read the same, byte for byte, when it
is written again: identical bytes beat one format for all.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

__all__ = ["FloatFormat", "csv_text", "shortest", "shortest_with_nan", "ten_digits"]

#: How a table spells a float cell (a ``float``, numpy's ``float64`` included).
FloatFormat = Callable[[float], str]


def ten_digits(value: float) -> str:
    """10 significant digits; NaN and infinities are an empty cell.

    :param value: the number
    :return: its cell, e.g. ``"0.3333333333"``
    """
    return f"{value:.10g}" if math.isfinite(value) else ""


def shortest(value: float) -> str:
    """The shortest spelling that reads back to the same float (as pandas' ``to_csv`` writes); NaN empty.

    :param value: the number
    :return: its cell, e.g. ``"0.1"``, ``"inf"``
    """
    return "" if math.isnan(value) else repr(float(value))


def shortest_with_nan(value: float) -> str:
    """The shortest spelling that reads back to the same float, NaN and infinities spelled out.

    :param value: the number
    :return: its cell, e.g. ``"0.1"``, ``"nan"``
    """
    return repr(float(value))


def _cell(value: Any, float_format: FloatFormat) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return float_format(value)
    return value


def csv_text(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], float_format: FloatFormat = ten_digits) -> str:
    """A CSV table: header first, ``\\n`` line ends, None empty, floats as ``float_format`` spells them.

    :param rows: one mapping per row; missing columns are empty
    :param columns: the header, in order
    :param float_format: how a float cell reads (:func:`ten_digits`, :func:`shortest`,
        :func:`shortest_with_nan`); other values are written as ``str`` writes them
    :return: the CSV text
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c), float_format) for c in columns])
    return buffer.getvalue()
