"""The QR factorisations: factors, sign conventions, gradients, fallback, use in spectra."""

import pytest
import torch

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
