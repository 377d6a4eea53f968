"""The report's sections that say what the numbers may be read as: the learning check, the noise budget
and the baseline beside its references.

Each function renders one ``### ...`` section of ``report.md`` from an algorithm's computed results
(:class:`~rl_coordconv.analysis.compute.AlgoResult`) and adds its markdown table to ``md`` (the per-table
markdown files :mod:`~rl_coordconv.analysis.report` writes).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rl_coordconv.analysis.answer import learning_sentence
from rl_coordconv.analysis.atari5 import ATARI5_GAMES, atari5_model
from rl_coordconv.analysis.learning import NEAR_RANDOM_IQM, START_GAMES
from rl_coordconv.analysis.load import BASELINE
from rl_coordconv.analysis.markdown import interval_text, md_table, number
from rl_coordconv.analysis.noise import noise_summary
from rl_coordconv.analysis.results import AlgoResult, Settings

__all__ = ["learning_section", "noise_section", "baseline_section", "atari5_section"]

Tables = dict[str, list[tuple[str, str]]]


def _pct(s: Settings) -> str:
    return f"{s.confidence:.0%}"


def learning_section(res: AlgoResult, s: Settings, md: Tables) -> str:
    """``### Learning check``: how far each extractor got, before any comparison.

    :param res: one algorithm's results
    :param s: the settings
    :param md: per-table markdown, added to
    :return: the section
    """
    head = "### Learning check\n"
    if res.learning.empty:
        return head + "\nNot computed: no scored run.\n"
    summary = [
        [r["extractor"], number(r["iqm"], 3), number(r["median"], 3), f"{r['games_below_random']} / {r['n_games']}",
         f"{r['games_improving']} / {r['n_games']}",
         f"{r['games_clearly_improving']} / {r['games_with_interval']}" if r["games_with_interval"] else "n/a",
         f"{r['runs_clearly_improving']} / {r['runs']}", "yes" if r["near_random"] else "no"]
        for r in res.learning_summary.to_dict("records")
    ]  # fmt: skip
    summary_table = md_table(
        ["extractor", "IQM (HNS)", "median (HNS)", "games below random", "games final > start",
         f"games final > start ({_pct(s)} t over seeds)", "runs: last > first by 2 SE", "near random"],
        summary,
    )  # fmt: skip
    rows = [
        [r["game"], r["extractor"], str(r["n_runs"]), number(r["random"]), number(r["final_mean"]),
         number(r["final_hns"], 3), number(r["start_mean"]),
         interval_text(r["gain"], r["gain_ci_low"], r["gain_ci_high"]), f"{r['runs_clearly_improving']} / {r['n_runs']}"]
        for r in res.learning.to_dict("records")
    ]  # fmt: skip
    table = md_table(
        ["game", "extractor", "runs", "random", "final (headline)", "final (HNS)", "start", f"final - start [{_pct(s)} t]",
         "runs: last > first by 2 SE"],
        rows,
    )  # fmt: skip
    md.setdefault("learning.md", []).append((res.algo, summary_table + "\n" + table))
    return (
        f"{head}\nHow far the agents got, before any comparison between them. 'final' is the headline score "
        f"({s.score.label}); 'start' each run's mean over its first {START_GAMES} training games (half of its games "
        "when it played fewer than twice that); 'final - start' is paired over seeds, with a Student t-interval "
        f"over seeds. 'runs: last > first by 2 SE' counts the runs whose last {START_GAMES} training games beat their "
        "first by more than two standard errors (Welch), each run on its own. An extractor is 'near random' when "
        f"its IQM is below {NEAR_RANDOM_IQM} or fewer than half of its runs pass that per-run test. Also "
        "in `learning.csv` and `learning.md`.\n\n" + learning_sentence(res) + "\n" + summary_table + "\n" + table
    )


def noise_section(res: AlgoResult, s: Settings, md: Tables) -> str:
    """``### Noise budget``: measurement noise of the headline score against the spread between seeds.

    :param res: one algorithm's results
    :param s: the settings
    :param md: per-table markdown, added to
    :return: the section ("" when no cell has two runs)
    """
    if res.noise.empty:
        return ""
    source = "its last evaluation's games" if s.score.kind == "eval" else f"its last {s.score.last_n} training games"
    rows = [
        [r["game"], r["extractor"], str(r["n_runs"]), str(r["games_per_score"]), number(r["noise_variance"], 1),
         number(r["between_seed_variance"], 1), f"{r['ratio']:.0%}" if math.isfinite(r["ratio"]) else "n/a"]
        for r in res.noise.to_dict("records")
    ]  # fmt: skip
    table = md_table(
        ["game", "extractor", "runs", "games per score", "noise variance", "between-seed variance", "noise / between"],
        rows,
    )
    md.setdefault("noise.md", []).append((res.algo, table))
    return (
        "### Noise budget\n\nEach run's headline score is a mean over "
        f"{source}, so it carries measurement noise: the variance of those games over their number (mean over "
        "the runs). The between-seed variance of the scores holds that noise plus the seeds' own spread. Above "
        "50%, noise is more than half of what separates seeds (more games per score would narrow the intervals); "
        f"below, seeds dominate (more seeds would). Also in `noise.csv`.\n\n{noise_summary(res.noise)}\n\n" + table
    )


def baseline_section(res: AlgoResult, s: Settings, md: Tables, budgets: list[int]) -> str:
    """``### The nature baseline beside published scores``, naming the file and source of every reference used,
    its score kind, how its protocol differs and how far above random it is itself.

    :param res: one algorithm's results
    :param s: the settings
    :param md: per-table markdown, added to
    :param budgets: the budgets (agent steps) of the scored runs
    :return: the section
    """
    head = f"### The `{BASELINE}` baseline beside published scores\n"
    if res.baselines.empty:
        budget_text = ", ".join(f"{b:,}" for b in budgets) or "unknown"
        extra = "" if s.published is None else " or in the `--published` table(s) given"
        return (
            f"{head}\nNo published {res.algo.upper()} score in the package's table "
            "(`rl_coordconv/data/published_scores.csv`: rl-baselines3-zoo, 10M agent steps, standard protocol)"
            f"{extra} matches these runs' game, protocol and budget ({budget_text} agent steps), so there is nothing "
            "to check the baseline against here.\n"
        )
    records = res.baselines.to_dict("records")
    sources = list(dict.fromkeys(r["source"] for r in records))  # each source once, numbered in table order
    rows = [
        [r["game"], f"{r['agent_steps']:,}", r["protocol"], interval_text(r["nature_mean"], r["nature_ci_low"], r["nature_ci_high"]),
         str(r["nature_n_runs"]), number(r["published"]), number(r["published_hns"], 3),
         f"{r['published_seeds']} ({r['published_score_kind']})", f"({sources.index(r['source']) + 1})"]
        for r in records
    ]  # fmt: skip
    header = [
        "game", "agent steps", "protocol", f"{BASELINE} ({s.score.name}) [{_pct(s)} t]", "seeds", "published",
        "published (HNS)", "published seeds (score)", "source",
    ]  # fmt: skip
    notes = "\n".join(f"- ({i}) {source}" for i, source in enumerate(sources, 1))
    table = _summary(res, s) + "\n\n" + md_table(header, rows) + "\nSources:\n\n" + notes + "\n"
    md.setdefault("baselines.md", []).append((res.algo, table))
    return f"{head}\n{_references(res, s)}\n\n" + table


def _references(res: AlgoResult, s: Settings) -> str:
    """Per file of references: what it is, its score kind against ours, its protocol's differences, its level."""
    lines = []
    for file, group in res.baselines.groupby("file", sort=False):
        rows: list[dict[str, Any]] = group.to_dict("records")
        kinds = sorted({r["published_score_kind"] for r in rows})
        differences = sorted({r["differences"] for r in rows if r["differences"]})
        hns = np.array([r["published_hns"] for r in rows], dtype=float)
        hns = hns[np.isfinite(hns)]
        level = (
            f"its own median human-normalised score over these {hns.size} game(s) is {number(float(np.median(hns)), 3)}"
            + (
                f" ({int((hns < NEAR_RANDOM_IQM).sum())} below {NEAR_RANDOM_IQM}): a reference near random play checks "
                "little"
                if float(np.median(hns)) < NEAR_RANDOM_IQM
                else ""
            )
            if hns.size
            else "its level against random is unknown (no game with a reference score)"
        )
        same_kind = [k for k in kinds if k == s.score.name]
        kind_text = f"its score is `{', '.join(kinds)}`" + (
            "" if same_kind else f", not this report's headline score (`{s.score.name}`): set side by side, not equal"
        )
        lines.append(
            f"- `{file}`: {len(rows)} matching row(s) (same algorithm, game, protocol name and budget); {kind_text}; "
            + (
                "how its protocol differs from these runs: " + "; ".join(differences)
                if differences
                else "the file states no protocol differences"
            )
            + f"; {level}."
        )
    return (
        "References used (by file; a baseline far below a like-for-like reference points at a setup problem, not at "
        "CoordConv; one that differs in protocol or score kind is only a rough guide):\n\n" + "\n".join(lines)
    )


