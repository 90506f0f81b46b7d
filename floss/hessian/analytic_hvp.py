"""Hessian-vector products of the task loss of gradient-flossing RNNs (docs/science.md §1.1-1.2).

`task_loss` is the true loss of any Cell on a fixed batch, as a function of its parameters
(for `hvp.double_backward`): samples start from x0 column i mod B as `floss evaluate`, the BCE
window is t >= t0. It reads out step by step, since stacking the states makes each
double-backward pass fill a T-sized zero tensor per step (O(T^2) memory traffic).

`analytic` is the exact HVP of the vanilla cell's loss by Pearlmutter's R-operator written
out by hand: a tangent forward pass and a tangent adjoint pass around the stored forward and
adjoint trajectories, with everything that does not recur (the dJ, dW_in, db, dw_out terms
and the parameter sums) done as single large products over all steps. With x_t = J phi_{t-1}
+ d_t, r_t = w x_t + c, e_t = dL/dr_t, a_t = dL/dx_t and g_t = J^T a_{t+1}:
    x'_t = J (phi'_{t-1} x'_{t-1}) + dJ phi_{t-1} + d'_t
    e'_t = l''(r_t) (w x'_t + dw x_t + dc) / norm
    a'_t = w^T e'_t + dw^T e_t + phi''_t x'_t g_t + phi'_t (J^T a'_{t+1} + dJ^T a_{t+1})
    H v = (sum_t a'_t phi_{t-1}^T + a_t (phi'_{t-1} x'_{t-1})^T, sum_t a'_t s_t^T / S, ...).
It is tested against double backprop; K vectors per network share one pass.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from floss.hessian.hvp import Operator, Space
from floss.rnn.cells.base import Cell
from floss.rnn.cells.vanilla import VanillaRNN

NAMES = ("J", "W_in", "b", "w_out", "c", "x0")


def _columns(batch: int, columns: int, device) -> torch.Tensor:
    return torch.arange(batch, device=device) % columns


class _Loss(torch.nn.Module):
    """The task loss as a module around the cell, for torch.func.functional_call."""

    def __init__(self, cell: Cell, t0: int):
        super().__init__()
        self.cell, self.t0 = cell, t0

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        c, t0 = self.cell, self.t0
        m = c.x0.shape[0]
        x = c.x0[:, :, _columns(inputs.shape[1], c.x0.shape[2], c.x0.device)].transpose(1, 2)
        drive = c.drive(inputs[:, None].expand(-1, m, -1, -1))
        total = x.new_zeros(m)
        for t, (d, y) in enumerate(zip(drive.unbind(0), targets.unbind(0)), 1):
            x = c.step(x, d)
            if t >= t0:
                r = c.readout(x)
                per = F.binary_cross_entropy_with_logits(r, y.expand_as(r), reduction="none")
                total = total + per.sum((1, 2))
        window = inputs.shape[0] - t0 + 1
        return total / (inputs.shape[1] * window * targets.shape[-1])


def task_loss(cell: Cell, inputs: torch.Tensor, targets: torch.Tensor, t0: int):
    """loss(params) -> (M',) on a fixed batch: inputs, targets (T, B, S) shared by all
    networks, for any number M' of copies of the parameters."""
    module = _Loss(cell, t0)
    inputs, targets = inputs.to(cell.device, cell.dtype), targets.to(cell.device, cell.dtype)

    def loss(params: dict[str, torch.Tensor]) -> torch.Tensor:
        named = {f"cell.{k}": v for k, v in params.items()}
        return torch.func.functional_call(module, named, (inputs, targets))

    return loss


def _phi(cell: VanillaRNN, x: torch.Tensor):
    """phi, phi', phi'' of the pre-activation."""
    if cell.meta["nonlinearity"] == "linear":
        return x, torch.ones_like(x), torch.zeros_like(x)
    h = torch.tanh(x)
    d1 = 1 - h * h
    return h, d1, -2 * h * d1


def analytic(
    cell: VanillaRNN,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    t0: int,
    names: Sequence[str] = ("J",),
    block: int = 1,
) -> Operator:
    """Exact HVPs of `task_loss` over `names` (a subset of NAMES), `block` vectors per pass."""
    if cell.model != VanillaRNN.model:  # not its subclasses (the binary RNN)
        raise ValueError(f"the analytic HVP is for vanilla networks, not {cell.model}")
    params = {n: p.detach() for n, p in cell.param_dict().items()}
    space = Space.of(params, names)
    J, w, x0 = params["J"], params["w_out"], params["x0"]
    m, n, cols_x0 = x0.shape
    s = inputs.to(cell.device, cell.dtype)
    y = targets.to(cell.device, cell.dtype)
    steps, batch, n_in = s.shape
    cols = _columns(batch, cols_x0, cell.device)
    norm = batch * (steps - t0 + 1) * y.shape[-1]
    with torch.no_grad():
        # forward: x[0] is the start, x[t] the state after step t
        x = cell.run(cell.drive(s[:, None].expand(-1, m, -1, -1)), x0[:, :, cols].transpose(1, 2))
        x = torch.cat([x0[:, :, cols].transpose(1, 2)[None], x])
        ph, d1, d2 = _phi(cell, x)
        r = cell.readout(x[1:])
        sig = torch.sigmoid(r)
        mask = torch.zeros(steps, 1, 1, 1, dtype=cell.dtype, device=cell.device)
        mask[t0 - 1 :] = 1 / norm
        e = torch.cat([torch.zeros_like(r[:1]), (sig - y[:, None]) * mask])  # (T+1, M, B, R)
        curv = torch.cat([torch.zeros_like(r[:1]), sig * (1 - sig) * mask])
        a = torch.zeros_like(x)  # adjoint dL/dx_t; g[t] = J^T a_{t+1} = dL/dphi_t
        g = torch.zeros_like(x)
        ew = torch.einsum("tmbr,mrn->tmbn", e, w)
        a[steps] = ew[steps]
        for t in range(steps - 1, -1, -1):
            g[t] = torch.bmm(a[t + 1], J)
            a[t] = ew[t] + d1[t] * g[t]

    def apply(v: torch.Tensor) -> torch.Tensor:
        k = v.shape[1]
        tan = dict(zip(names, space.unflatten(v.reshape(m * k, -1))))
        z = {
            nm: tan[nm].reshape(m, k, *params[nm].shape[1:]) if nm in tan else None for nm in NAMES
        }
        # tangent forward
        u = torch.zeros(steps + 1, m, k, batch, n, dtype=v.dtype, device=v.device)
        if z["J"] is not None:
            u[1:] += torch.einsum("tmbq,mkpq->tmkbp", ph[:-1], z["J"])
        if z["W_in"] is not None:
            u[1:] += torch.einsum("tbs,mkns->tmkbn", s, z["W_in"]) / n_in
        if z["b"] is not None:
            u[1:] += z["b"][None, :, :, None]
        kb = k * batch
        # phi' repeated over the K vectors, which share the batch axis of the recursions
        d1k = d1[:, :, None].expand(-1, -1, k, -1, -1).reshape(steps + 1, m, kb, n)
        xs = [u.new_zeros(m, kb, n)]
        if z["x0"] is not None:
            xs[0] = z["x0"][..., cols].transpose(-1, -2).reshape(m, kb, n)
        jt, u = J.transpose(1, 2), u.contiguous()
        for t in range(1, steps + 1):
            xs.append(torch.baddbmm(u[t].reshape(m, kb, n), d1k[t - 1] * xs[-1], jt))
        xd = torch.stack(xs).view(steps + 1, m, k, batch, n)
        # tangent of the output error
        rd = torch.einsum("tmkbn,mrn->tmkbr", xd[1:], w)
        if z["w_out"] is not None:
            rd = rd + torch.einsum("tmbn,mkrn->tmkbr", x[1:], z["w_out"])
        if z["c"] is not None:
            rd = rd + z["c"][None, :, :, None]
        ed = torch.cat([torch.zeros_like(rd[:1]), curv[1:, :, None] * rd])
        # tangent adjoint
        vt = torch.einsum("tmkbr,mrn->tmkbn", ed, w) + d2[:, :, None] * xd * g[:, :, None]
        if z["w_out"] is not None:
            vt += torch.einsum("tmbr,mkrn->tmkbn", e, z["w_out"])
        if z["J"] is not None:
            vt[:-1] += d1[:-1, :, None] * torch.einsum("tmbp,mkpq->tmkbq", a[1:], z["J"])
        vt = vt.contiguous()
        ads = [vt[steps].reshape(m, kb, n)]
        for t in range(steps - 1, -1, -1):
            ads.append(torch.addcmul(vt[t].reshape(m, kb, n), d1k[t], torch.bmm(ads[-1], J)))
        ad = torch.stack(ads[::-1]).view(steps + 1, m, k, batch, n)
        out = {}
        if "J" in names:
            out["J"] = torch.einsum("tmkbp,tmbq->mkpq", ad[1:], ph[:-1]) + torch.einsum(
                "tmbp,tmkbq->mkpq", a[1:], d1[:-1, :, None] * xd[:-1]
            )
        if "W_in" in names:
            out["W_in"] = torch.einsum("tmkbn,tbs->mkns", ad[1:], s) / n_in
        if "b" in names:
            out["b"] = ad[1:].sum((0, 3))
        if "w_out" in names:
            out["w_out"] = torch.einsum("tmkbr,tmbn->mkrn", ed[1:], x[1:]) + torch.einsum(
                "tmbr,tmkbn->mkrn", e[1:], xd[1:]
            )
        if "c" in names:
            out["c"] = ed[1:].sum((0, 3))
        if "x0" in names:
            hx = torch.zeros(m, k, n, cols_x0, dtype=v.dtype, device=v.device)
            out["x0"] = hx.index_add_(3, cols, ad[0].transpose(-1, -2))
        return space.flatten([out[nm].reshape(m * k, -1) for nm in names]).reshape(m, k, -1)

    return Operator(apply, space, m, cell.dtype, cell.device, block=block)
