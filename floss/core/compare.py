"""Compare two result trees NetCDF by NetCDF: the check that a refactor, a rerun or a
SLURM run gives the same data as a reference run.

Variables tagged `floss_measured` (wall-clock or allocator measurements) differ between runs
by nature and are skipped, and so are the rows a `floss_measured_rows` attr lists (claims
measured on timings); NaN equals NaN in float variables.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from floss.core import io

MEASURED = "floss_measured"  # attr of a variable holding wall-clock or allocator measurements


def nc_files(root: str | Path) -> list[Path]:
    """NetCDF files under `root`, relative to it, sorted."""
    root = Path(root)
    return sorted(p.relative_to(root) for p in root.rglob("*.nc"))


def file_differences(a_path: Path, b_path: Path) -> list[str]:
    a, b = io.read(a_path), io.read(b_path)
    if set(a.data_vars) != set(b.data_vars):
        return [f"variables {sorted(a.data_vars)} vs {sorted(b.data_vars)}"]
    out = []
    for name in a.data_vars:
        if MEASURED in a[name].attrs:
            continue
        x, y = a[name], b[name]
        rows = a[name].attrs.get(f"{MEASURED}_rows")  # rows derived from measurements
        if rows and x.ndim and x.shape == y.shape:
            keep = np.setdiff1d(np.arange(x.shape[0]), [int(r) for r in rows.split(",")])
            x, y = x.isel({x.dims[0]: keep}), y.isel({y.dims[0]: keep})
        if x.dims != y.dims or x.shape != y.shape:
            out.append(f"{name}: dims {x.dims}{x.shape} vs {y.dims}{y.shape}")
        elif not np.array_equal(x.values, y.values, equal_nan=x.dtype.kind in "fc"):
            out.append(f"{name}: values differ")
    return out


def differences(reference: str | Path, other: str | Path, subset: bool = False) -> list[str]:
    """Every difference between the NetCDF data of two result trees, one line each. With
    `subset`, `other` may lack files of `reference` (a run of part of the DAG)."""
    reference, other = Path(reference), Path(other)
    ref, oth = nc_files(reference), nc_files(other)
    out = [f"{p}: only in {other}" for p in sorted(set(oth) - set(ref))]
    if not subset:
        out += [f"{p}: only in {reference}" for p in sorted(set(ref) - set(oth))]
    for rel in sorted(set(ref) & set(oth)):
        out += [f"{rel}: {d}" for d in file_differences(reference / rel, other / rel)]
    return out
