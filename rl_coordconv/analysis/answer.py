"""The answer in brief: the few sentences a README quotes, written from a report's own numbers.

``rl-coordconv analyze`` writes them to ``report/answer.md`` and at the top of ``report.md``; with
``--answer-into FILE`` it also puts them between two marker lines of FILE
(:mod:`~rl_coordconv.analysis.answer_block`: a study's README, the project's README), so what a README
says is always what the committed records give, never a number copied by hand.

Per algorithm and variant X, against the ``nature`` baseline: the IQM of human-normalised scores of
each extractor with its stratified-bootstrap interval, the IQM difference with its interval, the
probability of improvement (Agarwal et al. 2021, "Deep Reinforcement Learning at the Edge of the
Statistical Precipice", NeurIPS, and rliable), how many games went either way, and a reading of the
difference's interval under one rule, :func:`reading`.
"""

from __future__ import annotations

import math
from typing import Any

from rl_coordconv.analysis.compute import BASELINE, AlgoResult, Analysis
from rl_coordconv.analysis.markdown import interval_text, number

__all__ = ["answer_markdown", "reading"]


def reading(
    x: str, difference: float, low: float, high: float, confidence: float = 0.95, baseline_iqm: float = math.nan
) -> str:
    """What an IQM difference ``IQM(x) - IQM(nature)`` and its interval say, in one sentence.

    The rule (Agarwal et al. 2021, section 4): an interval that excludes 0 is an effect these runs
    resolve; one that spans 0 is not, and its ends bound the effects the runs leave room for; without an
    interval (one run per game) there is no answer. Given the baseline's own IQM (positive), the sentence
    also sets the interval's ends beside it, as percentages of it, for scale (arithmetic on the ends, not
    an interval of the ratio).

    :param x: the variant's name
    :param difference: the point estimate
    :param low: the interval's lower end (NaN without an interval)
    :param high: the interval's upper end (NaN without an interval)
    :param confidence: the interval's coverage
    :param baseline_iqm: IQM(nature), the point estimate; NaN (the default) or not positive: no scale
    :return: the sentence
    """
    pct = f"{confidence:.0%}"
    if not math.isfinite(difference):
        return "No answer: no IQM difference could be computed."
    if not (math.isfinite(low) and math.isfinite(high)):
        return "No answer yet: with one run per game, a bootstrap over seeds gives no interval."
    span = f"[{number(low, 3)}, {number(high, 3)}]"
    scale = ""
    if math.isfinite(baseline_iqm) and baseline_iqm > 0:
        scale = (
            f" For scale, `{BASELINE}`'s own IQM is {number(baseline_iqm, 3)}: the interval's ends are "
            f"{low / baseline_iqm:+.0%} and {high / baseline_iqm:+.0%} of it."
        )
    if low > 0:
        return f"`{x}` scores higher than `{BASELINE}`: the {pct} interval of the IQM difference, {span}, excludes 0.{scale}"
    if high < 0:
        return f"`{x}` scores lower than `{BASELINE}`: the {pct} interval of the IQM difference, {span}, excludes 0.{scale}"
    return (
        f"No difference these runs resolve: the {pct} interval of the IQM difference, {span}, spans 0. They leave "
        f"room for an effect of `{x}` between {number(low, 3)} and {number(high, 3)} human-normalised points, "
        f"and for none.{scale}"
    )


def _games_either_way(res: AlgoResult, x: str, confidence: float) -> str:
    rows = [r for r in res.per_game.to_dict("records") if r["x"] == x] if not res.per_game.empty else []
    higher = sum(r["difference"] > 0 for r in rows)
    lower = sum(r["difference"] < 0 for r in rows)
    equal = len(rows) - higher - lower
    resolved_up = sum(math.isfinite(r["ci_low"]) and r["ci_low"] > 0 for r in rows)
    resolved_down = sum(math.isfinite(r["ci_high"]) and r["ci_high"] < 0 for r in rows)
    with_interval = sum(math.isfinite(r["ci_low"]) for r in rows)
    text = (
        f"- Per game (mean raw scores over seeds): `{x}` higher in {higher}, lower in {lower}"
        + (f", equal in {equal}" if equal else "")
        + f" of {len(rows)} games"
    )
    if with_interval:
        return text + (
            f"; the {confidence:.0%} Welch interval of the difference excludes 0 in {resolved_up} game(s) for `{x}` "
            f"and {resolved_down} for `{BASELINE}` (with no effect in any game, about "
            f"{(1 - confidence) * with_interval:.1f} of the {with_interval} would by chance).\n"
        )
    return text + "; no per-game interval (one run a side).\n"


def _comparison(res: AlgoResult, effect: dict[str, Any], improvement: dict[str, Any], confidence: float) -> str:
    x = effect["x"]
    pct = f"{confidence:.0%}"
    aggregates = {(r["extractor"], r["metric"]): r for r in res.aggregates.to_dict("records")}
    iqm = [
        f"`{ext}` {interval_text(row['point'], row['ci_low'], row['ci_high'], 3)}"
        for ext in (BASELINE, x)
        if (row := aggregates.get((ext, "IQM")))
    ]
    lines = [
        f"- IQM of human-normalised scores [{pct} CI]: " + ", ".join(iqm) + ".\n",
        f"- IQM(`{x}`) - IQM(`{BASELINE}`): "
        f"{interval_text(effect['difference'], effect['ci_low'], effect['ci_high'], 3)}.\n",
    ]
    if improvement:
        lines.append(
            f"- Probability of improvement P(`{x}` > `{BASELINE}`): "
            f"{interval_text(improvement['probability'], improvement['ci_low'], improvement['ci_high'], 3)}"
            "; 0.5 means no difference.\n"
        )
    lines.append(_games_either_way(res, x, confidence))
    base = aggregates.get((BASELINE, "IQM"), {}).get("point", math.nan)
    text = reading(x, effect["difference"], effect["ci_low"], effect["ci_high"], confidence, base)
    lines.append(f"- **Reading:** {text}\n")
    return "".join(lines)


def answer_markdown(a: Analysis) -> str:
    """The answer in brief, as markdown without headings or links (it is quoted in other files).

    :param a: the computed analysis
    :return: the text, ending in a newline
    """
    s = a.settings
    complete = sum(1 for r in a.runs if r.complete)
    planned = s.planned
    status = f"{complete} complete runs" + (f" of the {planned} the spec plans" if planned is not None else "")
    if planned is not None and complete < planned:
        status += " (partial: the reading may change as runs land)"
    parts = [f"*{status}; score: {s.score.label}, human-normalised.*\n"]
    for res in a.algos:
        if res.effects.empty:
            parts.append(
                f"\n**{res.algo.upper()}:** no IQM difference: no other extractor's scored runs to set beside `{BASELINE}`'s.\n"
            )
            continue
        improvements = {r["x"]: r for r in res.improvement.to_dict("records")} if not res.improvement.empty else {}
        for effect in res.effects.to_dict("records"):
            seeds = sorted({effect["n_runs_x"], effect["n_runs_y"]})
            per_game = "-".join(str(n) for n in seeds)
            parts.append(
                f"\n**{res.algo.upper()}, `{effect['x']}` vs `{BASELINE}`: {effect['n_games']} games, {per_game} "
                "run(s) per game and extractor.**\n\n"
                + _comparison(res, effect, improvements.get(effect["x"], {}), s.confidence)
            )
    return "".join(parts)
