"""BPTT training with surrogate gradient flossing during training (SPEC §1.3, §2.3).

"Adaptive flossing during training" is not defined in any public source (SPEC §2.3). Two
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

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch

from floss.models.base import Cell
from floss.surrogate.dynamics import SurrogateFlosser, surrogate_spectrum
from floss.tasks import Task
from floss.training import TrainConfig, Trainer

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
    """floss.training.Trainer with a FlossingPolicy instead of a Schedule. The history adds
    `flossed` (epoch, network): flossing steps each network took before that epoch."""

    def __init__(
        self,
        cell: Cell,
        task: Task,
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

    def run(self, progress: Callable[[int], None] | None = None, epochs=None):
        cfg, h = self.config, self.hist
        if cfg.spectrum_every and self.epoch == 0 and not h["spectrum_epoch"]:
            h["spectrum_epoch"].append(0)
            h["lyapunov"].append(self._spectrum())
        stop = cfg.epochs if epochs is None else min(cfg.epochs, self.epoch + epochs)
        while self.epoch < stop:
            self.epoch += 1
            n_floss, which = self._which(self.epoch)
            which &= self.alive.cpu().numpy()
            taken = np.zeros(self.cell.n_networks, dtype=np.int64)
            if n_floss and which.any():
                self.flosser.alive &= self.alive
                active = torch.as_tensor(which, device=self.cell.device)
                out = self.flosser.run(n_floss, active=active)
                h["flossing_epoch"] += [self.epoch] * n_floss
                h["flossing_loss"] += list(out["loss"])
                if self.epoch > 1:  # preflossing is not an episode
                    self.episodes += which
                taken[which] = n_floss
                self._mark_failed(self.flosser.alive)
            h["flossed"].append(taken)
            for k, v in self.train_step().items():
                h[k].append(v.detach().cpu().numpy())
            if cfg.spectrum_every and self.epoch % cfg.spectrum_every == 0:
                h["spectrum_epoch"].append(self.epoch)
                h["lyapunov"].append(self._spectrum())
            if progress is not None:
                progress(1)
        return self.result()

    def _spectrum(self) -> np.ndarray:
        cfg = self.config
        lam = surrogate_spectrum(
            self.cell, cfg.spectrum_k, cfg.spectrum_steps, cfg.spectrum_transient, "task"
        )
        return lam.cpu().numpy()

    def result(self) -> dict[str, np.ndarray]:
        hist = {k: v for k, v in self.hist.items() if k not in ("flossed", "check_epoch")}
        hist.pop("check_lambda1")
        saved, self.hist = self.hist, hist
        try:
            out = super().result()
        finally:
            self.hist = saved
        m = self.cell.n_networks
        out["flossed"] = (
            np.stack(saved["flossed"]) if saved["flossed"] else np.zeros((0, m), np.int64)
        )
        out["check_epoch"] = np.asarray(saved["check_epoch"], dtype=np.int64)
        out["check_lambda1"] = (
            np.stack(saved["check_lambda1"]) if saved["check_lambda1"] else np.zeros((0, m))
        )
        return out
