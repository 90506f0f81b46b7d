"""NetCDF I/O: networks, spectra, histories. No pickle anywhere.

Every file written here carries provenance attrs (step, its parameters as JSON, floss, torch
and git versions, seeds, device) and CF-style `long_name`/`units` on its variables. Writes
are atomic: a temporary file in the same folder is renamed over the target only once it is
complete, so a killed run never leaves a file that looks finished.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr

import floss
from floss.core.errors import FlossError

ENGINE = "h5netcdf"


#: CF-style descriptions: name -> (long_name, units)
VARIABLES: dict[str, tuple[str, str]] = {
    "J": ("recurrent weights J[post, pre]", "1"),
    "W_in": ("input weights", "1"),
    "b": ("bias", "1"),
    "w_out": ("readout weights", "1"),
    "c": ("readout offset", "1"),
    "x0": ("trainable initial state (pre-activation)", "1"),
    "W_ih": ("input-to-gate weights", "1"),
    "W_hh": ("recurrent gate weights", "1"),
    "b_ih": ("input gate bias", "1"),
    "b_hh": ("recurrent gate bias", "1"),
    "gain": ("coupling strength g", "1"),
    "seed": ("network seed", "1"),
    "lyapunov": ("Lyapunov exponent (natural log)", "1/step"),
    "loss": ("binary cross-entropy loss", "1"),
    "accuracy": ("accuracy on a fresh batch", "1"),
    "grad_norm_x0": ("norm of dL/dx0", "1"),
    "grad_sv_J": ("singular values of dL/dJ", "1"),
    "flossing_loss": ("flossing loss mean_i (lambda_i - target)^2", "1/step^2"),
    "status": ("network status: 0 ok, 1 diverged (frozen)", "1"),
    "failed_epoch": ("epoch at which the network diverged (-1: never)", "1"),
    "log_singular_value": ("log singular value of the long-term Jacobian T_t", "1"),
    "inputs": ("input bits", "1"),
    "targets": ("target bits", "1"),
}


# "per time step" in a UDUNITS-style exponent form (CF units are UDUNITS strings; 1/step is not)
PER_STEP = {"1/step": "step-1", "1/step^2": "step-2"}


def describe(ds: xr.Dataset) -> xr.Dataset:
    """CF attributes on every variable: long_name/units of known variables, 'per time step'
    as step-1, and coordinates (indices, sizes, times) named where they lack it."""
    for name, var in ds.data_vars.items():
        if name in VARIABLES:
            long_name, units = VARIABLES[name]
            var.attrs.setdefault("long_name", long_name)
            var.attrs.setdefault("units", units)
    for name, var in ds.variables.items():
        if var.attrs.get("units") in PER_STEP:
            var.attrs["units"] = PER_STEP[var.attrs["units"]]
            var.attrs.setdefault("long_name", str(name))
            if "per time step" not in var.attrs["long_name"]:
                var.attrs["long_name"] += " (per time step)"
    for name, coord in ds.coords.items():
        coord.attrs.setdefault("long_name", str(name).replace("_", " "))
        if coord.dtype.kind in "iuf":
            coord.attrs.setdefault("units", "1")
    return ds


@functools.lru_cache(maxsize=1)
def git_commit() -> str:
    """Commit of the floss checkout (FLOSS_GIT_COMMIT overrides); 'unknown' outside git."""
    if os.environ.get("FLOSS_GIT_COMMIT"):
        return os.environ["FLOSS_GIT_COMMIT"]
    root = Path(floss.__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def provenance(step: str, params: Mapping[str, Any], **extra: Any) -> dict[str, str]:
    """Attrs recording how a file was made. No timestamp, so equal inputs give equal files."""
    attrs = {
        "floss_step": step,
        "floss_config": json.dumps(params, sort_keys=True, default=_jsonable),
        "floss_version": floss.__version__,
        "git_commit": git_commit(),
        "torch_version": str(torch.__version__),
        "python_version": platform.python_version(),
        "Conventions": "CF-1.8",
    }
    for k, v in extra.items():
        attrs[f"floss_{k}"] = v if isinstance(v, str) else json.dumps(v, default=_jsonable)
    return attrs


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.ndarray | torch.Tensor):
        return np.asarray(v).tolist()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, torch.dtype | torch.device | Path):
        return str(v)
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


def _umask_mode() -> int:
    """The mode a plain open() would give a new file (mkstemp makes it 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write `ds` atomically to `path` (creating parent folders)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        describe(ds).to_netcdf(tmp, engine=ENGINE)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, _umask_mode())  # group members on a shared file system can read it
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(text: str, path: str | os.PathLike) -> Path:
    """Write a text file atomically (a table, a report), as `write` does NetCDF."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def read(path: str | os.PathLike) -> xr.Dataset:
    """Load a NetCDF file (NetCDF4/HDF5 or NetCDF3 classic) fully into memory, with a
    one-line error naming the file if it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise FlossError(f"{path}: no such file")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic.startswith(b"CDF"):
        engine = "scipy"
    elif magic == b"\x89HDF":
        engine = ENGINE
    else:
        raise FlossError(f"{path}: not a NetCDF file (unknown signature {magic!r})")
    try:
        with xr.open_dataset(path, engine=engine) as ds:
            return ds.load()
    except Exception as exc:  # the engines raise many types for a damaged file
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FlossError(f"{path}: unreadable or truncated NetCDF file ({detail})") from None


def repeat_networks(net: xr.Dataset, copies: int) -> xr.Dataset:
    """`net`'s networks `copies` times along `network` (one copy per task of a batched job)."""
    return xr.concat([net] * copies, "network", data_vars="minimal", coords="minimal")


def split_networks(
    ds: xr.Dataset, tasks, task_params: list[dict], step: str, params: dict, seeds, device, dtype
) -> list[xr.Dataset]:
    """The result of a batched job split back into one file per task (equal contiguous network
    groups), each with the provenance one job of that task alone would record."""
    m = ds.sizes["network"] // len(tasks)
    out = []
    for i, (task, tp) in enumerate(zip(tasks, task_params, strict=True)):
        part = ds.isel(network=slice(i * m, (i + 1) * m)).assign_coords(network=np.arange(m))
        part["accuracy"].attrs["t0"] = task.t0
        part.attrs.update(
            provenance(
                step,
                {**params, "task": tp},
                seeds=np.asarray(seeds)[i * m : (i + 1) * m],
                device=str(device),
                dtype=str(dtype),
            )
        )
        if len(tasks) > 1:
            part.attrs["batched_delays"] = [t.delay for t in tasks]
        out.append(part)
    return out
