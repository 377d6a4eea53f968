"""The report's sections that compare the extractors of one algorithm: the effect, the aggregates, the
probability of improvement, every game on its own, sample efficiency, learning curves, final scores and
performance profiles.

Each function renders one ``### ...`` section of ``report.md`` from an algorithm's computed results
(:class:`~rl_coordconv.analysis.results.AlgoResult`), and adds its markdown table to ``md`` (the
per-table markdown files of :mod:`~rl_coordconv.analysis.report_tables`) where it has one.
"""

from __future__ import annotations

import math
from typing import Any

from rl_coordconv.analysis.load import BASELINE
from rl_coordconv.analysis.markdown import interval_text, md_table, number
from rl_coordconv.analysis.results import AlgoResult, Settings

__all__ = [
    "effect_section",
    "aggregate_section",
    "improvement_section",
    "per_game_section",
    "efficiency_section",
    "final_section",
    "curves_section",
    "profiles_section",
]

Tables = dict[str, list[tuple[str, str]]]


def _pct(s: Settings) -> str:
    return f"{s.confidence:.0%}"


def effect_section(res: AlgoResult, s: Settings, md: Tables, fig: str | None) -> str:
    """``### Effect``: IQM(X) - IQM(nature), its seed-paired and TOST intervals and the reading.

    :param res: one algorithm's results
    :param s: the settings
    :param md: per-table markdown, added to
    :param fig: its figure's file name, None when not drawn
    :return: the section (possibly empty)
    """
    head = f"### Effect: IQM(X) - IQM({BASELINE})\n"
    if res.effects.empty:
        return head + "\nNot computed: " + _why_no_comparison(res) + "\n"
    tost = f"{s.tost_confidence:.0%}"
    rows = [
        [r["x"], BASELINE, number(r["iqm_x"], 3), number(r["iqm_y"], 3), interval_text(r["difference"], r["ci_low"], r["ci_high"], 3),
         f"[{number(r['paired_ci_low'], 3)}, {number(r['paired_ci_high'], 3)}]" if r["paired"] == "yes" else "not paired",
         f"[{number(r['tost_ci_low'], 3)}, {number(r['tost_ci_high'], 3)}]",
         r["reading"] + (f" (+/-{number(r['smallest_effect'], 3)})" if math.isfinite(r["smallest_effect"]) else " (no delta)"),
         f"{r['mean_difference']:+.3f}", f"{r['n_runs_x']} / {r['n_runs_y']} x {r['n_games']}"]
        for r in res.effects.to_dict("records")
    ]  # fmt: skip
    header = ["X", "Y", "IQM(X)", "IQM(Y)", f"IQM(X) - IQM(Y) [{_pct(s)} CI]", f"seed-paired [{_pct(s)} CI]",
              f"[{tost} CI] (TOST)", "reading", "mean(X) - mean(Y)", "runs per game X / Y x games"]  # fmt: skip
    table = md_table(header, rows)
    md.setdefault("effect.md", []).append((res.algo, table))
    delta = (
        f"The smallest effect of interest is +/-{number(s.smallest_effect, 3)} HNS IQM points ({s.smallest_effect_source})"
        if s.smallest_effect is not None
        else "No smallest effect of interest was declared (a spec's `smallest_effect`), so no interval here can show "
        "equivalence"
    )
    text = (
        f"{head}\nThe effect of each variant on the headline score, human-normalised: the difference of the two "
        f"IQMs, with a {_pct(s)} stratified independent bootstrap interval (rliable, {s.reps} resamples; each "
        "side's runs resampled within each game), the headline. An interval that excludes 0 is an effect these "
        "seeds resolve; one that spans 0 is not. Beside it: the seed-paired interval, where every game holds the "
        "same seeds on both sides (the same seed indices resampled on both sides, so what a seed fixes, its "
        "environment seeds and, with equal initialisation, its initial weights, stays out of the difference); the "
        "headline keeps the independent one (rliable's resampling, read at the expanded level), whose coverage "
        "`experiments/coverage/` measured, "
        "and the table shows both so a reader sees whether pairing changes the reading. The "
        f"{tost} interval is the two one-sided tests' (Schuirmann 1987; Lakens 2017): inside (-delta, +delta) it "
        f"reads as equivalent within delta at {1 - s.confidence:.0%}. {delta}. The reading is `better` or `worse` "
        f"(the {_pct(s)} interval excludes 0), `equivalent` (not that, and the {tost} interval lies inside "
        "+/-delta) or `inconclusive`. mean(X) - mean(Y) is the difference of the mean human-normalised scores, "
        "shown because a few outlying games can move it against the IQM's sign.\n\n" + table
    )
    return text + (f"\n![effect ({res.algo})]({fig})\n" if fig else "")


