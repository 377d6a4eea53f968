"""``rl-coordconv games``: list the Atari games (names usable in --game and in specs)."""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``games`` subcommand.

    :param subparsers: the top-level parser's subparsers
    """
    parser = subparsers.add_parser(
        "games",
        help="list the Atari games",
        description="List the Atari games ale-py can run, by canonical name (any spelling such as pong, "
        "ALE/Pong-v5 or PongNoFrameskip-v4 also works in --game), with the random and human reference "
        "scores used for human-normalised scores where known.",
    )
    parser.add_argument("--atari100k", action="store_true", help="only the 26 games of the Atari 100k benchmark")
    parser.add_argument("--names", action="store_true", help="names only, one per line")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the games.

    :param args: parsed arguments
    :return: exit status
    """
    from rl_coordconv.analysis.normalize import reference_scores
    from rl_coordconv.atari import ATARI_100K_GAMES, list_games

    games = list(ATARI_100K_GAMES) if args.atari100k else list_games()
    if args.names:
        print("\n".join(games))
        return 0
    scores = reference_scores()
    print(f"{'game':<18} {'random':>9} {'human':>9}")
    for game in games:
        random, human = scores.get(game, (None, None))
        cells = f"{random:>9g} {human:>9g}" if random is not None else f"{'-':>9} {'-':>9}"
        print(f"{game:<18} {cells}")
    print(f"{len(games)} games; reference scores for {sum(g in scores for g in games)} (DeepMind table)")
    return 0
