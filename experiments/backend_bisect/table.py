"""Print the bisect's table: mean whole-game training score per 100k-agent-step bin, per pipeline.

python experiments/backend_bisect/table.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parents[1] / "results"
PIPELINES = {
    "sb3": sorted((RESULTS / "backend_check_sb3" / "runs").glob("*")),
    "ale_vector at ffd2c31": sorted((RESULTS / "backend_check_ale_vector" / "runs").glob("*")),
    **{
        name: sorted((HERE / "records").glob(f"{prefix}-seed*"))
        for name, prefix in [
            ("sb3 + C++ episode starts (both)", "mimic_both"),
            ("sb3 + C++ game start (start)", "mimic_start"),
            ("sb3 + exposed FIRE after a lost life (life)", "mimic_life"),
            ("ale_vector at b2f1e17", "ale_vector_b2f1e17"),
            ("ale_vector at b2f1e17, reset steps masked (uncommitted)", "ale_vector_masked"),
            ("ale_vector at dc72721, reset steps hidden", "ale_vector_hidden"),
            ("sb3 at dc72721, run as the rows above (train, 1 torch thread)", "sb3_train"),
            ("plain SB3, 1 torch thread (plain_sb3.py, stopped at 100k)", "plain_sb3"),
        ]
    },
}


def bins(run: Path) -> list[float | None]:
    """Mean score of the games that ended in each 100k-agent-step bin the run covered."""
    games = pd.read_csv(run / "episodes.csv")
    out: list[float | None] = []
    for lo in (0, 100_000, 200_000):
        if games.agent_steps.max() < lo + 99_000:
            out.append(None)
        else:
            out.append(float(games[(games.agent_steps >= lo) & (games.agent_steps < lo + 100_000)]["return"].mean()))
    return out


def cell(values: list[float]) -> str:
    if not values:
        return ""
    seeds = ", ".join(f"{v:.2f}" for v in values)
    return f"{sum(values) / len(values):.2f} ({seeds})"


if __name__ == "__main__":
    print("| pipeline | runs | 0-100k | 100k-200k | 200k-300k |")
    print("|---|---|---|---|---|")
    for name, runs in PIPELINES.items():
        per_run = [bins(r) for r in runs]
        cols = [[b[k] for b in per_run if b[k] is not None] for k in range(3)]
        print(f"| {name} | {len(runs)} | " + " | ".join(cell(c) for c in cols) + " |")