def _why_no_comparison(res: AlgoResult) -> str:
    if not res.normalised:
        return "no game has a reference score and a scored run of every extractor."
    if BASELINE not in res.normalised:
        return f"no scored '{BASELINE}' runs to compare with."
    return "no other extractor with scored runs on these games."


def aggregate_section(res: AlgoResult, s: Settings, md: Tables, fig: str | None) -> str:
    """``### Human-normalised aggregates``: IQM, median, mean and optimality gap per extractor.

    :param res: one algorithm's results
    :param s: the settings
    :param md: per-table markdown, added to
    :param fig: its figure's file name, None when not drawn
    :return: the section (possibly empty)
    """
    head = "### Human-normalised aggregates\n"
    rs = res.runset
    if res.aggregates.empty:
        return head + "\nNot computed: no game with a reference score has a scored run of every extractor.\n"
    rows = []
    for ext, matrix in res.normalised.items():
        low, high = res.intervals[ext]
        cells = [interval_text(res.points[ext][m], low[m], high[m], 3) for m in range(len(res.points[ext]))]
        rows.append([ext, f"{matrix.shape[0]} x {matrix.shape[1]}", *cells])
    table = md_table(["extractor", "runs per game x games", "IQM", "Median", "Mean", "Optimality Gap"], rows)
    md.setdefault("aggregates.md", []).append((res.algo, table))
    text = [
        head,
        (
            f"One score per run ({s.score.label}), human-normalised: (score - random) / (human - random), with the "
            "random and human scores of the DeepMind table. Aggregates over runs and games with "
            f"{_pct(s)} stratified-bootstrap CIs (rliable, {s.reps} resamples, expanded percentile; Agarwal et al. "
            "2021; Hesterberg 2015). "
            "IQM is the mean of the middle 50% of run x game scores; median and mean are over per-game means; "
            "optimality gap is 1 minus the mean of scores clipped at 1 (lower is better). "
            f"Games: {', '.join(rs.aggregate_games)}.\n"
        ),
        table,
    ]
    if any(m.shape[0] < 2 for m in res.normalised.values()):
        text.append("CIs marked n/a: a bootstrap over seeds needs at least two runs per game.\n")
    if fig:
        text.append(f"![aggregate metrics ({res.algo})]({fig})\n")
    return "\n".join(text)


def improvement_section(res: AlgoResult, s: Settings, md: Tables, fig: str | None) -> str:
    """``### Probability of improvement``: P(X > nature) over the aggregates' games.

    :param res: one algorithm's results
    :param s: the settings
    :param md: per-table markdown, added to
    :param fig: its figure's file name, None when not drawn
    :return: the section (possibly empty)
    """
    head = f"### Probability of improvement over `{BASELINE}`\n"
    if res.improvement.empty:
        return head + "\nNot computed: " + _why_no_comparison(res) + "\n"
    rows = [
        [r["x"], BASELINE, interval_text(r["probability"], r["ci_low"], r["ci_high"], 3)]
        for r in res.improvement.to_dict("records")
    ]
    table = md_table(["X", "Y", f"P(X > Y) [{_pct(s)} CI]"], rows)
    md.setdefault("probability_of_improvement.md", []).append((res.algo, table))
    text = (
        f"{head}\nP(X > {BASELINE}): for each game, the probability that a run of X scores higher than a run of "
        f"{BASELINE} (Mann-Whitney U / (n_X n_Y), ties count 1/2), averaged over the "
        f"{len(res.runset.aggregate_games)} game(s) of the aggregates; {_pct(s)} CI from rliable's stratified "
        f"independent bootstrap ({s.light_reps} resamples). 0.5 means no difference.\n\n" + table
    )
    return text + (f"\n![probability of improvement ({res.algo})]({fig})\n" if fig else "")


