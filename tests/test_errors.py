"""Name lookups shared by every registry: folding, suggestions, one-line errors."""

from __future__ import annotations

import pytest

from rl_coordconv.errors import UserError, check_name, unknown_name


def test_check_name_folds_case_and_dashes() -> None:
    assert check_name("extractor", "CoordConv-All", ("coordconv", "coordconv_all")) == "coordconv_all"
    assert check_name("protocol", " Machado ", {"standard": 1, "machado": 2}) == "machado"


def test_check_name_suggests_the_closest() -> None:
    with pytest.raises(UserError, match=r"^unknown algorithm 'ppo2'; did you mean 'ppo'\?$"):
        check_name("algorithm", "ppo2", ("a2c", "ppo"))
    with pytest.raises(ValueError, match=r"^unknown protocol 'x'; choose from 'machado', 'standard'\.$"):
        check_name("protocol", "x", ("standard", "machado"))


def test_long_lists_are_not_dumped() -> None:
    err = unknown_name("game", "zzzz", [f"Game{i}" for i in range(40)])
    assert "40 accepted names" in str(err) and "\n" not in str(err)
