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
    sort_descending,
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
    """lambda_i = lim (1/t) log sigma_i(T_t): at t = 400 the two agree to a few 1e-2, for
    lambda_1 and (now that every sigma_i is resolved, kappa ~ e^2000) for all ten."""
    cell = init_vanilla([1, 2], 10, gains=2.0, dtype=F64)
    drive = input_drive(cell, 400, "task")
    basis = initial_basis([1, 2], 10, 10, F64)
    with torch.no_grad():
        lam = spectrum(cell, drive, basis)
    logsv = long_term_jacobian_svals(cell, drive, [400])[:, 0]
    assert not torch.isnan(logsv[:, 0]).any()
    assert torch.allclose(lam[:, 0], logsv[:, 0] / 400, atol=0.03)
    assert torch.allclose(sort_descending(lam), logsv / 400, atol=0.03)


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
    """Where the explicit float64 product resolves sigma_i (> 1e-13 sigma_1, the old NaN
    threshold; below it the explicit SVD returns rounding noise), both agree to 1e-9."""
    cell = init_vanilla([1, 2], 8, gains=1.5, dtype=F64)
    drive = input_drive(cell, 20, "task")
    logsv = long_term_jacobian_svals(cell, drive, [1, 5, 20])
    assert torch.isfinite(logsv).all()
    with torch.no_grad():
        for i, t in enumerate([1, 5, 20]):
            sv = torch.linalg.svdvals(_explicit_product(cell, drive, t))
            ok = sv > 1e-13 * sv[:, :1]
            assert torch.allclose(logsv[:, i][ok], torch.log(sv)[ok], atol=1e-9)


def _tangent_factors(cell, drive, steps):
    """D_1..D_t (t, M, D, D) along the trajectory that long_term_jacobian_svals follows."""
    x, eye, out = cell.x0[:, :, 0].detach(), torch.eye(cell.state_size, dtype=F64), []
    with torch.no_grad():
        for n in range(steps):
            x_next, dn = cell.tangent_step(x, drive[n], eye.expand(cell.n_networks, -1, -1))
            out.append(dn)
            x = x_next
    return torch.stack(out)


def test_long_term_jacobian_against_high_precision():
    """Chaotic N = 16 networks (g = 2.5, lambda_1 > 0), t = 50: T_t in 300-digit arithmetic
    (mpmath), its singular values by mpmath's SVD. sigma_1/sigma_16 ~ e^400 here, far beyond
    float64 (an explicit float64 product resolves sigma_i/sigma_1 > ~1e-13 = e^-30 only).
    1e-3 in log sigma_i is far below what F4 resolves (it plots log10 sigma on a range of
    hundreds) and far above the rounding the method accumulates (~1e-9 measured here, eps
    times the conditioning of its row-scaled factor)."""
    import mpmath as mp  # a test dependency (pyproject.toml [test])

    cell = init_vanilla([1, 2], 16, gains=2.5, dtype=F64)
    steps, dps = 50, 300
    drive = input_drive(cell, steps, "task")
    assert (analysis_spectrum(cell, 1, 1000, 100, "task")[:, 0] > 0).all()  # chaotic
    logsv = long_term_jacobian_svals(cell, drive, [10, steps])
    factors = _tangent_factors(cell, drive, steps)
    with mp.workdps(dps):
        for m in range(cell.n_networks):
            prod = mp.eye(16)
            for n in range(steps):
                prod = mp.matrix(factors[n, m].tolist()) * prod
                if n + 1 in (10, steps):
                    sv = mp.svd_r(prod, compute_uv=False)
                    ref = torch.tensor([float(mp.log(v)) for v in sv], dtype=F64)
                    got = logsv[m, 0 if n + 1 == 10 else 1]
                    span = float(ref[0] - ref[-1])
                    assert span / math.log(10) + 30 < dps  # the reference resolves sigma_16
                    if n + 1 == steps:
                        assert span > 100
                    assert (got - ref).abs().max() < 1e-3, (n + 1, (got - ref).abs().max())


