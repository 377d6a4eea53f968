"""The one CSV writer: each table's float format spells cells as the table always has, byte for byte."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pandas as pd

from rl_coordconv.tables import csv_text, shortest, shortest_with_nan, ten_digits

VALUES = [0.1, 1 / 3, 1e-05, 1e16, -2.5, 0.0, 3.0, math.nan, math.inf, -math.inf, np.float64(0.7), 12345678.9]


def test_ten_digits_is_the_default_and_empties_nan_and_infinities() -> None:
    rows = [{"x": v, "n": i, "s": "a,b", "none": None} for i, v in enumerate([1 / 3, math.nan, math.inf, 2.0])]
    text = csv_text(rows, ["x", "n", "s", "none", "missing"])
    assert text == ('x,n,s,none,missing\n0.3333333333,0,"a,b",,\n,1,"a,b",,\n,2,"a,b",,\n2,3,"a,b",,\n')
    assert text == csv_text(rows, ["x", "n", "s", "none", "missing"], ten_digits)


def test_shortest_writes_what_pandas_to_csv_writes() -> None:
    """``inspect_comparison.csv`` was written by pandas; the one writer gives the same bytes."""
    frame = pd.DataFrame({"algo": ["ppo"] * len(VALUES), "seeds": range(len(VALUES)), "v": VALUES})
    ours = csv_text(frame.to_dict("records"), list(frame.columns), shortest)
    assert ours == frame.to_csv(index=False, lineterminator="\n")
    assert shortest(math.nan) == "" and shortest(math.inf) == "inf" and shortest(0.1) == "0.1"


def test_shortest_with_nan_writes_what_the_inspection_wrote() -> None:
    """An inspection's ``probe.csv`` and ``coord_terms.csv`` spelled every float with ``repr`` (their rows
    hold Python floats: numpy 2 would have spelled a ``float64`` ``np.float64(0.7)``, the writer ``0.7``)."""
    rows = [["conv1", i, float(v), "", "horizontal"] for i, v in enumerate(VALUES)]
    columns = ["layer", "filter", "value", "untrained", "axis"]
    before = io.StringIO()
    writer = csv.writer(before, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([[repr(v) if isinstance(v, float) else v for v in row] for row in rows])
    ours = csv_text((dict(zip(columns, row)) for row in rows), columns, shortest_with_nan)
    assert ours == before.getvalue()
    assert "nan" in ours and "inf" in ours
