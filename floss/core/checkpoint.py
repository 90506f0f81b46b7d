"""Resumable stages: optimiser and run state as NetCDF (no pickle), written atomically.

A stage checkpoints every n epochs to `<output>.ckpt`, a file Snakemake does not track, so it
survives a killed job. The checkpoint carries a fingerprint of the stage's inputs and
parameters; a rerun of the same job resumes from it (and gets bit-identical results on the
CPU, since every random draw is indexed by its epoch or step), any other run ignores it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from floss.core import io
from floss.core.errors import FlossError
from floss.rnn.cells import Cell

MOMENTS = {"exp_avg": "first moment", "exp_avg_sq": "second moment"}


def optimizer_to_dataset(
    opt: torch.optim.Optimizer, cell: Cell, names: Sequence[str], prefix: str
) -> xr.Dataset:
    """Adam moments as variables `<prefix>_<moment>__<param>`, the step count as an attr; an
    optimiser with one step count per network (floss.surrogate.adam.NetworkAdam) gets them as
    a variable `<prefix>_step__<param>` (network) instead, in their own float64."""
    data, step = {}, 0
    for name in names:
        state = opt.state.get(getattr(cell, name), {})
        if not state:
            continue
        if state["step"].ndim:
            data[f"{prefix}_step__{name}"] = xr.Variable(
                ("network",),
                state["step"].detach().cpu().numpy(),
                {"long_name": f"{prefix} Adam steps of {name} per network", "units": "1"},
            )
        else:
            step = int(state["step"])
        for moment, text in MOMENTS.items():
            data[f"{prefix}_{moment}__{name}"] = xr.Variable(
                ("network", *cell.param_dims[name]),
                state[moment].detach().cpu().numpy(),
                {"long_name": f"{prefix} Adam {text} of {name}", "units": "1"},
            )
    return xr.Dataset(data, attrs={f"{prefix}_step": step} if data else {})


def optimizer_from_dataset(
    opt: torch.optim.Optimizer, cell: Cell, names: Sequence[str], ds: xr.Dataset, prefix: str
) -> None:
    """Restore Adam moments written by `optimizer_to_dataset` (no-op where absent)."""
    step = ds.attrs.get(f"{prefix}_step")
    for name in names:
        per_network = f"{prefix}_step__{name}"
        if f"{prefix}_exp_avg__{name}" not in ds or not (step or per_network in ds):
            continue
        p = getattr(cell, name)
        if per_network in ds:
            count = torch.tensor(ds[per_network].values, device=p.device)  # a copy: += in place
        else:
            count = torch.tensor(float(step))
        opt.state[p] = {"step": count}
        for moment in MOMENTS:
            values = ds[f"{prefix}_{moment}__{name}"].values
            opt.state[p][moment] = torch.as_tensor(values, dtype=p.dtype, device=p.device)


def fingerprint(params: dict, *datasets: xr.Dataset) -> str:
    """sha256 of a stage's parameters and the values of its input datasets."""
    h = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode())
    for ds in datasets:
        for name in sorted(ds.data_vars):
            h.update(name.encode())
            h.update(np.ascontiguousarray(ds[name].values).tobytes())
    return h.hexdigest()


def path_for(output: str | os.PathLike) -> Path:
    return Path(f"{output}.ckpt")


def load(output: str | os.PathLike, key: str) -> xr.Dataset | None:
    """The checkpoint of `output` if it was written by the same job (same fingerprint)."""
    path = path_for(output)
    if not path.exists():
        return None
    try:
        ds = io.read(path)
    except FlossError:
        return None
    return ds if ds.attrs.get("checkpoint_fingerprint") == key else None


def save(output: str | os.PathLike, ds: xr.Dataset, key: str) -> None:
    ds.attrs["checkpoint_fingerprint"] = key
    io.write(ds, path_for(output))


def remove(output: str | os.PathLike) -> None:
    path_for(output).unlink(missing_ok=True)


def history_to_dataset(arrays: dict[str, np.ndarray], prefix: str = "hist") -> xr.Dataset:
    """Arrays of any shape as variables with private dims (for checkpoints only)."""
    data = {}
    for name, a in arrays.items():
        a = np.asarray(a)
        dims = tuple(f"{prefix}_{name}_{i}" for i in range(a.ndim))
        data[f"{prefix}_{name}"] = xr.Variable(
            dims, a, {"long_name": f"history {name}", "units": "1"}
        )
    return xr.Dataset(data)


def history_from_dataset(ds: xr.Dataset, names: Sequence[str], prefix: str = "hist") -> dict:
    return {n: ds[f"{prefix}_{n}"].values for n in names}
