"""Checkpoints of surrogate-floss and surrogate-train (floss.core.checkpoint's contract).

A checkpoint is the network plus everything the rest of the run depends on: both Adams (the
flosser's NetworkAdam with its per-network step counts, which also index the flossing inputs),
the alive masks, the adaptive policy's episodes per network and every history so far. The
training inputs are indexed by the epoch and the spectra by the seeds, so a resumed run draws
what the uninterrupted one would have.
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from floss.core import checkpoint
from floss.surrogate.flossing import SurrogateFlosser
from floss.surrogate.networks import cell_to_dataset
from floss.surrogate.training import SurrogateTrainer

FLOSS_ADAM, TRAIN_ADAM = "floss_adam", "train_adam"


def _flags(alive: torch.Tensor) -> np.ndarray:
    return alive.cpu().numpy().astype(np.int8)


def _mask(flags: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(flags.astype(bool), device=like.device)


def _merged(ds: xr.Dataset, *parts: xr.Dataset) -> xr.Dataset:
    for part in parts:
        ds = ds.merge(part)
        ds.attrs.update(part.attrs)  # the Adam step counts
    return ds


def _flosser_adam(flosser: SurrogateFlosser) -> xr.Dataset:
    cell = flosser.cell
    return checkpoint.optimizer_to_dataset(flosser.optimizer, cell, cell.flossed, FLOSS_ADAM)


def _history(ds: xr.Dataset) -> dict[str, np.ndarray]:
    names = [k[len("hist_") :] for k in ds.data_vars if k.startswith("hist_")]
    return checkpoint.history_from_dataset(ds, names)


def flosser_state(flosser: SurrogateFlosser, lams: list, losses: list) -> xr.Dataset:
    """surrogate-floss after len(lams) steps: exponents (step, M, k) and losses so far."""
    hist = {"exponents": np.stack(lams), "loss": np.stack(losses), "alive": _flags(flosser.alive)}
    ds = _merged(
        cell_to_dataset(flosser.cell), _flosser_adam(flosser), checkpoint.history_to_dataset(hist)
    )
    ds.attrs["checkpoint_epoch"] = len(lams)
    return ds


def restore_flosser(flosser: SurrogateFlosser, ds: xr.Dataset) -> tuple[list, list]:
    """Continue `flosser` (made on the checkpoint's network) from `ds`; the histories so far."""
    cell = flosser.cell
    checkpoint.optimizer_from_dataset(flosser.optimizer, cell, cell.flossed, ds, FLOSS_ADAM)
    hist = _history(ds)
    flosser.alive = _mask(hist["alive"], flosser.alive)
    return list(hist["exponents"]), list(hist["loss"])


def trainer_state(trainer: SurrogateTrainer) -> xr.Dataset:
    """surrogate-train after trainer.epoch epochs."""
    cell = trainer.cell
    parts = [
        checkpoint.optimizer_to_dataset(trainer.optimizer, cell, list(cell.param_dims), TRAIN_ADAM)
    ]
    extra = {"alive": _flags(trainer.alive), "episodes": trainer.episodes}
    if trainer.flosser is not None:
        parts.append(_flosser_adam(trainer.flosser))
        extra["flosser_alive"] = _flags(trainer.flosser.alive)
    parts.append(checkpoint.history_to_dataset({**trainer.result(), **extra}))
    ds = _merged(cell_to_dataset(cell), *parts)
    ds.attrs.update(checkpoint_epoch=trainer.epoch, episodes_done=trainer.episodes_done)
    return ds


def restore_trainer(trainer: SurrogateTrainer, ds: xr.Dataset) -> None:
    """Continue `trainer` (made on the checkpoint's network) from `ds`."""
    cell = trainer.cell
    checkpoint.optimizer_from_dataset(
        trainer.optimizer, cell, list(cell.param_dims), ds, TRAIN_ADAM
    )
    hist = _history(ds)
    trainer.restore(
        hist,
        ds.attrs["checkpoint_epoch"],
        ds.attrs["episodes_done"],
        hist["alive"].astype(bool),
        hist["failed_epoch"],
    )
    trainer.episodes = hist["episodes"].astype(np.int64)
    if trainer.flosser is not None:
        flosser = trainer.flosser
        checkpoint.optimizer_from_dataset(flosser.optimizer, cell, cell.flossed, ds, FLOSS_ADAM)
        flosser.alive = _mask(hist["flosser_alive"], flosser.alive)
