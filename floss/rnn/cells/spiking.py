"""Current-based leaky integrate-and-fire network with a surrogate gradient, docs/science.md §2.2.

    out_t     = Theta(mem_t - threshold)                       (surrogate sigma'_g backward)
    syn_{t+1} = alpha syn_t + W_in x_t + V out_t                alpha = exp(-dt / tau_syn)
    mem_{t+1} = (beta mem_t + (1 - beta) syn_{t+1}) (1 - out_t)  beta = exp(-dt / tau_mem)

The reset factor (1 - out_t) is detached (no gradient flows through it). The state is
[mem, syn] (D = 2N). The surrogate Jacobian of docs/science.md §2.2 ignores the reset:

    d mem'/d mem = beta I + (1 - beta) V diag(sigma'),  d mem'/d syn = (1 - beta) alpha I
    d syn'/d mem = V diag(sigma'),                     d syn'/d syn = alpha I

(meta reset_in_jacobian = True multiplies the mem rows by diag(1 - out_t) instead, which is the
autograd Jacobian of the detached-reset map). Inputs x_t are Poisson spike trains: Bernoulli
with probability `rate` per step (10 Hz at dt = 1 ms: 0.1). The readout is w_out mem + c.

Two surrogate sharpnesses, as in the reference script (MinimalSurrogateGradientFlossinExample.py
of the SurrogateGradientFlossing repository): sigma' of the Jacobian above uses
`jacobian_sharpness` (the script's g = 5 of its hand-written Jacobian), the backward pass of
the spike Theta (autograd: BPTT and the flossing gradient through the trajectory) uses
`backward_sharpness` (the script's SurrGradSpike.scale = 10).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import torch

from floss.core import seeding
from floss.rnn.cells.base import Cell
from floss.rnn.cells.binary import check_sharpness, heaviside, surrogate_derivative


class SpikingRNN(Cell):
    model = "spiking"
    param_dims: ClassVar[dict[str, tuple[str, ...]]] = {
        "W_in": ("neuron", "input"),
        "V": ("neuron", "neuron_pre"),
        "w_out": ("output", "neuron"),
        "c": ("output",),
        "x0": ("state", "batch"),
    }
    flossed = ("W_in", "V")  # the reference example flosses the input and recurrent weights
    recurrent = "V"
    meta_attrs: ClassVar[tuple[str, ...]] = (
        "jacobian_sharpness",
        "backward_sharpness",
        "threshold",
        "dt",
        "tau_mem",
        "tau_syn",
        "rate",
        "reset_in_jacobian",
    )
    DEFAULTS: ClassVar[dict[str, float]] = {
        "jacobian_sharpness": 5.0,  # reference script: sgprime(..., g = 5) in the Jacobian
        "backward_sharpness": 10.0,  # reference script: SurrGradSpike.scale = 10 (autograd)
        "threshold": 1.0,
        "dt": 1.0,
        "tau_mem": 10.0,
        "tau_syn": 5.0,
        "rate": 0.1,
    }

    def __init__(self, params, meta=None):
        super().__init__(params, meta)
        for key, value in self.DEFAULTS.items():
            self.meta[key] = float(self.meta.get(key, value))
        for key in ("jacobian_sharpness", "backward_sharpness"):
            self.meta[key] = check_sharpness(self.meta[key], key)
        self.meta["reset_in_jacobian"] = bool(self.meta.get("reset_in_jacobian", False))
        for key in ("dt", "tau_mem", "tau_syn"):
            if not self.meta[key] > 0:
                raise ValueError(f"{key} must be > 0, got {self.meta[key]}")
        if not 0 <= self.meta["rate"] <= 1:
            rate = self.meta["rate"]
            raise ValueError(f"input rate must be in [0, 1] (spikes per step), got {rate}")
        if self.state_size != 2 * self.n_neurons:
            raise ValueError(f"x0 must hold [mem, syn] (2N = {2 * self.n_neurons} rows)")

    @property
    def alpha(self) -> float:
        return math.exp(-self.meta["dt"] / self.meta["tau_syn"])

    @property
    def beta(self) -> float:
        return math.exp(-self.meta["dt"] / self.meta["tau_mem"])

    @property
    def n_inputs(self) -> int:
        return self.W_in.shape[2]

    def sample_inputs(
        self, steps: int, generators: Sequence[torch.Generator], batch: int = 1
    ) -> torch.Tensor:
        """Poisson input spikes (steps, M, batch, S), one CPU stream per network."""
        draws = [torch.rand(steps, batch, self.n_inputs, generator=g) for g in generators]
        return (torch.stack(draws, 1) < self.meta["rate"]).to(self.dtype)

    def drive(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.einsum("...mbs,mns->...mbn", inputs.to(self.dtype), self.W_in)

    def spikes(self, state: torch.Tensor) -> torch.Tensor:
        """out_t of states (..., 2N): exactly 0 or 1 (surrogate gradient at backward_sharpness)."""
        mem = state[..., : self.n_neurons]
        return heaviside(mem - self.meta["threshold"], self.meta["backward_sharpness"])

    def _update(self, state, drive, out, rec):
        """[mem', syn'] from the state, its spikes `out` and the recurrent input rec = V out."""
        n, a, b = self.n_neurons, self.alpha, self.beta
        syn_new = a * state[..., n:] + drive + rec
        mem_new = (b * state[..., :n] + (1 - b) * syn_new) * (1 - out.detach())
        return torch.cat([mem_new, syn_new], -1)

    def step(self, state: torch.Tensor, drive: torch.Tensor) -> torch.Tensor:
        out = self.spikes(state)
        return self._update(state, drive, out, torch.bmm(out, self.V.transpose(1, 2)))

    def tangent_step(self, state, drive, basis):
        n, a, b = self.n_neurons, self.alpha, self.beta
        out = self.spikes(state)
        mthr = state[:, :n] - self.meta["threshold"]
        dsig = surrogate_derivative(mthr, self.meta["jacobian_sharpness"])
        vm, vs = basis[:, :n], basis[:, n:]
        # one product for V out and V diag(sigma') V_mem
        both = torch.bmm(self.V, torch.cat([out[:, :, None], dsig[..., None] * vm], 2))
        dsyn = both[:, :, 1:] + a * vs
        dmem = b * vm + (1 - b) * dsyn
        if self.meta["reset_in_jacobian"]:
            dmem = dmem * (1 - out.detach())[..., None]
        return self._update(state, drive, out, both[:, :, 0]), torch.cat([dmem, dsyn], 1)

    def readout(self, states: torch.Tensor) -> torch.Tensor:
        mem = states[..., : self.n_neurons]
        return torch.einsum("...mbn,mrn->...mbr", mem, self.w_out) + self.c[:, None, :]


def _centred_rows(w: torch.Tensor) -> torch.Tensor:
    return w - w.mean(1, keepdim=True)


def init_spiking(
    seeds: Sequence[int],
    n_neurons: int = 64,
    n_inputs: int = 100,
    gains: Sequence[float] | float = 1.0,
    input_gain: float = 1.0,
    n_outputs: int = 1,
    batch: int = 1,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
    **meta,
) -> SpikingRNN:
    """The reference example's networks (docs/science.md §2.2): W_in ~ input_gain N(0,1)/sqrt(S) and
    V ~ g N(0,1)/sqrt(N), each with its row means removed; w_out ~ N(0,1)/sqrt(N) (not in
    the reference, which has no readout), c = 0; x0 = 0 (mem = syn = 0). `meta` sets
    jacobian_sharpness, backward_sharpness, threshold, dt, tau_mem, tau_syn, rate,
    reset_in_jacobian."""
    unknown = set(meta) - set(SpikingRNN.meta_attrs)
    if unknown:
        raise ValueError(
            f"unknown spiking options {sorted(unknown)}; allowed: {sorted(SpikingRNN.meta_attrs)}"
        )
    m = len(seeds)
    g = np.broadcast_to(np.asarray(gains, dtype=np.float64), (m,)).copy()
    per: dict[str, list[torch.Tensor]] = {k: [] for k in ("W_in", "V", "w_out")}
    for seed, gain in zip(seeds, g):
        gen = seeding.generator(seed, "net")
        w_in = torch.randn(n_neurons, n_inputs, generator=gen) / np.sqrt(n_inputs)
        per["W_in"].append(input_gain * _centred_rows(w_in))
        v = torch.randn(n_neurons, n_neurons, generator=gen) / np.sqrt(n_neurons)
        per["V"].append(float(gain) * _centred_rows(v))
        per["w_out"].append(torch.randn(n_outputs, n_neurons, generator=gen) / np.sqrt(n_neurons))
    params = {k: torch.stack(v).to(dtype=dtype, device=device) for k, v in per.items()}
    params["c"] = torch.zeros(m, n_outputs, dtype=dtype, device=device)
    params["x0"] = torch.zeros(m, 2 * n_neurons, batch, dtype=dtype, device=device)
    info = {"seed": np.asarray(seeds, dtype=np.int64), "gain": g}
    return SpikingRNN(params, {**info, **meta})
