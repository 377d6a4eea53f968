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
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "README example OK" in done.stdout
    assert len(example.strip().splitlines()) <= 12


def test_readme_shows_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
