"""One function per pipeline stage: inputs and parameters in, an xarray Dataset out.

The command line (`floss.cli`) and the Snakemake rules call these; Python users can too.
Each returned Dataset carries its provenance; writing it is left to `floss.core.io.write`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import xarray as xr

from floss.core import checkpoint, io, seeding
from floss.rnn import networks
from floss.rnn.cells import Cell, init_networks
from floss.rnn.flossing import Flosser, FlossingConfig
from floss.rnn.lyapunov import analysis_spectrum, input_drive, long_term_jacobian_svals
from floss.rnn.tasks import Task
from floss.rnn.training import STATUS, TrainConfig, Trainer

Progress = Callable[..., None] | None


def gains_uniform(low: float, high: float, n: int, seed: int) -> np.ndarray:
    """n gains ~ U(low, high) from a generator seeded by `seed` (docs/science.md §1.4, claim 1)."""
    return np.random.default_rng(seeding.stream_seed(seed, "net")).uniform(low, high, n)


# --- init ----------------------------------------------------------------------------------
def init(model: str, seed: int, n_networks: int, n_neurons: int, **kw: Any) -> xr.Dataset:
    cell = init_networks(model, seeding.network_seeds(seed, n_networks), n_neurons, **kw)
    params = {"model": model, "seed": seed, "n_networks": n_networks, "n_neurons": n_neurons, **kw}
    return networks.with_provenance(networks.cell_to_dataset(cell), "init", params, cell)


# --- flossing -------------------------------------------------------------------------------
FLOSS_ADAM, TRAIN_ADAM = "floss_adam", "train_adam"


def _network_dataset(cell: Cell, flosser: Flosser | None) -> xr.Dataset:
    """The network, and the flossing Adam state so that a later stage continues it."""
    ds = networks.cell_to_dataset(cell)
    if flosser is not None:
        adam_state = checkpoint.optimizer_to_dataset(
            flosser.optimizer, cell, cell.flossed, FLOSS_ADAM
        )
        ds = ds.merge(adam_state)
        ds.attrs.update(adam_state.attrs)
    return ds


def make_flosser(cell: Cell, ds: xr.Dataset | None, config: FlossingConfig) -> Flosser:
    flosser = Flosser(cell, config)
    if ds is not None:
        checkpoint.optimizer_from_dataset(flosser.optimizer, cell, cell.flossed, ds, FLOSS_ADAM)
    return flosser


def _load_cell(ds: xr.Dataset, source: str, dtype, device) -> Cell:
    return networks.cell_from_dataset(ds, source, dtype, device)


def _dataset_key(params: dict, net: xr.Dataset) -> str:
    """Fingerprint of a stage: its parameters and the values of its input network."""
    return checkpoint.fingerprint(params, net)


def _failed_before(net: xr.Dataset) -> np.ndarray:
    """Networks an earlier stage marked as diverged; they stay frozen."""
    if "status" not in net:
        return np.zeros(net.sizes["network"], dtype=bool)
    return net["status"].values != 0


def _flags(alive: torch.Tensor) -> np.ndarray:
    return alive.cpu().numpy().astype(np.int8)


def floss(
    net: xr.Dataset,
    config: FlossingConfig,
    epochs: int,
    source: str = "network",
    device="cpu",
    dtype=None,
    progress: Progress = None,
    output: str | None = None,
    checkpoint_every: int = 0,
) -> xr.Dataset:
    """Floss the networks of `net` for `epochs` steps. The result holds the flossed network
    (with the flossing Adam state, so a later stage continues it) and the history. With an
    `output` path and checkpoint_every > 0, progress is saved to `<output>.ckpt` and a rerun
    of the same job resumes from it."""
    params = {"epochs": epochs, **config.as_dict()}
    key = _dataset_key(params, net)
    ckpt = checkpoint.load(output, key) if output and checkpoint_every else None
    cell = _load_cell(ckpt if ckpt is not None else net, source, dtype, device)
    flosser = make_flosser(cell, ckpt if ckpt is not None else net, config)
    flosser.alive &= torch.as_tensor(~_failed_before(net), device=cell.device)
    done, lams, losses = 0, [], []
    if ckpt is not None:
        done = int(ckpt.attrs["checkpoint_epoch"])
        lams = list(ckpt["hist_exponents"].values)
        losses = list(ckpt["hist_loss"].values)
        flosser.alive = torch.as_tensor(ckpt["hist_alive"].values.astype(bool), device=cell.device)
        if progress is not None:
            progress(done)
    chunk = checkpoint_every if output and checkpoint_every else epochs
    while done < epochs:
        n = min(chunk, epochs - done)
        hist = flosser.run(n, progress)
        lams += list(hist["exponents"])
        losses += list(hist["loss"])
        done += n
        if output and checkpoint_every and done < epochs:
            state = _network_dataset(cell, flosser).merge(
                checkpoint.history_to_dataset(
                    {
                        "exponents": np.stack(lams),
                        "loss": np.stack(losses),
                        "alive": _flags(flosser.alive),
                    }
                )
            )
            state.attrs["checkpoint_epoch"] = done
            checkpoint.save(output, state, key)
    ds = _network_dataset(cell, flosser)
    exps = np.stack(lams) if lams else np.zeros((0, cell.n_networks, config.k))
    loss = np.stack(losses) if losses else np.zeros((0, cell.n_networks))
    ds["flossing_lyapunov"] = (("network", "flossing_epoch", "exponent"), exps.transpose(1, 0, 2))
    ds["flossing_lyapunov"].attrs.update(
        long_name="Lyapunov exponents during flossing (Tp window)", units="1/step"
    )
    ds["flossing_loss"] = (("network", "flossing_epoch"), loss.T)
    ds["status"] = (("network",), 1 - _flags(flosser.alive))
    ds = ds.assign_coords(flossing_epoch=np.arange(1, epochs + 1))
    ds["status"].attrs["flag_meanings"] = "; ".join(f"{k}: {v}" for k, v in STATUS.items())
    return networks.with_provenance(ds, "floss", params, cell)


# --- training -------------------------------------------------------------------------------
def _train_state(trainer: Trainer) -> xr.Dataset:
    """Everything a resumed training run needs, as one Dataset."""
    cell = trainer.cell
    ds = _network_dataset(cell, trainer.flosser)
    adam_state = checkpoint.optimizer_to_dataset(
        trainer.optimizer, cell, list(cell.param_dims), TRAIN_ADAM
    )
    extra = {"alive": _flags(trainer.alive)}
    if trainer.flosser is not None:
        extra["flosser_alive"] = _flags(trainer.flosser.alive)
    hist = checkpoint.history_to_dataset({**trainer.result(), **extra})
    ds = ds.merge(adam_state).merge(hist)
    ds.attrs.update(adam_state.attrs)
    ds.attrs.update(checkpoint_epoch=trainer.epoch, episodes_done=trainer.episodes_done)
    return ds


def _restore_trainer(trainer: Trainer, ds: xr.Dataset) -> None:
    cell = trainer.cell
    checkpoint.optimizer_from_dataset(
        trainer.optimizer, cell, list(cell.param_dims), ds, TRAIN_ADAM
    )
    names = [k[len("hist_") :] for k in ds.data_vars if k.startswith("hist_")]
    arrays = checkpoint.history_from_dataset(ds, names)
    trainer.restore(
        arrays,
        ds.attrs["checkpoint_epoch"],
        ds.attrs["episodes_done"],
        arrays["alive"].astype(bool),
        arrays["failed_epoch"],
    )
    if trainer.flosser is not None:
        trainer.flosser.alive = torch.as_tensor(
            arrays["flosser_alive"].astype(bool), device=cell.device
        )


def _task_params(task: Task) -> dict:
    return {
        "name": task.name,
        "order": task.order,
        "delay": task.delay,
        "steps": task.steps,
        "channels": task.channels,
        "t0": task.t0,
    }


def train(
    net: xr.Dataset,
    task: Task,
    config: TrainConfig,
    flossing: FlossingConfig | None,
    source: str = "network",
    device="cpu",
    dtype=None,
    progress: Progress = None,
    output: str | None = None,
    checkpoint_every: int = 0,
) -> xr.Dataset:
    """Train the networks of `net` (see floss.rnn.training). With an `output` path and
    checkpoint_every > 0, the run state is saved to `<output>.ckpt` every that many epochs
    and a rerun of the same job resumes from it, bit-identical on the CPU."""
    return train_tasks(
        net, [task], config, flossing, source, device, dtype, progress, output, checkpoint_every
    )[0]


def train_tasks(
    net: xr.Dataset,
    tasks: Sequence[Task],
    config: TrainConfig,
    flossing: FlossingConfig | None,
    source: str = "network",
    device="cpu",
    dtype=None,
    progress: Progress = None,
    output: str | None = None,
    checkpoint_every: int = 0,
) -> list[xr.Dataset]:
    """`train` of a copy of `net` per task (e.g. one per delay) in one batched computation;
    one result per task, each the numbers of `train(net, task, ...)` alone up to the rounding
    of batched matrix kernels (bitwise at the quick config's shapes on this CPU)."""
    task_params = [_task_params(t) for t in tasks]
    params = {
        "task": task_params[0] if len(tasks) == 1 else task_params,
        "train": config.as_dict(),
        "flossing": None if flossing is None else flossing.as_dict(),
    }
    key = _dataset_key(params, net)
    ckpt = checkpoint.load(output, key) if output and checkpoint_every else None
    copies = io.repeat_networks(net, len(tasks))
    start = ckpt if ckpt is not None else copies
    cell = _load_cell(start, source, dtype, device)
    flosser = make_flosser(cell, start, flossing) if flossing is not None else None
    trainer = Trainer(cell, tasks, config, flosser)
    failed_before = np.tile(_failed_before(net), len(tasks))
    trainer.failed_epoch[failed_before] = 0
    trainer.alive &= torch.as_tensor(~failed_before, device=cell.device)
    if ckpt is not None:
        _restore_trainer(trainer, ckpt)
        if progress is not None:
            progress(trainer.epoch)
    chunk = checkpoint_every if output and checkpoint_every else config.epochs
    while trainer.epoch < config.epochs:
        trainer.run(progress, epochs=chunk)
        if output and checkpoint_every and trainer.epoch < config.epochs:
            checkpoint.save(output, _train_state(trainer), key)
    ds = _train_dataset(trainer, cell, flosser)
    seeds = cell.meta["seed"]
    return io.split_networks(
        ds, tasks, task_params, "train", params, seeds, cell.device, cell.dtype
    )


def _train_dataset(trainer: Trainer, cell: Cell, flosser: Flosser | None) -> xr.Dataset:
    hist = trainer.result()
    ds = _network_dataset(cell, flosser)
    ds = ds.assign_coords(epoch=np.arange(1, trainer.config.epochs + 1))
    for name in ("loss", "accuracy", "grad_norm_x0"):
        ds[name] = (("network", "epoch"), hist[name].T)
    ds["grad_sv_J"] = (("network", "epoch", "singular"), hist["grad_sv_J"].transpose(1, 0, 2))
    ds["lyapunov"] = (
        ("network", "spectrum_epoch", "exponent"),
        hist["lyapunov"].transpose(1, 0, 2),
    )
    ds = ds.assign_coords(spectrum_epoch=hist["spectrum_epoch"])
    ds["flossing_loss"] = (("network", "flossing_step"), hist["flossing_loss"].T)
    ds = ds.assign_coords(flossing_step_epoch=("flossing_step", hist["flossing_epoch"]))
    ds["status"] = (("network",), hist["status"])
    ds["status"].attrs["flag_meanings"] = "; ".join(f"{k}: {v}" for k, v in STATUS.items())
    ds["failed_epoch"] = (("network",), hist["failed_epoch"])
    return ds


# --- analysis -------------------------------------------------------------------------------
def _seeds(cell: Cell, seed: int | None) -> list[int]:
    return [int(s) for s in cell.meta["seed"]] if seed is None else [seed] * cell.n_networks


def spectrum(
    net: xr.Dataset,
    k: int,
    steps: int,
    transient: int,
    input_mode: str = "zero",
    seed: int | None = None,
    dtype=None,
    interval: int = 1,
    source: str = "network",
    device="cpu",
    qr: str = "householder",
) -> xr.Dataset:
    """lyapunov(network, exponent) from x0[:, :, 0]; `seed` fixes the basis (and task input)
    of every network, default each network's own seed."""
    cell = networks.cell_from_dataset(net, source, dtype, device)
    seeds = _seeds(cell, seed)
    lam = analysis_spectrum(cell, k, steps, transient, input_mode, None, interval, seeds, qr)
    ds = xr.Dataset(
        {"lyapunov": (("network", "exponent"), lam.cpu().numpy())},
        coords={"network": np.arange(cell.n_networks), "exponent": np.arange(1, k + 1)},
    )
    for k_, v in cell.meta.items():
        if isinstance(v, np.ndarray) and v.shape == (cell.n_networks,):
            ds[k_] = (("network",), v)
    networks.mark_status(ds, np.isfinite(ds["lyapunov"].values).all(axis=1))
    params = {
        "k": k,
        "steps": steps,
        "transient": transient,
        "input": input_mode,
        "seed": seed,
        "interval": interval,
        "qr": qr,
    }
    return networks.with_provenance(ds, "spectrum", params, cell)


def jacobian(
    net: xr.Dataset,
    times: Sequence[int],
    input_mode: str = "zero",
    seed: int | None = None,
    source: str = "network",
    device="cpu",
) -> xr.Dataset:
    """log singular values of the long-term Jacobian T_t for each t (docs/science.md §1.5 claim
    4)."""
    cell = networks.cell_from_dataset(net, source, torch.float64, device)
    drive = input_drive(cell, max(times), input_mode, _seeds(cell, seed), "spectrum_input")
    logsv = long_term_jacobian_svals(cell, drive, times).cpu().numpy()
    ds = xr.Dataset(
        {"log_singular_value": (("network", "time", "index"), logsv)},
        coords={
            "network": np.arange(cell.n_networks),
            "time": np.asarray(times),
            "index": np.arange(1, cell.state_size + 1),
        },
    )
    ds["time"].attrs.update(long_name="number of Jacobians in the product", units="step")
    params = {"times": list(times), "input": input_mode, "seed": seed}
    return networks.with_provenance(ds, "jacobian", params, cell)
