"""NetCDF I/O: round trips, atomic writes, foreign files, the file contract."""

import json
import os
import stat

import numpy as np
import pytest
import torch
import xarray as xr
from network_files import contract_arrays, write_netcdf3, write_with_h5py

from floss.core import io
from floss.core.errors import FlossError
from floss.flossing import stages
from floss.rnn import networks
from floss.rnn.cells import init_networks


@pytest.mark.parametrize("model", ["vanilla", "gru", "lstm"])
def test_round_trip(tmp_path, model):
    cell = init_networks(model, [3, 4], 6, gains=[0.5, 1.5], batch=2)
    path = io.write(networks.cell_to_dataset(cell), tmp_path / "net.nc")
    back = networks.read_cell(path)
    for name, p in cell.param_dict().items():
        assert torch.equal(back.param_dict()[name], p), name
    np.testing.assert_array_equal(back.meta["gain"], [0.5, 1.5])
    assert type(back) is type(cell)


def test_provenance_and_cf_attrs(tmp_path):
    ds = stages.init("vanilla", 7, 2, 5)
    io.write(ds, tmp_path / "n.nc")
    back = io.read(tmp_path / "n.nc")
    for key in (
        "floss_step",
        "floss_config",
        "floss_version",
        "git_commit",
        "torch_version",
        "floss_seeds",
    ):
        assert key in back.attrs, key
    assert json.loads(back.attrs["floss_config"])["n_neurons"] == 5
    assert json.loads(back.attrs["floss_seeds"]) == [7, 8]
    for name in ("J", "W_in", "x0", "gain"):
        assert "units" in back[name].attrs and "long_name" in back[name].attrs


def test_same_inputs_give_identical_files(tmp_path):
    for name in ("a", "b"):
        io.write(stages.init("vanilla", 1, 2, 5), tmp_path / f"{name}.nc")
    assert (tmp_path / "a.nc").read_bytes() == (tmp_path / "b.nc").read_bytes()


def test_atomic_write_leaves_nothing_on_crash(tmp_path, monkeypatch):
    target = tmp_path / "out.nc"
    target.write_bytes(b"previous result")
    ds = stages.init("vanilla", 1, 1, 4)

    def crash(self, path, **kw):
        with open(path, "wb") as fh:
            fh.write(b"\x89HDF partial")
        raise KeyboardInterrupt  # as a kill would interrupt the writer

    monkeypatch.setattr(xr.Dataset, "to_netcdf", crash)
    with pytest.raises(KeyboardInterrupt):
        io.write(ds, target)
    assert target.read_bytes() == b"previous result"
    assert [p.name for p in tmp_path.iterdir()] == ["out.nc"]


def test_foreign_and_truncated_files(tmp_path):
    text = tmp_path / "notes.nc"
    text.write_text("hello")
    with pytest.raises(FlossError, match="notes.nc: not a NetCDF file"):
        io.read(text)
    good = io.write(stages.init("vanilla", 1, 1, 4), tmp_path / "good.nc")
    cut = tmp_path / "cut.nc"
    cut.write_bytes(good.read_bytes()[:300])
    with pytest.raises(FlossError, match="cut.nc: unreadable or truncated"):
        io.read(cut)
    with pytest.raises(FlossError, match="missing.nc: no such file"):
        io.read(tmp_path / "missing.nc")
    other = xr.Dataset({"temperature": ("x", np.arange(3.0))}, attrs={"model": "vanilla"})
    with pytest.raises(FlossError, match="lacks variable J"):
        networks.cell_from_dataset(other, "other.nc")
    with pytest.raises(FlossError, match="attribute 'model'"):
        networks.cell_from_dataset(xr.Dataset(), "empty.nc")


@pytest.mark.parametrize("writer", [write_with_h5py, write_netcdf3])
def test_reads_minimal_files_of_other_programs(tmp_path, writer):
    arrays = contract_arrays()
    writer(tmp_path / "net.nc", arrays)
    cell = networks.read_cell(tmp_path / "net.nc")
    assert cell.n_networks == 2 and cell.batch_size == 3
    np.testing.assert_allclose(cell.J.detach().numpy(), arrays["J"], rtol=1e-6)
    np.testing.assert_array_equal(cell.meta["seed"], [0, 1])


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o007, 0o660)])
def test_written_files_honour_the_umask(tmp_path, umask, mode):
    """The temporary file of an atomic write is 0600; the result gets the umask's mode, so
    group members on a shared file system can read results."""
    old = os.umask(umask)
    try:
        path = io.write(xr.Dataset({"x": ("i", np.arange(3.0))}), tmp_path / "x.nc")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_cf_units_and_named_coordinates(tmp_path):
    """'per time step' is written step-1 (CF units are UDUNITS strings; 1/step is not), and
    every coordinate carries long_name (numeric ones units too)."""
    ds = xr.Dataset(
        {"lyapunov": (("network", "exponent"), np.zeros((2, 3)))},
        coords={"network": np.arange(2), "exponent": np.arange(1, 4), "task": "copy"},
    )
    back = xr.load_dataset(io.write(ds, tmp_path / "x.nc"))
    assert back["lyapunov"].attrs["units"] == "step-1"
    assert back["lyapunov"].attrs["long_name"].endswith("(per time step)")
    for name in ("network", "exponent"):
        assert back[name].attrs["long_name"] and back[name].attrs["units"] == "1"
    assert back["task"].attrs["long_name"] == "task"
