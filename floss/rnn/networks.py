"""Network files: a batch of M networks (a Cell) as a NetCDF Dataset and back. The file
holds each parameter with a leading `network` dimension, per-network seeds and gains, and the
model's descriptors as attrs (docs/architecture.md, network file contract)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
import xarray as xr

from floss.core.errors import FlossError
from floss.core.io import provenance, read
from floss.rnn.cells import MODELS, Cell
from floss.rnn.training import STATUS

#: descriptors of a network file besides its parameters: global attrs, per-network variables
MODEL_ATTRS = ("nonlinearity", "coupling", "gbar")
NETWORK_META = ("seed", "gain")


def cell_to_dataset(cell: Cell) -> xr.Dataset:
    data = {
        name: (("network", *dims), getattr(cell, name).detach().cpu().numpy())
        for name, dims in cell.param_dims.items()
    }
    attrs: dict[str, Any] = {"model": cell.model}
    for k, v in cell.meta.items():
        if isinstance(v, np.ndarray) and v.shape == (cell.n_networks,):
            data[k] = (("network",), v)
        else:
            attrs[k] = v
    ds = xr.Dataset(data, coords={"network": np.arange(cell.n_networks)}, attrs=attrs)
    if "gate" in ds.dims:
        ds = ds.assign_coords(gate=list(cell.gates))
    return ds


def cell_from_dataset(
    ds: xr.Dataset, source: str = "dataset", dtype: torch.dtype | None = None, device="cpu"
) -> Cell:
    """Build the cell a network file describes. Files holding only the contract variables
    (no provenance, no seeds) are accepted; missing seeds default to 0..M-1."""
    model = ds.attrs.get("model")
    if model not in MODELS:
        raise FlossError(
            f"{source}: attribute 'model' is {model!r}; expected one of {sorted(MODELS)}"
        )
    cls = MODELS[model]
    params = {}
    for name, dims in cls.param_dims.items():
        want = ("network", *dims)
        if name not in ds:
            raise FlossError(f"{source}: {model} network file lacks variable {name}{want}")
        var = ds[name]
        if set(var.dims) != set(want):
            raise FlossError(f"{source}: variable {name} has dims {var.dims}, expected {want}")
        values = var.transpose(*want).values
        if not np.issubdtype(values.dtype, np.floating):
            raise FlossError(f"{source}: variable {name} must be float32 or float64")
        params[name] = torch.as_tensor(
            values, dtype=dtype or torch.from_numpy(values[:0]).dtype, device=device
        )
    for dim, size in ds.sizes.items():  # presynaptic axes of square weights (J: neuron_pre)
        post = str(dim).removesuffix("_pre")
        if post != dim and post in ds.sizes and ds.sizes[post] != size:
            raise FlossError(
                f"{source}: dimension {dim} has {size} entries, {post} has "
                f"{ds.sizes[post]}; they must agree"
            )
    m = params["x0"].shape[0]
    meta: dict[str, Any] = {}
    for k in MODEL_ATTRS:
        if k in ds.attrs:
            v = ds.attrs[k]
            meta[k] = v.item() if isinstance(v, np.generic) else v
    for k in NETWORK_META:
        if k in ds and ds[k].dims == ("network",):
            meta[k] = ds[k].values
    meta.setdefault("seed", np.arange(m, dtype=np.int64))
    try:
        return cls(params, meta)
    except ValueError as exc:
        raise FlossError(f"{source}: {exc}") from None


def read_cell(path: str | os.PathLike, dtype: torch.dtype | None = None, device="cpu") -> Cell:
    return cell_from_dataset(read(path), str(path), dtype, device)


def with_provenance(ds: xr.Dataset, step: str, params: dict, cell: Cell) -> xr.Dataset:
    """`ds` with the provenance attrs of a stage run on `cell` (its seeds, device, dtype)."""
    ds.attrs.update(
        provenance(
            step, params, seeds=cell.meta["seed"], device=str(cell.device), dtype=str(cell.dtype)
        )
    )
    return ds


def mark_status(ds: xr.Dataset, finite: np.ndarray) -> None:
    """status(network) of an analysis result: 1 where the result is not finite (or the
    network had failed in an earlier stage), so a NaN never passes for a measurement."""
    before = ds["status"].values if "status" in ds else np.zeros(len(finite), dtype=np.int64)
    ds["status"] = (("network",), np.where(finite, before, 1).astype(np.int64))
    ds["status"].attrs.update(
        long_name="network status", units="1",
        flag_meanings="; ".join(f"{k}: {v}" for k, v in STATUS.items()),
    )  # fmt: skip
