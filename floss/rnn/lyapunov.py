"""Lyapunov spectra by the QR (Benettin) method, docs/science.md §1.4, batched over networks.

    Q_0 orthonormal (D x k);  for n = 1..T:  x_n = f(x_{n-1}, s_n);  Q_n R_n = qr(D_n Q_{n-1})
    lambda_i = sum_{n > transient} log|R_n,ii| / (T - transient)        (natural log per step)

With a re-orthonormalisation interval m > 1, m Jacobians are applied before one QR; a QR is
always taken at the end of the transient and at the last step, so exactly the steps after
the transient are accumulated. The exponents keep the QR order (not re-sorted).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch

from floss.core import seeding
from floss.rnn import qr as qr_methods
from floss.rnn.cells.base import Cell
from floss.rnn.tasks import bernoulli_inputs

INPUT_MODES = ("zero", "task")


def initial_basis(
    seeds: Sequence[int], state_size: int, k: int, dtype=torch.float32, device="cpu"
) -> torch.Tensor:
    """Orthonormal (M, D, k) from each network's `ons` stream (reference: qr(randn(N, k)))."""
    if not 1 <= k <= state_size:
        raise ValueError(f"k must be in 1..{state_size} (the state size), got {k}")
    blocks = [torch.randn(state_size, k, generator=seeding.generator(s, "ons")) for s in seeds]
    q = torch.linalg.qr(torch.stack(blocks).double())[0]
    return q.to(dtype=dtype, device=device)


def qr_schedule(steps: int, transient: int, interval: int = 1) -> list[bool]:
    """For n = 1..steps, whether a QR is taken after step n."""
    if interval < 1:
        raise ValueError(f"interval must be >= 1, got {interval}")
    if not 0 <= transient < steps:
        raise ValueError(f"transient must be in 0..steps-1 = {steps - 1}, got {transient}")
    out = []
    for n in range(1, steps + 1):
        if n > transient:
            out.append(n == steps or (n - transient) % interval == 0)
        else:
            out.append(n % interval == 0 or n == transient)
    return out


def spectrum(
    cell: Cell,
    drive: torch.Tensor,
    basis: torch.Tensor,
    transient: int = 0,
    x0: torch.Tensor | None = None,
    interval: int = 1,
    qr: str = "householder",
) -> torch.Tensor:
    """Lyapunov exponents (M, k) along the trajectory driven by `drive` (T, M, Dd).

    Differentiable (through QR) unless called under torch.no_grad(). x0 (M, D) defaults to
    the first column of the cell's initial states, basis is Q_0 (M, D, k). `qr` names the
    factorisation (`floss.rnn.qr.METHODS`; the reference's is householder).
    """
    factor = qr_methods.get(qr)
    x = cell.x0[:, :, 0] if x0 is None else x0
    q = basis.to(dtype=cell.dtype, device=cell.device)
    acc = torch.zeros(q.shape[0], q.shape[2], dtype=cell.dtype, device=cell.device)
    steps = drive.shape[0]
    # unbind once: indexing drive[n] per step would make each backward step allocate a
    # zero tensor the size of the whole drive
    for n, (d, take_qr) in enumerate(
        zip(drive.unbind(0), qr_schedule(steps, transient, interval)), 1
    ):
        x, q = cell.tangent_step(x, d, q)
        if take_qr:
            q, r = factor(q)
            if n > transient:
                acc = acc + torch.log(torch.abs(torch.diagonal(r, dim1=-2, dim2=-1)))
    return acc / (steps - transient)


def input_drive(
    cell: Cell, steps: int, mode: str, seeds: Sequence[int] | None = None, stream: str = "input"
) -> torch.Tensor:
    """Drive (steps, M, Dd) of one trajectory per network for input mode `zero` or `task`
    (Bernoulli(1/2) bits from each network's `stream`)."""
    if mode == "zero":
        return cell.zero_drive(steps)[:, :, 0]
    if mode == "task":
        seeds = cell.meta["seed"] if seeds is None else seeds
        bits = bernoulli_inputs(steps, cell.n_inputs, seeding.generators(seeds, stream))
        return cell.drive(bits.to(cell.device))[:, :, 0]
    raise ValueError(f"input mode {mode!r} not allowed; allowed: {list(INPUT_MODES)}")


