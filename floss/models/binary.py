"""Binary RNN trained with a surrogate gradient, SPEC §2.1 (surrogate gradient flossing).

    x_t = J Theta(x_{t-1}) + b + W_in s_t / S,   r_t = w_out x_t + c

The forward pass uses the Heaviside step Theta (states are exactly binary after the step);
the backward pass and the Jacobians use the surrogate derivative (SuperSpike form)

    sigma'_g(x) = 1 / (g |x| + 1)^2,     g = surrogate sharpness (meta "sharpness")

so the state Jacobian is the surrogate D_t = J diag(sigma'_g(x_{t-1})) and its QR exponents
are the "surrogate Lyapunov exponents". The paper does not publish these equations; this is
the reading of SPEC §2.1 (config key surrogate.binary.model_reading documents it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import torch

from floss import seeding
from floss.models.base import Cell
from floss.models.vanilla import VanillaRNN


def surrogate_derivative(x: torch.Tensor, sharpness: float) -> torch.Tensor:
    """sigma'_g(x) = 1 / (g|x| + 1)^2 (differentiable in x)."""
    return 1.0 / (sharpness * x.abs() + 1.0) ** 2


class _SurrogateStep(torch.autograd.Function):
    """Theta(x) forward (1 where x > 0), sigma'_g(x) * grad backward."""

    @staticmethod
    def forward(x, sharpness):
        return (x > 0).to(x.dtype)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
        ctx.sharpness = inputs[1]

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * surrogate_derivative(x, ctx.sharpness), None


def heaviside(x: torch.Tensor, sharpness: float) -> torch.Tensor:
    """Heaviside step with the surrogate derivative sigma'_g in the backward pass."""
    return _SurrogateStep.apply(x, float(sharpness))


def check_sharpness(value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"surrogate sharpness g must be a finite number > 0, got {value}")
    return value


class BinaryRNN(Cell):
    model = "binary"
    # the rate RNN's parameters, with the Heaviside in place of tanh (SPEC §2.1)
    param_dims = VanillaRNN.param_dims
    flossed = VanillaRNN.flossed
    recurrent = VanillaRNN.recurrent
    #: model descriptors stored as file attrs (restored by floss.surrogate.io)
    meta_attrs: ClassVar[tuple[str, ...]] = ("sharpness", "coupling", "gbar")

    def __init__(self, params, meta=None):
        super().__init__(params, meta)
        self.meta["sharpness"] = check_sharpness(self.meta.get("sharpness", 1.0))

    @property
    def sharpness(self) -> float:
        return self.meta["sharpness"]

    @property
    def n_inputs(self) -> int:
        return self.W_in.shape[2]

    def drive(self, inputs: torch.Tensor) -> torch.Tensor:
        ext = torch.einsum("...mbs,mns->...mbn", inputs.to(self.dtype), self.W_in)
        return ext / self.n_inputs + self.b[:, None, :]

    def step(self, state: torch.Tensor, drive: torch.Tensor) -> torch.Tensor:
        h = heaviside(state, self.sharpness)
        return torch.baddbmm(drive, h, self.J.transpose(1, 2))

    def tangent_step(self, state, drive, basis):
        h = heaviside(state, self.sharpness)
        dphi = surrogate_derivative(state, self.sharpness)
        both = torch.bmm(self.J, torch.cat([h[:, :, None], dphi[:, :, None] * basis], 2))
        return both[:, :, 0] + drive, both[:, :, 1:]

    def readout(self, states: torch.Tensor) -> torch.Tensor:
        return torch.einsum("...mbn,mrn->...mbr", states, self.w_out) + self.c[:, None, :]


def init_binary(
    seeds: Sequence[int],
    n_neurons: int,
    n_inputs: int = 1,
    gains: Sequence[float] | float = 1.0,
    sharpness: float = 1.0,
    gbar: float = 0.0,
    batch: int = 16,
    relax_steps: int = 100,
    bias_width: float = 0.1,
    offset: float = 0.001,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
) -> BinaryRNN:
    """Networks initialised as the rate RNN (SPEC §1.1, the reference's SRNN example uses the
    same wsS = wrS = 1, bS = 0.1, Gaussian J = g N(0,1)/sqrt(N) + gbar/N), with the same
    per-network streams; x0 is `relax_steps` input-free binary steps from N(0,1) noise."""
    m = len(seeds)
    g = np.broadcast_to(np.asarray(gains, dtype=np.float64), (m,)).copy()
    per: dict[str, list[torch.Tensor]] = {k: [] for k in ("W_in", "w_out", "b", "J", "noise")}
    for seed, gain in zip(seeds, g):
        gen = seeding.generator(seed, "net")  # draw order as floss.models.vanilla
        per["W_in"].append(torch.randn(n_neurons, n_inputs, generator=gen))
        per["w_out"].append(torch.randn(n_inputs, n_neurons, generator=gen))
        per["b"].append(bias_width * torch.rand(n_neurons, generator=gen))
        gauss = torch.randn(n_neurons, n_neurons, generator=gen) / np.sqrt(n_neurons)
        per["J"].append(float(gain) * gauss + gbar / n_neurons)
        per["noise"].append(torch.randn(n_neurons, batch, generator=seeding.generator(seed, "ic")))
    params = {k: torch.stack(v).to(dtype=dtype, device=device) for k, v in per.items()}
    noise = params.pop("noise")
    params["c"] = torch.full((m, n_inputs), offset, dtype=dtype, device=device)
    params["x0"] = torch.zeros_like(noise)
    meta = {
        "seed": np.asarray(seeds, dtype=np.int64),
        "gain": g,
        "gbar": float(gbar),
        "coupling": "gaussian",
        "sharpness": float(sharpness),
    }
    cell = BinaryRNN(params, meta)
    with torch.no_grad():
        cell.x0.copy_(cell.relax_initial_state(noise, relax_steps))
    return cell
