"""Vanilla rate RNN of the gradient-flossing paper, docs/science.md §1.1.

    x_t = J phi(x_{t-1}) + b + W_in s_t / S,   r_t = w_out x_t + c,   phi = tanh

The state is the pre-activation x. The state Jacobian is D_t = J diag(phi'(x_{t-1})); the
reference code writes diag(phi'(x_t)) J, which has the same exponents (docs/science.md §1.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import torch

from floss.core import seeding
from floss.rnn.cells.base import Cell

NONLINEARITIES = ("tanh", "linear")
COUPLINGS = ("gaussian", "orthogonal")


class VanillaRNN(Cell):
    model = "vanilla"
    param_dims: ClassVar[dict[str, tuple[str, ...]]] = {
        "J": ("neuron", "neuron_pre"),
        "W_in": ("neuron", "input"),
        "b": ("neuron",),
        "w_out": ("output", "neuron"),
        "c": ("output",),
        "x0": ("neuron", "batch"),
    }
    flossed = ("W_in", "J", "b")
    recurrent = "J"

    def __init__(self, params, meta=None):
        super().__init__(params, meta)
        self._check_meta()

    def _check_meta(self) -> None:
        nl = self.meta.setdefault("nonlinearity", "tanh")
        if nl not in NONLINEARITIES:
            raise ValueError(f"nonlinearity {nl!r} not allowed; allowed: {list(NONLINEARITIES)}")

    @property
    def n_inputs(self) -> int:
        return self.W_in.shape[2]

    def _activation(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x) if self.meta["nonlinearity"] == "tanh" else x

    def _phi(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """phi(x) and phi'(x)."""
        if self.meta["nonlinearity"] == "linear":
            return x, torch.ones_like(x)
        h = torch.tanh(x)
        return h, 1 - h * h

    def drive(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.n_inputs == 1:  # the same numbers as below, without a sum over S and a / 1
            return inputs.to(self.dtype) * self.W_in[:, None, :, 0] + self.b[:, None, :]
        ext = torch.einsum("...mbs,mns->...mbn", inputs.to(self.dtype), self.W_in)
        return ext / self.n_inputs + self.b[:, None, :]

    def _phi_grad(self, grad: torch.Tensor, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """grad of h = phi(x) pulled back to x, as autograd computes it for `_activation`."""
        if self.meta["nonlinearity"] == "linear":
            return grad
        return torch.ops.aten.tanh_backward(grad, h)

    def step(self, state: torch.Tensor, drive: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(drive, self._activation(state), self.J.transpose(1, 2))

    def run(self, drive: torch.Tensor, state: torch.Tensor | None = None) -> torch.Tensor:
        """As Cell.run; with gradients, by `_Recurrence` (no double backward)."""
        x = self.initial_state() if state is None else state
        if not torch.is_grad_enabled():
            return super().run(drive, x)
        return _Recurrence.apply(drive, x, self.J, self)

    def tangent_step(self, state, drive, basis):
        h, dphi = self._phi(state)
        # one product for the state and the tangent block: J [phi(x), diag(phi'(x)) V]
        both = torch.bmm(self.J, torch.cat([h[:, :, None], dphi[:, :, None] * basis], 2))
        return both[:, :, 0] + drive, both[:, :, 1:]

    def readout(self, states: torch.Tensor) -> torch.Tensor:
        return torch.einsum("...mbn,mrn->...mbr", states, self.w_out) + self.c[:, None, :]


class _Recurrence(torch.autograd.Function):
    """x_t = J phi(x_{t-1}) + d_t, t = 1..T, with autograd's backward of the step loop written
    out op for op and in its order (the same numbers, bitwise: tests/rnn/test_models.py) but
    without its ~5 graph nodes per step and its allocations and copies: a fresh M x D x D
    tensor per step for dL/dJ^T (here two buffers), the stack of the adjoints (here written
    in place), a time-major stack of the states that readout's product then copied to
    network-major (here written network-major). About 1.2x per network at M = 1 and 1.05x
    at M = 10 and 100 (docs/performance.md). First-order only."""

    @staticmethod
    def forward(ctx, drive, state, J, cell):
        xs = state.new_empty(state.shape[0], drive.shape[0], *state.shape[1:])
        hs, x, jt = [], state, J.transpose(1, 2)
        for t, dt in enumerate(drive.unbind(0)):
            hs.append(cell._activation(x))
            xs[:, t] = x = torch.baddbmm(dt, hs[-1], jt)
        ctx.cell = cell
        ctx.save_for_backward(state, J, xs, *hs)
        return xs.transpose(0, 1)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_states):
        state, J, states, *hs = ctx.saved_tensors  # hs: phi(x_{t-1})
        steps = grad_states.shape[0]
        xs = [state, *states[:, : steps - 1].unbind(1)]  # x_{t-1}
        adj = grad_states.new_empty(grad_states.shape)  # dL/dx_t = dL/dd_t, contiguous
        grad_jt, outer = torch.empty_like(J), torch.empty_like(J)
        a = grad_states[-1]
        for t in range(steps - 1, -1, -1):
            a = torch.add(grad_states[t], a, out=adj[t]) if t < steps - 1 else adj[t].copy_(a)
            if t == steps - 1:
                torch.bmm(hs[t].mT, a, out=grad_jt)
            else:  # not baddbmm_: its rounding differs from autograd's product-then-sum
                grad_jt += torch.bmm(hs[t].mT, a, out=outer)
            a = ctx.cell._phi_grad(torch.bmm(a, J), xs[t], hs[t])
        return adj, a, grad_jt.mT, None


def init_vanilla(
    seeds: Sequence[int],
    n_neurons: int,
    n_inputs: int = 1,
    n_outputs: int | None = None,
    gains: Sequence[float] | float = 1.0,
    gbar: float = 0.0,
    coupling: str = "gaussian",
    nonlinearity: str = "tanh",
    batch: int = 16,
    relax_steps: int = 100,
    input_std: float = 1.0,
    input_mean: float = 0.0,
    readout_std: float = 1.0,
    readout_mean: float = 0.0,
    bias_width: float = 0.1,
    bias_mean: float = 0.0,
    offset: float = 0.001,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
) -> VanillaRNN:
    """M = len(seeds) networks initialised as the reference (docs/science.md §1.1).

    W_in ~ input_std N(0,1) + input_mean (N x S), w_out ~ readout_std N(0,1) + readout_mean
    (R x N), b ~ bias_mean + bias_width U(0,1), c = offset, and J = g N(0,1)/sqrt(N) + gbar/N
    (gaussian) or g Q with Q from the QR of a Gaussian matrix (orthogonal, as the reference,
    without a sign correction). Draws are float32 from each network's `net` stream, in the
    reference's order; x0 is `relax_steps` input-free steps from N(0,1) noise (`ic` stream).
    """
    if coupling not in COUPLINGS:
        raise ValueError(f"coupling {coupling!r} not allowed; allowed: {list(COUPLINGS)}")
    m = len(seeds)
    n_outputs = n_inputs if n_outputs is None else n_outputs
    g = np.broadcast_to(np.asarray(gains, dtype=np.float64), (m,)).copy()
    per: dict[str, list[torch.Tensor]] = {k: [] for k in ("W_in", "w_out", "b", "J", "noise")}
    for seed, gain in zip(seeds, g):
        gen = seeding.generator(seed, "net")
        per["W_in"].append(input_std * torch.randn(n_neurons, n_inputs, generator=gen) + input_mean)
        per["w_out"].append(
            readout_std * torch.randn(n_outputs, n_neurons, generator=gen) + readout_mean
        )
        per["b"].append(bias_mean + bias_width * torch.rand(n_neurons, generator=gen))
        gauss = torch.randn(n_neurons, n_neurons, generator=gen) / np.sqrt(n_neurons)
        if coupling == "gaussian":
            per["J"].append(float(gain) * gauss + gbar / n_neurons)
        else:
            per["J"].append(float(gain) * torch.linalg.qr(gauss.double())[0].float())
        per["noise"].append(torch.randn(n_neurons, batch, generator=seeding.generator(seed, "ic")))
    params = {k: torch.stack(v).to(dtype=dtype, device=device) for k, v in per.items()}
    noise = params.pop("noise")
    params["c"] = torch.full((m, n_outputs), offset, dtype=dtype, device=device)
    params["x0"] = torch.zeros_like(noise)
    meta = {
        "seed": np.asarray(seeds, dtype=np.int64),
        "gain": g,
        "gbar": float(gbar),
        "coupling": coupling,
        "nonlinearity": nonlinearity,
    }
    cell = VanillaRNN(params, meta)
    with torch.no_grad():
        cell.x0.copy_(cell.relax_initial_state(noise, relax_steps))
    return cell