@torch.no_grad()
def analysis_spectrum(
    cell: Cell,
    k: int,
    steps: int,
    transient: int,
    input_mode: str = "zero",
    dtype: torch.dtype | None = None,
    interval: int = 1,
    basis_seeds: Sequence[int] | None = None,
    qr: str = "householder",
) -> torch.Tensor:
    """No-grad spectrum (M, k) from x0[:, :, 0], optionally in another dtype (e.g. float64).

    Task inputs come from each network's `spectrum_input` stream and the basis from its
    `ons` stream (seeds default to the networks' own)."""
    c = cell if dtype in (None, cell.dtype) else cell.to_dtype(dtype)
    seeds = c.meta["seed"] if basis_seeds is None else basis_seeds
    drive = input_drive(c, steps, input_mode, seeds, stream="spectrum_input")
    basis = initial_basis(seeds, c.state_size, k, c.dtype, c.device)
    return spectrum(c, drive, basis, transient, interval=interval, qr=qr)


# --- long-term Jacobian: singular values of a product without forming it ---------------------

#: a-posteriori bound on the relative error of every sigma_i that the refinement aims for
SVD_TOL = 1e-10
#: widest log-range of a block handed to a dense float64 SVD: its smallest singular value
#: keeps a relative error ~ eps e^14 ~ 3e-10
SVD_MAX_SPAN = 14.0
#: cap on the zero-shift QR steps of the refinement. A block of n values wider than
#: SVD_MAX_SPAN has a gap >= SVD_MAX_SPAN / (n - 1) somewhere, which is cut after about
#: 25 / gap steps: a few hundred at most for D <= 160, usually tens
SVD_MAX_ITER = 1000
_EPS = float(torch.finfo(torch.float64).eps)


class SingularValueAccuracyWarning(RuntimeWarning):
    """The refinement of long_term_jacobian_svals stopped before its error bound held."""


def _upper(d: int, device) -> torch.Tensor:
    return torch.ones(d, d, dtype=torch.bool, device=device).triu()


def _row_normalise(a: torch.Tensor, log_scale: torch.Tensor):
    """diag(e^log_scale) a as (log row norms, rows of unit norm); a zero row is (-inf, e_i)."""
    nrm = torch.linalg.vector_norm(a, dim=-1)
    zero = nrm == 0
    eye = torch.eye(a.shape[-1], dtype=a.dtype, device=a.device)
    w = torch.where(zero[..., None], eye, a / torch.where(zero, 1.0, nrm)[..., None])
    s = torch.where(zero, -torch.inf, log_scale + torch.log(torch.where(zero, 1.0, nrm)))
    return s, w


def _times_row_scaled(r: torch.Tensor, s: torch.Tensor, w: torch.Tensor):
    """r diag(e^s) w for upper triangular r, as (s', w') with unit rows. Row i is scaled by
    max_{j >= i} s_j before the product, so every exponential is <= 1: nothing overflows."""
    e = torch.where(_upper(s.shape[-1], s.device), s[..., None, :], -torch.inf)
    m = e.amax(-1)
    m = torch.where(torch.isfinite(m), m, 0.0)
    return _row_normalise((r * torch.exp(e - m[..., None])) @ w, m)


def _sort_graded(s: torch.Tensor, w: torch.Tensor):
    """P diag(e^s) w P^T with s descending (the same singular values)."""
    order = torch.argsort(s, dim=-1, descending=True, stable=True)
    s = torch.gather(s, -1, order)
    w = torch.gather(w, -2, order[..., :, None].expand_as(w))
    return s, torch.gather(w, -1, order[..., None, :].expand_as(w))


def _graded_qr_step(s: torch.Tensor, w: torch.Tensor):
    """One zero-shift QR step on G = diag(e^s) w with s descending.

    G^T = w^T diag(e^s) = Q R diag(e^s) for w^T = Q R, so G and G' = R diag(e^s) have the same
    singular values; row i of G' is e^(s_i) R_ij e^(s_j - s_i) with e^(s_j - s_i) <= 1 for
    j >= i. Householder QR is columnwise backward stable, so the step moves each sigma_i by a
    relative ~ eps ||w^-1|| whatever the range of s. Coupling across a gap s_i - s_j shrinks
    by ~ e^-(s_i - s_j) per step."""
    r = torch.linalg.qr(w.mT, mode="r")[1]
    diff = s[..., None, :] - s[..., :, None]
    keep = _upper(s.shape[-1], s.device) & ~torch.isnan(diff)  # nan: two exactly zero rows
    a = r * torch.where(keep, torch.exp(torch.where(keep, diff, 0.0)), 0.0)
    return _row_normalise(a, torch.where(torch.isfinite(s), s, 0.0))