def per_game_section(res: AlgoResult, s: Settings, md: Tables, fig: str | None) -> str:
    """``### Per-game comparison``: every game on its own, Welch t-intervals, p and q.

    :param res: one algorithm's results
    :param s: the settings
    :param md: per-table markdown, added to
    :param fig: its figure's file name, None when not drawn
    :return: the section (possibly empty)
    """
    head = "### Per-game comparison\n"
    if res.per_game.empty:
        return head + f"\nNot computed: no game has scored runs of both `{BASELINE}` and another extractor.\n"
    rows = [
        [r["game"], r["x"], f"{r['n_runs_x']} / {r['n_runs_y']}", number(r["mean_x"]), number(r["mean_y"]),
         interval_text(r["difference"], r["ci_low"], r["ci_high"]),
         interval_text(r["hns_difference"], r["hns_ci_low"], r["hns_ci_high"], 3), number(r["probability"], 2),
         number(r.get("p_value", math.nan), 3), number(r.get("q_value", math.nan), 3)]
        for r in res.per_game.to_dict("records")
    ]  # fmt: skip
    header = ["game", "X", "runs X / Y", "mean X", f"mean {BASELINE}", f"X - {BASELINE} [{_pct(s)} Welch t]",
              "human-normalised", f"P(X > {BASELINE})", "p (Welch)", "q (BH)"]  # fmt: skip
    table = md_table(header, rows)
    md.setdefault("per_game.md", []).append((res.algo, table))
    text = (
        f"{head}\nEvery game on its own, with all of its scored runs: the difference of the mean headline scores "
        f"with Welch's {_pct(s)} t-interval (scipy; n/a with fewer than two runs a side), the same difference "
        f"human-normalised, and the per-game probability that a run of X beats a run of {BASELINE}. With a "
        "handful of seeds a per-game interval is wide; it says how much one game alone can tell. p is the Welch "
        "t-test's two-sided p-value; q the Benjamini-Hochberg adjusted one over this variant's games (the false "
        "discovery rate: with many games, some p-values fall below 0.05 by chance; read q).\n\n" + table
    )
    return text + (f"\n![per-game comparison ({res.algo})]({fig})\n" if fig else "")


def efficiency_section(res: AlgoResult, s: Settings, fig: str | None) -> str:
    """``### Sample efficiency``: the IQM against agent steps.

    :param res: one algorithm's results
    :param s: the settings
    :param fig: its figure's file name, None when not drawn
    :return: the section (possibly empty)
    """
    head = "### Sample efficiency\n"
    if res.efficiency.empty:
        return head + "\nNot computed: no run set for the aggregates (see above and the warnings).\n"
    source = (
        "each evaluation's mean score"
        if res.efficiency_source == "evaluations"
        else f"training games binned by agent steps ({s.bins} bins over the budget; the runs do not all have "
        "evaluations at the same two or more points)"
    )
    text = (
        f"{head}\nIQM of human-normalised scores against agent steps, from {source}, over the runs and games of "
        f"the aggregates; bands are {_pct(s)} stratified-bootstrap CIs (rliable's sample-efficiency curves, "
        f"{s.light_reps} resamples). Numbers: `sample_efficiency.csv`.\n"
    )
    return text + (f"\n![sample efficiency ({res.algo})]({fig})\n" if fig else "")


