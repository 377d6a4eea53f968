"""Train PPO (zoo preset, NatureCNN) on Breakout with one of the bisect's variants; see README.md.

python experiments/backend_bisect/run.py both 0 runs/bisect   # variant, root seed, parent folder
python experiments/backend_bisect/run.py both 0 runs/bisect 2048   # a shorter budget (agent steps)
"""

from __future__ import annotations

import sys
from pathlib import Path

import ale_py
import gymnasium as gym

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mimic import VARIANTS, MimicBackend

from rl_coordconv.atari.backends import register_backend
from rl_coordconv.training import train

if __name__ == "__main__":
    variant, seed, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    steps = int(sys.argv[4]) if len(sys.argv) > 4 else 300_000
    if variant not in VARIANTS:
        sys.exit(f"variant must be one of {VARIANTS}, got {variant!r}")
    gym.register_envs(ale_py)
    backend = register_backend(MimicBackend(f"sb3_mimic_{variant}", "mimic"))
    train(
        "ppo",
        "Breakout",
        extractor="nature",
        seed=seed,
        timesteps=steps,
        backend=backend.name,
        run_dir=out / f"{variant}-seed{seed}",
        eval_episodes=0,
        checkpoint_freq=0,
        threads=1,
    )
