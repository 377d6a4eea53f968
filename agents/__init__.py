"""Agent presets (rl-baselines3-zoo Atari hyperparameters), shipped as package data: see a2c.yaml, ppo.yaml."""