def final_section(res: AlgoResult, s: Settings, md: Tables) -> str:
    """``### Final scores per game``: raw scores, mean and t-interval over seeds.

    :param res: one algorithm's results
    :param s: the settings
    :param md: per-table markdown, added to
    :return: the section (possibly empty)
    """
    n = s.train_n
    rows = []
    order = list(res.runset.extractors)
    for r in sorted(res.final_scores.to_dict("records"), key=lambda r: (r["game"], order.index(r["extractor"]))):
        seeds = str(r["n_runs"]) + (f" ({r['n_incomplete']} incomplete)" if r["n_incomplete"] else "")
        rows.append([r["game"], r["extractor"], seeds, _final_cell(r, "train", n), _final_cell(r, "eval", n)])
    headline = {
        "train": " (headline)" if s.score.kind == "train" else "",
        "eval": " (headline)" if s.score.kind == "eval" else "",
    }
    header = [
        "game",
        "extractor",
        "seeds",
        f"last {n} training games{headline['train']}",
        f"last evaluation{headline['eval']}",
    ]
    table = md_table(header, rows)
    md.setdefault("final_scores.md", []).append((res.algo, table))
    return (
        "### Final scores per game\n\n"
        f"Raw whole-game scores: mean over seeds [{_pct(s)} t-interval over seeds; n/a with one seed]. "
        f"'last {n} training games' is each run's mean over its last {n} finished training games, or over all "
        "of them when it finished fewer (early play included); the cell says how many games each mean "
        "averaged. 'last evaluation' is the mean score of each run's last evaluation, over the games stated. "
        "Also in `final_scores.csv` and `final_scores.md`.\n\n" + table
    )


def _final_cell(r: dict[str, Any], kind: str, n: int) -> str:
    runs = r[f"{kind}_n_runs"]
    if runs == 0:
        return "no evaluation" if kind == "eval" else "no finished game"
    text = interval_text(r[f"{kind}_mean"], r[f"{kind}_ci_low"], r[f"{kind}_ci_high"])
    low, high = r[f"{kind}_games_min"], r[f"{kind}_games_max"]
    games = f"{low}" if low == high else f"{low}-{high}"
    if kind == "train":
        text += f"; {games} games each" + (f" (fewer than {n})" if low < n else "")
    else:
        text += f"; {games} games each"
    return text + (f" ({runs} of {r['n_runs']} runs)" if runs != r["n_runs"] else "")


def curves_section(res: AlgoResult, s: Settings, figs: list[tuple[str, str]]) -> str:
    """``### Learning curves``: one figure per game (empty without figures).

    :param res: one algorithm's results
    :param s: the settings
    :param figs: (game, figure file name) pairs, empty when not drawn
    :return: the section (possibly empty)
    """
    text = [
        "### Learning curves\n",
        (
            "Each thin line is one seed; the thick line is the mean over seeds and the band its "
            f"{_pct(s)} t-interval (no band where fewer than two seeds have a value). Training curves bin the "
            f"whole-game scores of finished training games by agent steps ({s.bins} bins over the budget; a bin "
            "without a finished game carries the previous value). Evaluation curves, where present, show each "
            "evaluation's mean score.\n"
        ),
    ]
    if not figs:
        return ""
    text += [f"![{game} learning curves ({res.algo})]({name})\n" for game, name in figs]
    return "\n".join(text)


def profiles_section(res: AlgoResult, s: Settings, fig: str | None) -> str:
    """``### Performance profiles`` (empty without its figure).

    :param res: one algorithm's results
    :param s: the settings
    :param fig: its figure's file name, None when not drawn
    :return: the section (possibly empty)
    """
    if not fig:
        return ""
    return (
        "### Performance profiles\n\n"
        f"Fraction of run x game human-normalised scores above each threshold tau (rliable's score "
        f"distributions), with {_pct(s)} bootstrap bands ({s.light_reps} resamples). A curve that lies above "
        f"another everywhere is better at every threshold.\n\n![performance profiles ({res.algo})]({fig})\n"
    )
