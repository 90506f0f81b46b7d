"""Kill and resume: a stage interrupted after a checkpoint resumes to the same result."""

import numpy as np
import pytest
from resume_helpers import Killed, kill_after

from floss.core import checkpoint
from floss.flossing import stages
from floss.rnn.flossing import FlossingConfig, Schedule
from floss.rnn.tasks import Task
from floss.rnn.training import TrainConfig


def _assert_same(a, b):
    assert set(a.data_vars) == set(b.data_vars)
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


def test_training_resumes_bit_identical(tmp_path):
    net = stages.init("vanilla", 3, 2, 10, batch=4)
    fl = FlossingConfig(k=3, steps=15)
    task = Task(order=1, delay=2, steps=20)
    cfg = TrainConfig(
        epochs=12,
        batch=4,
        spectrum_every=4,
        spectrum_k=2,
        spectrum_steps=40,
        spectrum_transient=5,
        schedule=Schedule(0, every=5, epochs=3, max_episodes=2),
    )
    out = tmp_path / "train.nc"
    straight = stages.train(net, task, cfg, fl)
    with pytest.raises(Killed):
        stages.train(net, task, cfg, fl, progress=kill_after(9), output=out, checkpoint_every=4)
    assert checkpoint.path_for(out).exists() and not out.exists()
    assert checkpoint.load(out, "other job") is None
    resumed = stages.train(net, task, cfg, fl, output=out, checkpoint_every=4)
    _assert_same(straight, resumed)
    # a batched job over several delays (batch_delays) resumes the same way
    tasks = [task, Task(order=0, delay=3, steps=20)]
    straight = stages.train_tasks(net, tasks, cfg, fl)
    with pytest.raises(Killed):
        stages.train_tasks(net, tasks, cfg, fl, progress=kill_after(9), output=out,
                           checkpoint_every=4)  # fmt: skip
    resumed = stages.train_tasks(net, tasks, cfg, fl, output=out, checkpoint_every=4)
    for a, b in zip(straight, resumed, strict=True):
        _assert_same(a, b)


def test_flossing_resumes_bit_identical(tmp_path):
    net = stages.init("vanilla", 5, 2, 10, batch=1)
    cfg = FlossingConfig(k=4, steps=20)
    out = tmp_path / "floss.nc"
    straight = stages.floss(net, cfg, 9)
    with pytest.raises(Killed):
        stages.floss(net, cfg, 9, progress=kill_after(7), output=out, checkpoint_every=3)
    resumed = stages.floss(net, cfg, 9, output=out, checkpoint_every=3)
    _assert_same(straight, resumed)


def test_checkpoint_of_another_job_is_ignored(tmp_path):
    net = stages.init("vanilla", 5, 1, 6, batch=1)
    out = tmp_path / "floss.nc"
    with pytest.raises(Killed):
        stages.floss(
            net,
            FlossingConfig(k=2, steps=20),
            6,
            progress=kill_after(4),
            output=out,
            checkpoint_every=2,
        )
    other = stages.floss(
        net, FlossingConfig(k=2, steps=20, lr=0.01), 6, output=out, checkpoint_every=2
    )
    fresh = stages.floss(net, FlossingConfig(k=2, steps=20, lr=0.01), 6)
    _assert_same(other, fresh)
