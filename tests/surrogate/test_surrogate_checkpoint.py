"""Kill and resume of surrogate-floss and surrogate-train (floss.core.checkpoint's contract):
a run interrupted after a checkpoint and resumed from the file alone equals the uninterrupted
run in every variable, bit for bit; a checkpoint of another job is ignored; a SIGKILLed
`python -m floss surrogate-train` leaves no output and its rerun resumes."""

import subprocess
from dataclasses import replace

import numpy as np
import pytest
import torch
from resume_helpers import Killed, assert_same, floss_command, kill_after, sigkill_after_checkpoint

from floss.cli import main
from floss.core import checkpoint, io
from floss.rnn.flossing import FlossingConfig
from floss.rnn.tasks import Task
from floss.rnn.training import TrainConfig
from floss.surrogate import stages
from floss.surrogate.adam import NetworkAdam
from floss.surrogate.training import FlossingPolicy

TASK = Task.from_name("xor", 2, 20, channels=1)
FLOSSING = FlossingConfig(k=2, steps=15, lr=1e-2)


def _network(tmp_path, model="binary", failed=(0, 0, 0)):
    """Three networks, one frozen by an earlier stage where `failed` says so, read back from
    a file as a fresh process would."""
    kw = {"sharpness": 1.0} if model == "binary" else {"n_inputs": 5}
    net = stages.init(model, 7, 3, 10, batch=4, gains=1.5, **kw)
    net["status"] = ("network", np.asarray(failed, dtype=np.int8))
    io.write(net, tmp_path / "net.nc")
    return io.read(tmp_path / "net.nc")


def _train(net, policy, **kw):
    cfg = TrainConfig(
        epochs=12,
        batch=4,
        n_singular=0,
        spectrum_every=4,
        spectrum_steps=40,
        spectrum_transient=5,
    )
    # target -0.55: adaptive flossing takes network 0 (lambda_1 ~ -0.55 after one episode)
    # at epoch 3 only and network 2 (~ -0.7) at 3, 6 and 9 (then Ni = 3 is used up), so the
    # NetworkAdam step counts that index the flossing inputs differ at the checkpoint (8)
    flossing = replace(FLOSSING, target=-0.55) if policy.flosses else None
    return stages.train(net, TASK, cfg, policy, flossing, **kw)


POLICIES = {
    "none": FlossingPolicy("none"),
    "periodic": FlossingPolicy("periodic", pre_epochs=3, every=3, epochs=2, max_episodes=3),
    "adaptive": FlossingPolicy(
        "adaptive", 3, 3, 2, 3, tolerance=0.05, check_steps=40, check_transient=5
    ),
}


@pytest.mark.parametrize("mode", list(POLICIES))
def test_training_resumes_bit_identical(tmp_path, mode):
    net, out = _network(tmp_path, failed=(0, 1, 0)), tmp_path / "train.nc"
    straight = _train(net, POLICIES[mode])
    with pytest.raises(Killed):  # after epoch 10: the checkpoint holds epoch 8
        _train(net, POLICIES[mode], progress=kill_after(10), output=out, checkpoint_every=4)
    assert io.read(checkpoint.path_for(out)).attrs["checkpoint_epoch"] == 8
    assert not out.exists()
    resumed = _train(io.read(tmp_path / "net.nc"), POLICIES[mode], output=out, checkpoint_every=4)
    assert_same(straight, resumed)
    assert straight["status"].values.tolist() == [0, 1, 0]
    if mode == "adaptive":  # the policy flossed some networks and not others, as planned
        assert straight["check_epoch"].values.tolist() == [3, 6, 9, 12]
        flossed = straight["flossed"].values
        assert flossed[0].tolist() == [3, 0, 2] + [0] * 9
        assert flossed[2].tolist() == [3, 0, 2, 0, 0, 2, 0, 0, 2, 0, 0, 0]


