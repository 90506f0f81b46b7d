"""Delayed copy and (hierarchical) delayed XOR tasks, docs/science.md §1.2.

Inputs are i.i.d. Bernoulli(1/2) bits in S channels. The generator draws T + d' steps and
drops the first d', so the first loss step t0 is at chance. The target of channel j at step t
is the parity of the 2^h input bits of channel j at lags d', 2d', ..., 2^h d' (h = 0 is the
copy task). The reference code has one readout (R = 1) and S = 1; with S > 1 we give each
input channel its own output (R = S), which reduces to the reference for S = 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
import xarray as xr

TASK_NAMES = {"copy": 0, "xor": 1}


@dataclass(frozen=True)
class Task:
    """A delayed-parity task.

    order: h; 0 = delayed copy (reference task 0), 1 = delayed XOR (task -1), h >= 2 =
        hierarchical XOR (task -h).
    delay: d', the lag unit in steps.
    steps: T, the number of time steps the network sees.
    channels: S input channels (= R output channels).
    amplitude: input bit amplitude (reference I1 = 1).
    """

    order: int
    delay: int
    steps: int
    channels: int = 1
    amplitude: float = 1.0

    def __post_init__(self) -> None:
        if self.order < 0:
            raise ValueError(f"task order h must be >= 0, got {self.order}")
        if self.delay < 1:
            raise ValueError(f"delay must be >= 1, got {self.delay}")
        if self.channels < 1:
            raise ValueError(f"channels must be >= 1, got {self.channels}")
        if self.steps <= self.t0:
            raise ValueError(
                f"steps (T={self.steps}) must exceed the first loss step t0={self.t0} "
                f"(= delay * 2^order)"
            )

    @classmethod
    def from_code(cls, code: int, delay: int, steps: int, **kw) -> Task:
        """Reference task code: 0 = copy, -h = hierarchical XOR of order h."""
        if code > 0:
            raise ValueError(f"task code must be 0 (copy) or negative (-h, XOR), got {code}")
        return cls(order=-code, delay=delay, steps=steps, **kw)

    @classmethod
    def from_name(cls, name: str, delay: int, steps: int, order: int | None = None, **kw) -> Task:
        """`copy` or `xor` (order 1 unless `order` is given)."""
        if name not in TASK_NAMES:
            raise ValueError(f"unknown task {name!r}; allowed: {sorted(TASK_NAMES)}")
        h = TASK_NAMES[name] if order is None else order
        if name == "copy" and h != 0:
            raise ValueError("the copy task has order 0")
        if name == "xor" and h < 1:
            raise ValueError(f"xor needs order >= 1, got {h}")
        return cls(order=h, delay=delay, steps=steps, **kw)

    @property
    def code(self) -> int:
        return -self.order

    @property
    def name(self) -> str:
        return "copy" if self.order == 0 else "xor"

    @property
    def t0(self) -> int:
        """First loss step, 1-based as in docs/science.md §1.2 (0-based index t0 - 1)."""
        return self.delay * 2**self.order

    @property
    def loss_steps(self) -> int:
        return self.steps - self.t0 + 1

    def sample(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """One fresh batch: inputs (T, B, S) and targets (T, B, S), float32 on the CPU."""
        total = self.steps + self.delay
        bits = torch.randint(0, 2, (total, batch, self.channels), generator=generator)
        return self.from_bits(bits)

    def from_bits(self, bits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and targets from the full draw of T + d' bits (time first): the target at
        full index i >= 2^h d' is the parity of bits[i - j d'], j = 1..2^h; then the first d'
        steps are dropped."""
        d, total = self.delay, bits.shape[0]
        if total != self.steps + d:
            raise ValueError(f"expected {self.steps + d} steps of bits, got {total}")
        bits = bits.long()
        first = d * 2**self.order
        target = torch.zeros_like(bits)
        for j in range(1, 2**self.order + 1):
            target[first:] ^= bits[first - j * d : total - j * d]
        return bits[d:].float() * self.amplitude, target[d:].float()

    def sample_networks(
        self, batch: int, generators: Sequence[torch.Generator]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A fresh batch per network from its own stream: (T, M, B, S) inputs and targets."""
        pairs = [self.sample(batch, g) for g in generators]
        return torch.stack([p[0] for p in pairs], 1), torch.stack([p[1] for p in pairs], 1)


def loss_window(logits: torch.Tensor, targets: torch.Tensor, t0: int):
    """The steps t >= t0 (1-based) of time-major tensors."""
    return logits[t0 - 1 :], targets[t0 - 1 :]


def bce_loss(logits: torch.Tensor, targets: torch.Tensor, t0: int) -> torch.Tensor:
    """Binary cross-entropy on logits, per network.

    logits, targets: (T, M, B, R). Summed over t >= t0, batch and outputs, divided by
    B (T - t0 + 1) R, as the reference. Returns (M,).
    """
    y, z = loss_window(logits, targets, t0)
    per = F.binary_cross_entropy_with_logits(y, z.to(y.dtype), reduction="none")
    return per.transpose(0, 1).flatten(1).mean(1)


def accuracy(logits: torch.Tensor, targets: torch.Tensor, t0: int) -> torch.Tensor:
    """Fraction of (t >= t0, batch, output) with (sigmoid(r) >= 0.5) == y, per network (M,)."""
    y, z = loss_window(logits, targets, t0)
    hit = ((y >= 0).to(z.dtype) == z).to(logits.dtype)
    return hit.transpose(0, 1).flatten(1).mean(1)


def bernoulli_inputs(
    steps: int, channels: int, generators: Sequence[torch.Generator], batch: int = 1
) -> torch.Tensor:
    """i.i.d. Bernoulli(1/2) bits, (steps, M, batch, channels), one stream per network."""
    bits = [torch.randint(0, 2, (steps, batch, channels), generator=g) for g in generators]
    return torch.stack(bits, 1).float()


def evaluation_t0(data: xr.Dataset) -> int:
    """The evaluation set's loss window start, checked with its inputs and targets."""
    for name in ("inputs", "targets"):
        if name not in data:
            raise ValueError(f"evaluation set: no variable {name!r}; write it with `floss data`")
        if not np.isfinite(data[name].values).all():
            raise ValueError(f"evaluation set: {name} holds NaN or inf values")
    raw, steps = data.attrs.get("t0"), data.sizes.get("time", 0)
    try:
        t0 = int(raw)
    except (TypeError, ValueError):
        raise ValueError(
            f"evaluation set: attribute t0 = {raw!r}; allowed: 0 .. {steps - 1}"
        ) from None
    if not 0 <= t0 < steps:
        raise ValueError(f"evaluation set: attribute t0 = {t0}; allowed: 0 .. {steps - 1}")
    return t0
