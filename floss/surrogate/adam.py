"""Adam with a step count per network, for flossing only some of the batched networks.

torch's Adam keeps one step count per parameter tensor, so with a leading network axis every
network's bias correction advances whenever any network takes a step. Adaptive flossing
(docs/science.md §2.3) flosses only the networks whose lambda_1 left the target band; to keep each
network's run independent of the others in its batch, this Adam advances the moments, the
step count and the parameters of the networks in `mask` only. With every network active it
equals torch.optim.Adam (no weight decay, no amsgrad) up to rounding.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


class NetworkAdam(torch.optim.Optimizer):
    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        if lr <= 0 or eps < 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"invalid Adam settings lr={lr}, betas={betas}, eps={eps}")
        super().__init__(list(params), {"lr": lr, "betas": tuple(betas), "eps": eps})

    @torch.no_grad()
    def step(self, mask: torch.Tensor | None = None) -> None:  # type: ignore[override]
        """One Adam step for the networks with mask True (default: all)."""
        for group in self.param_groups:
            lr, eps = group["lr"], group["eps"]
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"] = torch.zeros(p.shape[0], dtype=torch.float64, device=p.device)
                    st["exp_avg"] = torch.zeros_like(p)
                    st["exp_avg_sq"] = torch.zeros_like(p)
                on = torch.ones(p.shape[0], dtype=torch.bool, device=p.device)
                if mask is not None:
                    on = mask.to(device=p.device, dtype=torch.bool)
                sel = on.view(-1, *([1] * (p.dim() - 1)))
                st["step"] += on.to(torch.float64)
                grad = p.grad
                m = st["exp_avg"].lerp(grad, 1 - b1)
                v = st["exp_avg_sq"].mul(b2).addcmul_(grad, grad, value=1 - b2)
                st["exp_avg"] = torch.where(sel, m, st["exp_avg"])
                st["exp_avg_sq"] = torch.where(sel, v, st["exp_avg_sq"])
                step = st["step"].clamp(min=1)  # bias corrections in float64, as torch's
                size = (lr / (1 - b1**step)).to(p.dtype).view_as(sel)
                bc2 = ((1 - b2**step) ** 0.5).to(p.dtype).view_as(sel)
                update = st["exp_avg"] / (st["exp_avg_sq"].sqrt() / bc2 + eps) * size
                p.sub_(torch.where(sel, update, torch.zeros_like(update)))

    def steps(self) -> torch.Tensor:
        """Steps taken by each network (M,), int64 (zeros before the first step)."""
        for group in self.param_groups:
            for p in group["params"]:
                if self.state.get(p):
                    return self.state[p]["step"].long()
        p = self.param_groups[0]["params"][0]
        return torch.zeros(p.shape[0], dtype=torch.long, device=p.device)
