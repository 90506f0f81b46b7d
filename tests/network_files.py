"""Network files as another program would write them (tests of the file contract)."""

import h5py
import numpy as np
import scipy.io


def contract_arrays(m=2, n=6, s=1, r=1, b=3, gains=(0.5, 1.3)):
    gen = np.random.default_rng(0)
    q = np.linalg.qr(gen.standard_normal((m, n, n)))[0]
    return {
        "J": np.asarray(gains)[:, None, None] * q,
        "W_in": gen.standard_normal((m, n, s)),
        "b": np.zeros((m, n)),
        "w_out": gen.standard_normal((m, r, n)),
        "c": np.zeros((m, r)),
        "x0": gen.standard_normal((m, n, b)),
    }


DIMS = {
    "J": ("network", "neuron", "neuron_pre"),
    "W_in": ("network", "neuron", "input"),
    "b": ("network", "neuron"),
    "w_out": ("network", "output", "neuron"),
    "c": ("network", "output"),
    "x0": ("network", "neuron", "batch"),
}


def write_with_h5py(path, arrays):
    """A minimal network file as another program would write it: plain HDF5/NetCDF4
    dimensions and variables, no provenance, nothing of floss."""
    with h5py.File(path, "w") as f:
        f.attrs["model"] = "vanilla"
        sizes = {}
        for name, dims in DIMS.items():
            for d, n in zip(dims, arrays[name].shape):
                sizes[d] = n
        for d, n in sizes.items():
            f.create_dataset(d, data=np.arange(n))
            f[d].make_scale(d)
        for name, dims in DIMS.items():
            f.create_dataset(name, data=arrays[name])
            for i, d in enumerate(dims):
                f[name].dims[i].attach_scale(f[d])


def write_netcdf3(path, arrays):
    with scipy.io.netcdf_file(path, "w") as f:
        f.model = "vanilla"
        for name, dims in DIMS.items():
            for d, n in zip(dims, arrays[name].shape):
                if d not in f.dimensions:
                    f.createDimension(d, n)
            f.createVariable(name, "f4", dims)[:] = arrays[name].astype(np.float32)