def _cut_energy(w: torch.Tensor) -> torch.Tensor:
    """sum of w_ij^2 over the two off-diagonal blocks of each cut b = 1..D-1 (between
    positions b-1 and b: i < b <= j or j < b <= i), shape (..., D-1)."""

    def upper_block(a):
        c = a.cumsum(-2)  # c[b-1, j] = sum_{i < b} a_ij
        return torch.diagonal(c.flip(-1).cumsum(-1).flip(-1), offset=1, dim1=-2, dim2=-1)

    a = w * w
    return upper_block(a) + upper_block(a.mT)


def _partition(s: torch.Tensor, w: torch.Tensor):
    """Blocks of G = diag(e^s) w (s descending) that can be treated separately.

    Setting w's off-block part dw to zero moves each sigma_i by a relative amount
    <= ||w^-1|| ||dw||; a cut is accepted where its off-block energy keeps the sum over all
    accepted cuts below SVD_TOL. Returns the block starts (..., D) (for each position, where
    its block starts), the relative error bound (...) of block SVDs (the coupling dropped
    plus eps e^span ||w^-1||) and the log range (...) of the widest block."""
    d = s.shape[-1]
    inv = 1.0 / torch.linalg.svdvals(w)[..., -1]
    energy = _cut_energy(w)
    cuts = energy * (inv * inv)[..., None] <= SVD_TOL**2 / max(d - 1, 1)
    coupling = inv * torch.sqrt((energy * cuts).sum(-1))
    starts = torch.cat([torch.ones_like(cuts[..., :1]), cuts], -1)
    pos = torch.arange(d, device=s.device).expand_as(s)
    first = torch.where(starts, pos, 0).cummax(-1).values
    span = torch.gather(s, -1, first) - s  # s sorted: the block's range ends at its last row
    span = torch.where(torch.isnan(span), 0.0, span).amax(-1)  # nan: blocks of exact zeros
    return first, coupling + _EPS * torch.exp(span.clamp(max=700.0)) * inv, span


def _block_log_svals(s: torch.Tensor, w: torch.Tensor, first: torch.Tensor) -> torch.Tensor:
    """log singular values of the block-diagonal part of diag(e^s) w, block by block (each a
    dense float64 SVD of the block scaled to its largest row), sorted descending."""
    out = s + torch.log(torch.diagonal(w, dim1=-2, dim2=-1).abs())  # 1 x 1 blocks
    d = s.shape[-1]
    pos = torch.arange(d, device=s.device)
    is_start = first == pos
    nxt = torch.where(is_start, pos, d).flip(-1).cummin(-1).values.flip(-1)  # next start >= i
    size = torch.cat([nxt[..., 1:], torch.full_like(nxt[..., :1], d)], -1) - pos
    size = torch.where(is_start, size, 0)
    for n in torch.unique(size[size > 1]).tolist():
        b, i0 = torch.nonzero(size == n, as_tuple=True)
        idx = i0[:, None] + torch.arange(n, device=s.device)
        top = s[b, i0]
        scale = torch.exp(s[b[:, None], idx] - torch.where(torch.isfinite(top), top, 0.0)[:, None])
        sub = w[b[:, None, None], idx[:, :, None], idx[:, None, :]] * scale[..., None]
        out[b[:, None], idx] = torch.log(torch.linalg.svdvals(sub)) + top[:, None]
    return torch.sort(out, -1, descending=True).values


def graded_log_svals(s: torch.Tensor, w: torch.Tensor, max_iter: int = SVD_MAX_ITER):
    """log singular values (..., D), descending, of G = diag(e^s) w given in row-scaled form
    (w well conditioned, s of any range), and the relative error bound of each matrix.

    Zero-shift QR steps (`_graded_qr_step`) decouple G into blocks, each narrower than
    SVD_MAX_SPAN in log scale, whose coupling moves no sigma_i by more than SVD_TOL
    (relative); each block then gets a dense SVD. Matrices that are not decoupled after
    `max_iter` steps are finished as they stand, with a SingularValueAccuracyWarning."""
    shape = s.shape
    s, w = _sort_graded(s.reshape(-1, shape[-1]).clone(), w.reshape(-1, *shape[-1:] * 2).clone())
    bound = torch.empty(s.shape[0], dtype=s.dtype, device=s.device)
    first = torch.empty_like(s, dtype=torch.long)
    active = torch.arange(s.shape[0], device=s.device)
    for it in range(max_iter + 1):
        f, err, span = _partition(s[active], w[active])
        done = (err <= SVD_TOL) & (span <= SVD_MAX_SPAN)
        if it == max_iter:
            done = torch.ones_like(done)
        idx = active[done]
        first[idx], bound[idx] = f[done], err[done]
        active = active[~done]
        if active.numel() == 0:
            break
        s[active], w[active] = _sort_graded(*_graded_qr_step(s[active], w[active]))
    worst = float(bound.max()) if bound.numel() else 0.0
    if worst > SVD_TOL:
        warnings.warn(
            f"long-term Jacobian: {int((bound > SVD_TOL).sum())} of {bound.numel()} products not "
            f"decoupled after {max_iter} QR steps; relative error bound of sigma_i up to "
            f"{worst:.1e}",
            SingularValueAccuracyWarning,
            stacklevel=3,
        )
    logs = _block_log_svals(s, w, first)
    return logs.reshape(shape), bound.reshape(shape[:-1])


