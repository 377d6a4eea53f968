"""Sweeps: spec validation, cells, the sweep folder, dry runs, failures, interruption, thread bounds.

The run functions here are fakes (module-level so that spawned workers can import them); the real
training sweeps are in ``test_sweep_real.py``.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rl_coordconv.cli import main
from rl_coordconv.errors import UserError
from rl_coordconv.runfolder import ERROR, STATUS, is_complete, write_json
from rl_coordconv.settings import RunSettings
from rl_coordconv.sweep import Cell, dry_run_text, estimate_sweep, load_spec, parse_spec, run_sweep
from rl_coordconv.sweep.estimate import STARTUP_SECONDS, STEPS_PER_SECOND, worker_rate
from rl_coordconv.sweep.runner import threads_per_worker
from rl_coordconv.sweep.worker import CellTask

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments"

BASE = """\
name: tiny
games: [Breakout]
algos: [a2c]
extractors: [nature, coordconv]
seeds: 2
agent_steps: 1_000
"""


def write_spec(tmp_path: Path, text: str = BASE, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# -- fake run functions (run inside spawned workers) ------------------------------------------------


def fake_run(task: CellTask) -> None:
    """Record the call and the worker's thread bounds; fail for coordconv seed 1 unless healed."""
    import torch

    run_dir = Path(task.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / "calls.txt", "a", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()} {os.environ.get('OMP_NUM_THREADS')} {torch.get_num_threads()}\n")
    sweep_dir = run_dir.parent.parent
    if task.cell.extractor == "coordconv" and task.cell.seed == 1 and not (sweep_dir / "heal").exists():
        raise RuntimeError("synthetic failure of this cell")
    write_json(run_dir / STATUS, {"complete": True})


def sleepy_run(task: CellTask) -> None:
    """Start, say so, and train 'forever' (until the sweep stops the worker)."""
    run_dir = Path(task.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "pid").write_text(str(os.getpid()), encoding="utf-8")
    try:
        time.sleep(120)
    finally:
        (run_dir / "unwound").write_text("yes", encoding="utf-8")


def calls(run_dir: Path) -> list[list[str]]:
    path = run_dir / "calls.txt"
    return [line.split() for line in path.read_text().splitlines()] if path.is_file() else []


# -- specs ------------------------------------------------------------------------------------------


def test_shipped_specs_load_and_say_what_the_issue_asks() -> None:
    from rl_coordconv.atari import ATARI_100K_GAMES

    quick = load_spec(EXPERIMENTS / "quick.yaml")
    assert len(quick.games) == 1 and len(quick.algos) == 1
    assert quick.extractors == ("nature", "coordconv") and len(quick.seeds) >= 2

    atari10 = load_spec(EXPERIMENTS / "atari10.yaml")
    assert set(atari10.games) == {
        "Pong", "Breakout", "BeamRider", "SpaceInvaders", "Qbert",
        "Seaquest", "MsPacman", "Enduro", "Asteroids", "RoadRunner",
    }  # fmt: skip
    assert atari10.extractors == ("nature", "coordconv", "coordconv_all", "coordconv_r")
    assert len(atari10.seeds) == 5 and atari10.agent_steps == 10_000_000 and set(atari10.algos) == {"a2c", "ppo"}
    assert len(atari10.cells()) == 10 * 4 * 5 * 2

    a100k = load_spec(EXPERIMENTS / "atari100k.yaml")
    assert set(a100k.games) == set(ATARI_100K_GAMES) and len(a100k.games) == 26
    assert a100k.algos == ("ppo",) and a100k.extractors == ("nature", "coordconv")
    assert len(a100k.seeds) == 5 and a100k.agent_steps == 100_000
    # the final evaluation is what the Atari-100k literature reports: only the one at the end (eval_freq 0)
    assert a100k.eval_freq == 0 and a100k.eval_episodes and a100k.eval_episodes >= 10
    assert a100k.checkpoint_freq is not None and a100k.checkpoint_freq < a100k.agent_steps