def test_long_term_jacobian_is_finite_and_exact_in_the_mean_at_n80():
    """N = 80 chaotic networks, t up to 200: every log sigma_i finite (the float64 explicit
    product leaves most of them unresolved past t ~ 10), descending, and their sum equals
    log|det T_t| = sum_n log|det D_n| (an identity that holds at any condition number)."""
    cell = init_vanilla([1, 2], 80, gains=2.5, dtype=F64)
    times = [1, 10, 50, 200]
    drive = input_drive(cell, 200, "task")
    logsv = long_term_jacobian_svals(cell, drive, times)
    assert logsv.shape == (2, 4, 80) and logsv.dtype == F64
    assert torch.isfinite(logsv).all()
    assert (logsv[..., :-1] >= logsv[..., 1:]).all()
    assert (logsv[:, -1, 0] - logsv[:, -1, -1] > 1000).all()  # kappa(T_200) > e^1000
    logdet = torch.linalg.slogdet(_tangent_factors(cell, drive, 200))[1].cumsum(0)
    for i, t in enumerate(times):
        assert torch.allclose(logsv[:, i].sum(-1), logdet[t - 1], rtol=1e-10, atol=1e-8)


def test_long_term_jacobian_of_a_symmetric_linear_map_with_clusters():
    """T_t = J^t for a linear network with J = O diag(mu) O^T: sigma_i = |mu_i|^t exactly. mu
    has a near-degenerate cluster (gaps 1e-3, as the flossed exponents near 0) beside
    well-separated values down to 0.05 (sigma_16 ~ e^-600 at t = 200)."""
    gen = torch.Generator().manual_seed(4)
    mu = torch.tensor(
        [
            1.05,
            1.0,
            0.999,
            0.998,
            0.997,
            -0.996,
            0.9,
            0.8,
            -0.8,
            0.5,
            0.4,
            0.3,
            0.2,
            0.1,
            0.07,
            0.05,
        ],
        dtype=F64,
    )
    o = torch.linalg.qr(torch.randn(2, 16, 16, generator=gen, dtype=F64))[0]
    cell = _linear(o @ torch.diag_embed(mu.expand(2, 16)) @ o.mT)
    times = [1, 3, 30, 200]
    logsv = long_term_jacobian_svals(cell, cell.zero_drive(200)[:, :, 0], times)
    expect = torch.log(mu.abs()).sort(descending=True).values
    for i, t in enumerate(times):
        assert torch.allclose(logsv[:, i], t * expect.expand(2, 16), atol=1e-8, rtol=0)


def test_long_term_jacobian_orthogonal_map_is_exactly_degenerate():
    gen = torch.Generator().manual_seed(5)
    gains = torch.tensor([0.5, 1.0, 1.3], dtype=F64)
    q = torch.linalg.qr(torch.randn(3, 20, 20, generator=gen, dtype=F64))[0]
    cell = _linear(gains[:, None, None] * q)
    logsv = long_term_jacobian_svals(cell, cell.zero_drive(150)[:, :, 0], [7, 150])
    expect = torch.log(gains)[:, None, None] * torch.tensor([7.0, 150.0], dtype=F64)[:, None]
    assert torch.allclose(logsv, expect.expand(3, 2, 20), atol=1e-10, rtol=0)


def test_long_term_jacobian_warns_when_not_decoupled():
    """With no refinement steps allowed, a product too wide for one dense SVD is finished as
    it stands, with a warning that states the error bound (not silently)."""
    from floss.rnn import lyapunov

    cell = init_vanilla([1], 16, gains=2.5, dtype=F64)
    drive = input_drive(cell, 50, "task")
    good = long_term_jacobian_svals(cell, drive, [50])
    factors = _tangent_factors(cell, drive, 50)
    with pytest.warns(lyapunov.SingularValueAccuracyWarning, match="error bound"):
        s = torch.zeros(1, 16, dtype=F64)
        w = torch.eye(16, dtype=F64)[None]
        q = w.clone()
        for n in range(50):
            q, r = torch.linalg.qr(factors[n] @ q)
            s, w = lyapunov._times_row_scaled(r, s, w)
        rough, bound = lyapunov.graded_log_svals(s, w, max_iter=0)
    assert torch.isfinite(rough).all() and bound.item() > lyapunov.SVD_TOL
    refined, bound = lyapunov.graded_log_svals(s, w)
    assert bound.item() <= lyapunov.SVD_TOL
    assert torch.allclose(refined, good[:, 0], atol=1e-9, rtol=0)  # D_n Q rounded apart
