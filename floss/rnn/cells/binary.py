"""Binary RNN trained with a surrogate gradient, docs/science.md §2.1 (surrogate gradient flossing).

    x_t = J Theta(x_{t-1}) + b + W_in s_t / S,   r_t = w_out x_t + c

The forward pass uses the Heaviside step Theta (states are exactly binary after the step);
the backward pass and the Jacobians use the surrogate derivative (SuperSpike form)

    sigma'_g(x) = 1 / (g |x| + 1)^2,     g = surrogate sharpness (meta "sharpness")

so the state Jacobian is the surrogate D_t = J diag(sigma'_g(x_{t-1})) and its QR exponents
are the "surrogate Lyapunov exponents". The paper does not publish these equations; this is
the reading of docs/science.md §2.1 (config key surrogate.binary.model_reading documents it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import torch

from floss.rnn.cells.vanilla import VanillaRNN, init_vanilla


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


def check_sharpness(value: float, name: str = "surrogate sharpness g") -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return value


class BinaryRNN(VanillaRNN):
    """The rate RNN's parameters and dynamics with the Heaviside in place of tanh and the
    surrogate derivative as phi' (docs/science.md §2.1)."""

    model = "binary"
    #: model descriptors stored as file attrs (restored by floss.surrogate.networks)
    meta_attrs: ClassVar[tuple[str, ...]] = ("sharpness", "coupling", "gbar")

    def _check_meta(self) -> None:
        self.meta["sharpness"] = check_sharpness(self.meta.get("sharpness", 1.0))

    @property
    def sharpness(self) -> float:
        return self.meta["sharpness"]

    def _activation(self, x: torch.Tensor) -> torch.Tensor:
        return heaviside(x, self.sharpness)

    def _phi(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return heaviside(x, self.sharpness), surrogate_derivative(x, self.sharpness)

    def _phi_grad(self, grad: torch.Tensor, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return grad * surrogate_derivative(x, self.sharpness)


#: options of init_vanilla that the binary RNN shares (its coupling is always Gaussian)
RATE_OPTIONS = ("n_inputs", "gains", "gbar", "batch", "bias_width", "offset", "dtype", "device")


def init_binary(
    seeds: Sequence[int],
    n_neurons: int,
    sharpness: float = 1.0,
    relax_steps: int = 100,
    **rate_options,
) -> BinaryRNN:
    """Networks initialised as the rate RNN by init_vanilla with `rate_options` (RATE_OPTIONS;
    docs/science.md §1.1: the reference's SRNN example uses the same wsS = wrS = 1, bS = 0.1,
    Gaussian J = g N(0,1)/sqrt(N) + gbar/N), with the same per-network streams; x0 is
    `relax_steps` input-free binary steps from N(0,1) noise."""
    unknown = sorted(set(rate_options) - set(RATE_OPTIONS))
    if unknown:
        raise ValueError(f"unknown binary RNN options {unknown}; allowed: {list(RATE_OPTIONS)}")
    rate = init_vanilla(seeds, n_neurons, relax_steps=0, **rate_options)
    meta = {k: rate.meta[k] for k in ("seed", "gain", "gbar", "coupling")}
    meta["sharpness"] = float(sharpness)
    params = {k: p.detach() for k, p in rate.param_dict().items()}
    noise = params["x0"].clone()
    cell = BinaryRNN(params, meta)
    with torch.no_grad():
        cell.x0.copy_(cell.relax_initial_state(noise, relax_steps))
    return cell
