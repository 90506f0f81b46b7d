"""Surrogate Lyapunov spectra and surrogate gradient flossing (SPEC §2), on top of the core.

The binary and spiking cells (floss.models.binary, floss.models.spiking) implement the cell
interface with surrogate Jacobians, so floss.lyapunov.spectrum computes their surrogate
exponents unchanged and its gradient (through QR and through sigma'_g) is the surrogate
gradient. What is added here: the spiking network's Poisson inputs, network files that keep
the models' descriptors (sharpness, time constants, ...), and a Flosser that can floss a
subset of the batched networks (adaptive flossing) while each stays independent of the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import xarray as xr

from floss import io, seeding
from floss.flossing import Flosser, FlossingConfig
from floss.lyapunov import initial_basis, spectrum
from floss.models.base import Cell
from floss.optim import finite_per_network
from floss.surrogate.adam import NetworkAdam
from floss.tasks import bernoulli_inputs

#: CF descriptions of the variables the core's io.VARIABLES lacks
VARIABLES = {
    "V": ("recurrent weights V[post, pre] of the LIF network", "1"),
    "sharpness": ("surrogate sharpness g of sigma'_g(x) = 1/(g|x|+1)^2", "1"),
}


# --- network files ----------------------------------------------------------------------------
def cell_to_dataset(cell: Cell) -> xr.Dataset:
    """io.cell_to_dataset, with boolean descriptors as 0/1 (NetCDF has no boolean attrs)."""
    ds = io.cell_to_dataset(cell)
    for k, v in list(ds.attrs.items()):
        if isinstance(v, bool):
            ds.attrs[k] = int(v)
    for name, (long_name, units) in VARIABLES.items():
        if name in ds:
            ds[name].attrs.update(long_name=long_name, units=units)
    return ds


def load_cell(ds: xr.Dataset, source: str, dtype=None, device="cpu") -> Cell:
    """io.cell_from_dataset plus the model's own descriptors (class attr meta_attrs)."""
    cell = io.cell_from_dataset(ds, source, dtype, device)
    extra = {k: ds.attrs[k] for k in getattr(cell, "meta_attrs", ()) if k in ds.attrs}
    if not extra:
        return cell
    meta = {**cell.meta}
    for k, v in extra.items():
        meta[k] = v.item() if isinstance(v, np.generic) else v
    if "reset_in_jacobian" in meta:
        meta["reset_in_jacobian"] = bool(meta["reset_in_jacobian"])
    try:
        return type(cell)(cell.param_dict(), meta)
    except ValueError as exc:
        raise io.FlossIOError(f"{source}: {exc}") from None


# --- inputs and spectra -----------------------------------------------------------------------
def draw_inputs(
    cell: Cell, steps: int, generators: Sequence[torch.Generator], batch: int = 1
) -> torch.Tensor:
    """Random inputs (steps, M, batch, S): the cell's own (Poisson spikes for the LIF network)
    or Bernoulli(1/2) task bits (SPEC §1.2)."""
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


# --- flossing ----------------------------------------------------------------------------------
class SurrogateFlosser(Flosser):
    """Flosser (SPEC §1.4) with the cell's own inputs and a per-network Adam, so that a step
    can floss only the networks in `active` (the others keep their state untouched)."""

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

    def run(
        self,
        epochs: int,
        progress: Callable[[int], None] | None = None,
        active: torch.Tensor | None = None,
    ) -> dict[str, np.ndarray]:
        lams, losses = [], []
        for _ in range(epochs):
            lam, loss = self.step(active)
            lams.append(lam)
            losses.append(loss)
            if progress is not None:
                progress(1)
        m, k = self.cell.n_networks, self.config.k
        return {
            "exponents": torch.stack(lams).cpu().numpy() if lams else np.zeros((0, m, k)),
            "loss": torch.stack(losses).cpu().numpy() if losses else np.zeros((0, m)),
        }


def describe(ds: xr.Dataset, **variables: Any) -> xr.Dataset:
    """Set (long_name, units) of variables: describe(ds, lyapunov=("...", "1/step"))."""
    for name, (long_name, units) in variables.items():
        ds[name].attrs.update(long_name=long_name, units=units)
    return ds
