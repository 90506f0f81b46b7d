"""Kill and resume of gait-train (floss.core.checkpoint's contract): a run interrupted after
a checkpoint and resumed from the file alone equals the uninterrupted run in every variable,
bit for bit, for BP, GAIT-prop and TP; a checkpoint of another job is ignored; a SIGKILLed
`python -m floss gait-train` leaves no output and its rerun resumes."""

import subprocess
from dataclasses import replace

import pytest
from resume_helpers import Killed, assert_same, floss_command, kill_after, sigkill_after_checkpoint

from floss.cli import main
from floss.core import checkpoint, io
from floss.gait import data as gdata
from floss.gait import stages
from floss.gait.training import GaitConfig

# digits: 1437 training images, batch 128: 11 batches per epoch, 33 in all; the checkpoint
# at batch 14 lies inside epoch 2, and with shuffle each epoch has its own permutation
CFG = GaitConfig(
    epochs=3, batch=128, eval_every=4, record_every=5, lr=1e-3, shuffle=True, gamma_sweep=[1e-3]
)
VARIANTS = {"bp": "square", "gait": "square", "tp": "tower"}


def _train(cfg, variant="square", **kw):
    data = gdata.load("digits")
    return stages.train(data, cfg, variant, [1, 2], hidden=2, tower=[64, 32, 16], **kw)


@pytest.mark.parametrize("rule", list(VARIANTS))
def test_training_resumes_bit_identical(tmp_path, rule):
    cfg, out = replace(CFG, rule=rule), tmp_path / "train.nc"
    straight = _train(cfg, VARIANTS[rule])
    with pytest.raises(Killed):  # after batch 16: the checkpoint holds batch 14
        _train(cfg, VARIANTS[rule], progress=kill_after(16), output=out, checkpoint_every=7)
    ckpt = io.read(checkpoint.path_for(out))
    assert ckpt.attrs["checkpoint_step"] == 14 and ckpt.attrs["adam_step"] == 14
    assert not out.exists()
    resumed = _train(cfg, VARIANTS[rule], output=out, checkpoint_every=7)
    assert_same(straight, resumed)
    assert straight.sizes["eval"] == 10 and straight.sizes["record"] == 8


def test_checkpoint_of_another_job_is_ignored(tmp_path):
    out = tmp_path / "train.nc"
    with pytest.raises(Killed):
        _train(CFG, progress=kill_after(10), output=out, checkpoint_every=7)
    assert checkpoint.load(out, "another job") is None
    other = replace(CFG, lr=2e-3)
    assert_same(_train(other), _train(other, output=out, checkpoint_every=7))


@pytest.mark.slow
def test_sigkill_mid_training_then_resume(tmp_path):
    """The job Snakemake would retry: `python -m floss gait-train` SIGKILLed after its first
    checkpoint, then rerun; the uninterrupted run is made in this process."""
    train = ["gait-train", "--dataset", "digits", "--rule", "gait", "--hidden", 2]
    train += ["--seeds", 2, "--epochs", 20, "--batch", 32, "--lr", 1e-3, "--shuffle"]
    train += ["--eval-every", 20, "--record-every", 50, "--gamma-sweep", 1e-3]
    train += ["--threads", 1, "--no-progress"]
    killed, straight = tmp_path / "killed.nc", tmp_path / "straight.nc"
    ckpt = checkpoint.path_for(killed)
    resumable = floss_command(*train, "--checkpoint-every", 50, "--out", killed)
    at_kill = sigkill_after_checkpoint(resumable, killed)["checkpoint_step"]
    assert 50 <= at_kill < 20 * 44
    subprocess.run(resumable, check=True)
    assert not ckpt.exists()
    assert main([*map(str, train), "--out", str(straight)]) == 0
    assert_same(io.read(straight), io.read(killed))
    print(f"killed at checkpoint batch {at_kill}; resumed run equals uninterrupted run")