def test_cells_are_canonical_and_in_fixed_order(tmp_path: Path) -> None:
    spec = load_spec(
        write_spec(
            tmp_path,
            """\
            games: [pong, BreakoutNoFrameskip-v4]
            algos: [PPO, a2c]
            extractors: [Nature, coordconv-all]
            seeds: [3, 1]
            agent_steps: 5_000
            """,
        )
    )
    assert spec.games == ("Pong", "Breakout") and spec.algos == ("ppo", "a2c")
    assert spec.extractors == ("nature", "coordconv_all") and spec.seeds == (3, 1)
    cells = spec.cells()
    assert len(cells) == 16 and len(set(cells)) == 16
    assert cells[:4] == [
        Cell("Pong", "ppo", "nature", 3),
        Cell("Pong", "ppo", "coordconv_all", 3),
        Cell("Pong", "a2c", "nature", 3),
        Cell("Pong", "a2c", "coordconv_all", 3),
    ]
    assert cells[4] == Cell("Breakout", "ppo", "nature", 3)
    assert {c.seed for c in cells[:8]} == {3} and {c.seed for c in cells[8:]} == {1}
    assert spec.cells() == cells  # deterministic
    assert len({c.run_name for c in cells}) == 16


def test_seeds_count_and_defaults(tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path))
    assert spec.seeds == (0, 1) and spec.protocol == "standard" and spec.name == "tiny"
    assert spec.n_envs is None and spec.eval_freq is None and spec.hyperparameters == {}


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ({"gmes": "[Pong]"}, ["line 7", "'gmes'", "did you mean 'games'"]),
        ({"games": "[Breakot]"}, ["line 2", "'games'", "unknown game 'Breakot'", "did you mean 'Breakout'"]),
        ({"agent_steps": "-100"}, ["line 6", "'agent_steps'", "must be positive, got -100"]),
        ({"agent_steps": "0"}, ["'agent_steps'", "must be positive"]),
        ({"agent_steps": "1e7"}, ["'agent_steps'", "positive whole number", "'1e7'"]),
        ({"agent_steps": "true"}, ["'agent_steps'", "positive whole number"]),
        ({"extractors": "[nature, cordconv]"}, ["line 4", "unknown extractor 'cordconv'", "did you mean 'coordconv'"]),
        ({"algos": "[dqn]"}, ["line 3", "unknown algorithm 'dqn'"]),
        ({"seeds": "[0, 0]"}, ["line 5", "'seeds'", "seed 0 is listed twice"]),
        ({"seeds": "-2"}, ["'seeds'", "must be positive"]),
        ({"games": "[Pong, pong]"}, ["'games'", "listed twice"]),
        ({"protocol": "stickyy"}, ["line 7", "'protocol'", "unknown protocol"]),
        ({"evaluation": "{eval_freq: -1}"}, ["line 7", "'evaluation.eval_freq'", "must be a whole number >= 0"]),
        ({"evaluation": "{eval_frq: 10}"}, ["'evaluation.eval_frq'", "did you mean 'eval_freq'"]),
        ({"n_envs": "two"}, ["'n_envs'", "positive whole number"]),
        ({"hyperparameters": "{a2c: {n_step: 3}}"}, ["'hyperparameters.a2c'", "did you mean 'n_steps'"]),
        ({"hyperparameters": "{ppo: {n_steps: 3}}"}, ["'hyperparameters.ppo'", "not one of this spec's algos"]),
        ({"smallest_effect": "2"}, ["'smallest_effect'", "between 0 and 1", "got 2"]),
        ({"smallest_effect": "small"}, ["'smallest_effect'", "human-normalised IQM points"]),
    ],
)
def test_invalid_specs_name_the_line_and_key(tmp_path: Path, edit: dict[str, str], expected: list[str]) -> None:
    lines = dict(line.split(": ", 1) for line in BASE.splitlines())
    lines.update(edit)
    path = write_spec(tmp_path, "".join(f"{k}: {v}\n" for k, v in lines.items()))
    with pytest.raises(UserError) as info:
        load_spec(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    for part in expected:
        assert part in message


def test_malformed_and_odd_files_get_clear_errors(tmp_path: Path) -> None:
    bad = write_spec(tmp_path, "games: [Pong\nalgos: [a2c]\n")
    with pytest.raises(UserError, match=r"line 2, column \d+: malformed YAML.*starts on line 1"):
        load_spec(bad)
    with pytest.raises(UserError, match=r"line 3: key 'games' appears twice \(first on line 2\)"):
        load_spec(write_spec(tmp_path, BASE.replace("algos", "games: [Pong]\nalgos", 1), "dup.yaml"))
    with pytest.raises(UserError, match="missing required key\\(s\\): agent_steps"):
        load_spec(write_spec(tmp_path, BASE.replace("agent_steps: 1_000\n", ""), "missing.yaml"))
    with pytest.raises(UserError, match="the spec is empty"):
        load_spec(write_spec(tmp_path, "", "empty.yaml"))
    with pytest.raises(UserError, match="a spec is a mapping"):
        load_spec(write_spec(tmp_path, "- Pong\n", "list.yaml"))
    with pytest.raises(UserError, match="not found"):
        load_spec(tmp_path / "nope.yaml")
    assert main(["sweep", str(bad), "--out", str(tmp_path / "o"), "--dry-run"]) == 2


# -- the sweep folder -------------------------------------------------------------------------------


def test_a_different_spec_in_the_same_folder_is_refused(tmp_path: Path) -> None:
    from rl_coordconv.sweep.runner import prepare_out

    out = tmp_path / "sweep"
    spec = load_spec(write_spec(tmp_path))
    prepare_out(spec, out)
    assert (out / "spec.yaml").read_text() == (tmp_path / "spec.yaml").read_text()  # the file, comments kept
    # the same experiment written differently (other spellings, comments, key order) is the same spec
    same = write_spec(
        tmp_path,
        "# a comment\nagent_steps: 1000\nseeds: [0, 1]\nextractors: [Nature, coordconv]\nalgos: A2C\ngames: breakout\n",
        "same.yaml",
    )
    assert prepare_out(load_spec(same), out) == out
    # a different one is refused, whatever its file is called
    other = write_spec(tmp_path, BASE.replace("seeds: 2", "seeds: 3"), "spec2.yaml")
    with pytest.raises(UserError, match=r"different spec \(seeds: \[0, 1\] there, \[0, 1, 2\] in this spec\)"):
        prepare_out(load_spec(other), out)
    assert main(["sweep", str(other), "--out", str(out), "--dry-run"]) == 2
    # a folder with something else in it, or a file, is refused too
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty and holds no spec.yaml"):
        prepare_out(spec, tmp_path / "busy")
    with pytest.raises(UserError, match="is a file"):
        prepare_out(spec, tmp_path / "busy" / "notes.txt")


def test_dry_run_lists_cells_and_estimate_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    spec_path = write_spec(tmp_path)
    out = tmp_path / "sweep"
    assert main(["sweep", str(spec_path), "--out", str(out), "--workers", "2", "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert not out.exists()
    spec = load_spec(spec_path)
    for cell in spec.cells():
        assert cell.run_name in text
    assert "4 cells = 1 game x 1 algo x 2 extractors x 2 seeds, 1,000 agent steps each (4,000 frames)" in text
    assert "4 of 4 cells to run" in text and "ESTIMATED time" in text and "to run" in text
    # a complete cell shows as skipped and leaves the estimate
    first = out / "runs" / spec.cells()[0].run_name
    write_json(first / STATUS, {"complete": True})
    (out / "spec.yaml").write_text(spec_path.read_text())
    text = dry_run_text(spec, out, workers=2)
    assert "complete (skipped)" in text and "3 of 4 cells to run" in text


def test_estimate_places_cells_on_workers() -> None:
    cells = [Cell("Pong", "ppo", "nature", s) for s in range(4)]
    est = estimate_sweep(cells, 35_000, workers=2, cores=2)
    per_cell = STARTUP_SECONDS + 35_000 / STEPS_PER_SECOND["ppo"][1]
    assert est.seconds == pytest.approx(2 * per_cell)  # two waves of two cells
    assert est.agent_steps == 140_000 and est.rates == {"ppo": STEPS_PER_SECOND["ppo"][1]}
    one = estimate_sweep(cells, 35_000, workers=1, cores=2)
    assert one.seconds == pytest.approx(4 * (STARTUP_SECONDS + 35_000 / STEPS_PER_SECOND["ppo"][2]))
    assert worker_rate("a2c", workers=4, cores=2) == pytest.approx(STEPS_PER_SECOND["a2c"][1] / 2)
    assert threads_per_worker(2, cores=8) == 4 and threads_per_worker(3, cores=2) == 1


# -- running with fake run functions ----------------------------------------------------------------


def test_a_failing_cell_is_recorded_and_the_others_finish(tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path))
    out = tmp_path / "sweep"
    result = run_sweep(spec, out, workers=2, run_fn=fake_run, progress="quiet")
    bad = Cell("Breakout", "a2c", "coordconv", 1)
    assert not result.ok and list(result.failed) == [bad]
    assert "RuntimeError: synthetic failure of this cell" in result.failed[bad]
    assert sorted(result.complete) == sorted(c for c in spec.cells() if c != bad)
    error = (result.run_dir(bad) / ERROR).read_text()
    assert "Traceback" in error and "synthetic failure of this cell" in error and "fake_run" in error
    for cell in result.complete:
        assert is_complete(result.run_dir(cell)) and not (result.run_dir(cell) / ERROR).exists()
    # every worker ran with its threads bounded: 2 workers share the cores
    threads = str(threads_per_worker(2))
    for cell in spec.cells():
        ((_, omp, torch_threads),) = calls(result.run_dir(cell))
        assert omp == threads and torch_threads == threads

    # again: complete cells are skipped (not called), the failed one is retried and now succeeds
    (out / "heal").write_text("")
    again = run_sweep(spec, out, workers=2, run_fn=fake_run, progress="quiet")
    assert again.ok and not again.failed and sorted(again.skipped) == sorted(result.complete)
    assert len(calls(again.run_dir(bad))) == 2 and not (again.run_dir(bad) / ERROR).exists()
    for cell in result.complete:
        assert len(calls(again.run_dir(cell))) == 1


def test_cli_exits_nonzero_naming_the_failed_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import rl_coordconv.sweep as sweep

    real = sweep.run_sweep
    monkeypatch.setattr(sweep, "run_sweep", lambda *a, **k: real(*a, run_fn=fake_run, **k))
    spec_path = write_spec(tmp_path, BASE.replace("seeds: 2", "seeds: [1]"))
    out = tmp_path / "sweep"
    status = main(["sweep", str(spec_path), "--out", str(out), "--workers", "2", "--progress", "plain"])
    captured = capsys.readouterr()
    assert status == 1
    assert "1 of 2 cells failed: Breakout/a2c/coordconv/seed1" in captured.err and "error.txt" in captured.err
    # plain progress lines (stdout is not a terminal): starts, ends, counts
    assert "start  Breakout/a2c/nature/seed1" in captured.out and "done   Breakout/a2c/nature/seed1" in captured.out
    assert "FAILED Breakout/a2c/coordconv/seed1" in captured.out
    assert "cells 1/2 done, 0 running, 1 failed" in captured.out
    (out / "heal").write_text("")
    assert main(["sweep", str(spec_path), "--out", str(out), "--workers", "2", "--progress", "quiet"]) == 0
    assert "sweep complete: 2/2 cells (1 already complete, skipped)" in capsys.readouterr().out


SWEEP_SCRIPT = """\
import sys
import test_sweep
from rl_coordconv.sweep import SweepInterrupted, run_sweep
try:
    run_sweep(sys.argv[1], sys.argv[2], workers=2, run_fn=test_sweep.sleepy_run, progress="plain")
except SweepInterrupted as stop:
    print("INTERRUPTED", len(stop.result.interrupted), flush=True)
    sys.exit(130)
"""


def _start_sleepy_sweep(tmp_path: Path) -> tuple[subprocess.Popen, list[Path]]:
    spec_path = write_spec(tmp_path)
    out = tmp_path / "sweep"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(ROOT)])}
    proc = subprocess.Popen(
        [sys.executable, "-c", SWEEP_SCRIPT, str(spec_path), str(out)],
        env=env,
        # A shell's background job (`make test &`) inherits SIGINT ignored, and Python then never installs
        # its Ctrl-C handler: give the sweep the terminal's default, as a user's Ctrl-C would find it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    spec = load_spec(spec_path)
    pid_files = [out / "runs" / c.run_name / "pid" for c in spec.cells()[:2]]
    deadline = time.monotonic() + 60
    while not all(p.is_file() for p in pid_files):
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline, "workers did not start"
        time.sleep(0.1)
    return proc, pid_files


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except OSError:
        return True


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_stops_workers_and_leaves_cells_resumable(tmp_path: Path, signum: int) -> None:
    proc, pid_files = _start_sleepy_sweep(tmp_path)
    proc.send_signal(signum)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, output
    assert "INTERRUPTED 2" in output and "paused" in output
    for pid_file in pid_files:
        run_dir = pid_file.parent
        assert not _alive(int(pid_file.read_text()))
        assert (run_dir / "unwound").is_file()  # the worker unwound (finally blocks ran)
        assert not (run_dir / ERROR).exists() and not is_complete(run_dir)
    # the cells not started yet have no folder
    spec = load_spec(tmp_path / "spec.yaml")
    assert not (tmp_path / "sweep" / "runs" / spec.cells()[3].run_name).exists()


def test_a_second_sweep_is_refused_and_workers_stop_when_the_sweep_is_killed(tmp_path: Path) -> None:
    proc, pid_files = _start_sleepy_sweep(tmp_path)
    try:
        with pytest.raises(UserError, match="another sweep .*pid \\d+.* is running into"):
            run_sweep(tmp_path / "spec.yaml", tmp_path / "sweep", workers=1, run_fn=fake_run, progress="quiet")
    finally:
        proc.kill()  # kill -9: no chance to stop its workers
    proc.communicate(timeout=30)
    pids = [int(p.read_text()) for p in pid_files]
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in pids), "orphaned workers kept running"


