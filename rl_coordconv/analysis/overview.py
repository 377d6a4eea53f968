"""The report's sections about the whole analysis, around the per-algorithm ones: the headline score,
the run set, how the numbers were made, and the references.
"""

from __future__ import annotations

from rl_coordconv.analysis import stats
from rl_coordconv.analysis.load import BASELINE
from rl_coordconv.analysis.markdown import md_table, number, relative
from rl_coordconv.analysis.results import Analysis, Settings

__all__ = ["headline", "run_set_section", "how_section", "REFERENCES"]


def _pct(s: Settings) -> str:
    return f"{s.confidence:.0%}"


def headline(a: Analysis) -> list[str]:
    """The report's first blocks: which headline score every aggregate uses, and the runs that lack it.

    :param a: the analysis
    :return: the blocks, in order
    """
    s = a.settings
    score = s.score
    what = (
        "the mean score of each run's **last evaluation**"
        if score.kind == "eval"
        else f"the mean of each run's **last {score.last_n} training games** (all of them when it finished fewer)"
    )
    lines = [
        (
            f"**Headline score: `{score.name}`** ({score.source}): {what}. Every aggregate, effect, probability of "
            "improvement, per-game comparison, performance profile and baseline check below uses it; runs "
            "without it are listed, never scored another way. `analyze --score eval|train_last_N` chooses another."
        )
    ]
    unscored = [r for res in a.algos for r in res.runset.unscored]
    if unscored:
        rows = [[relative(r.path, s.root), r.algo, r.game, r.extractor, str(r.seed), score.missing] for r in unscored]
        lines.append(f"**{len(unscored)} run(s) lack the headline score** and are left out of those statistics:")
        lines.append(md_table(["run folder", "algo", "game", "extractor", "seed", "lacks"], rows))
    return lines


def run_set_section(a: Analysis) -> list[str]:
    """``## The run set``: duplicate cells, games left out of the aggregates, uneven seed counts.

    :param a: the analysis
    :return: the heading and the section's text
    """
    s = a.settings
    blocks = ["## The run set"]
    items = []
    if a.duplicates:
        items += [
            f"- duplicate cell {d.algo}/{d.game}/{d.extractor}/seed {d.seed}: `{relative(d.path, s.root)}` "
            f"counted once, as `{relative(k.path, s.root)}`"
            for k, d in a.duplicates
        ]
    for res in a.algos:
        rs = res.runset
        items += [f"- {res.algo}: **{g}** left out of the aggregates ({why})" for g, why in rs.dropped_games.items()]
        for ext, cut in rs.left_out_of_matrices.items():
            items.append(
                f"- {res.algo}/{ext}: the aggregates take {rs.matrices[ext].shape[0]} run(s) per game, leaving out "
                + ", ".join(f"`{relative(r.path, s.root)}`" for r in cut)
                + " (used everywhere else)"
            )
        counts = {ext: sorted({len(rs.cells.get((ext, g), ())) for g in rs.games}) for ext in rs.extractors}
        uneven = {e: c for e, c in counts.items() if len(c) > 1}
        if uneven:
            items.append(f"- {res.algo}: scored runs per game differ: " + "; ".join(
                f"{e}: {min(c)}-{max(c)}" for e, c in uneven.items()) + " (per-game statistics use them all)")  # fmt: skip
    blocks.append(
        "".join(f"{i}\n" for i in items)
        if items
        else "Every cell appears once, every run in the statistics has the headline score, and every game "
        "with runs is in the aggregates."
    )
    return blocks


def _levels_used(a: Analysis) -> str:
    """Which percentiles this report's stratified bootstraps were read at, per algorithm and matrix shape."""
    parts = []
    for res in a.algos:
        for runs, games in sorted({m.shape for m in res.normalised.values()}):
            shape = f"{runs} run{'s' if runs != 1 else ''} per game on {games} game{'s' if games != 1 else ''}"
            if runs < 2:
                parts.append(f"{res.algo}, {shape}: no interval")
            else:
                level = stats.bootstrap_level(a.settings.confidence, runs, games)
                read = f"the {level:.1%} percentiles" if level < 0.9995 else "the whole range of the resamples"
                parts.append(f"{res.algo}, {shape}: the {_pct(a.settings)} interval takes {read}")
    return "; ".join(parts) if parts else "no aggregate was computed"


