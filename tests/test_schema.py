"""The one schema checker: records from mappings, one message naming the key, its path for the caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from rl_coordconv.schema import Invalid, Kind, Mismatch, build, checked


def _count(value: Any) -> int:
    if not isinstance(value, int) or value <= 0:
        raise Invalid(f"must be positive, got {value!r}")
    return value


def _names(value: Any, count: int) -> tuple[str, ...]:
    for i, name in enumerate(value):
        if not isinstance(name, str):
            raise Invalid(f"entries must be names, got {name!r}", (i,))
    if len(value) != count:
        raise Invalid(f"must name {count} things, got {len(value)}")
    return tuple(value)


@dataclass(frozen=True)
class Inner:
    freq: int | None = None


@dataclass(frozen=True, kw_only=True)
class Outer:
    count: int = checked(Kind(_count, "a positive count"))
    names: tuple[str, ...] = checked(Kind(_names, "names", uses=("count",)))
    inner: Inner | None = None
    label: str = "x"


def _mismatch(data: dict[str, Any], strict: bool = True) -> Mismatch:
    with pytest.raises(Mismatch) as info:
        build(Outer, data, strict=strict)
    return info.value


def test_a_record_is_built_and_its_checks_read_the_fields_above() -> None:
    assert build(Outer, {"count": 2, "names": ["a", "b"], "inner": {"freq": 3}}) == Outer(
        count=2, names=("a", "b"), inner=Inner(3)
    )
    assert _mismatch({"count": 3, "names": ["a", "b"]}).problem == "must name 3 things, got 2"


def test_a_mismatch_carries_the_path_and_the_problem() -> None:
    err = _mismatch({"count": 1, "names": ["a", 5]})
    assert (
        err.path == ("names", 1) and err.key == "names" and str(err) == "the key 'names' entries must be names, got 5"
    )
    err = _mismatch({"count": 1, "names": ["a"], "inner": {"freq": "often"}})  # inside a nested X | None
    assert err.path == ("inner", "freq") and err.problem == "must be a whole number or null, got 'often'"
    err = _mismatch({"count": 1, "names": ["a"], "inner": 3})
    assert err.path == ("inner",) and err.problem == "must be a mapping with keys freq or null, got 3"


def test_missing_and_unknown_keys() -> None:
    err = _mismatch({"label": "y"})
    assert err.missing == ("count", "names") and str(err) == "the key 'count' is missing"
    err = _mismatch({"count": 1, "names": ["a"], "lable": "y"})
    assert err.path == ("lable",) and "did you mean 'label'" in err.problem
    assert build(Outer, {"count": 1, "names": ["a"], "lable": "y"}).label == "x"  # not strict: left out
    err = _mismatch({"count": 1, "names": ["a"], "inner": {"freqs": 1}})
    assert err.path == ("inner", "freqs") and "did you mean 'freq'" in err.problem
