"""GRU and LSTM cells batched over networks (docs/science.md §1.5 claim 7).

Equations follow PyTorch's nn.GRUCell / nn.LSTMCell (gate order r, z, n and i, f, g, o):

    GRU:  r = s(W_ir u + b_ir + W_hr h + b_hr),  z = s(W_iz u + b_iz + W_hz h + b_hz)
          n = tanh(W_in u + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) n + z h
    LSTM: [i, f, g, o] = [s, s, tanh, s](W_i u + b_i + W_h h + b_h)
          c' = f c + i g,  h' = o tanh(c')

The GRU state is h (D = N); the LSTM state is the concatenation [h, c] (D = 2N), so its
Lyapunov spectrum has 2N exponents. The readout is r = w_out h + c_out for both. Inputs are
not divided by S (standard equations; identical to the vanilla RNN's scaling for S = 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import torch

from floss.core import seeding
from floss.rnn.cells.base import Cell

_GATE_DIMS = {
    "W_ih": ("gate", "neuron", "input"),
    "W_hh": ("gate", "neuron", "neuron_pre"),
    "b_ih": ("gate", "neuron"),
    "b_hh": ("gate", "neuron"),
    "w_out": ("output", "neuron"),
    "c": ("output",),
}


class _Gated(Cell):
    flossed = ("W_ih", "W_hh", "b_ih", "b_hh")
    recurrent = "W_hh"
    gates: ClassVar[tuple[str, ...]]

    @property
    def n_inputs(self) -> int:
        return self.W_ih.shape[3]

    def _w_hh(self) -> torch.Tensor:
        return self.W_hh.flatten(1, 2)  # (M, G N, N)

    def readout(self, states):
        h = states[..., : self.n_neurons]
        return torch.einsum("...mbn,mrn->...mbr", h, self.w_out) + self.c[:, None, :]


class GRU(_Gated):
    model = "gru"
    gates = ("r", "z", "n")
    param_dims: ClassVar[dict[str, tuple[str, ...]]] = {**_GATE_DIMS, "x0": ("neuron", "batch")}

    def drive(self, inputs):
        ext = torch.einsum("...mbs,mgns->...mbgn", inputs.to(self.dtype), self.W_ih)
        return (ext + self.b_ih[:, None]).flatten(-2)  # (..., M, B, 3N)

    def _gates(self, gi, gh, h):
        n_ = self.n_neurons
        r = torch.sigmoid(gi[..., :n_] + gh[..., :n_])
        z = torch.sigmoid(gi[..., n_ : 2 * n_] + gh[..., n_ : 2 * n_])
        u = gh[..., 2 * n_ :]
        n = torch.tanh(gi[..., 2 * n_ :] + r * u)
        return r, z, u, n, n + z * (h - n)

    def step(self, state, drive):
        gh = torch.baddbmm(self.b_hh.flatten(1)[:, None, :], state, self._w_hh().transpose(1, 2))
        return self._gates(drive, gh, state)[-1]

    def tangent_step(self, state, drive, basis):
        n_ = self.n_neurons
        both = torch.bmm(self._w_hh(), torch.cat([state[:, :, None], basis], 2))
        gh = both[:, :, 0] + self.b_hh.flatten(1)
        wv = both[:, :, 1:]
        r, z, u, n, h_new = self._gates(drive, gh, state)
        dr = (r * (1 - r))[..., None] * wv[:, :n_]
        dz = (z * (1 - z))[..., None] * wv[:, n_ : 2 * n_]
        dn = (1 - n * n)[..., None] * (dr * u[..., None] + r[..., None] * wv[:, 2 * n_ :])
        dh = dz * (state - n)[..., None] + (1 - z)[..., None] * dn + z[..., None] * basis
        return h_new, dh


class LSTM(_Gated):
    model = "lstm"
    gates = ("i", "f", "g", "o")
    param_dims: ClassVar[dict[str, tuple[str, ...]]] = {**_GATE_DIMS, "x0": ("state", "batch")}

    def drive(self, inputs):
        ext = torch.einsum("...mbs,mgns->...mbgn", inputs.to(self.dtype), self.W_ih)
        return (ext + (self.b_ih + self.b_hh)[:, None]).flatten(-2)  # (..., M, B, 4N)

    def _act(self, a):
        n_ = self.n_neurons
        i, f, o = (torch.sigmoid(a[..., k * n_ : (k + 1) * n_]) for k in (0, 1, 3))
        g = torch.tanh(a[..., 2 * n_ : 3 * n_])
        return i, f, g, o

    def step(self, state, drive):
        h, c = state[..., : self.n_neurons], state[..., self.n_neurons :]
        i, f, g, o = self._act(torch.baddbmm(drive, h, self._w_hh().transpose(1, 2)))
        c_new = f * c + i * g
        return torch.cat([o * torch.tanh(c_new), c_new], -1)

    def tangent_step(self, state, drive, basis):
        n_ = self.n_neurons
        h, c = state[:, :n_], state[:, n_:]
        vh, vc = basis[:, :n_], basis[:, n_:]
        both = torch.bmm(self._w_hh(), torch.cat([h[:, :, None], vh], 2))
        i, f, g, o = self._act(both[:, :, 0] + drive)
        da = both[:, :, 1:]
        c_new = f * c + i * g
        tc = torch.tanh(c_new)
        dc = (
            (f * (1 - f) * c)[..., None] * da[:, n_ : 2 * n_]
            + f[..., None] * vc
            + (i * (1 - i) * g)[..., None] * da[:, :n_]
            + (i * (1 - g * g))[..., None] * da[:, 2 * n_ : 3 * n_]
        )
        dh = (o * (1 - o) * tc)[..., None] * da[:, 3 * n_ :] + (o * (1 - tc * tc))[..., None] * dc
        return torch.cat([o * tc, c_new], -1), torch.cat([dh, dc], 1)


GATED = {"gru": GRU, "lstm": LSTM}


def init_gated(
    model: str,
    seeds: Sequence[int],
    n_neurons: int,
    n_inputs: int = 1,
    n_outputs: int | None = None,
    gains: Sequence[float] | float = 1.0,
    batch: int = 16,
    relax_steps: int = 100,
    offset: float = 0.001,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
) -> Cell:
    """GRU or LSTM networks with PyTorch's default init: every weight and bias
    ~ U(-1/sqrt(N), 1/sqrt(N)); the recurrent weights W_hh are multiplied by the gain g
    (g = 1 is PyTorch's init); w_out ~ U(-1/sqrt(N), 1/sqrt(N)) as nn.Linear, c = offset.
    x0 as for the vanilla RNN: `relax_steps` input-free steps from N(0,1) noise."""
    if model not in GATED:
        raise ValueError(f"unknown gated model {model!r}; allowed: {sorted(GATED)}")
    cls = GATED[model]
    m, n_gates = len(seeds), len(cls.gates)
    n_outputs = n_inputs if n_outputs is None else n_outputs
    state = n_neurons * (2 if model == "lstm" else 1)
    g = np.broadcast_to(np.asarray(gains, dtype=np.float64), (m,)).copy()
    bound = 1 / np.sqrt(n_neurons)
    shapes = {
        "W_ih": (n_gates, n_neurons, n_inputs),
        "W_hh": (n_gates, n_neurons, n_neurons),
        "b_ih": (n_gates, n_neurons),
        "b_hh": (n_gates, n_neurons),
        "w_out": (n_outputs, n_neurons),
    }
    per: dict[str, list[torch.Tensor]] = {k: [] for k in (*shapes, "noise")}
    for seed, gain in zip(seeds, g):
        gen = seeding.generator(seed, "net")
        for name, shape in shapes.items():
            w = (2 * torch.rand(shape, generator=gen) - 1) * bound
            per[name].append(w * float(gain) if name == "W_hh" else w)
        per["noise"].append(torch.randn(state, batch, generator=seeding.generator(seed, "ic")))
    params = {k: torch.stack(v).to(dtype=dtype, device=device) for k, v in per.items()}
    noise = params.pop("noise")
    params["c"] = torch.full((m, n_outputs), offset, dtype=dtype, device=device)
    params["x0"] = torch.zeros_like(noise)
    meta = {"seed": np.asarray(seeds, dtype=np.int64), "gain": g}
    cell = cls(params, meta)
    with torch.no_grad():
        cell.x0.copy_(cell.relax_initial_state(noise, relax_steps))
    return cell
