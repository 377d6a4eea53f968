"""Re-fit the Atari-5 regression from the Atari-5 repository's data and write rl_coordconv/data/atari5.json.

Atari-5 (Aitchison, Sweetser & Hutter, "Atari-5: Distilling the Arcade Learning Environment down to Five
Games", ICML 2023, arXiv:2210.02019) predicts an agent's median human-normalised score over the 57 ALE
games from its scores on five games, by a linear regression on log scores without intercept:

    log10(1 + median_57) = sum_g c_g * log10(1 + max(0, hns_g))

with every score in PERCENT (100 = human). The paper's code and data are https://github.com/maitchison/Atari-5
(``atari5.py``: ``run_init`` builds the training table, ``fit_model`` the regression). This script rebuilds
that table the way ``run_init`` does (same source files, same BANNED_ALGOS, same ``is_good`` rule: at least
40 of the 57 games and a 57-game median above 40%; same normalisation from ``Atari-Human.csv``), checks it
against the repository's released ``dataset.csv``, and fits the five coefficients with NumPy least squares
(what scikit-learn's ``LinearRegression(fit_intercept=False)`` computes). It also reproduces the paper's
10-fold cross-validation (scikit-learn's ``KFold(10, shuffle=True, random_state=1982)``, whose shuffle is
``numpy.random.RandomState(1982).shuffle``) and its "relative error" (cross-validated log10 MAE x ln 10 x 100).

Usage (from the repository root; SOURCE is a checkout of maitchison/Atari-5 or its bare git directory):

    python experiments/atari5/fit_atari5.py SOURCE [--rev HEAD] [--out rl_coordconv/data/atari5.json]
    python experiments/atari5/fit_atari5.py SOURCE --check   # compare with the packaged file, write nothing

Only NumPy and pandas are needed. See experiments/atari5/README.md.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPOSITORY = "https://github.com/maitchison/Atari-5"
PAPER = (
    "Aitchison, Sweetser & Hutter, 'Atari-5: Distilling the Arcade Learning Environment down to Five Games', "
    "ICML 2023 (PMLR 202:421-438), arXiv:2210.02019"
)
#: The Atari-5 games: this package's canonical names -> the repository's names.
GAMES = {
    "BattleZone": "battlezone",
    "DoubleDunk": "doubledunk",
    "NameThisGame": "namethisgame",
    "Phoenix": "phoenix",
    "Qbert": "qbert",
}

# --- copied from atari5.py / atari_util.py at the commit fitted (they decide which rows are kept) -------------
BANNED_ALGOS = {
    "PapersWithCode.Go-Explore",
    "PapersWithCode.UCT",
    "PapersWithCode.Rainbow",
    "PapersWithCode.DQN noop",
    "PapersWithCode.Duel noop",
    "PapersWithCode.DDQN (tuned) noop",
    "SEED.R2D2 Ref",
    "PapersWithCode.Advantage Learning",
    "PapersWithCode.Persistent AL",
    "PapersWithCode.C51",
    "PapersWithCode.C51 noop",
    "PapersWithCode.Bootstrapped DQN",
    "PapersWithCode.QR-DQN-1",
}
# run_init's ADDITIONAL_DATA_SETS with USE_RAINBOW_RIVERRAID = True, USE_UPDATED_A3C = False and
# INCLUDE_FIRSTRETURN = False (the settings of the paper), in its order.
ADDITIONAL_DATA_SETS = (
    "RAINBOW (fixed).csv",
    "SEED.csv",
    "INCREASE.csv",
    "DRLQR.csv",
    "BOOTDQN.csv",
    "LASER.csv",
    "REVISITING.csv",
    "NEAT.csv",
    "REACTOR.csv",
    "NGU.csv",
    "SIMPLE.csv",
)
PRINTABLE_57 = [
    "Alien", "Amidar", "Assault", "Asterix", "Asteroids", "Atlantis", "Bank Heist", "Battle Zone", "Beam Rider",
    "Berzerk", "Bowling", "Boxing", "Breakout", "Centipede", "Chopper Command", "Crazy Climber", "Defender",
    "Demon Attack", "Double Dunk", "Enduro", "Fishing Derby", "Freeway", "Frostbite", "Gopher", "Gravitar", "Hero",
    "Ice Hockey", "James Bond", "Kangaroo", "Krull", "Kung Fu Master", "Montezuma Revenge", "Ms Pacman",
    "Name This Game", "Phoenix", "Pitfall", "Pong", "Private Eye", "QBert", "Riverraid", "Road Runner", "Robotank",
    "Seaquest", "Skiing", "Solaris", "Space Invaders", "Star Gunner", "Surround", "Tennis", "Time Pilot",
    "Tutankham", "Up n Down", "Venture", "Video Pinball", "Wizard of Wor", "Yars Revenge", "Zaxxon",
]  # fmt: skip
CANONICAL_57 = ["".join(g.split(" ")).lower() for g in PRINTABLE_57]
GAME_MAP: dict[str, str | None] = {
    "montezumasrevenge": "montezumarevenge",
    "upanddown": "upndown",
    "pooyan": None,
    "journeyescape": None,
    "elevatoraction": None,
    "carnival": None,
    "airraid": None,
}
for _game in PRINTABLE_57:
    if " " in _game:
        GAME_MAP[_game.split(" ")[0].lower()] = "".join(_game.split(" ")).lower()
# ------------------------------------------------------------------------------------------------------------

#: The first author's own Atari-5 normaliser: maitchison/PPO, tools/plot_util.py, AtariScoreNormalizer.SUBSETS
#: ["Atari_5"] (games, coefficients, relative error in %), read at commit d3e32282 (2023-01-03); the same
#: numbers are in that file since commit d59190ea (2022-04-23). Not a table printed in the paper (see README).
AUTHOR_CODE = {
    "source": "https://github.com/maitchison/PPO/blob/d3e3228252b87bb9b0e5ea6f29329db01287439e/tools/plot_util.py "
    "(AtariScoreNormalizer.SUBSETS['Atari_5'], the first author's training code)",
    "commit": "d3e3228252b87bb9b0e5ea6f29329db01287439e",
    "coefficients": {
        "BattleZone": 0.3819751237831753,
        "DoubleDunk": 0.0679099488887574,
        "NameThisGame": 0.310804148620847,
        "Phoenix": 0.12412619402774641,
        "Qbert": 0.08048518286466755,
    },
    "relative_error_percent": 10.4,
}
PAPER_TABLE_NOTE = (
    "The coefficients as printed in the paper could not be read here (only the paper's abstract and opening were "
    "retrievable), so no paper-table values are recorded; the comparison is with the first author's own "
    "normaliser code, which prints its coefficients in the format atari5.py's __main__ writes them."
)
CAVEAT = (
    "The regression was fitted on {n} published, fully trained agents (for example DQN and Rainbow after 200M "
    "frames, Agent57 and MuZero after billions) whose 57-game medians lie between {low:.0f}% and {high:.0f}% of "
    "human ({low_f:.2f} to {high_f:.1f} as fractions). For agents trained for a few million frames (4M to 12M in the "
    "a2c-atari5 study and its pilots), whose scores lie far below that range, the estimate extrapolates the fit: it says what 57-game median an agent with these five scores would have "
    "if it resembled those agents, not what this agent would score on the other 52 games. Its interval covers "
    "the seeds' noise only, not the regression's error (about 10% relative within the fitted range, unknown "
    "outside it)."
)


def transform(x: Any) -> Any:
    """atari5.py's ``transform``: ``log10(1 + clip(x, 0, inf))``, x in percent."""
    return np.log10(1 + np.clip(x, 0, float("inf")))


