"""The README's examples run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_sb3_example_trains_with_coordconv(tmp_path: Path) -> None:
    example = next(b for b in python_blocks() if "policy_kwargs_for" in b and "learn" in b)
    script = example + (
        "\nfrom rl_coordconv import CoordConvNatureCNN\n"
        "assert isinstance(model.policy.features_extractor, CoordConvNatureCNN)\n"
        "assert model.policy.net_arch == []\n"
        "assert model.num_timesteps >= 1_024\n"
        "print('README example OK')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "README example OK" in done.stdout
    assert len(example.strip().splitlines()) <= 12


def test_readme_shows_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text


# Each README example runs as written, after a prelude that makes its budget tiny (and defines what the
# text leaves to the reader), and before checks of what the README promises it does.
TINY_TRAIN = """
import rl_coordconv
from rl_coordconv.training import train as _train

def _tiny(*args, **kwargs):
    kwargs.update(timesteps=64, n_envs=2, eval_episodes=0, checkpoint_freq=0, progress_bar=False, threads=1,
                  hyperparameters={"n_steps": 16, "batch_size": 32, "n_epochs": 1}, quiet=True)
    return _train(*args, **kwargs)

rl_coordconv.train = _tiny
"""
TRAIN_CHECKS = """
from rl_coordconv import runfolder
assert runfolder.is_complete(run_dir) and run_dir.name == "Pong-ppo-coordconv-seed0", run_dir
assert runfolder.RunConfig.read(run_dir).extractor == "coordconv"
print("README example OK")
"""
LAYER_PRELUDE = "import torch\nx = torch.rand(2, 4, 84, 84)\n"
LAYER_CHECKS = """
from rl_coordconv import AddCoords
assert AddCoords(with_r=False)(x).shape == (2, 6, 84, 84)
assert torch.allclose(conv(x), conv.as_conv2d()(AddCoords(with_r=False)(x)), atol=1e-5)
print("README example OK")
"""


def run_script(script: str, cwd: Path) -> None:
    done = subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "README example OK" in done.stdout


def test_readme_train_example_writes_a_run_folder(tmp_path: Path) -> None:
    example = next(b for b in python_blocks() if "from rl_coordconv import train" in b)
    run_script(TINY_TRAIN + example + TRAIN_CHECKS, tmp_path)


def test_readme_layer_example_runs_and_matches_the_concatenation(tmp_path: Path) -> None:
    example = next(b for b in python_blocks() if "CoordConv2d(" in b)
    run_script(LAYER_PRELUDE + example + LAYER_CHECKS, tmp_path)


def test_readme_cpp_backend_example_trains_on_ale_vector(tmp_path: Path) -> None:
    example = next(b for b in python_blocks() if 'backend="ale_vector"' in b)
    checks = (
        "\nfrom rl_coordconv.atari.ale_vector_backend import AleVectorEnv\n"
        "assert isinstance(model.get_env(), AleVectorEnv) and model.num_timesteps >= 64\n"
        "print('C++ backend example OK')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", example + checks], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "C++ backend example OK" in done.stdout


def test_every_readme_python_example_is_run_by_a_test() -> None:
    covered = ('backend="ale_vector"', "policy_kwargs_for", "from rl_coordconv import train", "CoordConv2d(")
    for block in python_blocks():
        assert any(marker in block for marker in covered), f"a README example no test runs:\n{block}"