def test_unknown_executor_and_bad_workers(tmp_path: Path) -> None:
    spec_path = write_spec(tmp_path)
    with pytest.raises(UserError, match="unknown executor 'rya'; did you mean 'ray'"):
        run_sweep(spec_path, tmp_path / "o", workers=1, executor="rya", progress="quiet")
    assert not (tmp_path / "o").exists()  # refused before anything is written
    with pytest.raises(UserError, match="--workers must be at least 1"):
        run_sweep(spec_path, tmp_path / "o2", workers=0, progress="quiet")
    with pytest.raises(SystemExit):
        main(["sweep", str(spec_path), "--out", str(tmp_path / "o3"), "--workers", "0"])


def test_parse_spec_round_trips_through_yaml() -> None:
    spec = parse_spec(BASE, source="inline")
    spec2 = parse_spec(dataclasses.replace(spec, text=None).to_yaml(), source="again")
    assert spec2.resolved() == spec.resolved()


def test_smallest_effect_is_declared_in_the_spec_and_changes_no_run() -> None:
    spec = parse_spec(BASE + "smallest_effect: 0.02\n", source="inline")
    assert spec.smallest_effect == 0.02
    plain = parse_spec(BASE, source="inline")
    assert plain.smallest_effect is None
    assert spec.resolved() == plain.resolved()  # the runs (and so resume and the sweep folder) are the same
    again = parse_spec(dataclasses.replace(spec, text=None).to_yaml(), source="again")
    assert again.smallest_effect == 0.02


