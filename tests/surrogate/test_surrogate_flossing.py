"""Surrogate gradient flossing and training (docs/science.md §2.3): per-network Adam, masked
flossing, the flossing policies, and that flossing moves surrogate exponents to the target."""

import numpy as np
import pytest
import torch

from floss.rnn.cells.binary import init_binary
from floss.rnn.cells.spiking import init_spiking
from floss.rnn.flossing import FlossingConfig
from floss.rnn.optim import adam
from floss.rnn.tasks import Task
from floss.rnn.training import TrainConfig
from floss.surrogate.adam import NetworkAdam
from floss.surrogate.flossing import SurrogateFlosser
from floss.surrogate.spectrum import surrogate_spectrum
from floss.surrogate.training import FlossingPolicy, SurrogateTrainer

F64 = torch.float64
TASK = Task(order=1, delay=2, steps=20)


def test_network_adam_equals_torch_adam_when_all_networks_step():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(3, 4, 5, generator=gen, dtype=F64, requires_grad=True)
    b = a.detach().clone().requires_grad_()
    ours, ref = NetworkAdam([a], lr=1e-2), adam([b], lr=1e-2)
    for _ in range(5):
        g = torch.randn(3, 4, 5, generator=gen, dtype=F64)
        a.grad, b.grad = g.clone(), g.clone()
        ours.step()
        ref.step()
    # same formula; the bias corrections are per-network float64 tensors here: rounding only
    assert torch.allclose(a, b, atol=1e-14, rtol=0)
    assert ours.steps().tolist() == [5, 5, 5]


def test_masked_flossing_leaves_others_untouched_and_equals_flossing_alone():
    cfg = FlossingConfig(k=3, steps=20, lr=1e-2)
    together = init_binary([1, 2, 3], 10, batch=1, dtype=F64)
    before = {k: v.detach().clone() for k, v in together.param_dict().items()}
    flosser = SurrogateFlosser(together, cfg)
    out = flosser.run(3, active=torch.tensor([True, False, True]))
    assert np.isnan(out["loss"][:, 1]).all() and np.isfinite(out["loss"][:, [0, 2]]).all()
    for name, p in together.param_dict().items():
        assert torch.equal(p.detach()[1], before[name][1]), name
    assert flosser.network_steps.tolist() == [3, 0, 3]
    alone = init_binary([1, 3], 10, batch=1, dtype=F64)
    SurrogateFlosser(alone, cfg).run(3)
    for name, p in alone.param_dict().items():
        assert torch.allclose(together.param_dict()[name][[0, 2]], p, atol=1e-12, rtol=0), name


@pytest.mark.parametrize("model", ["binary", "spiking"])
def test_flossing_drives_surrogate_lambda1_to_zero(model):
    """Flossing lambda_1 (k = 1) toward 0 cuts |lambda_1| at least in half in 40 steps, on
    the flossing window and on a separate long no-grad spectrum (the binary start is ~ -0.7,
    the LIF start ~ +0.03 with g = 1, so this checks both directions)."""
    if model == "binary":
        cell = init_binary([1, 2], 40, batch=1, sharpness=1.0)
    else:
        cell = init_spiking([1, 2], 16, n_inputs=20)
    start = surrogate_spectrum(cell, 1, 600, 100)[:, 0]
    out = SurrogateFlosser(cell, FlossingConfig(k=1, steps=100, lr=5e-3)).run(40)
    end = surrogate_spectrum(cell, 1, 600, 100)[:, 0]
    window = out["exponents"][:, :, 0]
    assert (np.abs(window[-5:].mean(0)) < 0.5 * np.abs(window[:5].mean(0))).all()
    assert (end.abs() < 0.5 * start.abs()).all(), (start, end)


def _trainer(cell, policy, epochs=6):
    cfg = TrainConfig(epochs=epochs, batch=cell.batch_size, n_singular=0)
    flosser = SurrogateFlosser(cell, FlossingConfig(k=2, steps=15)) if policy.flosses else None
    return SurrogateTrainer(cell, TASK, cfg, policy, flosser)


def test_policies_floss_when_they_should():
    pol = dict(pre_epochs=1, every=2, epochs=2, max_episodes=2, check_steps=30, check_transient=5)
    # periodic: pre at 1, episodes at 2 and 4, none at 6 (Ni = 2), as floss.rnn.flossing.Schedule
    h = _trainer(init_binary([1, 2], 8, batch=2), FlossingPolicy("periodic", **pol)).run()
    assert h["flossed"][:, 0].tolist() == [1, 2, 0, 2, 0, 0]
    # adaptive, huge tolerance: lambda_1 never leaves the band, only preflossing
    wide = FlossingPolicy("adaptive", tolerance=100.0, **pol)
    h = _trainer(init_binary([1, 2], 8, batch=2), wide).run()
    assert h["flossed"].tolist() == [[1, 1]] + [[0, 0]] * 5
    assert h["check_epoch"].tolist() == [2, 4, 6] and np.isfinite(h["check_lambda1"]).all()
    # adaptive, tolerance below every |lambda_1|: every check triggers until Ni is used up
    tight = FlossingPolicy("adaptive", tolerance=1e-9, **pol)
    h = _trainer(init_binary([1, 2], 8, batch=2), tight).run()
    assert h["flossed"][:, 1].tolist() == [1, 2, 0, 2, 0, 0]
    # none: no flossing, and no flosser needed
    h = _trainer(init_binary([1, 2], 8, batch=2), FlossingPolicy("none")).run()
    assert not h["flossed"].any()


def test_adaptive_training_batched_equals_separate():
    """One network's adaptive run does not depend on the others in its batch (here the
    tolerance splits the two networks: one is flossed at the check, the other not)."""
    pol = FlossingPolicy(
        "adaptive", pre_epochs=0, every=2, epochs=2, check_steps=40, check_transient=5
    )
    probe = init_binary([1, 2], 8, batch=2, gains=[0.3, 2.5], dtype=F64)
    lam = surrogate_spectrum(probe, 1, 40, 5)[:, 0].abs()
    pol = FlossingPolicy(**{**pol.as_dict(), "tolerance": float(lam.mean())})
    together = init_binary([1, 2], 8, batch=2, gains=[0.3, 2.5], dtype=F64)
    h = _trainer(together, pol, epochs=3).run()
    assert h["flossed"][1].tolist() in ([2, 0], [0, 2])
    for m, (s, g) in enumerate([(1, 0.3), (2, 2.5)]):
        alone = init_binary([s], 8, batch=2, gains=g, dtype=F64)
        h1 = _trainer(alone, pol, epochs=3).run()
        np.testing.assert_allclose(h["loss"][:, m], h1["loss"][:, 0], rtol=1e-12)
        np.testing.assert_allclose(h["grad_norm_x0"][:, m], h1["grad_norm_x0"][:, 0], rtol=1e-10)
        assert torch.allclose(together.J[m], alone.J[0], atol=1e-12, rtol=0)


def test_surrogate_gradient_reaches_h0():
    """The Heaviside forward pass has zero derivative; the surrogate gradient dL/dh0 must not
    vanish, and with sigma' -> 0 (huge sharpness) it must."""
    for sharp, nonzero in ((1.0, True), (1e12, False)):
        h = _trainer(init_binary([1], 8, batch=2, sharpness=sharp), FlossingPolicy(), 1).run()
        assert (h["grad_norm_x0"][0, 0] > 1e-8) == nonzero