@pytest.mark.parametrize("model", ["binary", "spiking"])
def test_flossing_resumes_bit_identical(tmp_path, model):
    net, out = _network(tmp_path, model, failed=(0, 0, 1)), tmp_path / "floss.nc"
    straight = stages.floss(net, FLOSSING, 9)
    with pytest.raises(Killed):
        stages.floss(net, FLOSSING, 9, progress=kill_after(7), output=out, checkpoint_every=3)
    ckpt = io.read(checkpoint.path_for(out))
    assert ckpt.attrs["checkpoint_epoch"] == 6
    steps = [ckpt[k].values.tolist() for k in ckpt.data_vars if k.startswith("floss_adam_step")]
    assert steps and all(s == [6, 6, 0] for s in steps)  # the frozen network took no step
    resumed = stages.floss(
        io.read(tmp_path / "net.nc"), FLOSSING, 9, output=out, checkpoint_every=3
    )
    assert_same(straight, resumed)


def test_checkpoint_of_another_job_is_ignored(tmp_path):
    net, out = _network(tmp_path), tmp_path / "train.nc"
    policy = POLICIES["periodic"]
    with pytest.raises(Killed):
        _train(net, policy, progress=kill_after(7), output=out, checkpoint_every=5)
    assert checkpoint.load(out, "another job") is None
    other = FlossingPolicy("periodic", pre_epochs=2, every=3, epochs=2, max_episodes=3)
    assert_same(_train(net, other), _train(net, other, output=out, checkpoint_every=5))
    out = tmp_path / "floss.nc"
    with pytest.raises(Killed):
        stages.floss(net, FLOSSING, 6, progress=kill_after(5), output=out, checkpoint_every=2)
    longer = stages.floss(net, FLOSSING, 7, output=out, checkpoint_every=2)
    assert_same(stages.floss(net, FLOSSING, 7), longer)


def test_network_adam_state_round_trips_exactly(tmp_path):
    """Per-network step counts (float64) and moments come back exactly, and the next steps
    of the restored optimiser equal those of the original."""
    from floss.rnn.cells.binary import init_binary

    a, b = init_binary([1, 2, 3], 6, batch=1), init_binary([1, 2, 3], 6, batch=1)
    opts = [NetworkAdam([x.J], lr=1e-2) for x in (a, b)]
    grads = torch.randn(4, 3, 6, 6, generator=torch.Generator().manual_seed(0))
    a.J.grad = grads[0]
    opts[0].step(torch.tensor([True, False, True]))
    ds = checkpoint.optimizer_to_dataset(opts[0], a, ["J"], "adam")
    io.write(ds, tmp_path / "adam.nc")
    with torch.no_grad():
        b.J.copy_(a.J)
    checkpoint.optimizer_from_dataset(opts[1], b, ["J"], io.read(tmp_path / "adam.nc"), "adam")
    assert opts[1].steps().tolist() == [1, 0, 1]
    for g in grads[1:]:
        for x, opt in zip((a, b), opts):
            x.J.grad = g.clone()
            opt.step(torch.tensor([True, True, False]))
    assert torch.equal(a.J, b.J) and torch.equal(opts[0].steps(), opts[1].steps())


@pytest.mark.slow
def test_sigkill_mid_training_then_resume(tmp_path):
    """The job Snakemake would retry: `python -m floss surrogate-train` SIGKILLed after its
    first checkpoint, then rerun; the uninterrupted run is made in this process."""
    net = tmp_path / "net.nc"
    init = ["surrogate-init", "--neurons", 16, "--networks", 2, "--batch", 4, "--seed", 3]
    assert main([*map(str, init), "--out", str(net)]) == 0
    train = ["surrogate-train", net, "--steps", 30, "--delay", 3, "--epochs", 150, "--k", 2]
    train += ["--mode", "adaptive", "--pre-epochs", 5, "--every", 20, "--floss-epochs", 5]
    train += ["--floss-steps", 20, "--max-episodes", 6, "--check-steps", 30]
    train += ["--check-transient", 5, "--spectrum-every", 50, "--threads", 1, "--no-progress"]
    killed, straight = tmp_path / "killed.nc", tmp_path / "straight.nc"
    ckpt = checkpoint.path_for(killed)
    resumable = floss_command(*train, "--checkpoint-every", 25, "--out", killed)
    epoch_at_kill = sigkill_after_checkpoint(resumable, killed)["checkpoint_epoch"]
    assert 25 <= epoch_at_kill < 150
    subprocess.run(resumable, check=True)
    assert not ckpt.exists()
    assert main([*map(str, train), "--out", str(straight)]) == 0
    assert_same(io.read(straight), io.read(killed))
    print(f"killed at checkpoint epoch {epoch_at_kill}; resumed run equals uninterrupted run")