def _expected_settings(data: dict, threads: int, device: str) -> list[RunSettings]:
    """Each cell's settings, read off a spec's YAML by hand (its names already canonical), in the cells' order."""
    seeds = range(data["seeds"]) if isinstance(data["seeds"], int) else data["seeds"]
    evaluation = data.get("evaluation") or {}
    return [
        RunSettings(
            algo=algo,
            game=game,
            extractor=extractor,
            seed=seed,
            timesteps=data["agent_steps"],
            protocol=data.get("protocol", "standard"),
            backend=data.get("backend", "ale_vector"),
            n_envs=data.get("n_envs"),
            eval_freq=evaluation.get("eval_freq"),
            eval_episodes=evaluation.get("eval_episodes", 10),
            checkpoint_freq=data.get("checkpoint_freq"),
            hyperparameters=(data.get("hyperparameters") or {}).get(algo, {}),
            device=device,
            threads=threads,
        )  # fmt: skip
        for seed in seeds
        for game in data["games"]
        for algo in data["algos"]
        for extractor in data["extractors"]
    ]


SPEC_WITH_OVERRIDES = """\
games: [Pong, Breakout]
algos: [a2c, ppo]
extractors: [nature]
seeds: [4, 1]
agent_steps: 2_048
n_envs: 4
hyperparameters:
  ppo: {n_epochs: 2, n_steps: 64}
"""


