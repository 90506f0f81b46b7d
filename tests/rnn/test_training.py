"""BPTT training: batched == separate, clipping, divergence, determinism, learning."""

import numpy as np
import pytest
import torch

from floss.rnn.cells import init_networks
from floss.rnn.flossing import Flosser, FlossingConfig, Schedule
from floss.rnn.optim import clip_per_network
from floss.rnn.tasks import Task
from floss.rnn.training import TrainConfig, Trainer

F64 = torch.float64
TASK = Task(order=1, delay=2, steps=20)


def _train(cell, epochs=5, clip=0.03, schedule=None, flossing=None):
    cfg = TrainConfig(
        epochs=epochs, batch=cell.batch_size, clip=clip, schedule=schedule or Schedule()
    )
    flosser = Flosser(cell, flossing) if flossing else None
    return Trainer(cell, TASK, cfg, flosser).run()


@pytest.mark.parametrize("model", ["vanilla", "gru", "lstm"])
def test_batched_equals_separate(model):
    seeds, gains = [1, 2, 3], [0.5, 1.0, 1.8]
    together = init_networks(model, seeds, 12, gains=gains, batch=4, dtype=F64)
    hist = _train(together, clip=0.03)
    for m, (s, g) in enumerate(zip(seeds, gains)):
        alone = init_networks(model, [s], 12, gains=g, batch=4, dtype=F64)
        h1 = _train(alone, clip=0.03)
        for name, p in alone.param_dict().items():
            assert torch.allclose(together.param_dict()[name][m], p[0], atol=1e-12, rtol=0), name
        np.testing.assert_allclose(hist["loss"][:, m], h1["loss"][:, 0], rtol=1e-12)
        np.testing.assert_allclose(hist["grad_sv_J"][:, m], h1["grad_sv_J"][:, 0], rtol=1e-9)


def test_batched_equals_separate_with_flossing_schedule():
    sched = Schedule(pre_epochs=3, every=2, epochs=2, max_episodes=1)
    fl = FlossingConfig(k=3, steps=15)
    together = init_networks("vanilla", [1, 2], 10, gains=[0.8, 1.6], batch=2, dtype=F64)
    _train(together, epochs=4, schedule=sched, flossing=fl)
    for m, (s, g) in enumerate([(1, 0.8), (2, 1.6)]):
        alone = init_networks("vanilla", [s], 10, gains=g, batch=2, dtype=F64)
        _train(alone, epochs=4, schedule=sched, flossing=fl)
        assert torch.allclose(together.J[m], alone.J[0], atol=1e-12, rtol=0)


def test_clipping_is_per_parameter_and_per_network():
    g = torch.tensor([[3.0, 4.0], [0.3, 0.4], [30.0, 40.0]])  # norms 5, 0.5, 50
    p = torch.zeros(3, 2, requires_grad=True)
    p.grad = g.clone()
    q = torch.zeros(3, 1, requires_grad=True)
    q.grad = torch.tensor([[0.01], [2.0], [0.0]])
    clip_per_network([p, q], 1.0)
    np.testing.assert_allclose(p.grad.norm(dim=1), [1.0, 0.5, 1.0], rtol=1e-6)
    np.testing.assert_allclose(p.grad[0], [0.6, 0.8], rtol=1e-6)  # direction kept
    np.testing.assert_allclose(q.grad.flatten(), [0.01, 1.0, 0.0], rtol=1e-6)


def test_diverging_network_is_frozen_and_others_continue():
    cell = init_networks("vanilla", [1, 2, 3], 10, batch=2, dtype=F64)
    with torch.no_grad():
        cell.x0[1] = float("nan")
    before = cell.J[1].detach().clone()
    hist = _train(cell, epochs=4)
    assert hist["status"].tolist() == [0, 1, 0]
    assert hist["failed_epoch"].tolist() == [-1, 1, -1]
    assert torch.equal(cell.J[1], before)
    ref = init_networks("vanilla", [1, 3], 10, batch=2, dtype=F64)
    _train(ref, epochs=4)
    assert torch.allclose(cell.J[[0, 2]], ref.J, atol=1e-12, rtol=0)


def test_determinism():
    runs = []
    for _ in range(2):
        cell = init_networks("vanilla", [4, 5], 16, batch=4)
        runs.append(_train(cell, epochs=6))
    for k in runs[0]:
        np.testing.assert_array_equal(runs[0][k], runs[1][k])


def test_learns_a_short_copy_task():
    """N = 32, delayed copy with d' = 2: a plain BPTT run reaches > 90% accuracy."""
    task = Task(order=0, delay=2, steps=30)
    cell = init_networks("vanilla", [1, 2], 32, batch=16)
    cfg = TrainConfig(epochs=400, batch=16, lr=3e-3)
    hist = Trainer(cell, task, cfg).run()
    assert (hist["accuracy"][0] < 0.7).all()
    assert (hist["accuracy"][-20:].mean(0) > 0.9).all(), hist["accuracy"][-20:].mean(0)