class Source:
    """The files of one commit of the Atari-5 repository: a checkout or a (bare) git directory."""

    def __init__(self, path: Path, rev: str = "HEAD") -> None:
        self.path = path
        self.checkout = (path / "atari5.py").is_file()
        if self.checkout:
            self.git = ["git", "-C", str(path)]
            if rev != "HEAD":
                raise SystemExit("error: --rev needs a git directory; for a checkout, check out the revision")
        else:
            self.git = ["git", f"--git-dir={path}"]
        try:
            self.commit = subprocess.run(
                [*self.git, "rev-parse", f"{rev}^{{commit}}"], check=True, capture_output=True, text=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError) as err:
            raise SystemExit(f"error: {path} is not a git checkout or git directory of Atari-5 ({err})") from None

    def read(self, name: str) -> str:
        if self.checkout:
            return (self.path / name).read_text(encoding="utf-8")
        result = subprocess.run([*self.git, "show", f"{self.commit}:{name}"], capture_output=True)
        if result.returncode != 0:
            raise SystemExit(f"error: {name} not found at {self.commit} in {self.path}")
        return result.stdout.decode("utf-8")

    def csv(self, name: str, **kwargs: Any) -> pd.DataFrame:
        return pd.read_csv(io.StringIO(self.read(name)), **kwargs)


