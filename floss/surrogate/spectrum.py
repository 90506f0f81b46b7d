"""Inputs and no-grad surrogate Lyapunov spectra of the binary and LIF networks (docs/science.md
§2).

The binary and spiking cells (floss.rnn.cells.binary, floss.rnn.cells.spiking) implement the
cell interface with surrogate Jacobians, so floss.rnn.lyapunov.spectrum computes their
surrogate exponents unchanged and its gradient (through QR and through sigma'_g) is the
surrogate gradient. Added here: the cell's own inputs (Poisson spikes for the LIF network).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from floss.core import seeding
from floss.rnn.cells.base import Cell
from floss.rnn.lyapunov import initial_basis, spectrum
from floss.rnn.tasks import bernoulli_inputs


def draw_inputs(
    cell: Cell, steps: int, generators: Sequence[torch.Generator], batch: int = 1
) -> torch.Tensor:
    """Random inputs (steps, M, batch, S): the cell's own (Poisson spikes for the LIF network)
    or Bernoulli(1/2) task bits (docs/science.md §1.2)."""
    sample: Callable | None = getattr(cell, "sample_inputs", None)
    if sample is not None:
        return sample(steps, generators, batch).to(cell.device)
    return bernoulli_inputs(steps, cell.n_inputs, generators, batch).to(cell.device)


def spectrum_drive(cell: Cell, steps: int, seeds: Sequence[int], mode: str = "task"):
    """Drive (steps, M, Dd) of one trajectory per network (`spectrum_input` stream)."""
    if mode == "zero":
        return cell.zero_drive(steps)[:, :, 0]
    if mode != "task":
        raise ValueError(f"input mode {mode!r} not allowed; allowed: ['task', 'zero']")
    gens = seeding.generators(seeds, "spectrum_input")
    return cell.drive(draw_inputs(cell, steps, gens))[:, :, 0]


@torch.no_grad()
def surrogate_spectrum(
    cell: Cell,
    k: int,
    steps: int,
    transient: int,
    input_mode: str = "task",
    seeds: Sequence[int] | None = None,
    qr: str = "householder",
) -> torch.Tensor:
    """No-grad surrogate Lyapunov exponents (M, k) from x0[:, :, 0] (natural log per step)."""
    seeds = [int(s) for s in (cell.meta["seed"] if seeds is None else seeds)]
    drive = spectrum_drive(cell, steps, seeds, input_mode)
    basis = initial_basis(seeds, cell.state_size, k, cell.dtype, cell.device)
    return spectrum(cell, drive, basis, transient, qr=qr)
