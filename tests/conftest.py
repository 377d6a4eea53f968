"""Settings and fixtures the tests share."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

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


#: A user's plug-in module: one class of their own, and a built-in class under a name of theirs.
USER_MODULE = '''\
from stable_baselines3.common.torch_layers import NatureCNN

from rl_coordconv.extractors import CoordConvNatureCNN, register_extractor


class HalfCNN(NatureCNN):
    """NatureCNN with 256 features instead of 512."""

    def __init__(self, observation_space, features_dim: int = 256, normalized_image: bool = False) -> None:
        super().__init__(observation_space, features_dim, normalized_image)


register_extractor("half", HalfCNN, "NatureCNN with 256 features")
register_extractor("coordconv_narrow", CoordConvNatureCNN, "coordconv with 128 features", features_dim=128)
'''

PLUGIN_SPEC = """\
name: plugin
plugins: [my_extractors]
games: [Breakout]
algos: [a2c]
extractors: [half, coordconv_narrow]
seeds: 1
agent_steps: 64
"""


@pytest.fixture
def user_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A user's folder holding ``my_extractors.py`` and a spec that names its extractors, as the current
    folder; this process's registry, modules and Python path are restored afterwards."""
    from rl_coordconv.extractors import EXTRACTORS

    (tmp_path / "my_extractors.py").write_text(USER_MODULE, encoding="utf-8")
    (tmp_path / "spec.yaml").write_text(PLUGIN_SPEC, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    registered = dict(EXTRACTORS)
    yield tmp_path
    EXTRACTORS.clear()
    EXTRACTORS.update(registered)
    sys.modules.pop("my_extractors", None)
