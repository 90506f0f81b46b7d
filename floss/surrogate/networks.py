"""Network files of the surrogate models: floss.rnn.networks plus the models' descriptors
(sharpnesses, time constants, ...) as file attrs, and CF descriptions of variables."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from floss.core.errors import FlossError
from floss.rnn import networks
from floss.rnn.cells.base import Cell

#: CF descriptions of the variables the core's io.VARIABLES lacks
VARIABLES = {
    "V": ("recurrent weights V[post, pre] of the LIF network", "1"),
    "sharpness": ("surrogate sharpness g of sigma'_g(x) = 1/(g|x|+1)^2", "1"),
}


def cell_to_dataset(cell: Cell) -> xr.Dataset:
    """networks.cell_to_dataset, with boolean descriptors as 0/1 (NetCDF has no boolean attrs)."""
    ds = networks.cell_to_dataset(cell)
    for k, v in list(ds.attrs.items()):
        if isinstance(v, bool):
            ds.attrs[k] = int(v)
    for name, (long_name, units) in VARIABLES.items():
        if name in ds:
            ds[name].attrs.update(long_name=long_name, units=units)
    return ds


def load_cell(ds: xr.Dataset, source: str, dtype=None, device="cpu") -> Cell:
    """networks.cell_from_dataset plus the model's own descriptors (class attr meta_attrs);
    only the surrogate family's models (a tanh network has no surrogate to floss)."""
    if ds.attrs.get("model") not in ("binary", "spiking"):
        raise FlossError(
            f"{source}: model {ds.attrs.get('model')!r} is not allowed here; "
            "allowed: ['binary', 'spiking'] (write one with surrogate-init)"
        )
    cell = networks.cell_from_dataset(ds, source, dtype, device)
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
        raise FlossError(f"{source}: {exc}") from None


def describe(ds: xr.Dataset, **variables: Any) -> xr.Dataset:
    """Set (long_name, units) of variables: describe(ds, lyapunov=("...", "1/step"))."""
    for name, (long_name, units) in variables.items():
        ds[name].attrs.update(long_name=long_name, units=units)
    return ds
