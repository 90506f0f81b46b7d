"""Lyapunov spectra against the identities of docs/science.md §1.6."""

import math

import numpy as np
import pytest
import torch

from floss.rnn.cells import init_networks
from floss.rnn.cells.vanilla import VanillaRNN, init_vanilla
from floss.rnn.flossing import flossing_loss
from floss.rnn.lyapunov import (
    analysis_spectrum,
    initial_basis,
    input_drive,
    long_term_jacobian_svals,
    qr_schedule,
    spectrum,
)

F64 = torch.float64


def _explicit_product(cell, drive, steps):
    """T_t = D_t ... D_1 by dense float64 Jacobians (independent of tangent_step's basis path)."""
    x = cell.x0[:, :, 0].detach()
    prod = torch.eye(cell.state_size, dtype=F64).expand(cell.n_networks, -1, -1)
    for n in range(steps):
        prod = cell.jacobian(x, drive[n]) @ prod
        x = cell.step(x[:, None], drive[n][:, None])[:, 0]
    return prod


@pytest.mark.parametrize("model", ["vanilla", "gru", "lstm"])
def test_qr_exponents_equal_explicit_product(model):
    """Exact at finite t: t * lambda_i = log|R_ii| of qr(T_t Q_0)."""
    cell = init_networks(model, [1, 2, 3], 8, gains=1.5, dtype=F64)
    steps, k = 12, 5
    drive = input_drive(cell, steps, "task")
    basis = initial_basis([1, 2, 3], cell.state_size, k, F64)
    with torch.no_grad():
        lam = spectrum(cell, drive, basis)
        r = torch.linalg.qr(_explicit_product(cell, drive, steps) @ basis)[1]
    expect = torch.log(torch.diagonal(r, dim1=-2, dim2=-1).abs()) / steps
    # rounding of the explicit product grows with its condition number (~e^15 here): 1e-9
    assert torch.allclose(lam, expect, atol=1e-9, rtol=0)


def test_exponents_approach_singular_values_of_product():
    """lambda_1 = lim (1/t) log sigma_1(T_t): at t = 400 the two agree to a few 1e-2 (the
    smaller sigma_i fall below float64 resolution relative to sigma_1 and are NaN)."""
    cell = init_vanilla([1, 2], 10, gains=2.0, dtype=F64)
    drive = input_drive(cell, 400, "task")
    basis = initial_basis([1, 2], 10, 10, F64)
    with torch.no_grad():
        lam = spectrum(cell, drive, basis)
    logsv = long_term_jacobian_svals(cell, drive, [400])[:, 0]
    assert not torch.isnan(logsv[:, 0]).any()
    assert torch.allclose(lam[:, 0], logsv[:, 0] / 400, atol=0.03)


def _linear(j, b=None):
    m, n, _ = j.shape
    params = {
        "J": j,
        "W_in": torch.ones(m, n, 1, dtype=F64),
        "b": torch.zeros(m, n, dtype=F64) if b is None else b,
        "w_out": torch.ones(m, 1, n, dtype=F64),
        "c": torch.zeros(m, 1, dtype=F64),
        "x0": torch.ones(m, n, 1, dtype=F64),
    }
    return VanillaRNN(params, {"seed": np.arange(m), "nonlinearity": "linear"})


def test_orthogonal_linear_network_gives_log_g():
    gen = torch.Generator().manual_seed(0)
    gains = torch.tensor([0.3, 1.0, 1.7], dtype=F64)
    q = torch.linalg.qr(torch.randn(3, 12, 12, generator=gen, dtype=F64))[0]
    cell = _linear(gains[:, None, None] * q)
    lam = analysis_spectrum(cell, 12, 60, 5, "task")
    assert torch.allclose(lam, torch.log(gains)[:, None].expand(3, 12), atol=1e-12, rtol=0)


def test_linear_time_invariant_map_gives_log_abs_eigenvalues():
    gen = torch.Generator().manual_seed(1)
    n = 8
    # well-separated real moduli so that QR converges quickly: J = V diag(mu) V^-1
    mu = torch.tensor([1.6, -1.2, 0.9, 0.7, -0.5, 0.35, 0.2, 0.1], dtype=F64)
    v = torch.eye(n, dtype=F64) + 0.3 * torch.randn(2, n, n, generator=gen, dtype=F64)
    j = v @ torch.diag_embed(mu.expand(2, n)) @ torch.linalg.inv(v)
    cell = _linear(j)
    lam = analysis_spectrum(cell, n, 3000, 500, "zero")
    expect = torch.log(mu.abs())
    assert torch.allclose(lam, expect.expand(2, n), atol=1e-3)
    # the same with a random Gaussian J (complex pairs included), compared sorted
    j = torch.randn(2, n, n, generator=gen, dtype=F64) / math.sqrt(n)
    lam = analysis_spectrum(_linear(j), n, 4000, 500, "zero")
    eig = torch.log(torch.linalg.eigvals(j).abs()).sort(-1, descending=True).values
    assert torch.allclose(lam.sort(-1, descending=True).values, eig, atol=5e-3)


