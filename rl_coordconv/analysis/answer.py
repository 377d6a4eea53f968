"""The answer in brief: the few sentences a README quotes, written from a report's own numbers.

``rl-coordconv analyze`` writes them to ``report/answer.md`` and at the top of ``report.md``; with
``--answer-into FILE`` it also puts them between two marker lines of FILE
(:mod:`~rl_coordconv.analysis.answer_block`: a study's README, the project's README), so what a README
says is always what the committed records give, never a number copied by hand.

Per algorithm, first the learning check (:mod:`~rl_coordconv.analysis.learning`: how far the agents
got, in plain words when the baseline is near random); then per variant X, against the ``nature``
baseline: the IQM of human-normalised scores of each extractor with its stratified-bootstrap interval,
the IQM difference with its interval (independent, the headline, and seed-paired beside it), the
probability of improvement (Agarwal et al. 2021, "Deep Reinforcement Learning at the Edge of the
Statistical Precipice", NeurIPS, and rliable), how many games went either way (with Benjamini-Hochberg
q-values), the mean's difference where its sign differs from the IQM's, and a reading of the
difference's interval under one rule, :func:`reading`, with the equivalence reading against the
declared smallest effect of interest (:func:`equivalence_sentence`).
"""

from __future__ import annotations

import math
from typing import Any

from rl_coordconv.analysis.learning import NEAR_RANDOM_IQM
from rl_coordconv.analysis.load import BASELINE
from rl_coordconv.analysis.markdown import interval_text, number
from rl_coordconv.analysis.results import AlgoResult, Analysis, Settings

__all__ = ["answer_markdown", "reading", "equivalence_sentence", "learning_sentence", "atari5_sentence"]

#: The q-value below which a per-game difference is called resolved after the FDR correction.
Q_LEVEL = 0.05


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


def equivalence_sentence(effect: dict[str, Any], s: Settings) -> str:
    """The equivalence reading of one effect row: better, worse, equivalent within +/-delta or inconclusive.

    :param effect: a row of ``effect.csv`` (``reading``, ``tost_ci_low``, ``tost_ci_high``, ``smallest_effect``)
    :param s: the analysis settings (confidence, where delta was declared)
    :return: one or two sentences
    """
    delta = effect.get("smallest_effect", math.nan)
    tost_pct = f"{s.tost_confidence:.0%}"
    alpha = f"{1 - s.confidence:.0%}"
    if not (isinstance(delta, float) and math.isfinite(delta)):
        return (
            "No smallest effect of interest was declared (a spec's `smallest_effect`), so this interval cannot "
            "show equivalence: it bounds the effect, no more."
        )
    band = f"[{number(effect['tost_ci_low'], 3)}, {number(effect['tost_ci_high'], 3)}]"
    bounds = f"(-{number(delta, 3)}, +{number(delta, 3)})"
    declared = f"the smallest effect of interest, +/-{number(delta, 3)} HNS IQM points ({s.smallest_effect_source})"
    reading = effect["reading"]
    if reading == "equivalent":
        return (
            f"Equivalent within +/-{number(delta, 3)}: against {declared}, the {tost_pct} interval {band} lies inside "
            f"{bounds} (two one-sided tests at {alpha} each)."
        )
    if reading in ("better", "worse") and effect.get("within_smallest_effect") == "yes":
        return (
            f"{reading.capitalize()}, but by less than the smallest effect of interest: against {declared}, the "
            f"{tost_pct} interval {band} lies inside {bounds}."
        )
    if reading in ("better", "worse"):
        return f"{reading.capitalize()}, against {declared}: the {tost_pct} interval is {band}."
    if not math.isfinite(effect["tost_ci_low"]):
        return f"Inconclusive against {declared}: no interval yet."
    return (
        f"Inconclusive against {declared}: the {tost_pct} interval {band} is not inside {bounds} (no equivalence "
        f"at {alpha}), and the {s.confidence:.0%} interval spans 0 (no difference resolved)."
    )


def learning_sentence(res: AlgoResult) -> str:
    """The learning check in one bullet: how far each extractor got, and plain words when the baseline is near random.

    :param res: one algorithm's results
    :return: markdown ending in a newline ("" without a learning check)
    """
    if res.learning_summary.empty:
        return ""
    parts = []
    rows = res.learning_summary.to_dict("records")
    for r in rows:
        clearly = (
            f", {r['games_clearly_improving']} of them clearly (a 95% t-interval over seeds above 0)"
            if r["games_with_interval"]
            else f" ({r['runs_clearly_improving']} of {r['runs']} run(s) beat their own first games by 2 standard errors)"
        )
        parts.append(
            f"`{r['extractor']}` IQM {number(r['iqm'], 3)}, median {number(r['median'], 3)}; below random in "
            f"{r['games_below_random']} of {r['n_games']} games; final score above the run's own first training "
            f"games in {r['games_improving']} of {r['n_games']} games{clearly}"
        )
    text = "- Learning check (human-normalised: 0 = random, 1 = human): " + "; ".join(parts) + "."
    base = next((r for r in rows if r["extractor"] == BASELINE), None)
    if base is not None and base["near_random"]:
        text += (
            f" **The `{BASELINE}` agents barely learned** (IQM below {NEAR_RANDOM_IQM}, or fewer than half of the runs beat "
            "their own first training games by two standard errors): any comparison below is between agents close to random play, and says little "
            "about CoordConv in agents that play."
        )
    elif base is not None:
        text += f" The `{BASELINE}` agents learned: the comparison below is between agents that play."
    return text + "\n"