@pytest.mark.parametrize("name", [*sorted(p.name for p in EXPERIMENTS.glob("*.yaml")), "overrides"])
def test_every_cell_trains_with_the_settings_its_spec_says(tmp_path: Path, name: str) -> None:
    import yaml

    from rl_coordconv.sweep.runner import plan_tasks

    text = SPEC_WITH_OVERRIDES if name == "overrides" else (EXPERIMENTS / name).read_text(encoding="utf-8")
    spec = parse_spec(text, source=name)
    tasks, done = plan_tasks(spec, tmp_path / "out", workers=2, device="cpu", command="rl-coordconv sweep x", cores=4)
    assert done == [] and [task.cell for task in tasks] == spec.cells()
    assert [task.settings for task in tasks] == _expected_settings(yaml.safe_load(text), threads=2, device="cpu")
    assert {task.command for task in tasks} == {"rl-coordconv sweep x"}


def test_a_builtin_spec_runs_by_name_and_an_unknown_name_lists_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from rl_coordconv.sweep.spec import builtin_specs

    shipped = sorted(p.stem for p in EXPERIMENTS.glob("*.yaml"))
    assert builtin_specs() == shipped and "quick" in shipped
    assert load_spec("quick") == load_spec(EXPERIMENTS / "quick.yaml")
    assert load_spec("Backend-Check-SB3").name == "backend_check_sb3"  # spelled as names are: case, - or _
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "quick", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "sweep 'quick': 4 cells" in out and os.path.join("runs", "quick", "runs") in out
    assert main(["sweep", "quik", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'quik' is neither a spec file nor a built-in spec" in err
    assert all(name in err for name in shipped)
    (tmp_path / "quick").mkdir()  # a folder of that name here is what the user meant: not a spec
    assert main(["sweep", "quick", "--dry-run"]) == 2 and "(it is a folder)" in capsys.readouterr().err
