"""Lyapunov spectra by the QR (Benettin) method, docs/science.md §1.4, batched over networks.

    Q_0 orthonormal (D x k);  for n = 1..T:  x_n = f(x_{n-1}, s_n);  Q_n R_n = qr(D_n Q_{n-1})
    lambda_i = sum_{n > transient} log|R_n,ii| / (T - transient)        (natural log per step)

With a re-orthonormalisation interval m > 1, m Jacobians are applied before one QR; a QR is
always taken at the end of the transient and at the last step, so exactly the steps after
the transient are accumulated. The exponents keep the QR order (not re-sorted).
"""

from __future__ import annotations

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


@torch.no_grad()
def long_term_jacobian_svals(
    cell: Cell, drive: torch.Tensor, times: Sequence[int], x0: torch.Tensor | None = None
) -> torch.Tensor:
    """log singular values of T_t = D_t ... D_1 for each t in `times`: (M, len(times), D).

    Float64 explicit product with a running scalar rescale (so T_t never overflows). Values
    below the float64 resolution of the SVD (sigma_i < 1e-13 sigma_1) are NaN, not noise.
    """
    c = cell.to_dtype(torch.float64)
    x = c.x0[:, :, 0] if x0 is None else x0.to(torch.float64)
    m, d = c.n_networks, c.state_size
    p = torch.eye(d, dtype=torch.float64, device=c.device).expand(m, d, d).clone()
    log_scale = torch.zeros(m, dtype=torch.float64, device=c.device)
    wanted, out = sorted(set(int(t) for t in times)), {}
    if wanted and (wanted[0] < 1 or wanted[-1] > drive.shape[0]):
        raise ValueError(f"times must lie in 1..{drive.shape[0]}, got {wanted[0]}..{wanted[-1]}")
    for n in range(1, (wanted[-1] if wanted else 0) + 1):
        x, p = c.tangent_step(x, drive[n - 1].to(torch.float64), p)
        scale = p.abs().amax((1, 2))
        p = p / scale[:, None, None]
        log_scale = log_scale + torch.log(scale)
        if n in wanted:
            sv = torch.linalg.svdvals(p)
            logs = torch.log(sv) + log_scale[:, None]
            out[n] = torch.where(sv > 1e-13 * sv[:, :1], logs, torch.nan)
    return torch.stack([out[t] for t in times], 1) if times else torch.empty(m, 0, d)


def sort_descending(exponents: torch.Tensor | np.ndarray):
    """Exponents sorted from largest to smallest along the last axis."""
    if isinstance(exponents, np.ndarray):
        return -np.sort(-exponents, axis=-1)
    return torch.sort(exponents, dim=-1, descending=True).values
