"""Reliability of the pipeline: a SIGKILLed training job resumes bit-identically, a network
that diverges is recorded as failed without failing the job, and bad files give clear errors."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from test_pipeline import RESULTS, SMOKE, snakemake

from floss.cli import main
from floss.core import io

pytestmark = pytest.mark.slow
TRAIN = f"{RESULTS}/training/vanilla/train_copy_d2_none.nc"
F5 = f"{RESULTS}/figures/F5_preflossing.nc"


def training_only(tmp_path, **training):
    """The smoke config with only the training experiment, one task, one delay."""
    cfg = yaml.safe_load(SMOKE.read_text())
    for exp in ("lambda_control", "spectrum_k", "jacobian", "architectures"):
        cfg[exp]["enabled"] = False
    for family in ("surrogate", "hessian", "gait"):  # H4 would need other training files
        if family in cfg:
            cfg[family]["enabled"] = False
    cfg["training"].update(
        tasks={"copy": [2]}, schedules=["none"], curve_delays={"copy": 2}, **training
    )
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _same_data(a: Path, b: Path) -> None:
    x, y = io.read(a), io.read(b)
    assert set(x.data_vars) == set(y.data_vars)
    for name in x.data_vars:
        np.testing.assert_array_equal(x[name].values, y[name].values, err_msg=f"{a}: {name}")


def _pid_of(fragment: str) -> int | None:
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "floss train" in cmd and fragment in cmd:
                return int(proc.name)
    return None


def test_sigkill_mid_training_then_resume(tmp_path):
    config = training_only(tmp_path, epochs=600, n_neurons=16)  # ~15 s after epoch 100
    cfg = yaml.safe_load(config.read_text())
    cfg["checkpoint_every"] = 50
    config.write_text(yaml.safe_dump(cfg))
    killed, straight = tmp_path / "killed", tmp_path / "straight"
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(Path(__file__).parents[2] / "Snakefile"),
        "-d",
        str(killed),
        "--configfile",
        str(config),
        "--cores",
        "1",
        TRAIN,  # only the training job and what it needs
    ]
    run = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ckpt = killed / f"{TRAIN}.ckpt"
    deadline = time.time() + 300
    while time.time() < deadline and not (
        ckpt.exists() and io.read(ckpt).attrs["checkpoint_epoch"] >= 100
    ):
        time.sleep(0.2)
    pid = _pid_of(TRAIN)
    assert pid is not None, "training job not found"
    os.kill(pid, signal.SIGKILL)
    assert run.wait(timeout=120) != 0  # snakemake reports the killed job
    assert not (killed / TRAIN).exists()  # no file that looks complete
    epoch_at_kill = io.read(ckpt).attrs["checkpoint_epoch"]
    assert 100 <= epoch_at_kill < 600
    snakemake(killed, "--cores", "2", TRAIN, configfile=config, check=True)  # from the ckpt
    assert not ckpt.exists()
    snakemake(straight, "--cores", "2", TRAIN, configfile=config, check=True)
    _same_data(killed / TRAIN, straight / TRAIN)
    print(f"killed at checkpoint epoch {epoch_at_kill}; resumed run equals uninterrupted run")


def test_diverging_network_is_recorded_not_fatal(tmp_path):
    config = training_only(tmp_path, gain=[1.0, 1.0e37])  # network 1 overflows at once
    snakemake(tmp_path, "--cores", "2", F5, configfile=config, check=True)
    trained = io.read(tmp_path / TRAIN)
    assert trained["status"].values.tolist() == [0, 1]
    assert trained["failed_epoch"].values.tolist() == [-1, 1]
    fig = io.read(tmp_path / F5)
    assert fig["diverged_copy"].values[0, 0].tolist() == [0.0, 1.0]
    assert fig["success_copy"].values[0, 0, 1] == 0.0  # counts as a failure
    assert np.isnan(fig["final_accuracy_copy"].values[0, 0, 1])


@pytest.mark.parametrize("stage", ["floss", "train", "spectrum", "jacobian", "evaluate"])
def test_bad_files_for_every_stage(tmp_path, capsys, stage):
    good = tmp_path / "net.nc"
    assert main(["init", "-N", "6", "--batch", "2", "--out", str(good)]) == 0
    truncated = tmp_path / "truncated.nc"
    truncated.write_bytes(good.read_bytes()[:400])
    foreign = tmp_path / "foreign.nc"
    assert (
        main(["data", "--task", "copy", "--delay", "2", "--steps", "10", "--out", str(foreign)])
        == 0
    )
    extra = {
        "evaluate": ["--data", str(foreign)],
        "train": ["--task", "copy", "--delay", "2", "--steps", "10", "--epochs", "2"],
    }.get(stage, [])
    for bad, why in ((truncated, "unreadable or truncated"), (foreign, "attribute 'model'")):
        capsys.readouterr()
        code = main([stage, str(bad), *extra, "--out", str(tmp_path / "out.nc")])
        err = capsys.readouterr().err.strip()
        assert code == 2 and str(bad) in err and why in err and "\n" not in err, err
        assert not (tmp_path / "out.nc").exists()
    if stage == "evaluate":  # a network given where the evaluation set belongs
        code = main([stage, str(good), "--data", str(good), "--out", str(tmp_path / "out.nc")])
        assert code == 2 and "not an evaluation set" in capsys.readouterr().err