def clean_up_atari_game_name(name: str) -> str | None:
    """atari5.py's ``clean_up_atari_game_name`` (keep_games=False)."""
    name = "".join(c for c in name if c.isalpha()).lower()
    return GAME_MAP[name] if name in GAME_MAP else name


def _score(value: Any) -> float:
    """load_data's conversion: '-' -> missing, '189.1k' -> 189100, otherwise a float."""
    if isinstance(value, str):
        if value == "-":
            return math.nan
        if value and value[-1] == "k":
            return float(value[:-1]) * 1000
    return float(value)


def load_data(source: Source, filename: str) -> pd.DataFrame:
    """atari5.py's ``load_data``: a wide per-paper table (Game, <algo1>, <algo2>, ...) to long rows."""
    wide = source.csv(filename)
    wide["Game"] = [clean_up_atari_game_name(x) for x in wide["Game"]]
    long = pd.melt(
        wide, id_vars=wide.columns[0:1], value_vars=wide.columns[1:], value_name="Score", var_name="Algorithm"
    )
    long["Score"] = [_score(v) for v in long["Score"]]
    long = long.dropna().copy()
    long["Source"] = filename.split(".")[0]
    long["Score"] = long["Score"].astype("float")
    return long


def training_table(source: Source) -> tuple[pd.DataFrame, pd.Series, int]:
    """Rebuild run_init's training data.

    :return: ``(X, y, n_algorithms)``: X, algorithm -> log10(1 + HNS%) of each Atari-5 game (pivot mean over
        duplicate rows, as run_init's ``x_pivot``), for the good algorithms with all five games; y,
        algorithm -> log10(1 + 57-game median HNS%); n_algorithms, how many algorithms pass ``is_good``
    """
    human = source.csv("Atari-Human.csv", dtype={"Score": float})
    scores = source.csv("PapersWithCode.csv", dtype={"Score": float})
    scores["Source"] = "PapersWithCode"
    scores = pd.concat([scores, *(load_data(source, f) for f in ADDITIONAL_DATA_SETS)])
    human["Game"] = [clean_up_atari_game_name(x) for x in human["Game"]]
    scores["Game"] = scores["Game"].str.lower()
    scores = scores.reset_index(drop=True)
    banned = [(s + "." + a) in BANNED_ALGOS or a[0] == "_" for s, a in zip(scores["Source"], scores["Algorithm"])]
    scores = scores[~np.asarray(banned)].reset_index(drop=True)
    scores = scores.merge(human[["Game", "Random", "Human"]], on="Game", how="left")
    scores["Normalized"] = 100 * (scores["Score"] - scores["Random"]) / (scores["Human"] - scores["Random"])

    # run_init's Algorithm records: keyed by name, first source wins, a later row of the same game overwrites
    first_source: dict[str, str] = {}
    game_scores: dict[str, dict[str, float]] = {}
    for name, game, source_name, norm in zip(
        scores["Algorithm"], scores["Game"], scores["Source"], scores["Normalized"]
    ):
        first_source.setdefault(name, source_name)
        game_scores.setdefault(name, {})[game] = float(norm)
    medians, good = {}, []
    for name, per_game in game_scores.items():
        a57 = [v for g, v in per_game.items() if g in CANONICAL_57]
        medians[name] = float(np.median(a57))
        if len(a57) >= 40 and medians[name] > 40 and f"{first_source[name]}.{name}" not in BANNED_ALGOS:
            good.append(name)

    kept = scores[scores["Algorithm"].isin(good)].copy()
    kept["LogNormalized"] = transform(kept["Normalized"])
    pivot = kept.pivot_table(index="Algorithm", columns="Game", values="LogNormalized")
    x = pivot[list(GAMES.values())].dropna()
    x.columns = list(GAMES)
    y = pd.Series({name: float(transform(medians[name])) for name in x.index}, name="log_target")
    return x, y, len(good)


