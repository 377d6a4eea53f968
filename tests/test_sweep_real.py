"""Real sweeps: tiny A2C runs on Breakout (600 agent steps, 2 environments), 2 x 2 cells, 2 workers.

One uninterrupted sweep is the reference; a second sweep is killed (SIGKILL to the sweep and its
workers) once a checkpoint is on disk, started again, and must end with exactly the reference's rows.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rl_coordconv.cli import main
from rl_coordconv.runfolder import CHECKPOINTS, CONFIG, EPISODES, STATUS, is_complete, read_rows, read_yaml
from rl_coordconv.sweep import load_spec
from rl_coordconv.sweep.runner import threads_per_worker

SPEC = """\
name: tiny-real
description: two extractors x two seeds of a few hundred agent steps
games: [Breakout]
algos: [a2c]
extractors: [nature, coordconv]
seeds: 2
agent_steps: 600
n_envs: 2
backend: sb3                # exact resume: a killed sweep must end with exactly the uninterrupted rows
checkpoint_freq: 200
evaluation: {eval_freq: 0, eval_episodes: 0}
"""


def rows(run_dir: Path) -> list[tuple[int, int, float, int]]:
    """A run's episodes without wall-clock time (the one column that is not reproducible)."""
    return [
        (int(r["agent_steps"]), int(r["frames"]), float(r["return"]), int(r["length"]))
        for r in read_rows(run_dir / EPISODES)
    ]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted 2 x 2 sweep with 2 workers, run through the command line."""
    root = tmp_path_factory.mktemp("reference")
    spec = root / "tiny.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    out = root / "sweep"
    status = main(["sweep", str(spec), "--out", str(out), "--workers", "2", "--progress", "plain"])
    assert status == 0
    return out


def test_a_real_sweep_runs_every_cell_with_two_workers(reference: Path, capsys: pytest.CaptureFixture) -> None:
    spec = load_spec(reference / "spec.yaml")
    assert (reference / "spec.yaml").read_text() == SPEC
    runs = sorted(p.name for p in (reference / "runs").iterdir())
    assert runs == sorted(c.run_name for c in spec.cells()) and len(runs) == 4
    for cell in spec.cells():
        run_dir = reference / "runs" / cell.run_name
        assert is_complete(run_dir)
        config = read_yaml(run_dir / CONFIG)
        assert (config["game"], config["algo"], config["extractor"], config["seed"]) == (
            cell.game, cell.algo, cell.extractor, cell.seed,
        )  # fmt: skip
        assert config["timesteps"] == 600 and config["n_envs"] == 2 and config["checkpoint_freq"] == 200
        assert config["threads"] == threads_per_worker(2)  # bounded so two workers do not oversubscribe
        assert config["command"].startswith("rl-coordconv sweep ") and "--workers 2" in config["command"]
        episodes = rows(run_dir)
        assert episodes, "a run of 600 agent steps on Breakout finishes some games"
        steps = [r[0] for r in episodes]
        assert steps == sorted(set(steps)) and steps[-1] <= 600
        assert all(r[1] == 4 * r[0] for r in episodes)  # frames = 4 x agent steps (frameskip 4)
    # the two extractors of seed 0 ran side by side, in two different worker processes
    first, second = (_worker_span(reference, c.run_name) for c in spec.cells()[:2])
    assert first[0] != second[0] and first[1] <= second[2] and second[1] <= first[2]
    # different seeds give different games; the same seed gives the same environment stream
    cells = spec.cells()
    assert rows(reference / "runs" / cells[0].run_name) != rows(reference / "runs" / cells[2].run_name)

    # running the same command again skips every cell: nothing is started, nothing rewritten
    stamps = {c: (reference / "runs" / c.run_name / STATUS).stat().st_mtime_ns for c in spec.cells()}
    capsys.readouterr()
    start = time.monotonic()
    status = main(["sweep", str(reference / "spec.yaml"), "--out", str(reference), "--workers", "2"])
    assert status == 0 and time.monotonic() - start < 20
    assert "sweep complete: 4/4 cells (4 already complete, skipped)" in capsys.readouterr().out
    assert stamps == {c: (reference / "runs" / c.run_name / STATUS).stat().st_mtime_ns for c in spec.cells()}


def _worker_span(sweep: Path, run_name: str) -> tuple[int, float, float]:
    """(worker pid, start, end) of a cell from its log's first and last lines."""
    text = (sweep / "logs" / f"{run_name}.log").read_text()
    start = re.search(r"== (\S+ \S+) worker (\d+) starts", text)
    end = re.search(r"== (\S+ \S+) worker (\d+) ends .*: ok", text)
    assert start and end, text
    as_time = lambda s: time.mktime(time.strptime(s, "%Y-%m-%d %H:%M:%S"))  # noqa: E731
    return int(start.group(2)), as_time(start.group(1)), as_time(end.group(1))


def test_a_killed_sweep_started_again_ends_with_every_row_exactly_once(reference: Path, tmp_path: Path) -> None:
    spec_path = tmp_path / "tiny.yaml"
    spec_path.write_text(SPEC, encoding="utf-8")
    out = tmp_path / "sweep"
    spec = load_spec(spec_path)
    run_dirs = [out / "runs" / c.run_name for c in spec.cells()]
    cli = "import sys; from rl_coordconv.cli import main; sys.exit(main())"
    command = [sys.executable, "-c", cli, "sweep", str(spec_path), "--out", str(out), "--workers", "2"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not any((d / CHECKPOINTS / "latest.json").is_file() for d in run_dirs):
            assert proc.poll() is None, proc.communicate()[0].decode()
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its workers, at once, with no chance to clean up
        proc.communicate()
    interrupted = [d for d in run_dirs if d.exists() and not is_complete(d)]
    assert interrupted, "the kill came too late to interrupt any cell"
    assert any((d / CHECKPOINTS / "latest.json").is_file() for d in interrupted)

    status = main(["sweep", str(spec_path), "--out", str(out), "--workers", "2", "--progress", "plain"])
    assert status == 0
    for cell, run_dir in zip(spec.cells(), run_dirs, strict=True):
        assert is_complete(run_dir)
        assert not (run_dir / "error.txt").exists()
        got = rows(run_dir)
        steps = [r[0] for r in got]
        assert steps == sorted(set(steps)), f"{cell}: rows duplicated or out of order"
        # resumed from a checkpoint, the run is the uninterrupted run: same games, same rows
        assert got == rows(reference / "runs" / cell.run_name), cell
