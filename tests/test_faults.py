"""Fault injection: real training runs (``rl-coordconv train``, on both environment backends) killed with
SIGKILL at seeded random moments, resumed each time, must end with exactly the uninterrupted run's rows
and weights.

A tiny hook (:data:`HOOK`, written as ``sitecustomize.py`` into the test's temporary folder and put on
the subprocesses' ``PYTHONPATH``; no test code in the package) logs every *moment* of a run as
``(kind, agent steps)``: an environment step of a rollout (``rollout``), an optimizer step of a gradient
update (``update``), a stage of a checkpoint write (``checkpoint``: before the model's fsync, before the
checksums, before the folder's fsync, after its rename, before ``latest.json``), an environment step of
an evaluation (``eval``), and the final ``status.json`` write (``status``: before and after its rename).
An uninterrupted run is the reference and its log the menu of moments: a seeded random pick of moments,
in run order, gives one kill per session; every session after the first is ``--resume``. The rows of
``episodes.csv`` and ``evaluations.csv`` (all columns but ``wall_seconds``), ``status.json`` (but its
clock and session count), and the final policy and optimizer tensors must equal the reference's.

Default suite: one fast case per backend (Breakout under the machado protocol, whose sticky actions
ale-py 0.12.1's emulator snapshots restore wrongly; killed mid-rollout and mid-checkpoint).
``make test-slow``: all five kinds of moment on Breakout, Qbert and Amidar under both protocols and on
both backends, and a sweep whose worker and whose sweep process are both killed.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
import torch

from rl_coordconv.runfolder import EPISODES, EVALUATIONS, STATUS, is_complete, read_rows

KINDS = ("rollout", "update", "checkpoint", "eval", "status")

#: The test-only hook, installed as ``sitecustomize.py``. ``RLCC_FAULT_LOG``: append every moment to this
#: file as JSON lines. ``RLCC_FAULTS``: a JSON list of kills ``{"kind", "steps", "nth", "run", "target",
#: "after"}``: at the ``nth`` moment of ``kind`` at ``steps`` agent steps (in the run named ``run``, if
#: given), SIGKILL this process (``target: self``) or its parent (``parent``: a sweep worker killing its
#: sweep), once the file ``after`` exists if given; a ``self`` kill first creates ``<log>.killed``.
HOOK = r"""
import json, os, signal, time
_LOG = os.environ.get("RLCC_FAULT_LOG")
_FAULTS = json.loads(os.environ.get("RLCC_FAULTS", "[]"))


def _install():
    from collections import Counter
    from torch.optim.optimizer import register_optimizer_step_pre_hook
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
    from stable_baselines3.common.vec_env import DummyVecEnv
    from rl_coordconv.atari.ale_vector_backend import AleVectorEnv
    import rl_coordconv.checkpoints as checkpoints
    import rl_coordconv.evaluation as evaluation
    import rl_coordconv.training as training

    state = {"model": None, "eval": 0, "run": None}
    seen = Counter()
    log = open(_LOG, "a", buffering=1) if _LOG else None

    def moment(kind):
        steps = int(state["model"].num_timesteps) if state["model"] is not None else 0
        seen[(kind, steps)] += 1
        if log is not None:
            log.write(json.dumps([state["run"], kind, steps]) + "\n")
        for fault in _FAULTS:
            if fault.get("run") not in (None, state["run"]):
                continue
            if (fault["kind"], fault["steps"], fault["nth"]) != (kind, steps, seen[(kind, steps)]):
                continue
            deadline = time.monotonic() + 300
            while fault.get("after") and not os.path.exists(fault["after"]) and time.monotonic() < deadline:
                time.sleep(0.05)
            if fault.get("target") == "parent":
                os.kill(os.getppid(), signal.SIGKILL)
            else:
                if _LOG:
                    open(_LOG + ".killed", "w").close()
                os.kill(os.getpid(), signal.SIGKILL)

    def wrap(owner, name, kind=None, before=None):
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            if before is not None:
                before(args)
            if kind is not None:
                moment(kind)
            return original(*args, **kwargs)

        setattr(owner, name, wrapper)

    def keep_model(args):
        state["model"] = args[0]

    def keep_run(args):
        state["run"] = args[0].path.name

    wrap(training, "prepare_run_folder", before=keep_run)
    wrap(OnPolicyAlgorithm, "collect_rollouts", before=keep_model)
    for vec_env in (DummyVecEnv, AleVectorEnv):
        wrap(vec_env, "step_wait", before=lambda args: moment("eval" if state["eval"] else "rollout"))
    register_optimizer_step_pre_hook(lambda *args: moment("update"))
    for name in ("fsync_file", "write_json", "fsync_dir"):
        wrap(checkpoints, name, kind="checkpoint")
    original_play = evaluation.play_game_records

    def play(*args, **kwargs):
        state["eval"] += 1
        try:
            return original_play(*args, **kwargs)
        finally:
            state["eval"] -= 1

    evaluation.play_game_records = play
    original_replace = os.replace

    def replace(src, dst, *args, **kwargs):
        status = os.fspath(dst).endswith("status.json")
        if status:
            moment("status")
        original_replace(src, dst, *args, **kwargs)
        if status:
            moment("status")

    os.replace = replace