def how_section(a: Analysis) -> str:
    """``## How the numbers were made``: the score, the intervals and what their coverage was measured at.

    :param a: the analysis
    :return: the section
    """
    s = a.settings
    return (
        "## How the numbers were made\n\n"
        f"- Headline score: `{s.score.name}` ({s.score.label}; chosen by {s.score.source}).\n"
        "- Scores are whole-game, unclipped Atari scores; human-normalised = (score - random) / (human - random).\n"
        f"- Aggregates over games (IQM, median, mean, optimality gap, the effect IQM(X) - IQM({BASELINE}), "
        f"probability of improvement, profiles, sample efficiency): {_pct(s)} stratified-bootstrap intervals "
        f"(rliable); {s.reps} resamples for aggregates and effects, {s.light_reps} for the others; bootstrap seed "
        f"{s.seed} (running analyze again gives identical tables). They are *expanded* percentile intervals "
        "(Hesterberg 2015): a bootstrap over n runs per game spreads like (n - 1) / n of the runs' variance, so "
        "the percentiles are read at the level whose normal quantile is sqrt(n / (n - 1)) t_{games (n - 1)} "
        f"({_levels_used(a)}). On real "
        "Atari 100k runs (DrQ(eps) and SPR, IQM about 0.28) the plain percentile interval of an IQM difference "
        "covered 88% with 3 runs per game, the expanded one 95%; on resamples of the atari100k study's own "
        "near-random runs (IQM about 0.025, ties at the random score) the expanded one covered 90-95% and "
        "rliable's default 85-91%. The probability of improvement keeps the plain percentile interval, which "
        "covered 92-95% there. One extractor's own IQM interval covered about 90% with 3 runs per game and "
        "92-94% with 5, and its median's far less: read the median as descriptive. Performance-profile bands "
        "covered 91-96% where a third to a half of the scores lie above the threshold, and less in the tail "
        "(73% where 12% do, with 3 runs per game). Every measured figure: `experiments/coverage/README.md`.\n"
        f"- Numbers of one game (final scores, learning-curve bins, per-game differences): {_pct(s)} Student "
        "t-intervals over seeds (Welch's for differences). A percentile bootstrap over 2-5 seeds covers far "
        "less than 95%; the t-interval stays close to nominal, and is as wide as few seeds warrant (with 2 seeds "
        "a 95% interval is the mean +- 12.7 standard errors, with 3 seeds +- 4.3, with 5 seeds +- 2.8). On real "
        "Atari 100k scores the Welch interval of a per-game difference covered 96.5-97% where nothing differs "
        "and 94% on average where games differ, but under 70% in the most skewed game: read one game's "
        "interval as a guide.\n"
        "- Learning check first: per extractor, the IQM and median of human-normalised scores, the games below "
        "random, and whether each run's final score beats its own first training games (paired over seeds, "
        "Student t; and each run's own last-vs-first test, two Welch standard errors).\n"
        f"- Equivalence: {_delta_text(s)} The two one-sided tests (Schuirmann 1987; Lakens 2017) are read from "
        f"the {s.tost_confidence:.0%} interval of the IQM difference (the same expanded bootstrap): inside "
        "(-delta, +delta) is equivalence at "
        f"{1 - s.confidence:.0%}. The seed-paired interval resamples the same seeds on both sides (rliable's "
        "`StratifiedBootstrap` over both arrays); the headline keeps the independent one. On resamples of the "
        "atari100k study's own near-random runs, an equivalence reading at a true difference of +/-delta was "
        "wrong in up to 8% of simulated studies (nominal 5%).\n"
        "- Per-game p-values are Welch t-tests; q-values their Benjamini-Hochberg adjustment over one variant's "
        "games (scipy's `false_discovery_control`).\n"
        "- With one seed no interval can be computed: such intervals read n/a.\n"
        "- Per-run numbers: `run_scores.csv`; curve numbers: `curves.csv` and `curves_per_seed.csv`.\n"
    )


def _delta_text(s: Settings) -> str:
    if s.smallest_effect is None:
        return "no smallest effect of interest was declared, so no interval here can show equivalence."
    return f"the smallest effect of interest is +/-{number(s.smallest_effect, 3)} HNS IQM points ({s.smallest_effect_source})."


#: ``## References``: the papers the statistics follow.
REFERENCES = (
    "## References\n\nR. Agarwal, M. Schwarzer, P. S. Castro, A. Courville, M. G. Bellemare. Deep "
    "Reinforcement Learning at the Edge of the Statistical Precipice. NeurIPS 2021. "
    "https://github.com/google-research/rliable\n\nM. C. Machado, M. G. Bellemare, E. Talvitie, J. Veness, "
    "M. Hausknecht, M. Bowling. Revisiting the Arcade Learning Environment. JAIR 2018.\n\nT. C. Hesterberg. "
    "What Teachers Should Know About the Bootstrap: Resampling in the Undergraduate Statistics Curriculum. "
    "The American Statistician 69(4), 2015. arXiv:1411.5279 (the expanded percentile interval).\n"
)
