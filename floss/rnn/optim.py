"""Optimiser helpers that keep networks independent inside one batched tensor.

torch's Adam is element-wise, so one Adam over (M, ...) parameters equals M separate Adams.
What is not element-wise is made per network here: gradient clipping and freezing of
networks that diverged.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def clip_per_network(params: Sequence[torch.Tensor], max_norm: float) -> None:
    """Scale each parameter's gradient of each network to norm <= max_norm, in place.

    The reference clips every parameter array separately (Flux ClipNorm), not globally.
    """
    for p in params:
        if p.grad is None:
            continue
        norm = p.grad.flatten(1).norm(dim=1)
        scale = torch.where(norm > max_norm, max_norm / norm, torch.ones_like(norm))
        p.grad.mul_(scale.view(-1, *([1] * (p.dim() - 1))))


def finite_per_network(params: Sequence[torch.Tensor], *values: torch.Tensor) -> torch.Tensor:
    """(M,) bool: every gradient entry and every given per-network value is finite."""
    ok = torch.ones(params[0].shape[0], dtype=torch.bool, device=params[0].device)
    for v in values:
        ok &= torch.isfinite(v)
    for p in params:
        if p.grad is not None:
            ok &= torch.isfinite(p.grad).flatten(1).all(1)
    return ok


def masked_step(
    optimizer: torch.optim.Optimizer, params: Sequence[torch.Tensor], alive: torch.Tensor
) -> None:
    """optimizer.step() that leaves the parameters of networks with alive == False unchanged."""
    if bool(alive.all()):
        optimizer.step()
        return
    dead = ~alive
    kept = [p.detach()[dead].clone() for p in params]
    for p in params:
        if p.grad is not None:
            p.grad[dead] = 0
    optimizer.step()
    with torch.no_grad():
        for p, k in zip(params, kept):
            p[dead] = k


def adam(params: Sequence[torch.Tensor], lr: float, betas=(0.9, 0.999), eps=1e-8):
    """The reference optimiser: Adam without weight decay (Flux ADAMW with decay 0).

    foreach=False keeps the arithmetic per parameter identical whatever the batch size."""
    return torch.optim.Adam(list(params), lr=lr, betas=tuple(betas), eps=eps, foreach=False)