def test_spectrum_diagnostics_and_shapes():
    cell = init_networks("vanilla", [1, 2], 10, batch=3)
    cfg = TrainConfig(
        epochs=4,
        batch=3,
        spectrum_every=2,
        spectrum_k=3,
        spectrum_steps=50,
        spectrum_transient=10,
        n_singular=4,
    )
    hist = Trainer(cell, TASK, cfg).run()
    assert hist["spectrum_epoch"].tolist() == [0, 2, 4]
    assert hist["lyapunov"].shape == (3, 2, 3)
    assert hist["grad_sv_J"].shape == (4, 2, 4)
    assert (np.diff(hist["grad_sv_J"], axis=-1) <= 0).all()


def test_history_owns_its_memory():
    """Every recorded epoch is a numpy copy: arrays viewing torch tensors kept 10^4 epochs of
    freed autograd memory pinned (8 GB at N = 80, T = 300; see Trainer.run)."""
    cell = init_networks("vanilla", [1, 2], 8, batch=4)
    trainer = Trainer(cell, TASK, TrainConfig(epochs=3, batch=4), None)
    trainer.run()
    for name, entries in trainer.hist.items():
        for entry in entries:
            if isinstance(entry, np.ndarray):
                assert entry.flags.owndata, name


def test_tasks_batched_equal_one_job_per_task():
    """Networks copied once per task (delays and orders differ, so does t0) train in one
    computation to the same numbers as one run per task (the batch_delays jobs), up to the
    rounding of batched float64 kernels, as in test_batched_equals_separate."""
    tasks = [Task(order=1, delay=2, steps=20), Task(order=0, delay=5, steps=20)]
    sched = Schedule(pre_epochs=0, every=2, epochs=2, max_episodes=1)
    fl = FlossingConfig(k=3, steps=10, transient=2)

    def run(cell, task):
        cfg = TrainConfig(epochs=5, batch=4, schedule=sched)
        return Trainer(cell, task, cfg, Flosser(cell, fl)).run()

    together = run(init_networks("vanilla", [1, 2] * 2, 10, batch=4, dtype=F64), tasks)
    for i, task in enumerate(tasks):
        alone = run(init_networks("vanilla", [1, 2], 10, batch=4, dtype=F64), task)
        for name in ("loss", "accuracy", "grad_sv_J", "flossing_loss"):
            got = together[name][:, 2 * i : 2 * i + 2]
            np.testing.assert_allclose(got, alone[name], rtol=1e-10, atol=1e-12, err_msg=name)
    with pytest.raises(ValueError, match="equal task groups"):
        Trainer(init_networks("vanilla", [1, 2, 3], 10, batch=4), tasks, TrainConfig(1, 4))


@pytest.mark.parametrize("model", ["vanilla", "binary", "gru", "lstm"])
@pytest.mark.parametrize("per_pass", [2, 4])
def test_passes_over_slices_of_networks_are_bitwise_one_pass(model, per_pass):
    """Trainer.networks_per_pass (the CPU's cache-sized passes) changes no bit: float32, two
    task groups of three networks, passes that end inside a group or span two."""
    tasks = [Task(order=1, delay=2, steps=20), Task(order=1, delay=4, steps=20)]
    cfg = TrainConfig(epochs=3, batch=4)
    results = []
    for n in (6, per_pass):
        cell = init_networks(model, list(range(6)), 12, gains=1.5, batch=4)
        hist = Trainer(cell, tasks, cfg, networks_per_pass=n).run()
        results.append((cell, hist))
    (one, h1), (sliced, h2) = results
    for name, p in one.param_dict().items():
        assert torch.equal(p, sliced.param_dict()[name]), name
    for name in ("loss", "accuracy", "grad_norm_x0", "grad_sv_J"):
        np.testing.assert_array_equal(h1[name], h2[name], err_msg=name)


def test_passes_cover_the_networks_in_slices_of_two_or_more():
    from floss.rnn.training import passes

    assert passes(6, 4) == [(0, 4), (4, 6)]
    assert passes(5, 2) == [(0, 2), (2, 5)]  # no pass of a single network
    assert passes(100, 20) == [(a, a + 20) for a in (0, 20, 40, 60, 80)]
    assert passes(5, 10) == [(0, 5)]
    assert passes(1, 20) == [(0, 1)]
    assert passes(4, 1) == [(0, 2), (2, 4)]  # at least two per pass


def test_default_pass_size_keeps_a_pass_tensor_under_the_mmap_threshold():
    from floss.rnn.training import CPU_PASS_BYTES, default_pass_size

    cell = init_networks("vanilla", [0, 1], 80)  # one (T, 1, B, D) tensor: 300 * 16 * 80 * 4 B
    assert default_pass_size(cell, 300, 16) == 20  # 20 * 1.536 MB <= 30 MB < 21 * 1.536 MB
    assert default_pass_size(cell.to_dtype(F64), 300, 16) == 10
    assert default_pass_size(cell, 10**6, 16) == 2  # never a pass of one network
    assert CPU_PASS_BYTES < 32 * 2**20  # glibc's largest dynamic mmap threshold
