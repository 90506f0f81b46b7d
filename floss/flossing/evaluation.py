"""The evaluation stages: a fixed evaluation set of a task, and the loss, accuracy and
||dL/dx0|| of trained networks on it (docs/science.md §1.3)."""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from floss.core import io, seeding
from floss.rnn import networks
from floss.rnn.tasks import Task, accuracy, bce_loss, evaluation_t0


def evaluation_set(task: Task, samples: int, seed: int) -> xr.Dataset:
    """A fixed evaluation set: inputs(sample, time, channel), targets(sample, time, output)."""
    inputs, targets = task.sample(samples, seeding.generator(seed, "eval"))
    ds = xr.Dataset(
        {
            "inputs": (("sample", "time", "channel"), inputs.permute(1, 0, 2).numpy()),
            "targets": (("sample", "time", "output"), targets.permute(1, 0, 2).numpy()),
        },
        coords={"time": np.arange(1, task.steps + 1)},
        attrs={"task": task.name, "order": task.order, "delay": task.delay, "t0": task.t0},
    )
    params = {
        "task": task.name,
        "order": task.order,
        "delay": task.delay,
        "steps": task.steps,
        "channels": task.channels,
        "samples": samples,
        "seed": seed,
    }
    ds.attrs.update(io.provenance("data", params, seeds=[seed]))
    return ds


def evaluate(
    net: xr.Dataset, data: xr.Dataset, source: str = "network", device="cpu"
) -> xr.Dataset:
    """Loss, accuracy and ||dL/dx0|| of every network on a fixed evaluation set. Sample i
    starts from column i mod B of the network's x0 (its trainable initial states)."""
    cell = networks.cell_from_dataset(net, source, None, device)
    t0 = evaluation_t0(data)
    inputs = torch.as_tensor(data["inputs"].transpose("time", "sample", "channel").values)
    targets = torch.as_tensor(data["targets"].transpose("time", "sample", "output").values)
    if inputs.shape[-1] != cell.n_inputs or targets.shape[-1] != cell.n_outputs:
        raise ValueError(
            f"evaluation set has {inputs.shape[-1]} channels; networks have {cell.n_inputs} inputs"
        )
    m, samples = cell.n_networks, inputs.shape[1]
    expand = (inputs.shape[0], m, samples, -1)
    inputs = inputs[:, None].expand(*expand).to(device)
    targets = targets[:, None].expand(*expand).to(device)
    columns = torch.arange(samples, device=cell.device) % cell.batch_size
    start = cell.x0[:, :, columns].detach().transpose(1, 2).requires_grad_()
    logits = cell.readout(cell.run(cell.drive(inputs), state=start))
    loss = bce_loss(logits, targets, t0)
    loss.sum().backward()
    acc = accuracy(logits.detach(), targets, t0)
    ds = xr.Dataset(
        {
            "loss": (("network",), loss.detach().cpu().numpy()),
            "accuracy": (("network",), acc.cpu().numpy()),
            "grad_norm_x0": (("network",), start.grad.flatten(1).norm(dim=1).cpu().numpy()),
        },
        coords={"network": np.arange(m)},
    )
    for name in ("status", "failed_epoch", "gain", "seed"):
        if name in net:
            ds[name] = net[name]
    finite = np.isfinite(ds["loss"].values)
    ds["accuracy"] = ds["accuracy"].where(finite)  # a NaN network has no accuracy
    networks.mark_status(ds, finite)
    ds.attrs.update({k: data.attrs[k] for k in ("task", "order", "delay", "t0") if k in data.attrs})
    params = {"samples": samples, "t0": t0, "data_config": data.attrs.get("floss_config")}
    return networks.with_provenance(ds, "evaluate", params, cell)
