"""The command line: stages chained by files, the file contract command, error messages."""

import subprocess
import sys

import numpy as np
import pytest
from network_files import contract_arrays, write_with_h5py

from floss.cli import main
from floss.core import io


def run(*args):
    return main([str(a) for a in args])


def test_stages_chain(tmp_path):
    net, fl, tr = tmp_path / "net.nc", tmp_path / "floss.nc", tmp_path / "train.nc"
    assert (
        run(
            "init",
            "-N",
            12,
            "-M",
            3,
            "--seed",
            5,
            "--gain-uniform",
            0,
            1,
            "--batch",
            4,
            "--out",
            net,
        )
        == 0
    )
    assert run("floss", net, "--epochs", 3, "--k", 4, "--steps", 20, "--out", fl) == 0
    assert (
        run(
            "train",
            fl,
            "--task",
            "xor",
            "--delay",
            2,
            "--steps",
            20,
            "--epochs",
            4,
            "--schedule",
            "during",
            "--every",
            2,
            "--floss-epochs",
            2,
            "--max-episodes",
            1,
            "--floss-k",
            3,
            "--floss-steps",
            15,
            "--spectrum-every",
            2,
            "--out",
            tr,
        )
        == 0
    )
    f, t = io.read(fl), io.read(tr)
    assert f["flossing_lyapunov"].dims == ("network", "flossing_epoch", "exponent")
    assert f["flossing_lyapunov"].shape == (3, 3, 4)
    assert t["loss"].shape == (3, 4) and t["status"].values.tolist() == [0, 0, 0]
    assert t["flossing_loss"].shape == (3, 2)
    assert t.attrs["floss_adam_step"] == 5  # 3 preflossing steps + 2 during training
    assert (
        run("spectrum", tr, "--k", 5, "--steps", 50, "--transient", 10, "--out", tmp_path / "s.nc")
        == 0
    )
    assert run("jacobian", tr, "--times", 1, 5, "--out", tmp_path / "j.nc") == 0
    assert io.read(tmp_path / "j.nc")["log_singular_value"].shape == (3, 2, 12)
    assert (
        run(
            "data",
            "--task",
            "copy",
            "--delay",
            3,
            "--steps",
            10,
            "--samples",
            5,
            "--out",
            tmp_path / "d.nc",
        )
        == 0
    )
    d = io.read(tmp_path / "d.nc")
    assert d["inputs"].dims == ("sample", "time", "channel") and d["targets"].shape == (5, 10, 1)


def test_contract_command_on_foreign_file(tmp_path):
    """`python -m floss spectrum` on a file written by another program (h5py, no provenance):
    dims and units of the result, and its values against an independent numpy computation
    started from x0[:, :, 0] with zero input."""
    arrays = contract_arrays(gains=(0.5, 1.3))
    write_with_h5py(tmp_path / "net.nc", arrays)
    out = tmp_path / "spec.nc"
    cmd = [
        sys.executable,
        "-m",
        "floss",
        "spectrum",
        str(tmp_path / "net.nc"),
        "--k",
        "4",
        "--steps",
        "300",
        "--transient",
        "50",
        "--seed",
        "3",
        "--input",
        "zero",
        "--out",
        str(out),
        "--dtype",
        "float64",
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    ds = io.read(out)
    assert ds["lyapunov"].dims == ("network", "exponent")
    assert ds["lyapunov"].attrs["units"] == "step-1"
    # independent check: explicit float64 map x <- J tanh(x) + b from x0[:, :, 0], Jacobians
    # J diag(1 - tanh^2), QR with numpy, same basis as the library's seed-3 basis
    from floss.rnn.lyapunov import initial_basis

    q0 = initial_basis([3], 6, 4, dtype=__import__("torch").float64)[0].numpy()
    for m in range(2):
        x, q, acc = arrays["x0"][m, :, 0].copy(), q0.copy(), np.zeros(4)
        for n in range(1, 301):
            jac = arrays["J"][m] * (1 - np.tanh(x) ** 2)[None, :]
            x = arrays["J"][m] @ np.tanh(x) + arrays["b"][m]
            q, r = np.linalg.qr(jac @ q)
            if n > 50:
                acc += np.log(np.abs(np.diag(r)))
        np.testing.assert_allclose(ds["lyapunov"].values[m], acc / 250, atol=1e-10)


def test_error_messages(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        run("spectrum", "x.nc", "--input", "noise", "--out", tmp_path / "s.nc")
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--input" in err and "'zero'" in err and "'task'" in err
    with pytest.raises(SystemExit):
        run("init", "-N", -3, "--out", tmp_path / "n.nc")
    assert "--neurons must be >= 1, got -3" in capsys.readouterr().err
    assert run("spectrum", tmp_path / "absent.nc", "--out", tmp_path / "s.nc") == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "absent.nc: no such file" in err
    run("init", "-N", 5, "--out", tmp_path / "n.nc")
    assert run("spectrum", tmp_path / "n.nc", "--k", 9, "--out", tmp_path / "s.nc") == 2
    assert "--k must be <= the state size 5, got 9" in capsys.readouterr().err
    assert not (tmp_path / "s.nc").exists()


def test_demo(capsys):
    assert run("demo", "--epochs", 3) == 0
    assert capsys.readouterr().out.count("lambda_1 before") == 3


def test_train_of_several_delays_writes_what_one_job_per_delay_writes(tmp_path):
    net = tmp_path / "net.nc"
    assert run("init", "-N", 8, "-M", 2, "--batch", 4, "--out", net) == 0
    common = ["--task", "xor", "--steps", 16, "--epochs", 6, "--schedule", "during"]
    common += ["--every", 2, "--floss-epochs", 2, "--floss-k", 3, "--floss-steps", 12]
    common += ["--floss-transient", 2]
    outs = [tmp_path / f"d{d}.nc" for d in (2, 3)]
    assert run("train", net, *common, "--delay", 2, 3, "--out", *outs) == 0
    for d, out in zip((2, 3), outs, strict=True):
        assert run("train", net, *common, "--delay", d, "--out", tmp_path / "alone.nc") == 0
        batched, alone = io.read(out), io.read(tmp_path / "alone.nc")
        assert set(batched.data_vars) == set(alone.data_vars)
        for name in alone.data_vars:  # batched matrix kernels may round differently
            a, b = batched[name].values, alone[name].values
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6, err_msg=name)
        assert batched.attrs["floss_config"] == alone.attrs["floss_config"]
        assert list(batched.attrs["batched_delays"]) == [2, 3]
