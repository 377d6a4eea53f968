"""Sweeps on Ray, against a real local Ray instance (no mocks): same run folders and rows as the local
executor, a killed worker retried from its checkpoint, failures and Ctrl-C as locally, missing Ray.

One Ray instance (2 CPUs, a small object store, no dashboard) is shared by every test here (a session
fixture); the executor finds it initialised and uses it. Tests that need Ray skip, with the reason, only
when Ray cannot be imported (``make test`` installs it: ``pip install -e '.[dev,ray]'``).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rl_coordconv.cli import main
from rl_coordconv.errors import UserError
from rl_coordconv.runfolder import CHECKPOINTS, CONFIG, EPISODES, ERROR, STATUS, is_complete, read_rows, read_yaml
from rl_coordconv.sweep import RayExecutor, load_spec, run_sweep
from rl_coordconv.sweep.estimate import available_cores
from rl_coordconv.sweep.worker import CellTask

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent

try:
    import ray
except ImportError as err:  # pragma: no cover - make test installs ray
    ray = None
    RAY_MISSING = f"Ray cannot be imported ({err}); install it with: pip install -e '.[dev,ray]'"
else:
    RAY_MISSING = ""

needs_ray = pytest.mark.skipif(ray is None, reason=RAY_MISSING)

#: Two tiny real cells (A2C on Breakout, 2 environments, checkpoints every 200 agent steps), on the sb3
#: backend, whose resume is exact (the games in progress are restored), so a killed run's rows can be
#: compared one by one with an uninterrupted run's.
SPEC = """\
name: tiny-ray
games: [Breakout]
algos: [a2c]
extractors: [nature, coordconv]
seeds: [0]
agent_steps: 800
n_envs: 2
checkpoint_freq: 200
evaluation: {eval_freq: 0, eval_episodes: 0}
backend: sb3
"""
#: The same on the ale_vector backend, for the uninterrupted comparison.
SPEC_ALE_VECTOR = SPEC.replace("backend: sb3\n", "backend: ale_vector\n")

#: Fake cells for the failure and Ctrl-C tests (run by tests.test_sweep's module-level run functions).
FAKE_SPEC = """\
name: fake
games: [Breakout]
algos: [a2c]
extractors: [nature, coordconv]
seeds: 2
agent_steps: 1_000
"""


def rows(run_dir: Path) -> list[tuple[int, int, float, int]]:
    """A run's episodes without wall-clock time (the one column that is not reproducible)."""
    return [
        (int(r["agent_steps"]), int(r["frames"]), float(r["return"]), int(r["length"]))
        for r in read_rows(run_dir / EPISODES)
    ]


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def ray_instance() -> Iterator[str]:
    """One local Ray instance for the whole session; yields its address (for drivers in subprocesses)."""
    if ray is None:
        pytest.skip(RAY_MISSING)
    # Ray's workers inherit the environment the instance starts with: let them import the fake run
    # functions of tests/ (set only while the instance starts, so no other test sees it).
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS), str(ROOT), saved) if p)
    try:
        ray.init(
            address="local",  # a new instance, even where a `ray start` cluster runs
            num_cpus=2,
            object_store_memory=80 * 1024**2,
            include_dashboard=False,
            log_to_driver=False,
            logging_level="warning",
        )
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def local_reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny spec run by the local executor, one torch thread per cell (as each Ray task gets)."""
    root = tmp_path_factory.mktemp("local")
    spec = write(root / "tiny.yaml", SPEC)
    result = run_sweep(spec, root / "sweep", workers=available_cores(), progress="quiet")
    assert result.ok, result.failed
    return root / "sweep"


# -- the same sweep on Ray --------------------------------------------------------------------------


@pytest.mark.slow
@needs_ray
def test_a_sweep_on_ray_gives_the_local_executors_run_folders_and_rows(
    ray_instance: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Uninterrupted, on the ale_vector backend: the same complete run folders and rows on both executors."""
    spec_path = write(tmp_path / "tiny.yaml", SPEC_ALE_VECTOR)
    local = run_sweep(spec_path, tmp_path / "local", workers=available_cores(), progress="quiet")
    assert local.ok, local.failed
    out = tmp_path / "ray"
    status = main(["sweep", str(spec_path), "--out", str(out), "--executor", "ray", "--progress", "plain"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    spec = load_spec(spec_path)
    names = sorted(c.run_name for c in spec.cells())
    assert sorted(p.name for p in (out / "runs").iterdir()) == names
    assert sorted(p.name for p in (tmp_path / "local" / "runs").iterdir()) == names
    for cell in spec.cells():
        ray_dir = out / "runs" / cell.run_name
        assert is_complete(ray_dir) and not (ray_dir / ERROR).exists()
        got = rows(ray_dir)
        assert got, "800 agent steps of Breakout finish some games"
        assert got == rows(tmp_path / "local" / "runs" / cell.run_name), cell  # identical rows, wall time aside
        assert read_yaml(ray_dir / CONFIG)["threads"] == 1
    assert "start  Breakout/a2c/nature/seed0" in captured.out and "cells 2/2 done, 0 running, 0 failed" in captured.out


def _kill_first_worker_at_a_checkpoint(run_dir: Path, log: Path, killed: list[int], stop: threading.Event) -> None:
    """Wait for the run's first checkpoint, then SIGKILL the Ray worker process running it."""
    while not stop.is_set():
        if (run_dir / CHECKPOINTS / "latest.json").is_file() and not is_complete(run_dir):
            match = re.search(r"worker (\d+) on \S+ \(Ray task\) starts", log.read_text())
            if match:
                pid = int(match.group(1))
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
        time.sleep(0.02)


@needs_ray
def test_a_ray_sweep_survives_a_killed_worker_and_equals_the_local_sweep(
    ray_instance: str, local_reference: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """The issue's two 'done when' checks at once: one cell's Ray worker is SIGKILLed at its first
    checkpoint; Ray retries the task, which resumes from that checkpoint; the sweep ends with the same
    complete run folders and the same episodes.csv rows as the local executor's uninterrupted sweep."""
    spec_path = write(tmp_path / "tiny.yaml", SPEC)
    out = tmp_path / "sweep"
    spec = load_spec(spec_path)
    victim = spec.cells()[0]
    log = out / "logs" / f"{victim.run_name}.log"
    killed: list[int] = []
    stop = threading.Event()
    killer = threading.Thread(
        target=_kill_first_worker_at_a_checkpoint, args=(out / "runs" / victim.run_name, log, killed, stop)
    )
    killer.start()
    try:
        status = main(["sweep", str(spec_path), "--out", str(out), "--executor", "ray", "--progress", "plain"])
    finally:
        stop.set()
        killer.join()
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert killed, "the run finished before a checkpoint could be caught"
    starts = re.findall(r"worker (\d+) on \S+ \(Ray task\) starts", log.read_text())
    assert len(starts) == 2 and int(starts[0]) == killed[0] and starts[1] != starts[0]  # retried in a new worker
    assert "resum" in log.read_text().lower()  # the retry resumed from the checkpoint

    names = sorted(c.run_name for c in spec.cells())
    assert sorted(p.name for p in (out / "runs").iterdir()) == names
    assert sorted(p.name for p in (local_reference / "runs").iterdir()) == names
    for cell in spec.cells():
        run_dir = out / "runs" / cell.run_name
        assert is_complete(run_dir) and not (run_dir / ERROR).exists()
        got = rows(run_dir)
        assert got, "800 agent steps of Breakout finish some games"
        steps = [r[0] for r in got]
        assert steps == sorted(set(steps)), f"{cell}: rows duplicated or out of order"
        assert got == rows(local_reference / "runs" / cell.run_name), cell  # nothing lost, nothing twice
        config = read_yaml(run_dir / CONFIG)
        assert config["threads"] == 1  # bounded to the task's one CPU
        assert "--executor ray" in config["command"]
    # the same progress display as the local executor
    assert "start  Breakout/a2c/nature/seed0" in captured.out and "done   Breakout/a2c/coordconv/seed0" in captured.out
    assert "cells 2/2 done, 0 running, 0 failed" in captured.out and "sweep complete: 2/2 cells" in captured.out

    # run again: every cell is skipped, nothing is rewritten
    stamps = {c: (out / "runs" / c.run_name / STATUS).stat().st_mtime_ns for c in spec.cells()}
    assert main(["sweep", str(spec_path), "--out", str(out), "--executor", "ray", "--progress", "quiet"]) == 0
    assert "(2 already complete, skipped)" in capsys.readouterr().out
    assert stamps == {c: (out / "runs" / c.run_name / STATUS).stat().st_mtime_ns for c in spec.cells()}


# -- failures, resume, Ctrl-C (fake run functions from tests/test_sweep.py) -------------------------


@pytest.mark.slow
@needs_ray
def test_a_failing_cell_on_ray_leaves_error_txt_and_the_others_finish(ray_instance: str, tmp_path: Path) -> None:
    import test_sweep

    spec = load_spec(write(tmp_path / "fake.yaml", FAKE_SPEC))
    out = tmp_path / "sweep"
    result = run_sweep(spec, out, executor=RayExecutor(max_retries=0), run_fn=test_sweep.fake_run, progress="quiet")
    bad = [c for c in spec.cells() if c.extractor == "coordconv" and c.seed == 1]
    assert list(result.failed) == bad and "synthetic failure of this cell" in result.failed[bad[0]]
    assert sorted(result.complete) == sorted(c for c in spec.cells() if c not in bad)
    error = (result.run_dir(bad[0]) / ERROR).read_text()
    assert "Traceback" in error and "fake_run" in error
    for cell in spec.cells():  # every task ran with its threads bounded to its one CPU
        ((_, omp, torch_threads),) = test_sweep.calls(result.run_dir(cell))
        assert omp == "1" and torch_threads == "1"
    # again: complete cells are skipped, the failed one is retried (and now succeeds)
    (out / "heal").write_text("")
    again = run_sweep(spec, out, executor="ray", run_fn=test_sweep.fake_run, progress="quiet")
    assert again.ok and sorted(again.skipped) == sorted(result.complete)
    assert len(test_sweep.calls(again.run_dir(bad[0]))) == 2 and not (again.run_dir(bad[0]) / ERROR).exists()
    for cell in result.complete:
        assert len(test_sweep.calls(again.run_dir(cell))) == 1


def napping_run(task: CellTask) -> None:
    """Start, say so, and 'train' for two minutes in short naps (Ray's cancel interrupts between them)."""
    run_dir = Path(task.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "pid").write_text(str(os.getpid()), encoding="utf-8")
    try:
        for _ in range(1200):
            time.sleep(0.1)
    finally:
        (run_dir / "unwound").write_text("yes", encoding="utf-8")


def self_killing_run(task: CellTask) -> None:
    """A worker that dies the way an out-of-memory kill ends it: SIGKILL, no chance to write anything."""
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.slow
@needs_ray
def test_a_worker_that_keeps_dying_fails_its_cell_once_retries_are_used_up(ray_instance: str, tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path / "fake.yaml", FAKE_SPEC.replace("seeds: 2", "seeds: [0]")))
    out = tmp_path / "sweep"
    result = run_sweep(spec, out, executor=RayExecutor(max_retries=1), run_fn=self_killing_run, progress="quiet")
    assert not result.complete and sorted(result.failed) == sorted(spec.cells())
    for cell, message in result.failed.items():
        assert message.startswith(f"{cell} failed: its Ray worker died 2 times"), message
        assert "retries are used up" in (result.run_dir(cell) / ERROR).read_text()
        starts = re.findall(r"\(Ray task\) starts", (out / "logs" / f"{cell.run_name}.log").read_text())
        assert len(starts) == 2  # the first try and its one retry


def terminated_once_run(task: CellTask) -> None:
    """The first try is sent SIGTERM (as when its node shuts down); the retry completes the cell."""
    from rl_coordconv.runfolder import write_json

    run_dir = Path(task.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    marker = run_dir / "terminated"
    if not marker.exists():
        marker.write_text(str(os.getpid()), encoding="utf-8")
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(300):
            time.sleep(0.1)
    write_json(run_dir / STATUS, {"complete": True})


@pytest.mark.slow
@needs_ray
def test_a_worker_sent_sigterm_stops_cleanly_and_is_retried(ray_instance: str, tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path / "fake.yaml", FAKE_SPEC.replace("seeds: 2", "seeds: [0]")))
    out = tmp_path / "sweep"
    result = run_sweep(spec, out, executor=RayExecutor(max_retries=1), run_fn=terminated_once_run, progress="quiet")
    assert result.ok and not result.failed
    for cell in spec.cells():
        log = (out / "logs" / f"{cell.run_name}.log").read_text()
        assert log.count("(Ray task) starts") == 2 and "stopped (stopped by signal 15)" in log
        assert "Traceback" not in log and not (out / "runs" / cell.run_name / ERROR).exists()


RAY_SWEEP_SCRIPT = """\
import sys
import test_sweep_ray
from rl_coordconv.sweep import RayExecutor, SweepInterrupted, run_sweep
try:
    run_sweep(sys.argv[1], sys.argv[2], workers=2, executor=RayExecutor(address=sys.argv[3], grace_seconds=30),
              run_fn=test_sweep_ray.napping_run, progress="plain")
except SweepInterrupted as stop:
    print("INTERRUPTED", len(stop.result.interrupted), flush=True)
    sys.exit(130)
"""


@pytest.mark.slow
@needs_ray
def test_ctrl_c_stops_the_ray_tasks_and_leaves_cells_resumable(ray_instance: str, tmp_path: Path) -> None:
    spec_path = write(tmp_path / "fake.yaml", FAKE_SPEC)
    out = tmp_path / "sweep"
    proc = subprocess.Popen(
        [sys.executable, "-c", RAY_SWEEP_SCRIPT, str(spec_path), str(out), ray_instance],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT)])},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    spec = load_spec(spec_path)
    pid_files = [out / "runs" / c.run_name / "pid" for c in spec.cells()[:2]]
    try:
        deadline = time.monotonic() + 90
        while not all(p.is_file() for p in pid_files):
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "Ray tasks did not start"
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        interrupted_at = time.monotonic()
        output, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, output
    assert "INTERRUPTED 2" in output and output.count("paused") == 2
    assert time.monotonic() - interrupted_at < 25, "the tasks did not stop when cancelled (force-cancelled late)"
    for pid_file in pid_files:
        run_dir = pid_file.parent
        assert (run_dir / "unwound").is_file()  # the task unwound (KeyboardInterrupt from ray.cancel)
        assert not (run_dir / ERROR).exists() and not is_complete(run_dir)
    assert not (out / "runs" / spec.cells()[3].run_name).exists()  # never started


