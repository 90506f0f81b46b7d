"""Accuracy of a numerical path of spectra and flossing (dtype, QR interval m, QR method)
against float64 with a QR every step: what tests/rnn/test_qr.py bounds and the benchmark
reports, computed once here.

A chaotic network's float32 and float64 trajectories part after a few dozen steps, so the
exponent reference is a float64 tangent recursion driven by the path's own states (only the
tangent arithmetic differs). The gradient reference is the float64 flossing gradient.
"""

from __future__ import annotations

import torch

from floss.rnn import qr as qr_methods
from floss.rnn.cells.base import Cell
from floss.rnn.flossing import Flosser, FlossingConfig
from floss.rnn.lyapunov import initial_basis, input_drive, qr_schedule

F64 = torch.float64


def _log_diag(r: torch.Tensor) -> torch.Tensor:
    return torch.log(torch.diagonal(r, dim1=-2, dim2=-1).abs()).to(F64)


@torch.no_grad()
def same_trajectory_spectra(
    cell: Cell, k: int, steps: int, transient: int, interval: int = 1, qr: str = "householder"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exponents (M, k), float64, of the cell's own recursion (its dtype, a QR every
    `interval` steps by `qr`; what analysis_spectrum computes with task input) and of a
    float64 recursion with a Householder QR every step along the same states."""
    c64, seeds = cell.to_dtype(F64), cell.meta["seed"]
    drive = input_drive(cell, steps, "task", seeds, stream="spectrum_input")
    drive64 = input_drive(c64, steps, "task", seeds, stream="spectrum_input")
    q64 = initial_basis(seeds, cell.state_size, k, F64, cell.device)
    q, x, factor = q64.to(cell.dtype), cell.x0[:, :, 0], qr_methods.get(qr)
    acc = torch.zeros(q64.shape[0], k, dtype=F64, device=cell.device)
    acc64 = torch.zeros_like(acc)
    schedule = qr_schedule(steps, transient, interval)
    for n, (d, d64, take_qr) in enumerate(zip(drive.unbind(0), drive64.unbind(0), schedule), 1):
        q64 = c64.tangent_step(x.to(F64), d64, q64)[1]
        x, q = cell.tangent_step(x, d, q)
        q64, r64 = qr_methods.householder(q64)
        if take_qr:
            q, r = factor(q)
        if n > transient:
            acc64 += _log_diag(r64)
            if take_qr:
                acc += _log_diag(r)
    return acc / (steps - transient), acc64 / (steps - transient)


def exponent_error(cell: Cell, k: int, steps: int, transient: int, **path) -> float:
    """Largest |lambda_i(path) - lambda_i(float64, QR every step)| over networks and the k
    exponents, along the same trajectory; `path`: interval, qr (the dtype is the cell's)."""
    lam, ref = same_trajectory_spectra(cell, k, steps, transient, **path)
    return float((lam - ref).abs().max())


def flossing_gradient(
    cell: Cell, k: int, steps: int, interval: int = 1, qr: str = "householder"
) -> torch.Tensor:
    """Gradient of the flossing loss of one step w.r.t. the flossed parameters, a row per
    network (M, P), float64 (the cell's gradients are left set)."""
    flosser = Flosser(cell, FlossingConfig(k=k, steps=steps, interval=interval, qr=qr))
    flosser._exponents()[1].sum().backward()
    return torch.cat([p.grad.flatten(1).to(F64) for p in flosser.params], 1)


def gradient_error(cell: Cell, k: int, steps: int, dtype=None, **path) -> float:
    """Largest relative error, over networks, of the flossing gradient of a copy of `cell`
    in `dtype` (default its own) on `path` (interval, qr) against float64 with a QR every
    step."""
    ref = flossing_gradient(cell.to_dtype(F64), k, steps)
    g = flossing_gradient(cell.to_dtype(dtype or cell.dtype), k, steps, **path)
    return float(((g - ref).norm(dim=1) / ref.norm(dim=1)).max())