def _summary(res: AlgoResult, s: Settings) -> str:
    """Per kind of published score: in how many games the baseline's mean is above or below it, and where
    the published score falls against the baseline's interval over seeds."""
    lines = []
    for kind, group in res.baselines.groupby("published_score_kind", sort=True):
        rows = group.to_dict("records")
        above = sum(r["nature_mean"] > r["published"] for r in rows)
        below = sum(r["nature_mean"] < r["published"] for r in rows)
        with_ci = [r for r in rows if math.isfinite(r["nature_ci_low"])]
        inside = sum(r["nature_ci_low"] <= r["published"] <= r["nature_ci_high"] for r in with_ci)
        over = sum(r["published"] > r["nature_ci_high"] for r in with_ci)
        text = (
            f"- Against `{kind}` ({len(rows)} game(s)): `{BASELINE}`'s mean is higher in {above} and lower in {below}"
        )
        if with_ci:
            text += (
                f"; of the {len(with_ci)} game(s) with a {_pct(s)} t-interval over seeds, the published score lies "
                f"inside it in {inside}, above it in {over} and below it in {len(with_ci) - inside - over}."
            )
        else:
            lines.append(text + "; no game has two seeds for an interval yet.")
            continue
        lines.append(text)
    return "\n".join(lines)


def atari5_section(res: AlgoResult, s: Settings, md: Tables) -> str:
    """``### Atari-5 estimate of the 57-game median``: the regression of Aitchison, Sweetser & Hutter (2023)
    applied to each extractor's per-game means, with a bootstrap interval over seeds and the caveat.

    :param res: one algorithm's results
    :param s: the settings
    :param md: per-table markdown, added to
    :return: the section ("" unless the aggregates hold the five Atari-5 games)
    """
    if res.atari5.empty:
        return ""
    model = atari5_model()
    rows = [
        [r["extractor"], interval_text(r["estimate"], r["ci_low"], r["ci_high"], 3),
         f"{r['n_runs_x']}" + (f" / {r['n_runs_y']}" if r["kind"] == "difference" else ""),
         ("seed-paired" if r["paired"] == "yes" else "independent") if r["kind"] == "difference" else "",
         f"{r['level']:.1%}" if math.isfinite(r["level"]) else "n/a"]
        for r in res.atari5.to_dict("records")
    ]  # fmt: skip
    table = md_table(
        ["extractor", f"57-game median, estimated [{_pct(s)} CI over seeds]", "runs per game", "resampling",
         "percentile level"],
        rows,
    )  # fmt: skip
    md.setdefault("atari5.md", []).append((res.algo, table))
    return (
        "### Atari-5 estimate of the 57-game median\n\n"
        f"The 57-game median human-normalised score each extractor would have, estimated from its scores on "
        f"{', '.join(ATARI5_GAMES)} with the Atari-5 regression (Aitchison, Sweetser & Hutter 2023, ICML: "
        "log10(1 + score in percent of human) per game, no intercept), refitted from the paper's released data "
        f"(maitchison/Atari-5 at commit {model.commit[:7]}; `experiments/atari5/README.md`). Point: the "
        "regression on the per-game means over seeds; interval: a stratified bootstrap over seeds (expanded "
        f"percentile, {s.light_reps} resamples), which covers the seeds' noise only, not the regression's own "
        f"error. Caveat: {model.caveat} Also in `atari5.csv`.\n\n" + table
    )
