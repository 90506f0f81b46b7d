"""BPTT training with surrogate gradient flossing during training (docs/science.md §1.3, §2.3).

"Adaptive flossing during training" is not defined in any public source (docs/science.md §2.3). Two
policies are offered, both with preflossing (Ep steps before epoch 1) as the reference:

    periodic  the reference schedule: Ei flossing steps before every Ef-th epoch, at most Ni
              episodes (all networks);
    adaptive  before every Ef-th epoch lambda_1 of each network is measured (no-grad surrogate
              spectrum); the networks with |lambda_1 - target| > tolerance are flossed for Ei
              steps, at most Ni episodes per network (the others are left untouched).

Flossing uses a per-network Adam (floss.surrogate.adam), so every network's run depends only
on its own seed, whichever networks are batched with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from floss.rnn.cells.base import Cell
from floss.rnn.tasks import Task
from floss.rnn.training import TrainConfig, Trainer
from floss.surrogate.flossing import SurrogateFlosser
from floss.surrogate.spectrum import surrogate_spectrum

MODES = ("none", "periodic", "adaptive")


@dataclass(frozen=True)
class FlossingPolicy:
    mode: str = "none"
    pre_epochs: int = 500  # Ep
    every: int = 100  # Ef: flossing (periodic) or lambda_1 check (adaptive) interval
    epochs: int = 500  # Ei: flossing steps per episode
    max_episodes: int = 2  # Ni (adaptive: per network)
    tolerance: float = 0.05  # adaptive: flossing starts when |lambda_1 - target| > tolerance
    check_steps: int = 300  # adaptive: steps of the lambda_1 check
    check_transient: int = 50

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"flossing mode {self.mode!r} not allowed; allowed: {list(MODES)}")
        if self.check_transient >= self.check_steps:
            raise ValueError(
                f"check_transient ({self.check_transient}) must be < check_steps "
                f"({self.check_steps})"
            )
        if self.tolerance <= 0:
            raise ValueError(f"tolerance must be > 0, got {self.tolerance}")

    @property
    def flosses(self) -> bool:
        return self.mode != "none"

    def as_dict(self) -> dict:
        return asdict(self)


class SurrogateTrainer(Trainer):
    """floss.rnn.training.Trainer with a FlossingPolicy instead of a Schedule: it overrides
    `floss_before` (the epoch loop is the Trainer's). The history adds `flossed` (epoch,
    network): flossing steps each network took before that epoch; and the adaptive checks
    (check_epoch, check_lambda1)."""

    EPOCH_HISTORIES = (*Trainer.EPOCH_HISTORIES, "check_epoch")

    def __init__(
        self,
        cell: Cell,
        task: Task | Sequence[Task],
        config: TrainConfig,
        policy: FlossingPolicy,
        flosser: SurrogateFlosser | None = None,
    ):
        if policy.flosses and flosser is None:
            raise ValueError(f"flossing mode {policy.mode!r} needs a SurrogateFlosser")
        super().__init__(cell, task, config, None)
        self.flosser, self.policy = flosser, policy
        self.episodes = np.zeros(cell.n_networks, dtype=np.int64)
        self.hist["flossed"] = []
        self.hist["check_epoch"], self.hist["check_lambda1"] = [], []

    def _which(self, epoch: int) -> tuple[int, np.ndarray]:
        """Flossing steps before `epoch` (1-based) and the networks to floss."""
        p, m = self.policy, self.cell.n_networks
        if not p.flosses:
            return 0, np.zeros(m, dtype=bool)
        if epoch == 1 and p.pre_epochs > 0:
            return p.pre_epochs, np.ones(m, dtype=bool)
        if epoch % p.every != 0:
            return 0, np.zeros(m, dtype=bool)
        left = self.episodes < p.max_episodes
        if p.mode == "periodic":
            return (p.epochs, left) if left.any() else (0, left)
        lam1 = surrogate_spectrum(
            self.cell, 1, p.check_steps, p.check_transient, qr=self.flosser.config.qr
        )[:, 0]
        lam1 = lam1.cpu().numpy()
        self.hist["check_epoch"].append(epoch)
        self.hist["check_lambda1"].append(lam1)
        far = np.abs(lam1 - self.flosser.config.target) > p.tolerance
        return p.epochs, far & left

    def floss_before(self, epoch: int) -> None:
        """The policy's flossing before `epoch`, of the chosen live networks only; records
        each network's flossing steps in `flossed`."""
        n_floss, which = self._which(epoch)
        which &= self.alive.cpu().numpy()
        taken = np.zeros(self.cell.n_networks, dtype=np.int64)
        if n_floss and which.any():
            self.floss(n_floss, active=torch.as_tensor(which, device=self.cell.device))
            if epoch > 1:  # preflossing is not an episode
                self.episodes += which
            taken[which] = n_floss
        self.hist["flossed"].append(taken)

    def _spectrum(self) -> np.ndarray:
        cfg = self.config
        lam = surrogate_spectrum(
            self.cell, cfg.spectrum_k, cfg.spectrum_steps, cfg.spectrum_transient, "task"
        )
        return lam.cpu().numpy()

    def empty_history(self, name: str) -> np.ndarray:
        m = self.cell.n_networks
        if name == "flossed":
            return np.zeros((0, m), np.int64)
        if name == "check_lambda1":
            return np.zeros((0, m))
        return super().empty_history(name)
