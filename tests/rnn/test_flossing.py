"""Flossing: claim 1 of docs/science.md §1.5, what it updates, Adam persistence and the schedule."""

import numpy as np
import pytest
import torch

from floss.flossing import stages
from floss.rnn.cells import init_networks
from floss.rnn.flossing import Flosser, FlossingConfig, Schedule, default_transient
from floss.rnn.lyapunov import analysis_spectrum


def test_reference_transient():
    assert default_transient(55) == 16  # 10 + ceil(55/10), docs/science.md §1.4


@pytest.mark.slow
def test_lambda1_control_claim1():
    """N = 32, 10 networks, g ~ U(0, 1), target -0.5, B = 1: after 100 flossing epochs every
    lambda_1 (long no-grad spectrum, 2000 steps) is within 0.1 of the target.

    The paper states neither this experiment's learning rate nor its Tp. We use lr 5e-3 (with
    1e-3 Adam moves each weight by at most ~0.1 in 100 steps, too little for g ~ 0.02
    networks) and Tp = 100 (with Tp = 55 the window estimate of lambda_1 is noisy enough that
    Adam's jitter leaves about one network in six just outside +-0.1 at epoch 100)."""
    gains = stages.gains_uniform(0, 1, 10, seed=1)
    cell = init_networks("vanilla", list(range(1, 11)), 32, gains=gains, batch=1)
    before = analysis_spectrum(cell, 1, 2000, 200, "task")[:, 0]
    assert (before + 0.5).abs().max() > 0.3  # the claim is not trivially true at init
    Flosser(cell, FlossingConfig(k=1, target=-0.5, lr=5e-3, steps=100)).run(100)
    after = analysis_spectrum(cell, 1, 2000, 200, "task")[:, 0]
    assert (after + 0.5).abs().max() < 0.1, after


def test_flossing_updates_only_flossed_parameters_and_persists_adam():
    cell = init_networks("vanilla", [1, 2], 10, gains=1.5, batch=1)
    frozen = {n: p.detach().clone() for n, p in cell.param_dict().items() if n not in cell.flossed}
    moved = {n: p.detach().clone() for n, p in cell.param_dict().items() if n in cell.flossed}
    cfg = FlossingConfig(k=4, steps=20)
    f = Flosser(cell, cfg)
    f.run(3)
    f.run(3)  # a second episode continues the same Adam state
    for n, p in frozen.items():
        assert torch.equal(getattr(cell, n), p), n
    for n, p in moved.items():
        assert not torch.equal(getattr(cell, n), p), n
    # the same six steps in one go
    cell2 = init_networks("vanilla", [1, 2], 10, gains=1.5, batch=1)
    Flosser(cell2, cfg).run(6)
    for n in cell.flossed:
        assert torch.equal(getattr(cell, n), getattr(cell2, n)), n


def test_adam_state_survives_a_file_round_trip():
    net = stages.init("vanilla", 1, 2, 10, gains=1.5, batch=1)
    cfg = FlossingConfig(k=3, steps=20)
    first = stages.floss(net, cfg, 4)
    resumed = stages.floss(first, cfg, 4)
    straight = stages.floss(net, cfg, 8)
    for n in ("J", "W_in", "b"):
        np.testing.assert_array_equal(resumed[n].values, straight[n].values)
    assert resumed.attrs["floss_adam_step"] == 8


def test_flossing_reduces_the_loss():
    cell = init_networks("vanilla", [3, 4, 5], 20, gains=0.4, batch=1)
    hist = Flosser(cell, FlossingConfig(k=5, steps=55, lr=1e-2)).run(60)
    assert (hist["loss"][:5].mean(0) > 0.5).all()  # exponents start far below 0
    assert (hist["loss"][-5:].mean(0) < 0.2 * hist["loss"][:5].mean(0)).all()


def test_schedule_matches_reference_loop():
    s = Schedule.named("pre-during", pre_epochs=500, every=100, epochs=50, max_episodes=2)
    done, plan = 0, {}
    for epoch in range(1, 501):
        n, during = s.flossing_before(epoch, done)
        done += during
        if n:
            plan[epoch] = n
    assert plan == {1: 500, 100: 50, 200: 50}
    assert Schedule.named("none").flossing_before(1, 0) == (0, False)
    assert Schedule.named("pre", pre_epochs=7).flossing_before(1, 0) == (7, False)
    with pytest.raises(ValueError, match="allowed"):
        Schedule.named("sometimes")


def test_k_is_validated():
    cell = init_networks("vanilla", [1], 5)
    with pytest.raises(ValueError, match="k must be in 1..5"):
        Flosser(cell, FlossingConfig(k=6))