def check_against_dataset(source: Source, x: pd.DataFrame, y: pd.Series) -> dict[str, Any]:
    """Compare the rebuilt table with the repository's ``dataset.csv`` (run_init's table, as released)."""
    released = source.csv("dataset.csv")
    released = released[released["good"].astype(bool)]
    pivot = released.pivot_table(index="Algorithm", columns="Game", values="LogNormalized")
    rx = pivot[list(GAMES.values())].dropna()
    rx.columns = list(GAMES)
    a57 = released[released["Game"].isin(CANONICAL_57)]
    # the target uses the last row per (algorithm, game), as run_init's Algorithm.game_scores does
    last = a57.drop_duplicates(["Algorithm", "Game"], keep="last")
    ry = transform(last.groupby("Algorithm")["Normalized"].median())
    same_algos = sorted(rx.index) == sorted(x.index)
    max_x = float(np.max(np.abs(rx.loc[x.index].to_numpy() - x.to_numpy()))) if same_algos else math.inf
    max_y = float(np.max(np.abs(ry.loc[x.index].to_numpy() - y.to_numpy()))) if same_algos else math.inf
    return {
        "same_algorithms": same_algos,
        "good_algorithms": int(released["Algorithm"].nunique()),
        "max_abs_difference_inputs": max_x,
        "max_abs_difference_targets": max_y,
    }


