"""Gradient flossing, docs/science.md §1.4: drive Lyapunov exponents toward a target by gradient
descent.

    flossing loss = mean_i (lambda_i - target)^2 over the k flossed exponents

A flossing step draws fresh input bits (batch 1, from each network's `floss_input` stream
indexed by the flossing step count, so a resumed run continues the same sequence),
runs the differentiable QR spectrum from x0[:, :, 0] with the same initial basis every step
(the reference reseeds it with sONS), and takes one Adam step on the flossed parameters only
(vanilla: W_in, J, b). The Adam state lives in the Flosser and persists across episodes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from floss.core import seeding
from floss.rnn.cells.base import Cell
from floss.rnn.lyapunov import initial_basis, spectrum
from floss.rnn.optim import adam, finite_per_network, masked_step
from floss.rnn.tasks import bernoulli_inputs


def default_transient(steps: int) -> int:
    """Reference: nStepTransient (10) + nStepTransientONS (ceil(Tp/10)); 16 for Tp = 55."""
    return 10 + math.ceil(steps / 10)


@dataclass(frozen=True)
class FlossingConfig:
    k: int  # number of flossed exponents (reference nLE)
    steps: int = 55  # Tp
    transient: int | None = None  # None: 10 + ceil(Tp/10)
    target: float = 0.0  # lambda_target
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    interval: int = 1  # QR every `interval` steps (reference: 1)
    input_mode: str = "task"  # fresh Bernoulli bits each step (reference); or "zero"
    qr: str = "householder"  # QR factorisation (floss.rnn.qr.METHODS); reference: householder

    @property
    def n_transient(self) -> int:
        return default_transient(self.steps) if self.transient is None else self.transient

    def as_dict(self) -> dict:
        d = asdict(self)
        d["transient"] = self.n_transient
        return d


def flossing_loss(exponents: torch.Tensor, target: float | torch.Tensor) -> torch.Tensor:
    """mean_i (lambda_i - target)^2 per network: (M, k) -> (M,)."""
    return ((exponents - target) ** 2).mean(-1)


class Flosser:
    """Flossing of the M networks of `cell`, with its own persistent Adam."""

    def __init__(self, cell: Cell, config: FlossingConfig):
        if not 1 <= config.k <= cell.state_size:
            raise ValueError(f"k must be in 1..{cell.state_size} (the state size), got {config.k}")
        if config.n_transient >= config.steps:
            raise ValueError(
                f"flossing transient ({config.n_transient}) must be < steps Tp ({config.steps})"
            )
        if config.input_mode not in ("task", "zero"):
            raise ValueError(f"input_mode {config.input_mode!r}; allowed: ['task', 'zero']")
        self.cell, self.config = cell, config
        self.params = [getattr(cell, n) for n in cell.flossed]
        self.optimizer = adam(self.params, config.lr, config.betas, config.eps)
        self.seeds = [int(s) for s in cell.meta["seed"]]
        self.basis = initial_basis(self.seeds, cell.state_size, config.k, cell.dtype, cell.device)
        self.alive = torch.ones(cell.n_networks, dtype=torch.bool, device=cell.device)

    def _drive(self) -> torch.Tensor:
        c = self.cell
        if self.config.input_mode == "zero":
            return c.zero_drive(self.config.steps)[:, :, 0]
        gens = seeding.generators(self.seeds, "floss_input", self.steps_done)
        bits = bernoulli_inputs(self.config.steps, c.n_inputs, gens).to(c.device)
        return c.drive(bits)[:, :, 0]

    @property
    def steps_done(self) -> int:
        """Flossing steps taken so far (the Adam step count, restored with its state)."""
        state = self.optimizer.state.get(self.params[0], {})
        return int(state["step"]) if state else 0

    def _exponents(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Differentiable exponents (M, k) of this step's trajectory and their losses (M,)."""
        cfg = self.config
        lam = spectrum(
            self.cell,
            self._drive(),
            self.basis,
            cfg.n_transient,
            x0=self.cell.x0[:, :, 0].detach(),
            interval=cfg.interval,
            qr=cfg.qr,
        )
        return lam, flossing_loss(lam, cfg.target)

    def step(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One flossing step; returns the exponents (M, k) and losses (M,) before the update."""
        self.optimizer.zero_grad(set_to_none=True)
        lam, loss = self._exponents()
        torch.where(self.alive, loss, torch.zeros_like(loss)).sum().backward()
        self.alive &= finite_per_network(self.params, loss)
        masked_step(self.optimizer, self.params, self.alive)
        return lam.detach(), loss.detach()

    def run(
        self, epochs: int, progress: Callable[..., None] | None = None, **step_options: Any
    ) -> dict[str, np.ndarray]:
        """`epochs` flossing steps: exponents (epochs, M, k) and loss (epochs, M).
        `step_options` go to every `step` (a subclass's step may take options, e.g. which
        networks to floss)."""
        lams, losses = [], []
        for _ in range(epochs):
            lam, loss = self.step(**step_options)
            lams.append(lam)
            losses.append(loss)
            if progress is not None:  # lam[:, 0] is lambda_1 (QR order)
                progress(1, flossing_loss=loss, lambda_1=lam[:, 0])
        m, k = self.cell.n_networks, self.config.k
        return {
            "exponents": torch.stack(lams).cpu().numpy() if lams else np.zeros((0, m, k)),
            "loss": torch.stack(losses).cpu().numpy() if losses else np.zeros((0, m)),
        }


@dataclass(frozen=True)
class Schedule:
    """When to floss, as the reference's (Ep, Ef, Ei, Ni) (docs/science.md §1.4).

    pre_epochs: Ep flossing steps before training epoch 1.
    every, epochs, max_episodes: Ei flossing steps before every training epoch that is a
        multiple of Ef, at most Ni such episodes.
    """

    pre_epochs: int = 0
    every: int = 100
    epochs: int = 500
    max_episodes: int = 0

    @classmethod
    def named(
        cls,
        name: str,
        pre_epochs: int = 500,
        every: int = 100,
        epochs: int = 500,
        max_episodes: int = 2,
    ) -> Schedule:
        """`none`, `pre`, `pre-during` or `during` with the reference README's values as
        defaults."""
        if name == "none":
            return cls(0, every, epochs, 0)
        if name == "pre":
            return cls(pre_epochs, every, epochs, 0)
        if name == "pre-during":
            return cls(pre_epochs, every, epochs, max_episodes)
        if name == "during":
            return cls(0, every, epochs, max_episodes)
        raise ValueError(
            f"schedule {name!r} not allowed; allowed: ['none', 'pre', 'pre-during', 'during']"
        )

    def flossing_before(self, epoch: int, episodes_done: int) -> tuple[int, bool]:
        """Flossing steps before training epoch `epoch` (1-based); and whether this is a
        during-training episode (which counts towards max_episodes)."""
        if epoch == 1 and self.pre_epochs > 0:
            return self.pre_epochs, False
        if epoch % self.every == 0 and episodes_done < self.max_episodes:
            return self.epochs, True
        return 0, False
