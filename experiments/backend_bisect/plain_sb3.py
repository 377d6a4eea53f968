"""Plain Stable-Baselines3 PPO on Breakout, the control of the bisect: no rl-coordconv code at all.

SB3's ``make_atari_env`` + ``VecFrameStack(4)`` (the standard protocol), SB3's PPO with rl-baselines3-zoo's
Atari hyperparameters (``agents/ppo.yaml``) and the default NatureCNN policy, one torch thread, the
learning rate and clip range decaying over a 300k-agent-step schedule; it writes each whole game's
unclipped score (SB3's ``Monitor``) and stops after ``stop`` agent steps.

python experiments/backend_bisect/plain_sb3.py SEED OUT_CSV [STOP]
"""

from __future__ import annotations

import csv
import sys

import ale_py
import gymnasium as gym
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_atari_env
from stable_baselines3.common.vec_env import VecFrameStack

SCHEDULE = 300_000


class ScoreLog(BaseCallback):
    """Write ``agent_steps,return`` for every whole game; stop the run after ``stop`` agent steps."""

    def __init__(self, path: str, stop: int) -> None:
        super().__init__()
        self.path, self.stop = path, stop

    def _on_training_start(self) -> None:
        self.file = open(self.path, "w", newline="")  # closed in _on_training_end
        self.writer = csv.writer(self.file)
        self.writer.writerow(["agent_steps", "return"])

    def _on_step(self) -> bool:
        for info in self.locals["infos"]:
            if "episode" in info:
                self.writer.writerow([self.num_timesteps, info["episode"]["r"]])
        return self.num_timesteps < self.stop

    def _on_training_end(self) -> None:
        self.file.close()


def main(seed: int, out: str, stop: int) -> None:
    gym.register_envs(ale_py)
    torch.set_num_threads(1)
    env = VecFrameStack(make_atari_env("BreakoutNoFrameskip-v4", n_envs=8, seed=seed), n_stack=4)
    model = PPO(
        "CnnPolicy",
        env,
        n_steps=128,
        n_epochs=4,
        batch_size=256,
        learning_rate=lambda progress: progress * 2.5e-4,
        clip_range=lambda progress: progress * 0.1,
        vf_coef=0.5,
        ent_coef=0.01,
        seed=seed,
    )
    model.learn(SCHEDULE, callback=ScoreLog(out, stop))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else SCHEDULE)