def atari5_sentence(res: AlgoResult, confidence: float = 0.95) -> str:
    """The Atari-5 estimate of the 57-game median in one bullet, with its caveat in brief.

    :param res: one algorithm's results
    :param confidence: the intervals' coverage
    :return: markdown ending in a newline ("" without the five Atari-5 games)
    """
    if res.atari5.empty:
        return ""
    parts = [
        f"`{r['extractor']}` {interval_text(r['estimate'], r['ci_low'], r['ci_high'], 3)}"
        for r in res.atari5.to_dict("records")
    ]
    return (
        f"- Atari-5 estimate of the 57-game median human-normalised score [{confidence:.0%} CI over seeds] "
        "(Aitchison, Sweetser & Hutter 2023's regression, fitted on fully trained agents: an extrapolation at "
        "this budget, see the report): " + "; ".join(parts) + ".\n"
    )


def _per_game_q(res: AlgoResult, x: str) -> str:
    rows = [r for r in res.per_game.to_dict("records") if r["x"] == x] if not res.per_game.empty else []
    tested = [r for r in rows if math.isfinite(r.get("q_value", math.nan))]
    if not tested:
        return ""
    hits = [r for r in tested if r["q_value"] < Q_LEVEL]
    best = min(tested, key=lambda r: r["q_value"])
    named = ", ".join(f"{r['game']} (q {number(r['q_value'], 3)})" for r in hits)
    return (
        f"- After the Benjamini-Hochberg correction over the {len(tested)} games' Welch tests, {len(hits)} game(s) "
        f"differ at q < {Q_LEVEL}"
        + (f": {named}" if hits else f" (smallest q {number(best['q_value'], 3)}, {best['game']})")
        + ".\n"
    )


def _mean_line(res: AlgoResult, effect: dict[str, Any]) -> str:
    """The mean's difference, shown only where its sign differs from the IQM's, with the game that drives it."""
    mean_diff, iqm_diff = effect.get("mean_difference", math.nan), effect["difference"]
    if not (math.isfinite(mean_diff) and math.isfinite(iqm_diff)) or mean_diff * iqm_diff >= 0:
        return ""
    x = effect["x"]
    rows = [r for r in res.per_game.to_dict("records") if r["x"] == x and math.isfinite(r["hns_difference"])]
    games = len(res.runset.aggregate_games) or 1
    driver = max(rows, key=lambda r: r["hns_difference"] * math.copysign(1.0, mean_diff), default=None)
    text = (
        f"- The mean of human-normalised scores differs the other way: mean(`{x}`) - mean(`{BASELINE}`) = "
        f"{mean_diff:+.3f}"
    )
    if driver is not None:
        text += (
            f", driven by {driver['game']} (its difference alone moves the mean by "
            f"{driver['hns_difference'] / games:+.3f}); the IQM leaves out such outlying games by design"
        )
    return text + ".\n"


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


def _comparison(res: AlgoResult, effect: dict[str, Any], improvement: dict[str, Any], settings: Settings) -> str:
    confidence = settings.confidence
    x = effect["x"]
    pct = f"{confidence:.0%}"
    aggregates = {(r["extractor"], r["metric"]): r for r in res.aggregates.to_dict("records")}
    iqm = [
        f"`{ext}` {interval_text(row['point'], row['ci_low'], row['ci_high'], 3)}"
        for ext in (BASELINE, x)
        if (row := aggregates.get((ext, "IQM")))
    ]
    paired = ""
    if effect.get("paired") == "yes" and math.isfinite(effect.get("paired_ci_low", math.nan)):
        paired = (
            f"; seed-paired [{number(effect['paired_ci_low'], 3)}, {number(effect['paired_ci_high'], 3)}] (the same "
            "seeds resampled together; the headline keeps the independent interval, rliable's resampling read at "
            "the expanded level, whose coverage experiments/coverage measured)"
        )
    lines = [
        f"- IQM of human-normalised scores [{pct} CI]: " + ", ".join(iqm) + ".\n",
        f"- IQM(`{x}`) - IQM(`{BASELINE}`): "
        f"{interval_text(effect['difference'], effect['ci_low'], effect['ci_high'], 3)}{paired}.\n",
    ]
    if improvement:
        lines.append(
            f"- Probability of improvement P(`{x}` > `{BASELINE}`): "
            f"{interval_text(improvement['probability'], improvement['ci_low'], improvement['ci_high'], 3)}"
            "; 0.5 means no difference.\n"
        )
    lines.append(_games_either_way(res, x, confidence))
    lines.append(_per_game_q(res, x))
    lines.append(_mean_line(res, effect))
    base = aggregates.get((BASELINE, "IQM"), {}).get("point", math.nan)
    text = reading(x, effect["difference"], effect["ci_low"], effect["ci_high"], confidence, base)
    lines.append(f"- **Reading:** {text} {equivalence_sentence(effect, settings)}\n")
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
            if learning := learning_sentence(res):
                parts.append("\n" + learning)
            parts.append(atari5_sentence(res, s.confidence))
            continue
        improvements = {r["x"]: r for r in res.improvement.to_dict("records")} if not res.improvement.empty else {}
        for effect in res.effects.to_dict("records"):
            seeds = sorted({effect["n_runs_x"], effect["n_runs_y"]})
            per_game = "-".join(str(n) for n in seeds)
            parts.append(
                f"\n**{res.algo.upper()}, `{effect['x']}` vs `{BASELINE}`: {effect['n_games']} games, {per_game} "
                "run(s) per game and extractor.**\n\n"
                + learning_sentence(res)
                + atari5_sentence(res, s.confidence)
                + _comparison(res, effect, improvements.get(effect["x"], {}), s)
            )
    return "".join(parts)
