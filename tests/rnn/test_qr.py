"""The QR factorisations: factors, sign conventions, gradients, fallback, use in spectra."""

import pytest
import torch

from floss.rnn.cells import init_networks
from floss.rnn.flossing import Flosser, FlossingConfig
from floss.rnn.lyapunov import analysis_spectrum, initial_basis, input_drive
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


def _same_trajectory_spectra(cell, k, steps, transient):
    """Exponents of the cell's own float32 recursion and of a float64 tangent recursion driven
    by the same float32 states: for a chaotic network the float32 and float64 trajectories part
    after a few dozen steps, so only this comparison isolates the tangent arithmetic."""
    c64 = cell.to_dtype(F64)
    seeds = cell.meta["seed"]
    drive32 = input_drive(cell, steps, "task", seeds, stream="spectrum_input")
    drive64 = input_drive(c64, steps, "task", seeds, stream="spectrum_input")
    q64 = initial_basis(seeds, cell.state_size, k, F64)
    q32 = q64.float()
    x = cell.x0[:, :, 0]
    acc64 = torch.zeros(q64.shape[0], k, dtype=F64)
    acc32 = torch.zeros_like(acc64)
    with torch.no_grad():
        for n in range(1, steps + 1):
            _, q64 = c64.tangent_step(x.double(), drive64[n - 1], q64)
            x, q32 = cell.tangent_step(x, drive32[n - 1], q32)
            (q64, r64), (q32, r32) = householder(q64), householder(q32)
            if n > transient:
                acc64 += torch.log(torch.diagonal(r64, dim1=-2, dim2=-1).abs())
                acc32 += torch.log(torch.diagonal(r32, dim1=-2, dim2=-1).abs()).double()
    return acc32 / (steps - transient), acc64 / (steps - transient)


@pytest.mark.parametrize("gain", [1.5, 2.0])
def test_float32_exponents_at_the_chaotic_edge(gain):
    """Chaotic networks (g = 1.5, 2): every one of the k = 75 float32 exponents within 1e-3 of
    the float64 tangent recursion along the same trajectory (measured max 4e-5 / 2.7e-4), and
    the pipeline's float32 spectrum is that same recursion (to float32 rounding of the sums)."""
    cell = init_networks("vanilla", [1, 2, 3], 80, gains=gain)
    lam32, lam64 = _same_trajectory_spectra(cell, 75, 310, 10)
    assert (lam32 - lam64).abs().max() < 1e-3
    ours = analysis_spectrum(cell, 75, 310, 10, "task")
    assert (ours.double() - lam32).abs().max() < 1e-5


def _flossing_gradient(cell, interval=1):
    flosser = Flosser(cell, FlossingConfig(k=75, steps=55, interval=interval))
    loss = flosser._exponents()[1]
    loss.sum().backward()
    return torch.cat([p.grad.flatten(1).double() for p in flosser.params], 1)


@pytest.mark.parametrize("gain, float32_tol, interval_tol", [(1.0, 1e-2, 1e-6), (2.0, 5e-2, 1e-4)])
def test_flossing_gradient_accuracy(gain, float32_tol, interval_tol):
    """Relative error, per network, of the flossing-loss gradient (k = 75, Tp = 55, all flossed
    parameters) against float64: float32 within 1 % at g = 1 and 5 % at g = 2 (measured max
    0.5 % / 1.8 % over 10 networks: rounding amplified along the trajectory, so float64 is the
    choice where gradients must be exact), and float64 with a QR every 4 steps within 1e-6 / 1e-4
    (measured 3e-10 / 2.3e-5: four Jacobians of a chaotic network before one QR cost digits)."""
    cell = init_networks("vanilla", [1, 2, 3], 80, gains=gain)
    ref = _flossing_gradient(cell.to_dtype(F64))

    def rel(g):
        return ((g - ref).norm(dim=1) / ref.norm(dim=1)).max()

    assert rel(_flossing_gradient(cell)) < float32_tol
    assert rel(_flossing_gradient(cell.to_dtype(F64), interval=4)) < interval_tol
