"""Spectral estimates from Hessian-vector products, run in lockstep for M networks.

- `power_iteration`: the reference's leading-eigenvalue loop (docs/science.md §3.3): v0 ~ N(0,1)
  normalised, v <- Hv/||Hv||, lam = ||Hv||, stop when |lam_k - lam_{k-1}| <= tol (absolute)
  or after max_iter products. lam is the largest |eigenvalue| (sign lost, as the reference);
  the signed Rayleigh quotient <v, Hv> is kept beside it.
- `lanczos`: top-k algebraic eigenvalues (sign kept) with full re-orthogonalisation, with
  residuals |beta_m s_mi| (an eigenvalue of H lies within the residual of each Ritz value).
- `hutchinson`: trace as the mean of z^T H z over Rademacher probes, with its standard error.
- `slq`: stochastic Lanczos quadrature: per probe, Ritz nodes and weights (squared first
  components) of the Lanczos matrix started at z/||z||; `density` smooths them.
Random draws come from a CPU generator (the same numbers on CPU and CUDA).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from floss.hessian.hvp import Operator

Generators = torch.Generator | Sequence[torch.Generator]


def _draw(op: Operator, k: int, generator: Generators, kind: str = "normal") -> torch.Tensor:
    """(M, k, P) random vectors; with one generator per network, each network's own draw (so
    its result does not depend on which networks share the batch)."""
    gens = [generator] if isinstance(generator, torch.Generator) else list(generator)
    n = op.n_networks if len(gens) == 1 else 1
    if len(gens) not in (1, op.n_networks):
        raise ValueError(f"{len(gens)} generators for {op.n_networks} networks")
    shape = (n, k, op.size)
    parts = []
    for g in gens:
        if kind == "rademacher":
            parts.append(torch.randint(0, 2, shape, generator=g).to(op.dtype) * 2 - 1)
        else:
            parts.append(torch.randn(shape, generator=g, dtype=torch.float64).to(op.dtype))
    return torch.cat(parts).to(op.device)


@dataclass
class PowerResult:
    value: torch.Tensor  # (M,) ||Hv|| at the last product: the reference's lam
    rayleigh: torch.Tensor  # (M,) <v, Hv> of the last product (signed)
    iterations: torch.Tensor  # (M,) products used
    converged: torch.Tensor  # (M,) bool: |lam_k - lam_{k-1}| <= tol reached
    history: torch.Tensor  # (max iterations, M) lam at each product


def power_iteration(
    op: Operator, generator: Generators, tol: float = 1e-6, max_iter: int = 500
) -> PowerResult:
    v = _draw(op, 1, generator)[:, 0]
    v = v / v.norm(dim=1, keepdim=True)
    m = op.n_networks
    lam = torch.zeros(m, dtype=op.dtype, device=op.device)
    rq = torch.zeros_like(lam)
    active = torch.ones(m, dtype=torch.bool, device=op.device)
    iters = torch.zeros(m, dtype=torch.long, device=op.device)
    hist = []
    for _ in range(max_iter):
        hv = op(v[:, None])[:, 0]
        new = hv.norm(dim=1)
        delta = (new - lam).abs()
        rq = torch.where(active, (v * hv).sum(1), rq)
        lam = torch.where(active, new, lam)
        v = torch.where(active[:, None], hv / new.clamp_min(1e-300)[:, None], v)
        iters += active
        active &= delta > tol
        hist.append(lam.clone())
        if not bool(active.any()):
            break
    return PowerResult(lam, rq, iters, ~active, torch.stack(hist))


def _lanczos(op: Operator, start: torch.Tensor, steps: int, generator: Generators, stop=None):
    """Lanczos with full re-orthogonalisation from start (M, K, P), K runs per network.

    Returns alpha (M, K, n) and beta (M, K, n), n <= steps (fewer if `stop(alpha, beta)` on
    the prefix returns True): beta[..., j] couples q_j and q_{j+1}; the last one is the
    residual coefficient. On breakdown (an invariant subspace) the run
    continues from a fresh random vector orthogonal to the basis with beta = 0, so the
    tridiagonal matrix stays block diagonal with exact eigenvalues of H.
    """
    m, k, p = start.shape
    if steps > p:
        raise ValueError(f"Lanczos steps ({steps}) exceed the number of parameters ({p})")
    basis = start.new_zeros(m, k, steps, p)
    alpha = start.new_zeros(m, k, steps)
    beta = start.new_zeros(m, k, steps)
    q = start / start.norm(dim=-1, keepdim=True)
    prev = torch.zeros_like(q)
    for j in range(steps):
        basis[:, :, j] = q
        w = op(q)
        alpha[:, :, j] = (q * w).sum(-1)
        w = w - alpha[:, :, j, None] * q - (beta[:, :, j - 1, None] if j else 0) * prev
        q_all = basis[:, :, : j + 1]
        for _ in range(2):  # twice is enough (Kahan-Parlett)
            w = w - torch.einsum("mkjp,mkj->mkp", q_all, torch.einsum("mkjp,mkp->mkj", q_all, w))
        b = w.norm(dim=-1)
        scale = alpha[:, :, : j + 1].abs().amax(-1).clamp_min(1e-30)
        broken = b <= 1e-10 * scale
        if bool(broken.any()) and j + 1 < steps:
            fresh = _draw(op, k, generator)
            for _ in range(2):
                fresh = fresh - torch.einsum(
                    "mkjp,mkj->mkp", q_all, torch.einsum("mkjp,mkp->mkj", q_all, fresh)
                )
            w = torch.where(broken[..., None], fresh / fresh.norm(dim=-1, keepdim=True), w)
        beta[:, :, j] = torch.where(broken, torch.zeros_like(b), b)
        prev, q = q, torch.where(broken[..., None], w, w / b.clamp_min(1e-300)[..., None])
        if stop is not None and stop(alpha[..., : j + 1], beta[..., : j + 1]):
            return alpha[..., : j + 1], beta[..., : j + 1]
    return alpha, beta


def _ritz(alpha: torch.Tensor, beta: torch.Tensor):
    """Eigenvalues (ascending) and eigenvectors of the tridiagonal matrices, in float64."""
    a, b = alpha.double(), beta[..., :-1].double()
    t = torch.diag_embed(a) + torch.diag_embed(b, 1) + torch.diag_embed(b, -1)
    return torch.linalg.eigh(t)


@dataclass
class LanczosResult:
    values: torch.Tensor  # (M, k) top-k algebraic eigenvalues, descending
    residuals: torch.Tensor  # (M, k) |beta_m s_mi|
    iterations: torch.Tensor  # (M,) products until every top-k residual <= tol |lambda_1|


def lanczos(
    op: Operator,
    k: int,
    generator: Generators,
    max_iter: int = 100,
    tol: float = 1e-6,
    check_every: int = 5,
) -> LanczosResult:
    """Top-k eigenvalues; runs until every network's top-k residuals are <= tol |lambda_1|
    (checked every `check_every` products) or max_iter (at most P) products."""
    steps = min(max_iter, op.size)
    if not 1 <= k <= steps:
        raise ValueError(f"top-k: k must be in 1..{steps} (Lanczos steps), got {k}")
    m = op.n_networks
    done_at = torch.full((m,), -1, dtype=torch.long)

    def converged(alpha: torch.Tensor, beta: torch.Tensor) -> bool:
        n = alpha.shape[-1]
        if n < k or (n % check_every and n < steps):
            return False
        values, residuals = _top(alpha[:, 0], beta[:, 0], k)
        ok = (residuals <= tol * values[:, :1].abs().clamp_min(1e-30)).all(1)
        # after a breakdown, repeated eigenvalues can be missing from the top-k: run on
        ok = (ok & (beta[:, 0] != 0).all(-1)).cpu()
        done_at[ok & (done_at < 0)] = n
        return bool(ok.all())

    alpha, beta = _lanczos(op, _draw(op, 1, generator), steps, generator, converged)
    values, residuals = _top(alpha[:, 0], beta[:, 0], k)
    done_at[done_at < 0] = alpha.shape[-1]
    return LanczosResult(values.to(op.dtype), residuals.to(op.dtype), done_at)


def _top(alpha: torch.Tensor, beta: torch.Tensor, k: int):
    theta, s = _ritz(alpha, beta)
    res = (beta[..., -1, None].double() * s[..., -1, :]).abs()
    order = torch.argsort(theta, dim=-1, descending=True)[..., :k]
    return torch.gather(theta, -1, order), torch.gather(res, -1, order)


def hutchinson(
    op: Operator, n_probes: int, generator: Generators
) -> tuple[torch.Tensor, torch.Tensor]:
    """Trace estimate (M,) and its standard error (M,) from Rademacher probes."""
    if n_probes < 2:
        raise ValueError(f"Hutchinson needs >= 2 probes for an error bar, got {n_probes}")
    z = _draw(op, n_probes, generator, "rademacher")
    samples = (z * op(z)).sum(-1)
    return samples.mean(1), samples.std(1) / n_probes**0.5


@dataclass
class Quadrature:
    nodes: torch.Tensor  # (M, probes, steps) Ritz values
    weights: torch.Tensor  # (M, probes, steps) squared first components; sum to 1 per probe

    def moment(self, p: int) -> torch.Tensor:
        """Estimate of tr(H^p) / P, (M,)."""
        return (self.weights * self.nodes**p).sum(-1).mean(-1)

    def density(self, grid: np.ndarray | torch.Tensor, sigma: float) -> torch.Tensor:
        """Spectral density on `grid` (M, G): Gaussians of width sigma at the nodes."""
        x = torch.as_tensor(grid, dtype=torch.float64)
        d = (x - self.nodes.double().cpu()[..., None]) / sigma
        g = torch.exp(-0.5 * d**2) / (sigma * (2 * np.pi) ** 0.5)
        return (self.weights.double().cpu()[..., None] * g).sum(-2).mean(-2)


def slq(op: Operator, n_probes: int, steps: int, generator: Generators) -> Quadrature:
    """Stochastic Lanczos quadrature with `steps` Lanczos steps per Rademacher probe."""
    z = _draw(op, n_probes, generator, "rademacher")
    alpha, beta = _lanczos(op, z, min(steps, op.size), generator)
    theta, s = _ritz(alpha, beta)
    return Quadrature(theta, s[..., 0, :] ** 2)
