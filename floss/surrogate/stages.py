"""Stages of the surrogate-gradient-flossing experiments: Dataset in, Dataset out (docs/science.md
§2).

init      M binary or LIF networks
floss     surrogate gradient flossing of k exponents (history + flossed network)
spectrum  no-grad surrogate Lyapunov spectrum
train     BPTT on the delayed XOR task with a flossing policy (none/periodic/adaptive)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import xarray as xr

from floss.core import checkpoint, io, seeding
from floss.rnn.cells import init_networks
from floss.rnn.cells.base import Cell
from floss.rnn.flossing import FlossingConfig
from floss.rnn.tasks import Task
from floss.rnn.training import STATUS, TrainConfig
from floss.surrogate import resume
from floss.surrogate.flossing import SurrogateFlosser
from floss.surrogate.networks import cell_to_dataset, describe, load_cell
from floss.surrogate.spectrum import surrogate_spectrum
from floss.surrogate.training import FlossingPolicy, SurrogateTrainer

Progress = Callable[..., None] | None
SURROGATE_MODELS = ("binary", "spiking")


def _provenance(ds: xr.Dataset, step: str, params: dict, cell: Cell) -> xr.Dataset:
    ds.attrs.update(
        io.provenance(
            f"surrogate-{step}",
            params,
            seeds=cell.meta["seed"],
            device=str(cell.device),
            dtype=str(cell.dtype),
        )
    )
    return ds


def _status(ds: xr.Dataset, alive: torch.Tensor) -> None:
    ds["status"] = (("network",), (~alive).cpu().numpy().astype(np.int8))
    ds["status"].attrs["flag_meanings"] = "; ".join(f"{k}: {v}" for k, v in STATUS.items())


def _failed_before(net: xr.Dataset) -> np.ndarray:
    if "status" not in net:
        return np.zeros(net.sizes["network"], dtype=bool)
    return net["status"].values != 0


def init(model: str, seed: int, n_networks: int, n_neurons: int, **kw: Any) -> xr.Dataset:
    if model not in SURROGATE_MODELS:
        raise ValueError(f"model {model!r} not allowed; allowed: {list(SURROGATE_MODELS)}")
    if n_networks < 1:
        raise ValueError(f"n_networks must be >= 1, got {n_networks}")
    seeds = seeding.network_seeds(seed, n_networks)
    cell = init_networks(model, seeds, n_neurons, **kw)
    params = {"model": model, "seed": seed, "n_networks": n_networks, "n_neurons": n_neurons, **kw}
    return _provenance(cell_to_dataset(cell), "init", params, cell)


def floss(
    net: xr.Dataset,
    config: FlossingConfig,
    epochs: int,
    source: str = "network",
    *,
    device="cpu",
    progress: Progress = None,
    output: str | None = None,
    checkpoint_every: int = 0,
) -> xr.Dataset:
    """Flossing `epochs` steps; the flossed network and the exponents of every step. With an
    `output` path and checkpoint_every > 0, progress is saved to `<output>.ckpt` every that
    many steps and a rerun of the same job resumes from it (floss.core.checkpoint)."""
    params = {"epochs": epochs, **config.as_dict()}
    key = checkpoint.fingerprint(params, net)
    saving = bool(output and checkpoint_every)
    ckpt = checkpoint.load(output, key) if saving else None
    cell = load_cell(net if ckpt is None else ckpt, source, None, device)
    flosser = SurrogateFlosser(cell, config)
    flosser.alive &= torch.as_tensor(~_failed_before(net), device=cell.device)
    lams, losses = [], []
    if ckpt is not None:
        lams, losses = resume.restore_flosser(flosser, ckpt)
        if progress is not None:
            progress(len(lams))
    chunk = checkpoint_every if saving else epochs
    while len(lams) < epochs:
        part = flosser.run(min(chunk, epochs - len(lams)), progress)
        lams += list(part["exponents"])
        losses += list(part["loss"])
        if saving and len(lams) < epochs:
            checkpoint.save(output, resume.flosser_state(flosser, lams, losses), key)
    # epochs 0: run(0) gives the empty histories
    hist = flosser.run(0) if not lams else {"exponents": np.stack(lams), "loss": np.stack(losses)}
    ds = cell_to_dataset(cell)
    ds["flossing_lyapunov"] = (
        ("network", "flossing_epoch", "exponent"),
        hist["exponents"].transpose(1, 0, 2),
    )
    ds["flossing_loss"] = (("network", "flossing_epoch"), hist["loss"].T)
    ds = ds.assign_coords(
        flossing_epoch=np.arange(1, epochs + 1), exponent=np.arange(1, config.k + 1)
    )
    describe(
        ds,
        flossing_lyapunov=("surrogate Lyapunov exponents of the flossing window", "1/step"),
        flossing_loss=("flossing loss mean_i (lambda_i - target)^2", "1/step^2"),
    )
    _status(ds, flosser.alive)
    return _provenance(ds, "floss", params, cell)


def spectrum(
    net: xr.Dataset,
    k: int | None,
    steps: int,
    transient: int,
    input_mode: str = "task",
    source: str = "network",
    *,
    device="cpu",
    dtype=None,
    qr: str = "householder",
) -> xr.Dataset:
    """lyapunov(network, exponent): surrogate exponents from x0[:, :, 0], each network's own
    basis and input streams. k defaults to the state size (the full spectrum)."""
    cell = load_cell(net, source, dtype, device)
    k = cell.state_size if k is None else k
    if not 1 <= k <= cell.state_size:
        raise ValueError(f"k must be in 1..{cell.state_size} (the state size), got {k}")
    if not 0 <= transient < steps:
        raise ValueError(f"transient ({transient}) must be in 0..steps-1 ({steps - 1})")
    lam = surrogate_spectrum(cell, k, steps, transient, input_mode, qr=qr).cpu().numpy()
    ds = xr.Dataset(
        {"lyapunov": (("network", "exponent"), lam)},
        coords={"network": np.arange(cell.n_networks), "exponent": np.arange(1, k + 1)},
    )
    describe(ds, lyapunov=("surrogate Lyapunov exponent (natural log)", "1/step"))
    for key in ("sharpness", "jacobian_sharpness", "backward_sharpness"):
        if key in cell.meta:  # binary: one sharpness; LIF: Jacobian and backward pass
            ds.attrs[key] = cell.meta[key]
    params = {"k": k, "steps": steps, "transient": transient, "input": input_mode, "qr": qr}
    return _provenance(ds, "spectrum", params, cell)


def train(
    net: xr.Dataset,
    task: Task,
    config: TrainConfig,
    policy: FlossingPolicy,
    flossing: FlossingConfig | None,
    source: str = "network",
    *,
    device="cpu",
    progress: Progress = None,
    output: str | None = None,
    checkpoint_every: int = 0,
) -> xr.Dataset:
    """BPTT training (docs/science.md §1.3) with surrogate gradients and a flossing policy
    (§2.3). With an `output` path and checkpoint_every > 0, the run state is saved to
    `<output>.ckpt` every that many epochs and a rerun of the same job resumes from it,
    bit-identical on the CPU."""
    return train_tasks(
        net,
        [task],
        config,
        policy,
        flossing,
        source,
        device=device,
        progress=progress,
        output=output,
        checkpoint_every=checkpoint_every,
    )[0]


def _task_params(task: Task) -> dict:
    return {"name": task.name, "order": task.order, "delay": task.delay, "steps": task.steps}


def train_tasks(
    net: xr.Dataset,
    tasks: Sequence[Task],
    config: TrainConfig,
    policy: FlossingPolicy,
    flossing: FlossingConfig | None,
    source: str = "network",
    *,
    device="cpu",
    progress: Progress = None,
    output: str | None = None,
    checkpoint_every: int = 0,
) -> list[xr.Dataset]:
    """`train` of a copy of `net` per task (one per delay) in one batched computation; one
    result per task, each the numbers of `train(net, task, ...)` alone up to the rounding of
    batched matrix kernels. The checkpoint (if any) lives next to `output`, the first file."""
    task_params = [_task_params(t) for t in tasks]
    params = {
        "task": task_params[0] if len(tasks) == 1 else task_params,
        "train": config.as_dict(),
        "policy": policy.as_dict(),
        "flossing": None if flossing is None else flossing.as_dict(),
    }
    key = checkpoint.fingerprint(params, net)
    saving = bool(output and checkpoint_every)
    ckpt = checkpoint.load(output, key) if saving else None
    copies = io.repeat_networks(net, len(tasks))
    cell = load_cell(copies if ckpt is None else ckpt, source, None, device)
    flosser = None
    if policy.flosses:
        if flossing is None:
            raise ValueError(f"flossing mode {policy.mode!r} needs flossing settings")
        flosser = SurrogateFlosser(cell, flossing)
    trainer = SurrogateTrainer(cell, tasks, config, policy, flosser)
    failed = np.tile(_failed_before(net), len(tasks))
    trainer.failed_epoch[failed] = 0
    trainer.alive &= torch.as_tensor(~failed, device=cell.device)
    if ckpt is not None:
        resume.restore_trainer(trainer, ckpt)
        if progress is not None:
            progress(trainer.epoch)
    chunk = checkpoint_every if saving else config.epochs
    h = trainer.run(progress, epochs=chunk)  # one call at least: epochs 0 has an epoch-0 spectrum
    while trainer.epoch < config.epochs:  # only when saving (else one call trains them all)
        checkpoint.save(output, resume.trainer_state(trainer), key)
        h = trainer.run(progress, epochs=chunk)
    ds = _train_dataset(cell, trainer, h)
    seeds = cell.meta["seed"]
    return io.split_networks(
        ds, tasks, task_params, "surrogate-train", params, seeds, cell.device, cell.dtype
    )


def _train_dataset(cell: Cell, trainer: SurrogateTrainer, h: dict) -> xr.Dataset:
    ds = cell_to_dataset(cell)
    ds = ds.assign_coords(epoch=np.arange(1, trainer.config.epochs + 1))
    for name in ("loss", "accuracy", "grad_norm_x0", "flossed"):
        ds[name] = (("network", "epoch"), h[name].T)
    ds["lyapunov"] = (("network", "spectrum_epoch", "exponent"), h["lyapunov"].transpose(1, 0, 2))
    ds["check_lambda1"] = (("network", "check_epoch"), h["check_lambda1"].T)
    ds = ds.assign_coords(spectrum_epoch=h["spectrum_epoch"], check_epoch=h["check_epoch"])
    describe(
        ds,
        flossed=("flossing steps taken before the epoch", "1"),
        lyapunov=("surrogate Lyapunov exponents during training", "1/step"),
        check_lambda1=("lambda_1 of the adaptive-flossing check", "1/step"),
        grad_norm_x0=("norm of the surrogate gradient dL/dh0", "1"),
    )
    _status(ds, trainer.alive)
    ds["failed_epoch"] = (("network",), h["failed_epoch"])
    return ds
