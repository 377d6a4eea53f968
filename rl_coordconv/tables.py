"""Tables as CSV text: the one writer behind every ``*.csv`` the package reports (analysis, toy tasks).

Fixed columns, a header line, ``\\n`` line ends, floats to 10 significant digits, and an empty cell for a
missing value, None or NaN, so that pandas' ``read_csv`` reads the tables back as numbers and gaps.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["csv_text"]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if not math.isfinite(value) else f"{value:.10g}"
    return value


def csv_text(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A CSV table (header first, ``\\n`` line ends, floats to 10 significant digits, None and NaN empty).

    :param rows: one mapping per row; missing columns are empty
    :param columns: the header, in order
    :return: the CSV text
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buffer.getvalue()