# -- without Ray, options, dry run ------------------------------------------------------------------

NO_RAY = """\
import contextlib, io, sys
sys.modules["ray"] = None  # `import ray` now fails as it does where Ray is not installed
from rl_coordconv.cli import main
spec, out = sys.argv[1:3]
for extra in ([], ["--dry-run"], ["--address", "auto", "--cpus-per-run", "2"]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main(["sweep", spec, "--out", out, "--executor", "ray", *extra])
    print(status, repr(err.getvalue()))
print("local", main(["sweep", spec, "--out", out, "--dry-run"]))
"""


def test_without_ray_the_ray_executor_says_how_to_install_it(tmp_path: Path) -> None:
    spec_path = write(tmp_path / "fake.yaml", FAKE_SPEC)
    out = tmp_path / "sweep"
    proc = subprocess.run(
        [sys.executable, "-c", NO_RAY, str(spec_path), str(out)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    line = (
        "rl-coordconv sweep: error: --executor ray needs Ray, which is not installed here; "
        "install it with: pip install 'rl-coordconv[ray]'\n"
    )
    assert lines[:3] == [f"2 {line!r}"] * 3  # exit status 2 and that one line, for a run, a dry run, a cluster
    assert lines[-1] == "local 0" and "executor local" in proc.stdout  # the local executor needs no Ray
    assert not out.exists()  # nothing written


def test_ray_options_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    spec_path = write(tmp_path / "fake.yaml", FAKE_SPEC)
    out = str(tmp_path / "o")
    assert main(["sweep", str(spec_path), "--out", out, "--address", "auto", "--cpus-per-run", "2"]) == 2
    assert "--address, --cpus-per-run apply only to --executor ray" in capsys.readouterr().err
    for bad in (["--cpus-per-run", "0"], ["--gpus-per-run", "-1"], ["--cpus-per-run", "1.5"]):
        with pytest.raises(SystemExit):
            main(["sweep", str(spec_path), "--out", out, "--executor", "ray", *bad])
    if ray is not None:
        with pytest.raises(UserError, match="--gpus-per-run must be a number of at least 0"):
            RayExecutor(gpus_per_run=-0.5)
        # a different spec into the same folder is refused as locally, before Ray starts
        other = write(tmp_path / "other.yaml", FAKE_SPEC.replace("seeds: 2", "seeds: 3"))
        assert main(["sweep", str(spec_path), "--out", out, "--dry-run"]) == 0
        (Path(out)).mkdir()
        (Path(out) / "spec.yaml").write_text(FAKE_SPEC)
        capsys.readouterr()
        assert main(["sweep", str(other), "--out", out, "--executor", "ray"]) == 2
        assert "is the sweep folder of a different spec (seeds: [0, 1] there" in capsys.readouterr().err
        assert sorted(p.name for p in Path(out).iterdir()) == ["spec.yaml"]
        return
    assert not Path(out).exists()


@needs_ray
def test_dry_run_shows_the_resources_each_cell_asks_for(ray_instance: str, tmp_path: Path, capsys) -> None:
    spec_path = write(tmp_path / "fake.yaml", FAKE_SPEC)
    out = tmp_path / "sweep"
    args = ["sweep", str(spec_path), "--out", str(out), "--dry-run"]
    assert main([*args, "--executor", "ray", "--cpus-per-run", "2"]) == 0
    ray_text = capsys.readouterr().out
    assert main([*args, "--workers", "2"]) == 0
    local_text = capsys.readouterr().out
    assert not out.exists()
    assert "executor ray: each cell: one Ray task asking for CPU 2, GPU 0, 2 torch/BLAS/OpenCV threads" in ray_text
    assert "on the Ray instance this process uses (2 CPUs, 0 GPUs)" in ray_text  # the session's instance
    assert "4 of 4 cells to run, 4,000 agent steps, 1 worker x 2 threads on 2 cores." in ray_text
    assert "executor local: each cell: one spawned process on this machine" in local_text
    assert main([*args, "--executor", "ray", "--workers", "1"]) == 0  # --workers caps the cells at once
    assert "1 worker x 1 thread on 1 core." in capsys.readouterr().out
    # the cell listing is the same on both executors
    listing = lambda text: [line for line in text.splitlines() if "Breakout-a2c" in line]  # noqa: E731
    assert listing(ray_text) == listing(local_text) and len(listing(ray_text)) == 4
    # a cell that cannot fit is said so, before anything runs
    assert main([*args, "--executor", "ray", "--cpus-per-run", "3"]) == 0
    assert "NOT ENOUGH RESOURCES" in capsys.readouterr().out
    with pytest.raises(UserError, match="asks Ray for CPU 3, GPU 0, but the cluster has 2 CPUs"):
        run_sweep(spec_path, out, executor=RayExecutor(cpus_per_run=3), run_fn=_never, progress="quiet")


def _never(task: CellTask) -> None:  # pragma: no cover - never scheduled
    raise AssertionError("a cell that cannot fit must not run")


@needs_ray
def test_a_folder_the_tasks_cannot_see_is_a_clear_failure(ray_instance: str, tmp_path: Path) -> None:
    """Stands in for an --out that is not on shared storage: the task's node has no DIR/spec.yaml."""
    from rl_coordconv.sweep.progress import QuietProgress

    cell = load_spec(write(tmp_path / "fake.yaml", FAKE_SPEC)).cells()[0]
    sweep = tmp_path / "not-shared"  # no spec.yaml: what a node without the shared folder sees
    task = CellTask(cell=cell, run_dir=str(sweep / "runs" / cell.run_name), log_path=str(sweep / "logs" / "x.log"))
    monitor = QuietProgress([cell], [], 1000)
    (outcome,) = RayExecutor(max_retries=0).run([task], _never, monitor)
    assert outcome.status == "failed" and monitor.failed == [outcome]
    assert "is not visible on Ray node" in outcome.message and "storage every node sees" in outcome.message
    assert (sweep / "runs" / cell.run_name / ERROR).read_text().startswith(f"{cell} failed: the sweep folder")
    assert not (sweep / "logs").exists()  # the task wrote nothing


@needs_ray
def test_a_users_extractor_reaches_the_ray_tasks(ray_instance: str, user_project: Path) -> None:
    """The user's module is in a folder the Ray workers were not started with: the task brings its path."""
    import test_plugins

    spec = load_spec(user_project / "spec.yaml")
    result = run_sweep(spec, user_project / "sweep", executor="ray", run_fn=test_plugins.registry_run, progress="quiet")
    assert result.ok, result.failed
    half, narrow = (test_plugins.seen(result.run_dir(cell)) for cell in spec.cells())
    assert half[1:] == ["my_extractors.HalfCNN", "256"]
    assert narrow[1:] == ["rl_coordconv.extractors.CoordConvNatureCNN", "128"]
    assert half[0] != narrow[0] != str(os.getpid())  # one fresh Ray worker per cell
