"""Kill and resume of hessian-train (floss.core.checkpoint's contract): a run interrupted
after a checkpoint and resumed from the file alone equals the uninterrupted run in every
variable, bit for bit, for both learning rules; a checkpoint of another job is ignored; a
SIGKILLed `python -m floss hessian-train` leaves no output and its rerun resumes."""

import subprocess
from dataclasses import replace

import pytest
from resume_helpers import Killed, assert_same, floss_command, kill_after, sigkill_after_checkpoint

from floss.cli import main
from floss.core import checkpoint, io
from floss.hessian import stages
from floss.hessian.curvature import CurvatureConfig
from floss.hessian.training import HessianTrainConfig

# 200 training images, batch 16: a new permutation every 12 iterations, so the checkpoint at
# iteration 15 lies inside the second pass and the resumed run draws the third itself
SOURCE = {"name": "digits", "pad_rows": 2, "ext_time": 1, "split_seed": 0, "sizes": [200, 60, 60]}
CFG = HessianTrainConfig(n_rec=8, batch=16, iterations=30, eval_points=5, hessian_samples=20)
CCFG = CurvatureConfig(
    power_max_iter=20, top_k=2, lanczos_max_iter=6, trace_probes=2, slq_probes=2, slq_steps=4
)


def _train(cfg=CFG, **kw):
    return stages.train(SOURCE, [3, 4], cfg, CCFG, **kw)


@pytest.mark.parametrize("rule", ["bptt", "three_factor"])
def test_training_resumes_bit_identical(tmp_path, rule):
    cfg, out = replace(CFG, rule=rule, feedback="random"), tmp_path / "train.nc"
    straight = _train(cfg)
    with pytest.raises(Killed):  # after iteration 17: the checkpoint holds iteration 15
        _train(cfg, progress=kill_after(17), output=out, checkpoint_every=5)
    ckpt = io.read(checkpoint.path_for(out))
    assert ckpt.attrs["checkpoint_iteration"] == 15
    assert ckpt["hist_pos"].values.tolist() == [48, 48]  # 3 batches into the second pass
    assert not out.exists()
    resumed = _train(cfg, output=out, checkpoint_every=5)
    assert_same(straight, resumed)
    assert straight.sizes["point"] == 5


def test_checkpoint_of_another_job_is_ignored(tmp_path):
    out = tmp_path / "train.nc"
    with pytest.raises(Killed):
        _train(progress=kill_after(12), output=out, checkpoint_every=5)
    assert checkpoint.load(out, "another job") is None
    other = replace(CFG, lr=0.02)
    assert_same(_train(other), _train(other, output=out, checkpoint_every=5))


@pytest.mark.slow
def test_sigkill_mid_training_then_resume(tmp_path):
    """The job Snakemake would retry: `python -m floss hessian-train` SIGKILLed after its
    first checkpoint, then rerun; the uninterrupted run is made in this process."""
    train = ["hessian-train", "--data", "digits", "--sizes", 200, 60, 60, "--pad-rows", 2]
    train += ["-M", 2, "-N", 8, "--batch", 16, "--iterations", 400, "--eval-points", 4]
    train += ["--hessian-samples", 20, "--power-max-iter", 20, "--top-k", 2]
    train += ["--lanczos-max-iter", 6, "--trace-probes", 2, "--slq-probes", 2]
    train += ["--slq-steps", 4, "--threads", 1, "--no-progress"]
    killed, straight = tmp_path / "killed.nc", tmp_path / "straight.nc"
    ckpt = checkpoint.path_for(killed)
    resumable = floss_command(*train, "--checkpoint-every", 25, "--out", killed)
    at_kill = sigkill_after_checkpoint(resumable, killed)["checkpoint_iteration"]
    assert 25 <= at_kill < 400
    subprocess.run(resumable, check=True)
    assert not ckpt.exists()
    assert main([*map(str, train), "--out", str(straight)]) == 0
    assert_same(io.read(straight), io.read(killed))
    print(f"killed at checkpoint iteration {at_kill}; resumed run equals uninterrupted run")
