"""Bad command lines and bad input files: one line naming the problem, exit 2, no traceback,
no output file; results that are NaN for a network carry status 1 (issue: CLI never answers
with a traceback)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from floss.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    assert main(["init", "-N", "6", "-M", "2", "--batch", "4", "--out", str(d / "net.nc")]) == 0
    data = ["data", "--task", "copy", "--delay", "2", "--steps", "12", "--samples", "8"]
    assert main([*data, "--out", str(d / "data.nc")]) == 0
    net, ev = xr.load_dataset(d / "net.nc"), xr.load_dataset(d / "data.nc")
    bad = net.copy(deep=True)
    bad["J"][0] = np.nan
    bad.to_netcdf(d / "nan.nc")
    net.isel(neuron_pre=slice(0, 4)).to_netcdf(d / "wrong.nc")
    for name, t0 in (("t0abc", "abc"), ("t0big", 99)):
        ev.assign_attrs(t0=t0).to_netcdf(d / f"{name}.nc")
    nan_inputs = ev.copy(deep=True)
    nan_inputs["inputs"][0] = np.nan
    nan_inputs.to_netcdf(d / "naninputs.nc")
    (d / "garbage.nc").write_bytes(b"not a netcdf file")
    return d


CASES = {
    # argv (FILES/ is the fixture's folder), text the one line must hold
    "out is a directory": (["init", "--out", "FILES"], "is a directory"),
    "out is empty": (["init", "--out", ""], "--out: empty"),
    "out unwritable": (["init", "--out", "/proc/no/such/x.nc"], "No such file"),
    "negative gain": (["init", "--gain", "-1", "--out", "FILES/x.nc"], "--gain"),
    "nan gain": (["init", "--gain", "nan", "--out", "FILES/x.nc"], "--gain"),
    "inf gains": (["init", "-M", "2", "--gains", "1", "inf", "--out", "FILES/x.nc"], "--gains"),
    "gain-uniform reversed": (
        ["init", "--gain-uniform", "1", "0", "--out", "FILES/x.nc"], "LO <= HI"),
    "seed too large": (["init", "--seed", str(2**70), "--out", "FILES/x.nc"], "--seed"),
    "negative seed": (["init", "--seed", "-1", "--out", "FILES/x.nc"], "--seed"),
    "zero neurons": (["init", "-N", "0", "--out", "FILES/x.nc"], "--neurons"),
    "unknown stage": (["nope"], "invalid choice"),
    "unknown option": (["init", "--bogus", "1", "--out", "FILES/x.nc"], "--bogus"),
    "nan lr": (["train", "FILES/net.nc", "--lr", "nan", "--out", "FILES/x.nc"], "--lr"),
    "inf clip": (["train", "FILES/net.nc", "--clip", "inf", "--out", "FILES/x.nc"], "--clip"),
    "fewer outs than delays": (
        ["train", "FILES/net.nc", "--delay", "2", "3", "--out", "FILES/x.nc"],
        "one path per --delay"),
    "one of the outs unwritable": (
        ["train", "FILES/net.nc", "--delay", "2", "3", "--out", "FILES/x.nc", "FILES"],
        "is a directory"),
    "missing network": (["spectrum", "FILES/none.nc", "--out", "FILES/x.nc"], "none.nc"),
    "garbage network": (["spectrum", "FILES/garbage.nc", "--out", "FILES/x.nc"], "garbage.nc"),
    "J of the wrong size": (
        ["spectrum", "FILES/wrong.nc", "--steps", "20", "--transient", "2", "--out",
         "FILES/x.nc"], "neuron_pre"),
    "transient >= steps": (
        ["spectrum", "FILES/net.nc", "--steps", "10", "--out", "FILES/x.nc"], "--transient"),
    "k beyond N": (["spectrum", "FILES/net.nc", "--k", "7", "--steps", "20", "--transient",
                    "2", "--out", "FILES/x.nc"], "k"),
    "eval t0 not a number": (
        ["evaluate", "FILES/net.nc", "--data", "FILES/t0abc.nc", "--out", "FILES/x.nc"], "t0"),
    "eval t0 beyond T": (
        ["evaluate", "FILES/net.nc", "--data", "FILES/t0big.nc", "--out", "FILES/x.nc"], "t0"),
    "eval NaN inputs": (
        ["evaluate", "FILES/net.nc", "--data", "FILES/naninputs.nc", "--out", "FILES/x.nc"],
        "inputs"),
    "k-rule N/0": (["scaling", "--neurons", "4", "--k-rules", "N/0", "--out", "FILES/x.nc"],
                   "N/0"),
    "k-rule beyond N": (["scaling", "--neurons", "4", "--k-rules", "100", "--out",
                         "FILES/x.nc"], "exceeds N = 4"),
    "k-rule text": (["scaling", "--neurons", "4", "--k-rules", "half", "--out", "FILES/x.nc"],
                    "half"),
    "surrogate flossing of a tanh network": (
        ["surrogate-floss", "FILES/net.nc", "--out", "FILES/x.nc"], "'vanilla' is not allowed"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_command_gives_one_line_and_exit_2(case, files, capsys):
    argv, expected = CASES[case]
    argv = [a.replace("FILES", str(files)) for a in argv]
    before = set(files.iterdir())
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's own refusals
        status = exc.code
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert expected in err, err
    assert set(files.iterdir()) == before  # nothing written, not even a temporary file


def test_nan_network_gets_status_not_a_number(files, capsys):
    """A NaN network is reported as failed (status 1, no accuracy), the others measured."""
    out = files / "eval_nan.nc"
    assert main(["evaluate", str(files / "nan.nc"), "--data", str(files / "data.nc"),
                 "--out", str(out)]) == 0  # fmt: skip
    ev = xr.load_dataset(out)
    assert ev["status"].values.tolist() == [1, 0]
    assert np.isnan(ev["accuracy"].values[0]) and np.isfinite(ev["accuracy"].values[1])
    out = files / "spectrum_nan.nc"
    assert main(["spectrum", str(files / "nan.nc"), "--steps", "30", "--transient", "3",
                 "--out", str(out)]) == 0  # fmt: skip
    sp = xr.load_dataset(out)
    assert sp["status"].values.tolist() == [1, 0]
    assert np.isfinite(sp["lyapunov"].values[1]).all()
    for path in (files / "eval_nan.nc", files / "spectrum_nan.nc"):
        path.unlink()
