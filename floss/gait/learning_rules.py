"""Learning rules BP, GAIT-prop and TP, and the orthogonality regulariser (docs/science.md §4.2).

Every rule maps one forward pass and the output target to per-layer updates
(dW_l, db_l) = (-mean_batch(u_{l-1}^T delta_l), -mean_batch(delta_l)), i.e. minus the
gradient of the batch-mean squared error for BP; the rules differ only in delta_l.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from floss.gait.layers import N_CLASSES, ExactInverse, InvNet

Updates = tuple[list[torch.Tensor], list[torch.Tensor]]
FORMS = ("target", "increment")


def output_target(y_out: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """One-hot labels on the first 10 units, the unit's own activity on the others."""
    onehot = torch.nn.functional.one_hot(labels, N_CLASSES).to(y_out.dtype)
    if onehot.dim() == 2:
        onehot = onehot.expand(y_out.shape[0], *onehot.shape)
    return torch.cat([onehot, y_out[..., N_CLASSES:]], -1)


def _local(net: InvNet, ys: list[torch.Tensor], l: int, delta: torch.Tensor, out: Updates):
    u = ys[l][..., : net.widths[l + 1]]
    out[0][l] = -torch.bmm(u.transpose(1, 2), delta) / delta.shape[1]
    out[1][l] = -delta.mean(1)


def _empty(net: InvNet) -> Updates:
    return [None] * net.n_layers, [None] * net.n_layers  # type: ignore[list-item]


def bp(net: InvNet, ys: list[torch.Tensor], target: torch.Tensor, **_) -> Updates:
    """Backpropagation: e_L = y_L - t, delta_l = e_l * D_l, e_{l-1} = delta_l W_l^T."""
    out = _empty(net)
    e = ys[-1] - target
    for l in range(net.n_layers - 1, -1, -1):
        delta = e * net.f_prime(ys[l + 1])
        _local(net, ys, l, delta, out)
        if l:
            e = torch.bmm(delta, net.weights[l].transpose(1, 2))
            e = torch.nn.functional.pad(e, (0, net.widths[l] - e.shape[-1]))
    return out


def gait(
    net: InvNet,
    ys: list[torch.Tensor],
    target: torch.Tensor,
    inverse: ExactInverse,
    gamma: float = 1e-3,
    form: str = "target",
    **_,
) -> Updates:
    """GAIT-prop: delta_l = s (y_l - tau_l) * D_l; the next target is the exact inverse of a
    step gamma D_l^2 from y_l toward tau_l, and s <- s / gamma.

    form 'target' computes tau_{l-1} as the reference does; the target's distance from the
    activity shrinks as gamma^(L-l), so deep nets at small gamma lose it to rounding.
    form 'increment' carries e_l = s (y_l - tau_l) instead, with the same mathematics:
    e_{l-1} = (s / gamma) (f^-1(y_l) - f^-1(y_l + h)) W_l^-1, h = -gamma D_l^2 e_l / s,
    where the difference of f^-1 is formed without cancellation (f^-1 is piecewise linear).
    """
    if form not in FORMS:
        raise ValueError(f"GAIT-prop form {form!r} not allowed; allowed: {list(FORMS)}")
    out = _empty(net)
    tau, s = target, 1.0
    e = ys[-1] - target
    for l in range(net.n_layers - 1, -1, -1):
        y = ys[l + 1]
        d = net.f_prime(y)
        if form == "target":
            e = s * (y - tau)
        _local(net, ys, l, e * d, out)
        if not l:
            break
        k = gamma * d * d
        below = ys[l]
        if form == "target":
            u = net.inverse_layer(l, (1.0 - k) * y + k * tau, inverse)
            tau = torch.cat([u, below[..., u.shape[-1] :]], -1)
        else:
            h = -k * e / s
            # f^-1(y + h) - f^-1(y): h / D where y + h stays on y's side of the kink
            diff = torch.where((y + h >= 0) == (y >= 0), h / d, net.f_inv(y + h) - net.f_inv(y))
            u = inverse.apply(net, l, diff) * (-s / gamma)
            e = torch.nn.functional.pad(u, (0, net.widths[l] - u.shape[-1]))
        s /= gamma
    return out


def tp(
    net: InvNet, ys: list[torch.Tensor], target: torch.Tensor, inverse: ExactInverse, **_
) -> Updates:
    """Target propagation with exact inverses: tau_{l-1} = inverse_l(tau_l),
    delta_l = (y_l - tau_l) * D_l."""
    out = _empty(net)
    tau = target
    for l in range(net.n_layers - 1, -1, -1):
        y = ys[l + 1]
        _local(net, ys, l, (y - tau) * net.f_prime(y), out)
        if l:
            u = net.inverse_layer(l, tau, inverse)
            tau = torch.cat([u, ys[l][..., u.shape[-1] :]], -1)
    return out


RULES: dict[str, Callable[..., Updates]] = {"bp": bp, "gait": gait, "tp": tp}


def updates(rule: str, net: InvNet, ys, target, inverse: ExactInverse, **kw) -> Updates:
    if rule not in RULES:
        raise ValueError(f"learning rule {rule!r} not allowed; allowed: {sorted(RULES)}")
    return RULES[rule](net, ys, target, inverse=inverse, **kw)


# --- orthogonality regulariser -------------------------------------------------------------------
def orth_penalty(w: torch.Tensor) -> torch.Tensor:
    """sum_ij (W W^T - diag(W W^T))_ij^2 per seed: only the off-diagonal of W W^T, so row
    norms are free (docs/science.md §4.2)."""
    m = torch.bmm(w, w.transpose(1, 2))
    return (m - torch.diag_embed(torch.diagonal(m, dim1=-2, dim2=-1))).square().sum((-2, -1))


def orth_grad(w: torch.Tensor) -> torch.Tensor:
    """d penalty / dW = 4 offdiag(W W^T) W (W W^T is symmetric)."""
    m = torch.bmm(w, w.transpose(1, 2))
    m = m - torch.diag_embed(torch.diagonal(m, dim1=-2, dim2=-1))
    return 4.0 * torch.bmm(m, w)


def cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Cosine between two (S, ...) update tensors, per seed."""
    a, b = a.flatten(1), b.flatten(1)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1)).clamp_min(torch.finfo(a.dtype).tiny)
