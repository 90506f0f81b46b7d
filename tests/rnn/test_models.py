"""Cells: maps against independent formulas, Jacobians against autograd and finite differences."""

import numpy as np
import pytest
import torch

from floss.core import seeding
from floss.rnn.cells import MODELS, Cell, concat, init_networks
from floss.rnn.cells.vanilla import init_vanilla

F64 = torch.float64


def _states(cell, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(cell.n_networks, cell.state_size, generator=gen, dtype=F64)
    bits = torch.randint(0, 2, (1, cell.n_networks, 1, cell.n_inputs), generator=gen).double()
    return x, cell.drive(bits)[0, :, 0]


@pytest.mark.parametrize("model", ["vanilla", "gru", "lstm"])
def test_jacobian_matches_autograd(model):
    cell = init_networks(model, [3, 4, 5], 7, n_inputs=2, dtype=F64)
    x, d = _states(cell)
    ours = cell.jacobian(x, d)
    for m in range(cell.n_networks):

        def f(s, m=m):
            return cell.step(s.view(1, 1, -1).expand(cell.n_networks, 1, -1), d[:, None])[m, 0]

        ref = torch.autograd.functional.jacobian(f, x[m])
        assert torch.allclose(ours[m], ref, atol=1e-13, rtol=0)


def test_vanilla_jacobian_is_preactivation_form():
    """D_t = J diag(tanh'(x_{t-1})), checked by central differences; the post-activation
    variant J diag(1 - tanh(tanh(x))^2) of a peer script is detectably different."""
    cell = init_vanilla([1, 2], 6, dtype=F64)
    x, d = _states(cell, 1)
    x = 1.5 * x
    eps = 1e-6
    fd = torch.zeros(2, 6, 6, dtype=F64)
    for j in range(6):
        e = torch.zeros(6, dtype=F64)
        e[j] = eps
        plus = cell.step((x + e)[:, None], d[:, None])[:, 0]
        minus = cell.step((x - e)[:, None], d[:, None])[:, 0]
        fd[:, :, j] = (plus - minus) / (2 * eps)
    ours = cell.jacobian(x, d)
    assert torch.allclose(ours, fd, atol=1e-8)
    explicit = cell.J.detach() * (1 - torch.tanh(x) ** 2)[:, None, :]
    assert torch.allclose(ours, explicit, atol=1e-14)
    wrong = cell.J.detach() * (1 - torch.tanh(torch.tanh(x)) ** 2)[:, None, :]
    assert (wrong - fd).abs().max() > 1e-2


def test_vanilla_step_formula():
    cell = init_vanilla([1, 2], 5, n_inputs=3, dtype=F64)
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(2, 4, 5, generator=gen, dtype=F64)
    s = torch.randint(0, 2, (2, 4, 3), generator=gen).double()
    out = cell.step(x, cell.drive(s[None])[0])
    J, W, b = cell.J.detach(), cell.W_in.detach(), cell.b.detach()
    for m in range(2):
        expect = torch.tanh(x[m]) @ J[m].T + b[m] + s[m] @ W[m].T / 3
        assert torch.allclose(out[m], expect, atol=1e-14)


@pytest.mark.parametrize("model", ["gru", "lstm"])
def test_gated_matches_torch_cells(model):
    """Same weights in torch.nn.GRUCell / LSTMCell give the same step."""
    n, s, b = 6, 2, 4
    cell = init_networks(model, [7, 8], n, n_inputs=s, dtype=F64)
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(2, b, cell.state_size, generator=gen, dtype=F64)
    u = torch.randn(2, b, s, generator=gen, dtype=F64)
    out = cell.step(x, cell.drive(u[None])[0])
    for m in range(2):
        ref = (torch.nn.GRUCell if model == "gru" else torch.nn.LSTMCell)(s, n).double()
        with torch.no_grad():
            ref.weight_ih.copy_(cell.W_ih[m].flatten(0, 1))
            ref.weight_hh.copy_(cell.W_hh[m].flatten(0, 1))
            ref.bias_ih.copy_(cell.b_ih[m].flatten())
            ref.bias_hh.copy_(cell.b_hh[m].flatten())
            if model == "gru":
                expect = ref(u[m], x[m])
            else:
                expect = torch.cat(ref(u[m], (x[m, :, :n], x[m, :, n:])), -1)
        assert torch.allclose(out[m], expect, atol=1e-13)


def test_init_distributions_and_relaxation():
    cell = init_vanilla(list(range(20)), 64, gains=0.8, batch=3, dtype=F64)
    J = cell.J.detach()
    assert J.std().item() == pytest.approx(0.8 / 8, rel=0.03)  # g / sqrt(N)
    assert cell.W_in.std().item() == pytest.approx(1.0, rel=0.1)
    assert 0 <= cell.b.min() and cell.b.max() <= 0.1
    assert torch.all(cell.c == 0.001)
    orth = init_vanilla([1, 2], 16, gains=[0.5, 2.0], coupling="orthogonal", dtype=F64)
    jj = orth.J.detach() @ orth.J.detach().transpose(1, 2)
    eye = torch.eye(16, dtype=F64)
    assert torch.allclose(jj, torch.tensor([0.25, 4.0], dtype=F64)[:, None, None] * eye, atol=1e-5)
    # x0 = 100 input-free steps x <- J tanh(x) + b from N(0,1) noise of the `ic` stream
    for m, seed in enumerate(cell.meta["seed"][:3]):
        x = torch.randn(64, 3, generator=seeding.generator(int(seed), "ic")).double()
        for _ in range(100):
            x = J[m] @ torch.tanh(x) + cell.b.detach()[m][:, None]
        assert torch.allclose(cell.x0.detach()[m], x, atol=1e-12)


def test_networks_independent_of_batching():
    together = init_networks("vanilla", [10, 11, 12], 8, gains=[0.5, 1.0, 1.5])
    alone = concat(
        [init_networks("vanilla", [s], 8, gains=g) for s, g in [(10, 0.5), (11, 1.0), (12, 1.5)]]
    )
    for name, p in together.param_dict().items():
        assert torch.equal(p, alone.param_dict()[name]), name
    np.testing.assert_array_equal(together.meta["gain"], [0.5, 1.0, 1.5])
    sub = together.select([2])
    assert torch.equal(sub.J, together.J[2:3])


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize(
    "model, options",
    [("vanilla", {"gains": 1.5}), ("vanilla", {"nonlinearity": "linear"}), ("binary", {})],
)
def test_vanilla_run_backward_is_autograds_bitwise(model, options, dtype):
    """VanillaRNN.run's written-out backward gives autograd's gradients of the step loop
    (Cell.run) bit for bit: BPTT results do not depend on which of the two ran."""

    def grads(run):
        cell = init_networks(model, [1, 2], 16, batch=4, dtype=dtype, **options)
        gen = torch.Generator().manual_seed(0)
        bits = torch.randint(0, 2, (30, 2, 4, 1), generator=gen)
        states = run(cell, cell.drive(bits))
        weight = torch.randn(states.shape, generator=gen, dtype=dtype)
        (torch.tanh(cell.readout(states)).sum() + (states * weight).sum()).backward()
        return {name: p.grad for name, p in cell.param_dict().items()}

    ours, ref = grads(MODELS[model].run), grads(Cell.run)
    assert all(torch.equal(ours[name], ref[name]) for name in ref), model
