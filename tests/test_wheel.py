"""The wheel as a user gets it: built from this tree, installed on its own, used from an empty folder.

The wheel goes into a fresh virtual environment that sees the dependencies already installed for the
tests (a ``.pth`` file names this interpreter's site-packages: a venv made from a venv would otherwise
see only the base Python's) but not this tree's editable install of rl-coordconv, so every command below
runs the wheel's own copy. From an empty folder it lists the extractors, dry-runs the built-in spec
``quick`` by name, and runs a tiny real sweep (A2C on Breakout) of an extractor defined and registered in
the user's own module, on 2 worker processes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import USER_MODULE

from rl_coordconv.runfolder import CONFIG, RunStatus, is_complete, read_yaml

ROOT = Path(__file__).resolve().parents[1]

#: Two cells of a few rollouts each: only the start-up and the plug-in's way into the workers cost time.
TINY = """\
name: tiny-wheel
plugins: [my_extractors]
games: [Breakout]
algos: [a2c]
extractors: [half]
seeds: 2
agent_steps: 200
n_envs: 2
evaluation: {eval_freq: 0, eval_episodes: 0}
"""


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    """Build the wheel, install it into a fresh venv; return (the venv's bin folder, its environment, the wheel)."""
    root = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    build = run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-v", "-w", "dist"],
        cwd=root,
        env=env,
    )
    log = build.stdout + build.stderr
    assert build.returncode == 0, log[-3000:]
    assert "deprecat" not in log.lower(), [line for line in log.splitlines() if "eprecat" in line]
    (wheel,) = (root / "dist").glob("rl_coordconv-*.whl")

    venv = root / "venv"
    assert run([sys.executable, "-m", "venv", "--without-pip", str(venv)], root, env).returncode == 0
    python = venv / "bin" / "python"
    done = run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        root,
        env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    site = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], root, env)
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site.stdout.strip()) / "_test_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    return venv / "bin", env, wheel


def test_the_wheel_carries_specs_presets_license_and_commit(installed: tuple[Path, dict[str, str], Path]) -> None:
    _, _, wheel = installed
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {f"rl_coordconv/specs/{p.name}" for p in (ROOT / "experiments").glob("*.yaml")}
    assert shipped and shipped <= set(names)
    assert {"rl_coordconv/presets/a2c.yaml", "rl_coordconv/presets/ppo.yaml", "rl_coordconv/py.typed"} <= set(names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    # every subpackage of the source tree is in the wheel (found, not listed)
    packages = {p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "rl_coordconv").rglob("*.py")}
    assert packages <= {n.rsplit("/", 1)[0] for n in names}
    commit = zipfile.ZipFile(wheel).read("rl_coordconv/_commit.txt").decode().strip()
    assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?", commit), commit  # what `git rev-parse HEAD` gave the build
    metadata = next(zipfile.ZipFile(wheel).read(n).decode() for n in names if n.endswith("METADATA"))
    assert "License-Expression: MIT" in metadata and "Requires-Dist: torch" in metadata


def test_the_installed_wheel_works_from_an_empty_folder(
    installed: tuple[Path, dict[str, str], Path], tmp_path: Path
) -> None:
    bin_dir, env, wheel = installed
    work = tmp_path / "project"
    work.mkdir()
    where = run([str(bin_dir / "python"), "-c", "import rl_coordconv; print(rl_coordconv.__file__)"], work, env)
    assert where.stdout.startswith(str(bin_dir.parent)), where.stdout + where.stderr  # the wheel, not this tree

    listing = run([str(bin_dir / "rl-coordconv"), "extractors"], work, env)
    assert listing.returncode == 0, listing.stderr
    assert re.search(r"^coordconv\s+1,", listing.stdout, flags=re.M) and "nature" in listing.stdout

    dry = run([str(bin_dir / "rl-coordconv"), "sweep", "quick", "--dry-run"], work, env)
    assert dry.returncode == 0, dry.stderr
    assert "sweep 'quick': 4 cells" in dry.stdout and not any(work.iterdir())  # a dry run writes nothing

    (work / "my_extractors.py").write_text(USER_MODULE, encoding="utf-8")
    (work / "tiny.yaml").write_text(TINY, encoding="utf-8")
    sweep = run(
        [
            str(bin_dir / "rl-coordconv"),
            "sweep",
            "tiny.yaml",
            "--out",
            "sweep",
            "--workers",
            "2",
            "--progress",
            "plain",
        ],
        work,
        env,
    )
    assert sweep.returncode == 0, sweep.stdout[-2000:] + sweep.stderr[-2000:]
    commit = zipfile.ZipFile(wheel).read("rl_coordconv/_commit.txt").decode().strip()
    workers = set()
    for seed in (0, 1):
        run_dir = work / "sweep" / "runs" / f"Breakout-a2c-half-seed{seed}"
        assert is_complete(run_dir)
        config = read_yaml(run_dir / CONFIG)
        assert config["extractor"] == "half" and config["policy"]["features_extractor"] == "my_extractors.HalfCNN"
        assert config["policy"]["features_extractor_kwargs"] == {}
        assert config["commit"] == commit  # a run from the wheel records the commit the wheel was built from
        status = RunStatus.read(run_dir)
        assert status is not None and status.agent_steps is not None and status.agent_steps >= 200
        assert status.commits == [commit]
        log = (work / "sweep" / "logs" / f"{run_dir.name}.log").read_text()
        workers.add(re.search(r"worker (\d+) starts", log).group(1))  # type: ignore[union-attr]
    assert len(workers) == 2  # the two cells ran in two worker processes