@pytest.mark.parametrize("model", ["vanilla", "gru", "lstm"])
def test_sum_of_exponents_is_mean_log_det(model):
    cell = init_networks(model, [4, 5], 6, gains=1.3, dtype=F64)
    steps, transient = 50, 10
    drive = input_drive(cell, steps, "task")
    basis = initial_basis([4, 5], cell.state_size, cell.state_size, F64)
    with torch.no_grad():
        lam = spectrum(cell, drive, basis, transient)
        x, logdet = cell.x0[:, :, 0], []
        for n in range(steps):
            logdet.append(torch.linalg.slogdet(cell.jacobian(x, drive[n]))[1])
            x = cell.step(x[:, None], drive[n][:, None])[:, 0]
    expect = torch.stack(logdet[transient:]).mean(0)
    assert torch.allclose(lam.sum(-1), expect, atol=1e-11, rtol=0)


def test_flossing_loss_gradient_matches_finite_differences():
    cell = init_vanilla([1, 2], 6, gains=1.2, dtype=F64)
    drive_bits = torch.randint(
        0, 2, (8, 2, 1, 1), generator=torch.Generator().manual_seed(3)
    ).double()
    basis = initial_basis([1, 2], 6, 3, F64)
    x0 = cell.x0[:, :, 0].detach()

    def loss(J, W_in, b):
        c = VanillaRNN(cell.param_dict(), cell.meta)
        for name, value in (("J", J), ("W_in", W_in), ("b", b)):  # plain tensors, for autograd
            del c._parameters[name]
            setattr(c, name, value)
        lam = spectrum(c, c.drive(drive_bits)[:, :, 0], basis, 2, x0=x0)
        return flossing_loss(lam, -0.2).sum()

    args = tuple(getattr(cell, n).detach().clone().requires_grad_() for n in ("J", "W_in", "b"))
    assert torch.autograd.gradcheck(loss, args, eps=1e-6, atol=1e-7, rtol=1e-5)


def test_interval_changes_nothing_in_exact_arithmetic():
    """QR every m steps gives the same exponents (a product of triangular factors)."""
    cell = init_vanilla([1, 2], 10, gains=1.5, dtype=F64)
    ref = analysis_spectrum(cell, 6, 203, 17, "task")
    for m in (2, 5, 10):
        assert torch.allclose(
            analysis_spectrum(cell, 6, 203, 17, "task", interval=m), ref, atol=1e-10
        )
    sched = qr_schedule(30, 7, 5)
    assert [n for n, q in enumerate(sched, 1) if q] == [5, 7, 12, 17, 22, 27, 30]


def test_float32_agrees_with_float64():
    cell = init_vanilla(list(range(4)), 80, gains=1.0)
    lam32 = analysis_spectrum(cell, 75, 310, 10, "task")
    lam64 = analysis_spectrum(cell, 75, 310, 10, "task", dtype=F64)
    assert (lam32.double() - lam64).abs().max() < 1e-3


def test_batched_equals_separate():
    cell = init_vanilla([5, 6, 7], 12, gains=[0.5, 1.0, 2.0], dtype=F64)
    lam = analysis_spectrum(cell, 4, 100, 10, "task")
    for m in range(3):
        alone = analysis_spectrum(cell.select([m]), 4, 100, 10, "task")
        assert torch.allclose(lam[m], alone[0], atol=1e-13, rtol=0)


def test_long_term_jacobian_matches_explicit_product():
    cell = init_vanilla([1, 2], 8, gains=1.5, dtype=F64)
    drive = input_drive(cell, 20, "task")
    logsv = long_term_jacobian_svals(cell, drive, [1, 5, 20])
    with torch.no_grad():
        for i, t in enumerate([1, 5, 20]):
            sv = torch.linalg.svdvals(_explicit_product(cell, drive, t))
            ok = ~torch.isnan(logsv[:, i])
            assert torch.allclose(logsv[:, i][ok], torch.log(sv)[ok], atol=1e-9)