if _LOG or _FAULTS:
    _install()
"""

CLI = "import sys; from rl_coordconv.cli import main; sys.exit(main())"
TIMESTEPS = 384  # 12 rollouts of 2 envs x 16 agent steps; two Breakout games per env
PPO_SETTINGS = {"n_steps": 16, "batch_size": 32, "n_epochs": 2}


def _train_args(game: str, protocol: str, run_dir: Path, backend: str) -> list[str]:
    sets = [arg for key, value in PPO_SETTINGS.items() for arg in ("--set", f"{key}={value}")]
    return [
        "train", "--algo", "ppo", "--game", game, "--extractor", "nature", "--seed", "1",
        "--timesteps", str(TIMESTEPS), "--run-dir", str(run_dir), "--protocol", protocol, "--backend", backend,
        "--n-envs", "2", *sets, "--checkpoint-freq", "64", "--eval-freq", "128", "--eval-episodes", "1",
        "--threads", "1", "--device", "cpu", "--no-progress", "--quiet",
    ]  # fmt: skip


def _env(hook_dir: Path, log: Path | None = None, faults: list[dict[str, Any]] | None = None) -> dict[str, str]:
    (hook_dir / "sitecustomize.py").write_text(HOOK, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RLCC_FAULT")}
    env["PYTHONPATH"] = os.pathsep.join([str(hook_dir), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    if log is not None:
        env["RLCC_FAULT_LOG"] = str(log)
    if faults:
        env["RLCC_FAULTS"] = json.dumps(faults)
    return env


def _run(args: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _moments(log: Path, run: str | None = None) -> list[tuple[str, int, int]]:
    """The logged moments of a run, each as (kind, agent steps, nth at those agent steps)."""
    seen: dict[tuple[str, int], int] = {}
    out = []
    for line in log.read_text(encoding="utf-8").splitlines():
        name, kind, steps = json.loads(line)
        if run is not None and name != run:
            continue
        seen[(kind, steps)] = seen.get((kind, steps), 0) + 1
        out.append((kind, steps, seen[(kind, steps)]))
    return out


def _pick(moments: list[tuple[str, int, int]], kinds: tuple[str, ...], seed: int) -> list[dict[str, Any]]:
    """One seeded random moment of each kind, in the order the run meets them."""
    rng = random.Random(seed)
    picked = []
    for kind in kinds:
        where = [i for i, m in enumerate(moments) if m[0] == kind]
        assert where, f"the reference run has no {kind} moment"
        picked.append(rng.choice(where))
    return [dict(zip(("kind", "steps", "nth"), moments[i])) for i in sorted(picked)]


def _tensors(model_zip: Path) -> dict[str, Any]:
    with zipfile.ZipFile(model_zip) as archive:
        return {
            name: torch.load(io.BytesIO(archive.read(name)), map_location="cpu", weights_only=False)
            for name in ("policy.pth", "policy.optimizer.pth")
        }


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return bool(a == b)


def _record(run_dir: Path) -> dict[str, Any]:
    """What must not depend on interruptions: rows but their clock, the status but its clock, the tensors."""
    status = json.loads((run_dir / STATUS).read_text(encoding="utf-8"))
    for key in ("wall_seconds", "sessions", "finished"):
        status.pop(key, None)
    return {
        "episodes": [{k: v for k, v in row.items() if k != "wall_seconds"} for row in read_rows(run_dir / EPISODES)],
        "evaluations": read_rows(run_dir / EVALUATIONS),
        "status": status,
    }


def _assert_same_run(got: Path, expected: Path) -> None:
    assert is_complete(got) and not (got / "error.txt").exists()
    mine, theirs = _record(got), _record(expected)
    assert theirs["evaluations"]  # something to compare (Qbert and Amidar finish no training game this early)
    for key in ("episodes", "evaluations", "status"):
        assert mine[key] == theirs[key], f"{got.name}: {key} differ from the uninterrupted run's"
    assert _equal(_tensors(got / "model.zip"), _tensors(expected / "model.zip")), "final weights differ"


def _killed_and_resumed(
    tmp_path: Path, game: str, protocol: str, kinds: tuple[str, ...], seed: int, backend: str
) -> None:
    hooks = tmp_path / "hook"
    hooks.mkdir()
    reference, log = tmp_path / "reference", tmp_path / "reference.log"
    done = _run(_train_args(game, protocol, reference, backend), _env(hooks, log))
    assert done.returncode == 0, done.stderr
    kills = _pick(_moments(log), kinds, seed)
    run = tmp_path / "killed"
    for session, kill in enumerate(kills):
        args = _train_args(game, protocol, run, backend) + (["--resume"] if session else [])
        result = _run(args, _env(hooks, tmp_path / f"session{session}.log", [kill]))
        assert result.returncode == -signal.SIGKILL, f"session {session}: {kill} never came\n{result.stderr}"
    result = _run(_train_args(game, protocol, run, backend) + ["--resume"], _env(hooks))
    assert result.returncode == 0, result.stderr
    _assert_same_run(run, reference)


@pytest.mark.parametrize("backend", ["sb3", "ale_vector"])
def test_a_run_killed_mid_rollout_and_mid_checkpoint_ends_as_the_uninterrupted_run(
    tmp_path: Path, backend: str
) -> None:
    _killed_and_resumed(tmp_path, "Breakout", "machado", ("rollout", "checkpoint"), seed=0, backend=backend)
    assert _record(tmp_path / "reference")["episodes"]  # training games crossed the restores


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sb3", "ale_vector"])
@pytest.mark.parametrize("protocol", ["standard", "machado"])
@pytest.mark.parametrize("game", ["Breakout", "Qbert", "Amidar"])
def test_killed_at_every_kind_of_moment(tmp_path: Path, game: str, protocol: str, backend: str) -> None:
    _killed_and_resumed(tmp_path, game, protocol, KINDS, seed=len(game) + len(protocol), backend=backend)


SWEEP_SPEC = f"""\
name: faults
description: two seeds of tiny PPO runs on the sb3 backend
games: [Qbert]
algos: [ppo]
extractors: [nature]
seeds: 2
agent_steps: {TIMESTEPS}
protocol: machado
backend: sb3
n_envs: 2
checkpoint_freq: 64
evaluation: {{eval_freq: 128, eval_episodes: 1}}
hyperparameters:
  ppo: {json.dumps(PPO_SETTINGS)}
