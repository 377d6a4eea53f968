"""How ``rl-coordconv bench`` measures: its settings, and contenders run *interleaved* (A B A B ... in
rounds, in one process) and summarised by medians and the median of per-round ratios, so that drift on a
shared machine does not decide a ratio. The sections themselves are :mod:`rl_coordconv.bench_sections`'.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rl_coordconv.algorithms import algorithm_names

__all__ = ["BenchSettings", "SECTIONS", "TRAIN_ALGOS", "interleave", "summary"]

#: The sections, in the order they run.
SECTIONS: tuple[str, ...] = ("env", "extractor", "train", "sweep")

#: The algorithms the ``train`` section can measure, in the order they run: every registered one.
TRAIN_ALGOS: tuple[str, ...] = algorithm_names()


@dataclass(frozen=True)
class BenchSettings:
    """How much to measure.

    :param game: the game every section plays
    :param n_envs: environments in the ``env`` section
    :param env_agent_steps: agent steps per contender per round in the ``env`` section
    :param rounds: interleaved rounds per section
    :param train_rollouts: whole rollouts per contender per round in the ``train`` section
    :param sweep_agent_steps: agent steps of each of the two cells in the ``sweep`` section
    :param sections: which sections to run
    :param algos: which algorithms the ``train`` section measures (default: :data:`TRAIN_ALGOS`)
    """

    game: str = "Breakout"
    n_envs: int = 8
    env_agent_steps: int = 8_000
    rounds: int = 5
    train_rollouts: int = 2
    sweep_agent_steps: int = 16_384
    sections: tuple[str, ...] = SECTIONS
    algos: tuple[str, ...] = TRAIN_ALGOS

    @classmethod
    def quick(cls, sections: Iterable[str] = SECTIONS) -> BenchSettings:
        """Settings that finish within about 3 minutes on a 2-core machine.

        :param sections: which sections to run
        :return: the settings
        """
        return cls(env_agent_steps=4_000, rounds=3, train_rollouts=1, sweep_agent_steps=6_144, sections=tuple(sections))


def interleave(contenders: Mapping[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Run each contender once per round, in turn; each returns its measured rate (or time).

    :param contenders: name -> one measurement
    :param rounds: rounds
    :return: name -> its measurements, one per round
    """
    results: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, measure in contenders.items():
            results[name].append(float(measure()))
    return results


def summary(samples: Mapping[str, list[float]], base: str, higher_is_better: bool = True) -> dict[str, Any]:
    """Medians and the median of per-round ratios to ``base`` (rates: x / base; times: base / x).

    :param samples: name -> measurements, one per round (:func:`interleave`)
    :param base: the contender the others are compared with
    :param higher_is_better: rates (True) or times (False)
    :return: name -> ``median``, ``samples`` and ``ratio_to_<base's first word>``
    """
    out: dict[str, Any] = {}
    for name, values in samples.items():
        pairs = zip(values, samples[base])
        ratios = [(v / b if higher_is_better else b / v) for v, b in pairs if v > 0 and b > 0]
        out[name] = {
            "median": statistics.median(values),
            "samples": [round(v, 6) for v in values],
            "ratio_to_" + base.split(" ")[0]: statistics.median(ratios) if ratios else None,
        }
    return out
