"""Surrogate gradient flossing (docs/science.md §2): floss.rnn.flossing.Flosser with the cell's own
inputs and a per-network Adam, so that a step can floss a subset of the batched networks
(adaptive flossing) while each network stays independent of the others."""

from __future__ import annotations

import torch

from floss.core import seeding
from floss.rnn.cells.base import Cell
from floss.rnn.flossing import Flosser, FlossingConfig
from floss.rnn.optim import finite_per_network
from floss.surrogate.adam import NetworkAdam
from floss.surrogate.spectrum import draw_inputs


class SurrogateFlosser(Flosser):
    """Flosser (docs/science.md §1.4) whose step can floss only the networks in `active` (the others
    keep their state untouched): `run(epochs, progress, active=mask)`."""

    def __init__(self, cell: Cell, config: FlossingConfig):
        super().__init__(cell, config)
        self.optimizer = NetworkAdam(self.params, config.lr, config.betas, config.eps)

    @property
    def network_steps(self) -> torch.Tensor:
        """Flossing steps each network has taken (M,)."""
        return self.optimizer.steps()

    @property
    def steps_done(self) -> int:
        return int(self.network_steps.max())

    def _drive(self) -> torch.Tensor:
        c = self.cell
        if self.config.input_mode == "zero":
            return c.zero_drive(self.config.steps)[:, :, 0]
        # each network's inputs are indexed by its own step count (independent of the batch)
        gens = [
            seeding.generator(s, "floss_input", int(n))
            for s, n in zip(self.seeds, self.network_steps.tolist())
        ]
        return c.drive(draw_inputs(c, self.config.steps, gens))[:, :, 0]

    def step(self, active: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One flossing step of the networks in `active` (default all); exponents (M, k) and
        losses (M,) before the update (NaN for networks not flossed)."""
        run = self.alive.clone() if active is None else self.alive & active.to(self.alive.device)
        self.optimizer.zero_grad(set_to_none=True)
        lam, loss = self._exponents()
        torch.where(run, loss, torch.zeros_like(loss)).sum().backward()
        self.alive &= finite_per_network(self.params, loss) | ~run
        self.optimizer.step(self.alive & run)
        nan = torch.full_like(loss, float("nan"))
        return (
            torch.where(run[:, None], lam.detach(), nan[:, None]),
            torch.where(run, loss.detach(), nan),
        )
