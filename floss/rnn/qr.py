"""Thin QR factorisations of batches of tall blocks, (..., D, k) with D >= k, differentiable.

`householder` is torch.linalg.qr (LAPACK, the reference's method). `cholesky` is a Cholesky
QR: R = chol(A^T A)^T with the Gram matrix and its factor in float64, Q = A R^{-1} by a
triangular solve in the working precision. At the sizes of flossing (80 x 75) LAPACK's
Householder QR runs at a few GFLOP/s, while the Cholesky QR is two matrix products and two
small factorisations. It gives the same Q and R up to the signs of Q's columns (log|R_ii|
and span Q are equal), differing only by rounding; blocks whose Gram matrix is not
numerically positive definite (rank-deficient A, kappa(A) > ~1e8) fall back to Householder.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

QR = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def householder(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.linalg.qr(a)


def _cholesky_factors(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Q, R of a Cholesky QR (R with a positive diagonal)."""
    wide = a.to(torch.float64)
    chol, info = torch.linalg.cholesky_ex(wide.mT @ wide)
    r = chol.mT.to(a.dtype)
    bad = (info != 0).view(*info.shape, 1, 1)
    if not bool(bad.any()):
        return torch.linalg.solve_triangular(r, a, upper=True, left=False), r
    # rare: a singular Gram matrix; take Householder's factors there, signed as Cholesky's
    qh, rh = torch.linalg.qr(a)
    sign = torch.where(torch.diagonal(rh, dim1=-2, dim2=-1) < 0, -1.0, 1.0).to(a.dtype)
    eye = torch.eye(r.shape[-1], dtype=r.dtype, device=r.device)
    q = torch.linalg.solve_triangular(torch.where(bad, eye, r), a, upper=True, left=False)
    return torch.where(bad, qh * sign[..., None, :], q), torch.where(bad, rh * sign[..., None], r)


class _CholeskyQR(torch.autograd.Function):
    """Forward by Cholesky QR; backward by the QR adjoint formula (the factorisation with a
    positive diagonal is unique, so its derivative does not depend on how it was computed):
        M = R gR^T - gQ^T Q,  gA = (gQ + Q copyltu(M)) R^-T,  copyltu(M) = tril(M) + tril(M, -1)^T
    """

    @staticmethod
    def forward(a):
        return _cholesky_factors(a)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*output)

    @staticmethod
    def backward(ctx, gq, gr):
        q, r = ctx.saved_tensors
        gq = torch.zeros_like(q) if gq is None else gq
        gr = torch.zeros_like(r) if gr is None else gr
        diag = torch.diagonal(gr, dim1=-2, dim2=-1)
        if torch.count_nonzero(gr) == torch.count_nonzero(diag):
            m = r * diag[..., None, :] - gq.mT @ q  # gR diagonal (losses of log|R_ii|): no product
        else:
            m = r @ gr.mT - gq.mT @ q
        # copyltu by masks: batched torch.tril is several times slower than a multiply here
        lower = torch.ones(m.shape[-2:], dtype=torch.bool, device=m.device).tril()
        low = m * lower
        sym = low + (low - torch.diag_embed(torch.diagonal(m, dim1=-2, dim2=-1))).mT
        return torch.linalg.solve_triangular(r.mT, gq + q @ sym, upper=False, left=False)


def cholesky(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Cholesky QR: Gram matrix and Cholesky factor in float64, Q = A R^-1 in a's dtype."""
    return _CholeskyQR.apply(a)


METHODS: dict[str, QR] = {"householder": householder, "cholesky": cholesky}


def get(name: str) -> QR:
    if name not in METHODS:
        raise ValueError(f"qr method {name!r} not allowed; allowed: {sorted(METHODS)}")
    return METHODS[name]
