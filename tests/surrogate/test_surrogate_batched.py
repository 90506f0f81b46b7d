"""batch_delays for S2: surrogate-train of several delays in one job gives each delay what a
job of its own gives (up to the rounding of batched float64 kernels), adaptive flossing
included (it picks networks one by one), and the CLI writes one file per delay."""

import numpy as np

from floss.cli import main
from floss.core import io
from floss.rnn.flossing import FlossingConfig
from floss.rnn.tasks import Task
from floss.rnn.training import TrainConfig
from floss.surrogate import stages
from floss.surrogate.training import FlossingPolicy

CFG = TrainConfig(epochs=9, batch=4, n_singular=0, spectrum_every=3, spectrum_steps=30,
                  spectrum_transient=5)  # fmt: skip
ADAPTIVE = FlossingPolicy("adaptive", 2, 3, 2, 2, tolerance=0.05, check_steps=30,
                          check_transient=5)  # fmt: skip
FLOSSING = FlossingConfig(k=2, steps=15, lr=1e-2, target=-0.55)


def test_delays_batched_equal_one_job_per_delay():
    net = stages.init("binary", 7, 3, 10, batch=4, gains=1.5, sharpness=1.0)
    net = net.map(lambda v: v.astype(np.float64) if v.dtype == np.float32 else v)
    tasks = [Task.from_name("xor", d, 20) for d in (2, 3)]
    together = stages.train_tasks(net, tasks, CFG, ADAPTIVE, FLOSSING)
    for task, batched in zip(tasks, together, strict=True):
        alone = stages.train(net, task, CFG, ADAPTIVE, FLOSSING)
        assert set(batched.data_vars) == set(alone.data_vars)
        for name in alone.data_vars:
            a, b = batched[name].values, alone[name].values
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=name)
        assert batched.attrs["floss_config"] == alone.attrs["floss_config"]
        assert batched["flossed"].values.any()  # adaptive flossing took place


def test_cli_needs_one_out_per_delay(tmp_path, capsys):
    net = tmp_path / "net.nc"
    io.write(stages.init("binary", 7, 2, 8, batch=4, sharpness=1.0), net)
    argv = ["surrogate-train", str(net), "--delay", "2", "3", "--steps", "16", "--epochs", "2"]
    assert main([*argv, "--out", str(tmp_path / "a.nc")]) == 2
    assert "one path per --delay" in capsys.readouterr().err
    outs = [str(tmp_path / f"d{d}.nc") for d in (2, 3)]
    assert main([*argv, "--out", *outs]) == 0
    for out, d in zip(outs, (2, 3), strict=True):
        assert io.read(out)["accuracy"].attrs["t0"] == 2 * d