"""


def _wait_for_group(pgid: int, timeout: float = 120) -> None:
    """Wait until every process of the group (the sweep's orphaned workers) is gone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(pgid, signal.SIGKILL)
    raise AssertionError("the sweep's workers outlived it")


@pytest.mark.slow
def test_a_sweep_whose_worker_and_sweep_process_are_killed_ends_as_the_uninterrupted_sweep(tmp_path: Path) -> None:
    from rl_coordconv.sweep import load_spec

    hooks = tmp_path / "hook"
    hooks.mkdir()
    spec_path = tmp_path / "faults.yaml"
    spec_path.write_text(SWEEP_SPEC, encoding="utf-8")
    names = [cell.run_name for cell in load_spec(spec_path).cells()]
    assert len(names) == 2
    sweep = ["sweep", str(spec_path), "--workers", "2", "--progress", "plain"]
    reference, log = tmp_path / "reference", tmp_path / "reference.log"
    done = _run([*sweep, "--out", str(reference)], _env(hooks, log))
    assert done.returncode == 0, done.stdout + done.stderr

    # Worker 0 is killed during a gradient update; worker 1 then kills the sweep during one of its rollouts.
    first = _pick(_moments(log, names[0]), ("update",), seed=1)[0]
    second = _pick(_moments(log, names[1]), ("rollout",), seed=2)[0]
    marker = tmp_path / "worker.log"  # its ".killed" twin appears when worker 0 kills itself
    faults = [
        {**first, "run": names[0]},
        {**second, "run": names[1], "target": "parent", "after": f"{marker}.killed"},
    ]
    out = tmp_path / "sweep"
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI, *sweep, "--out", str(out)],
        env=_env(hooks, marker, faults),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output = proc.communicate(timeout=600)[0].decode()
    assert proc.returncode == -signal.SIGKILL, output
    _wait_for_group(proc.pid)
    assert Path(f"{marker}.killed").exists(), "worker 0 was not killed"
    assert not any(is_complete(out / "runs" / name) for name in names)

    again = _run([*sweep, "--out", str(out)], _env(hooks))
    assert again.returncode == 0, again.stdout + again.stderr
    for name in names:
        _assert_same_run(out / "runs" / name, reference / "runs" / name)