@torch.no_grad()
def long_term_jacobian_svals(
    cell: Cell, drive: torch.Tensor, times: Sequence[int], x0: torch.Tensor | None = None
) -> torch.Tensor:
    """log singular values of T_t = D_t ... D_1 for each t in `times`: (M, len(times), D),
    float64, descending, finite (-inf only where T_t is exactly singular).

    T_t is never formed: its condition number leaves float64's range within tens of steps
    for chaotic networks. The QR sweep D_n Q_{n-1} = Q_n R_n (Q_0 = I) gives
    T_t = Q_t (R_t ... R_1), so T_t has the singular values of the triangular product, which
    is accumulated in row-scaled form diag(e^s) W (s: log row norms, W: unit rows; graded, so
    W stays well conditioned, cond ~1e2..1e8 for the networks here). For each wanted t,
    `graded_log_svals` runs zero-shift QR steps on that pair (the alternating product-SVD
    sweeps, done on the accumulated factor: the coupling across a gap of the spectrum shrinks
    by e^-gap per step) until the product splits into blocks narrower than e^14 whose
    neglected coupling moves no sigma_i by more than SVD_TOL (relative, an a-posteriori
    bound), and takes dense float64 SVDs of the blocks (the near-degenerate clusters, e.g.
    the flossed exponents near 0). All steps are scale-free: sigma_i keeps a relative
    accuracy ~ eps cond(W). Measured against 120..300-digit mpmath: <= 4e-10 in log sigma_i
    at N = 16, g = 2.5, t = 50 (kappa ~ e^400), <= 5e-8 at g = 3, t = 100 (kappa ~ e^990),
    7e-14 for a flossed N = 80 network at t = 50. A SingularValueAccuracyWarning says when
    the bound was not reached within SVD_MAX_ITER steps (the values are then still returned).

    Memory: O(M len(times) D^2) float64, the pairs (s, W) at the wanted times (the D_n are
    not stored): 10 networks, 9 times, D = 160 take 18 MB. Time on one CPU thread at D = 80
    and times up to 200: about 1 s for M = 4 and 2 s for M = 10 (half of it the sweep, one
    D x D QR per step and network; the explicit product took 0.1 s but resolved only
    sigma_i > 1e-13 sigma_1).
    """
    c = cell.to_dtype(torch.float64)
    x = c.x0[:, :, 0] if x0 is None else x0.to(torch.float64)
    m, d = c.n_networks, c.state_size
    wanted = sorted(set(int(t) for t in times))
    if not wanted:
        return torch.empty(m, 0, d, dtype=torch.float64, device=c.device)
    if wanted[0] < 1 or wanted[-1] > drive.shape[0]:
        raise ValueError(f"times must lie in 1..{drive.shape[0]}, got {wanted[0]}..{wanted[-1]}")
    q = torch.eye(d, dtype=torch.float64, device=c.device).expand(m, d, d).clone()
    s = torch.zeros(m, d, dtype=torch.float64, device=c.device)
    w = q.clone()
    snaps = {}
    for n in range(1, wanted[-1] + 1):
        x, q = c.tangent_step(x, drive[n - 1].to(torch.float64), q)
        q, r = torch.linalg.qr(q)
        s, w = _times_row_scaled(r, s, w)
        if n in wanted:
            snaps[n] = (s, w)
    logs, _ = graded_log_svals(
        torch.stack([snaps[t][0] for t in wanted], 1), torch.stack([snaps[t][1] for t in wanted], 1)
    )
    col = {t: i for i, t in enumerate(wanted)}
    return logs[:, [col[int(t)] for t in times]]


def sort_descending(exponents: torch.Tensor | np.ndarray):
    """Exponents sorted from largest to smallest along the last axis."""
    if isinstance(exponents, np.ndarray):
        return -np.sort(-exponents, axis=-1)
    return torch.sort(exponents, dim=-1, descending=True).values
