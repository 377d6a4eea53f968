"""Settings every test shares."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _sb3_log_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point SB3's default logger at this session's temporary folder.

    ``model.learn()`` without a logger of one's own makes a new ``$TMPDIR/SB3-<timestamp>`` folder each
    time (``stable_baselines3.common.logger.configure``, unless ``SB3_LOGDIR`` is set); the tests that
    train plain SB3 models, as a user's own script would, left about 20 of them behind per run.
    """
    patch = pytest.MonkeyPatch()
    patch.setenv("SB3_LOGDIR", str(tmp_path_factory.mktemp("sb3-logs")))
    yield
    patch.undo()
