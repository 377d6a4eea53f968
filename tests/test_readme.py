"""The examples of the README and of the documentation pages (docs/) run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"


def blocks(path: Path, language: str = "python") -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


def python_blocks() -> list[str]:
    """Every Python example of the README and of the documentation pages."""
    return [block for path in [README, *sorted(DOCS.rglob("*.md"))] for block in blocks(path)]


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
    example = next(b for b in python_blocks() if "conv.as_conv2d()" in b)
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
    covered = (
        'backend="ale_vector"',
        "policy_kwargs_for",
        "from rl_coordconv import train",
        "conv.as_conv2d()",
        "# my_extractors.py",
        "# run_my_study.py",
        'load_spec("quick")',
    )
    for block in python_blocks():
        assert any(marker in block for marker in covered), f"an example no test runs:\n{block}"


# The plug-in page's example: the module, the spec and the script, written out as a user would, then
# the page's commands; the script's sweep is listed (dry run) rather than trained.
DRY_SWEEP = """
import rl_coordconv.sweep
from rl_coordconv.sweep import dry_run_text

class _Listed:
    ok, failed = True, {}

def _dry(spec, out, workers=None, **kwargs):
    print(dry_run_text(spec, out, workers))
    return _Listed()

rl_coordconv.sweep.run_sweep = _dry
"""


def listed_sweep(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a sweep script with ``run_sweep`` listing its cells instead of training them."""
    script = DRY_SWEEP + script.replace('if __name__ == "__main__":', "if True:")
    run = subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return run


def test_the_plugin_page_example_registers_and_lists_the_users_extractors(tmp_path: Path) -> None:
    page = DOCS / "plugins.md"
    module = next(b for b in blocks(page) if b.startswith("# my_extractors.py"))
    spec = next(b for b in blocks(page, "yaml") if b.startswith("# my_study.yaml"))
    script = next(b for b in blocks(page) if b.startswith("# run_my_study.py"))
    (tmp_path / "my_extractors.py").write_text(module, encoding="utf-8")
    (tmp_path / "my_study.yaml").write_text(spec, encoding="utf-8")
    cli = [sys.executable, "-m", "rl_coordconv"]
    listing = subprocess.run(
        [*cli, "extractors", "--plugin", "my_extractors"], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert listing.returncode == 0, listing.stderr
    assert re.search(r"^small_coord\s+[\d,]+\s+-[\d,]+\s+two convolutions", listing.stdout, flags=re.M), listing.stdout
    assert re.search(
        r"^coordconv_mid\s+[\d,]+\s+\+2048\s", listing.stdout, flags=re.M
    )  # 2 x 32 x 4 x 4 coordinate weights
    dry = subprocess.run(
        [*cli, "sweep", "my_study.yaml", "--dry-run"], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert dry.returncode == 0, dry.stderr
    assert (
        "9 cells = 1 game x 1 algo x 3 extractors x 3 seeds" in dry.stdout
        and "Breakout-ppo-small_coord-seed2" in dry.stdout
    )
    run = listed_sweep(script, tmp_path)
    assert "Breakout-ppo-coordconv_mid-seed0" in run.stdout


def test_the_sweep_page_python_example_loads_the_builtin_spec(tmp_path: Path) -> None:
    script = next(b for b in python_blocks() if 'load_spec("quick")' in b)
    run = listed_sweep(script, tmp_path)
    assert run.stdout.startswith("4 Breakout/ppo/nature/seed0\n") and "sweep 'quick': 4 cells" in run.stdout
