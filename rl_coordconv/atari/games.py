"""Atari game names: one canonical spelling per game, whatever the user typed.

The canonical name is the one in ale-py's gymnasium ids ``ALE/<Name>-v5`` (``Pong``, ``MsPacman``).
``Pong``, ``pong``, ``ALE/Pong-v5``, ``PongNoFrameskip-v4``, ``PongDeterministic-v4`` and
``ms_pacman`` / ``ms-pacman`` (ale-py's ROM ids) all resolve; anything else is a
:class:`~rl_coordconv.errors.UserError` naming the closest games.
"""

from __future__ import annotations

import functools
import re

from rl_coordconv.errors import UserError, unknown_name

__all__ = ["canonical_game", "list_games", "fold_game_name", "game_name_keys", "ATARI_100K_GAMES"]

#: The 26 games of the Atari 100k benchmark (Kaiser et al. 2019), canonical names.
ATARI_100K_GAMES: tuple[str, ...] = (
    "Alien", "Amidar", "Assault", "Asterix", "BankHeist", "BattleZone", "Boxing", "Breakout",
    "ChopperCommand", "CrazyClimber", "DemonAttack", "Freeway", "Frostbite", "Gopher", "Hero",
    "Jamesbond", "Kangaroo", "Krull", "KungFuMaster", "MsPacman", "Pong", "PrivateEye", "Qbert",
    "RoadRunner", "Seaquest", "UpNDown",
)  # fmt: skip

_V5_ID = re.compile(r"ALE/(\w+)-v5")
# Prefixes and suffixes of the other spellings of a game id, stripped before the lookup.
_PREFIX = re.compile(r"^ALE/", re.IGNORECASE)
_SUFFIX = re.compile(r"(NoFrameskip|Deterministic)?(-ram)?(-v\d+)?$", re.IGNORECASE)


def fold_game_name(name: str) -> str:
    """A game name without case, spaces, ``_`` or ``-``: the key every spelling of a game is looked up by.

    :param name: a game name or id, e.g. ``"Ms_Pacman"``
    :return: the folded name, e.g. ``"mspacman"``
    """
    return re.sub(r"[\s_\-]", "", name).lower()


def game_name_keys(name: str) -> tuple[str, str]:
    """The folded keys to look a typed game name up by, in order: the whole name, then its stem without
    ``ALE/`` and without a ``NoFrameskip``/``Deterministic``, ``-ram`` or ``-v<N>`` ending.

    :param name: ``Pong``, ``ALE/Pong-v5``, ``PongNoFrameskip-v4``, ``ms_pacman``, ...
    :return: the two keys (:func:`fold_game_name` of each), e.g. ``("ale/pongv5", "pong")`` for ``ALE/Pong-v5``
    """
    stripped = name.strip()
    stem = _SUFFIX.sub("", _PREFIX.sub("", stripped))
    return fold_game_name(stripped), fold_game_name(stem)


@functools.lru_cache(maxsize=1)
def _registry() -> dict[str, str]:
    """Folded name -> canonical name, from ale-py's gymnasium registrations."""
    import ale_py
    import gymnasium as gym

    gym.register_envs(ale_py)
    names = sorted(m.group(1) for env_id in gym.registry if (m := _V5_ID.fullmatch(env_id)))
    return {fold_game_name(name): name for name in names}


def list_games() -> list[str]:
    """Every Atari game ale-py can run, by canonical name.

    :return: the canonical names (``Pong``, ``MsPacman``, ...), sorted
    """
    return sorted(_registry().values())


def canonical_game(name: str) -> str:
    """Resolve a user-typed game name to its canonical spelling.

    :param name: ``Pong``, ``pong``, ``ALE/Pong-v5``, ``PongNoFrameskip-v4``, ``ms_pacman``, ...
    :return: the canonical name, e.g. ``Pong``
    :raises UserError: for a name that is no Atari game (the message names the closest games)
    """
    if not isinstance(name, str) or not name.strip():
        raise UserError(f"a game name must be a non-empty string, got {name!r}")
    registry = _registry()
    for folded in game_name_keys(name):
        if folded in registry:
            return registry[folded]
    raise unknown_name("game", name, registry.values())
