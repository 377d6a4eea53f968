"""The learning check's pass rule at 1M, 2M and 3M agent steps, from a pilot's committed records.

The rule (declared in ``experiments/a2c-atari5-3m-pilot.yaml`` before its first run): a game clearly
improves when the mean of the run's last 100 whole training games exceeds the mean of its first 100 by
more than two standard errors (Welch: the square root of the sum of the two means' squared standard
errors). At a budget B the "last 100" are the last 100 games that ended by agent step B: A2C's zoo preset
has a constant learning rate, so those are the games of a B-step run. At the full budget this is the
``runs: last > first by 2 SE`` column that ``rl-coordconv analyze`` writes into ``report/learning.md``.

Run: ``.venv/bin/python results/a2c-atari5/learning_at_budgets.py results/a2c-atari5/pilot-3m``
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pandas as pd

BUDGETS = (1_000_000, 2_000_000, 3_000_000)
N = 100


def rows(run: Path) -> list[str]:
    """One markdown row per budget the run reached: game, budget, games, first, last, difference, 2 SE."""
    games = pd.read_csv(run / "episodes.csv")
    first = games["return"].iloc[:N]
    game = run.name.split("-")[0]
    out = []
    for budget in BUDGETS:
        upto = games[games["agent_steps"] <= budget]
        if len(upto) < 2 * N or not (run / "status.json").is_file():
            continue
        steps = int(pd.read_json(run / "status.json", typ="series")["agent_steps"])
        if steps < budget:
            continue
        last = upto["return"].iloc[-N:]
        diff = last.mean() - first.mean()
        two_se = 2 * math.sqrt(first.var(ddof=1) / N + last.var(ddof=1) / N)
        verdict = "yes" if diff > two_se else "no"
        out.append(
            f"| {game} | {budget // 1_000_000}M | {len(upto)} | {first.mean():.2f} | {last.mean():.2f} | "
            f"{diff:+.2f} ({two_se:.2f}) | {verdict} |"
        )
    return out


def main(study: str) -> None:
    """Print the table for every run of ``study``'s ``runs/`` folder."""
    print("| game | budget | games by then | first 100 | last 100 | last - first (2 SE) | clearly improves |")
    print("|---|---|---|---|---|---|---|")
    for run in sorted((Path(study) / "runs").iterdir()):
        for line in rows(run):
            print(line)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).parent / "pilot-3m"))
