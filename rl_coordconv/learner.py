"""Learner settings: how the policy network computes, without changing what it learns.

PPO and A2C on Atari spend most of their CPU time in the convolutions of the features extractor
(forward passes while collecting rollouts, forward + backward passes in the updates). Two settings cut
that cost without touching the algorithm (same hyperparameters, same losses, same initialisation):

- ``channels_last``: the policy's 4-D parameters are stored NHWC (``torch.channels_last``), so PyTorch's
  oneDNN convolutions run their blocked NHWC kernels and skip the layout reorders they do around NCHW
  weights (PyTorch's "Channels Last Memory Format" tutorial). The maths is the same convolution; only the
  summation order of the floating-point kernels differs. On by default.
- ``compile``: ``torch.compile`` of the features extractor (TorchInductor fuses the ReLUs and the
  coordinate term into the convolutions). Off by default: each new process compiles for its first few
  calls (TorchInductor's on-disk cache shortens later starts), which a short run does not win back.

Both extractors of a comparison get the same settings (the settings belong to the run, not to the
extractor), so a CoordConv agent and its NatureCNN baseline still differ only by the coordinate channels.
bf16 autocast is not offered: on the CPUs we measured it was slower than float32 for these small
convolutions, and it would change the numbers learned.

A model's settings are applied again when it is loaded (:func:`apply`), so a resumed run computes with the
same kernels as the uninterrupted run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from rl_coordconv.errors import UserError

__all__ = ["LearnerSettings", "apply"]


@dataclass(frozen=True)
class LearnerSettings:
    """How the policy computes (not what it learns).

    :param channels_last: store the policy's convolution weights NHWC (``torch.channels_last``)
    :param compile: ``torch.compile`` the features extractor(s)
    """

    channels_last: bool = True
    compile: bool = False

    def to_dict(self) -> dict[str, bool]:
        """The settings as plain data, for a run's ``config.yaml``.

        :return: field name -> value
        """
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> LearnerSettings:
        """Read settings written by :meth:`to_dict`; a missing mapping means the settings of runs made
        before these existed (plain eager float32, NCHW).

        :param data: the mapping, or None
        :return: the settings
        :raises UserError: for an unknown key or a value that is not a boolean
        """
        if data is None:
            return cls(channels_last=False, compile=False)
        if not isinstance(data, Mapping):
            raise UserError(f"learner settings must be a mapping, got {data!r}")
        known = {"channels_last", "compile"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"unknown learner setting(s) {unknown}; known: {sorted(known)}")
        for key, value in data.items():
            if not isinstance(value, bool):
                raise UserError(f"learner setting {key!r} must be true or false, got {value!r}")
        return cls(**dict(data))


def apply(model: Any, settings: LearnerSettings) -> Any:
    """Apply ``settings`` to an SB3 model's policy, in place.

    :param model: an SB3 ``OnPolicyAlgorithm`` (A2C, PPO) or its policy
    :param settings: the settings
    :return: the same model
    """
    import torch

    policy = getattr(model, "policy", model)
    if settings.channels_last:
        policy.to(memory_format=torch.channels_last)
    if settings.compile:
        seen: set[int] = set()
        for name in ("features_extractor", "pi_features_extractor", "vf_features_extractor"):
            module = getattr(policy, name, None)
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                module.compile(dynamic=False)  # in place: state_dict keys stay the same
    return model