def kfold_indices(n: int, k: int = 10, seed: int = 1982) -> list[np.ndarray]:
    """scikit-learn's ``KFold(k, shuffle=True, random_state=seed)`` test folds."""
    indices = np.arange(n)
    np.random.RandomState(seed).shuffle(indices)
    sizes = np.full(k, n // k, dtype=int)
    sizes[: n % k] += 1
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    return [indices[bounds[i] : bounds[i + 1]] for i in range(k)]


def fit(x: pd.DataFrame, y: pd.Series) -> dict[str, Any]:
    """Least squares without intercept, with atari5.py's RegressionEvaluation statistics."""
    a, b = x.to_numpy(dtype=float), y.to_numpy(dtype=float)
    coef = np.linalg.lstsq(a, b, rcond=None)[0]
    errors = b - a @ coef
    n = len(b)
    log_mse = float(np.mean(errors**2))
    fold_mse, fold_mae = [], []
    for test in kfold_indices(n):
        train = np.setdiff1d(np.arange(n), test)
        c = np.linalg.lstsq(a[train], b[train], rcond=None)[0]
        e = b[test] - a[test] @ c
        fold_mse.append(float(np.mean(e**2)))
        fold_mae.append(float(np.mean(np.abs(e))))
    cv_mse, cv_mae = float(np.mean(fold_mse)), float(np.mean(fold_mae))
    tss = float(np.var(b, ddof=0) * n)
    return {
        "coefficients": {g: float(c) for g, c in zip(x.columns, coef)},
        "algorithms": n,
        "log_mse": log_mse,
        "log_rmse": math.sqrt(log_mse),
        "log_mae": float(np.mean(np.abs(errors))),
        "r2": 1.0 - log_mse * n / tss,
        "cv10_log_mse": cv_mse,
        "cv10_log_rmse": math.sqrt(cv_mse),
        "cv10_log_mae": cv_mae,
        "cv10_r2": 1.0 - cv_mse * n / tss,
        "relative_error_percent": cv_mae * math.log(10) * 100,
        "residuals": {name: float(e) for name, e in zip(x.index, errors)},
    }


def reference_scores(source: Source) -> dict[str, dict[str, float]]:
    """The random and human scores ``Atari-Human.csv`` normalises the five games with."""
    human = source.csv("Atari-Human.csv")
    human["Game"] = [clean_up_atari_game_name(x) for x in human["Game"]]
    rows = human.set_index("Game")
    return {
        g: {"random": float(rows.loc[name, "Random"]), "human": float(rows.loc[name, "Human"])}
        for g, name in GAMES.items()
    }


def record(source: Source, x: pd.DataFrame, y: pd.Series, n_good: int, result: dict[str, Any]) -> dict[str, Any]:
    check = check_against_dataset(source, x, y)
    if not (check["same_algorithms"] and check["max_abs_difference_inputs"] < 1e-9):
        raise SystemExit(f"error: the rebuilt table differs from the repository's dataset.csv: {check}")
    published = AUTHOR_CODE["coefficients"]
    low, high = float(10 ** y.min() - 1), float(10 ** y.max() - 1)
    return {
        "what": "Atari-5 regression: log10(1 + median_57) = sum over the five games of c_g * log10(1 + max(0, hns_g))",
        "units": (
            "hns_g and median_57 in PERCENT of human (100 = human; the package's fractions x 100): "
            "hns = 100 * (score - random) / (human - random) with the random and human scores of the "
            "repository's Atari-Human.csv; no intercept, so five scores at or below random predict 0"
        ),
        "paper": PAPER,
        "repository": REPOSITORY,
        "commit": source.commit,
        "method": (
            "atari5.py run_init (is_good: >= 40 of the 57 games and a 57-game median above 40%; BANNED_ALGOS) "
            "and fit_model (log10(1 + score) inputs and target, no intercept), refitted with numpy.linalg.lstsq "
            "by experiments/atari5/fit_atari5.py"
        ),
        "games": list(GAMES),
        "reference_scores": reference_scores(source),
        "reference_scores_note": "Atari-Human.csv's Random and Human columns for the five games: the scores "
        "the regression's inputs were normalised with",
        "coefficients": result["coefficients"],
        "intercept": 0.0,
        "fit": {
            "good_algorithms": n_good,
            "algorithms_fitted": result["algorithms"],
            "algorithms_fitted_note": "good algorithms with scores on all five games",
            **{k: result[k] for k in result if k not in ("coefficients", "algorithms", "residuals")},
            "target_range_percent": [low, high],
            "relative_error_note": "the paper's error measure: 10-fold cross-validated MAE of log10 x ln(10) x 100",
            "dataset_csv_check": check,
        },
        "published": {
            "paper_table": None,
            "paper_table_note": PAPER_TABLE_NOTE,
            "author_code": AUTHOR_CODE,
            "fitted_minus_author_code": {g: result["coefficients"][g] - published[g] for g in GAMES},
        },
        "caveat": CAVEAT.format(n=result["algorithms"], low=low, high=high, low_f=low / 100, high_f=high / 100),
    }


def _write(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _summary(data: dict[str, Any], x: pd.DataFrame, y: pd.Series) -> str:
    fitd, author = data["coefficients"], data["published"]["author_code"]["coefficients"]
    lines = [
        f"Atari-5 refit from {data['repository']} @ {data['commit']}",
        f"{'game':<14}{'fitted':>10}{'author':>10}{'diff':>11}",
    ]
    lines += [f"{g:<14}{fitd[g]:>10.4f}{author[g]:>10.4f}{fitd[g] - author[g]:>+11.2e}" for g in fitd]
    f = data["fit"]
    lines.append(
        f"algorithms fitted {f['algorithms_fitted']} (of {f['good_algorithms']} good); R^2 {f['r2']:.4f}; "
        f"log10 MSE {f['log_mse']:.5f} (RMSE {f['log_rmse']:.4f}); 10-fold CV log10 MSE {f['cv10_log_mse']:.5f}; "
        f"relative error {f['relative_error_percent']:.2f}% (author's code: 10.4%)"
    )
    lines.append(f"dataset.csv check: {f['dataset_csv_check']}")
    lines.append("examples (HNS in percent): algorithm, five inputs, true 57-game median, predicted")
    coef = np.array([fitd[g] for g in GAMES])
    for name in ("Agent57", "Rainbow (noop)", "DQN (noop)", "Nature DQN", "IMPALA (deep)"):
        if name in x.index:
            inputs = 10 ** x.loc[name].to_numpy() - 1
            pred = 10 ** float(x.loc[name].to_numpy() @ coef) - 1
            lines.append(f"  {name}: {np.round(inputs, 4).tolist()} true {10 ** y[name] - 1:.4f} predicted {pred:.4f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="a checkout of maitchison/Atari-5, or its (bare) git directory")
    parser.add_argument("--rev", default="HEAD", help="the revision to read from a git directory (default HEAD)")
    default_out = Path(__file__).resolve().parents[2] / "rl_coordconv" / "data" / "atari5.json"
    parser.add_argument("--out", type=Path, default=default_out, help="where to write the record")
    parser.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    args = parser.parse_args(argv)
    source = Source(args.source, args.rev)
    x, y, n_good = training_table(source)
    data = record(source, x, y, n_good, fit(x, y))
    print(_summary(data, x, y))
    if args.check:
        packaged = json.loads(args.out.read_text(encoding="utf-8"))
        worst = max(abs(packaged["coefficients"][g] - data["coefficients"][g]) for g in GAMES)
        same = packaged["commit"] == data["commit"] and worst < 1e-12
        print(f"{args.out}: {'matches' if same else 'DIFFERS'} (largest coefficient difference {worst:.1e})")
        return 0 if same else 1
    _write(args.out, data)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
