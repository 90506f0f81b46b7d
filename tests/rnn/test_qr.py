"""The QR factorisations: factors, sign conventions, gradients, fallback, use in spectra."""

import pytest
import torch

from floss.rnn.accuracy import gradient_error, same_trajectory_spectra
from floss.rnn.cells import init_networks
from floss.rnn.lyapunov import analysis_spectrum
from floss.rnn.qr import METHODS, cholesky, householder

F64 = torch.float64


@pytest.mark.parametrize("name", sorted(METHODS))
def test_factors(name):
    a = torch.randn(5, 12, 7, generator=torch.Generator().manual_seed(0), dtype=F64)
    q, r = METHODS[name](a)
    eye = torch.eye(7, dtype=F64)
    assert torch.allclose(q.mT @ q, eye.expand(5, 7, 7), atol=1e-13)
    assert torch.allclose(q @ r, a, atol=1e-13)
    assert torch.equal(r, torch.triu(r))
    ref = torch.linalg.qr(a)[1]
    d = torch.diagonal(r, dim1=-2, dim2=-1)
    assert torch.allclose(d.abs(), torch.diagonal(ref, dim1=-2, dim2=-1).abs(), rtol=1e-12)
    if name == "cholesky":
        assert (d > 0).all()


def _sign_invariant_loss(factor, a, w):
    q, r = factor(a)
    logdiag = torch.log(torch.diagonal(r, dim1=-2, dim2=-1).abs()).sum()
    return logdiag + ((q @ q.mT) * w).sum() + 0.3 * r.abs().sum()


def test_cholesky_gradient():
    gen = torch.Generator().manual_seed(1)
    a = torch.randn(3, 9, 5, generator=gen, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(cholesky, (a,))
    w = torch.randn(9, 9, generator=gen, dtype=F64)
    g_chol = torch.autograd.grad(_sign_invariant_loss(cholesky, a, w), a)[0]
    g_house = torch.autograd.grad(_sign_invariant_loss(householder, a, w), a)[0]
    assert torch.allclose(g_chol, g_house, atol=1e-12)


def test_cholesky_falls_back_on_singular_blocks():
    a = torch.randn(3, 8, 4, generator=torch.Generator().manual_seed(2), dtype=F64)
    a[1, :, 3] = 0  # rank deficient: the Gram matrix is singular
    q, r = cholesky(a)
    assert torch.isfinite(q).all() and torch.isfinite(r).all()
    assert torch.allclose(q @ r, a, atol=1e-13)
    assert torch.allclose(q[0], cholesky(a[[0]])[0][0], atol=1e-15)  # others unaffected


def test_spectra_agree_across_methods_and_with_float64():
    """Both QRs in float32 agree with a float64 spectrum to 1e-3 for every one of the k
    exponents (N = 80, k = 75, g = 1, task input, 310 steps)."""
    cell = init_networks("vanilla", [1, 2, 3], 80, gains=1.0)
    ref = analysis_spectrum(cell, 75, 310, 10, "task", dtype=F64)
    alt = analysis_spectrum(cell, 75, 310, 10, "task", dtype=F64, qr="cholesky")
    assert torch.allclose(alt, ref, atol=1e-11)
    for name in METHODS:
        lam = analysis_spectrum(cell, 75, 310, 10, "task", qr=name)
        assert (lam.double() - ref).abs().max() < 1e-3, name


def test_unknown_method():
    with pytest.raises(ValueError, match="allowed: \\['cholesky', 'householder'\\]"):
        analysis_spectrum(init_networks("vanilla", [1], 4), 2, 10, 1, qr="givens")


@pytest.mark.parametrize("gain", [1.5, 2.0])
def test_float32_exponents_at_the_chaotic_edge(gain):
    """Chaotic networks (g = 1.5, 2): every one of the k = 75 float32 exponents within 1e-3 of
    the float64 tangent recursion along the same trajectory (measured max 4e-5 / 2.7e-4), and
    the pipeline's float32 spectrum is that same recursion (to float32 rounding of the sums)."""
    cell = init_networks("vanilla", [1, 2, 3], 80, gains=gain)
    lam32, lam64 = same_trajectory_spectra(cell, 75, 310, 10)
    assert (lam32 - lam64).abs().max() < 1e-3
    ours = analysis_spectrum(cell, 75, 310, 10, "task")
    assert (ours.double() - lam32).abs().max() < 1e-5


@pytest.mark.parametrize("gain, float32_tol, interval_tol", [(1.0, 1e-2, 1e-6), (2.0, 5e-2, 1e-4)])
def test_flossing_gradient_accuracy(gain, float32_tol, interval_tol):
    """Relative error, per network, of the flossing-loss gradient (k = 75, Tp = 55, all flossed
    parameters) against float64: float32 within 1 % at g = 1 and 5 % at g = 2 (measured max
    0.5 % / 1.8 % over 10 networks: rounding amplified along the trajectory, so float64 is the
    choice where gradients must be exact), and float64 with a QR every 4 steps within 1e-6 / 1e-4
    (measured 3e-10 / 2.3e-5: four Jacobians of a chaotic network before one QR cost digits)."""
    cell = init_networks("vanilla", [1, 2, 3], 80, gains=gain)
    assert gradient_error(cell, 75, 55) < float32_tol
    assert gradient_error(cell, 75, 55, F64, interval=4) < interval_tol


@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_float64_interval_exponents(gain):
    """float64 with a QR every 4 steps: every exponent within 1e-5 of float64 with a QR every
    step (measured 7e-12 at g = 1, 5e-7 at g = 2), and the pipeline's spectrum is that path."""
    cell = init_networks("vanilla", [1, 2, 3], 80, gains=gain, dtype=F64)
    lam, ref = same_trajectory_spectra(cell, 75, 310, 10, interval=4)
    assert (lam - ref).abs().max() < 1e-5
    ours = analysis_spectrum(cell, 75, 310, 10, "task", interval=4)
    assert (ours - lam).abs().max() < 1e-12


def test_cholesky_backward_skips_the_k_cubed_product_for_a_diagonal_gr():
    """Losses of log|R_ii| give a diagonal gR; the adjoint then takes R diag(gR) (elementwise)
    instead of the dense R gR^T, k^3 multiply-adds per block fewer."""
    from torch.utils.flop_counter import FlopCounterMode

    a = torch.randn(4, 12, 10, generator=torch.Generator().manual_seed(3), requires_grad=True)

    def backward_flops(loss_of_r):
        q, r = cholesky(a)
        loss = (q * q.detach()).sum() + loss_of_r(r)
        with FlopCounterMode(display=False) as count:
            loss.backward()
        return count.get_total_flops()

    diagonal = backward_flops(lambda r: torch.log(torch.diagonal(r, dim1=-2, dim2=-1)).sum())
    dense = backward_flops(lambda r: r.square().sum())
    assert dense - diagonal == 2 * 4 * 10**3  # one 10 x 10 x 10 product per block
