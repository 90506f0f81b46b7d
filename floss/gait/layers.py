"""Invertible square and tower networks, batched over seeds (docs/science.md §4.1).

Row vectors, batch first: layer l computes y_l = f(u_{l-1} W_l + b_l), where u_{l-1} are the
first n_l units of y_{l-1} and W_l is square (n_l x n_l). A square net has every n_l equal to
the input size; a tower has non-increasing widths, and the units of y_{l-1} beyond n_l
("auxiliary" units) are carried unchanged by the inverse pass so that it stays invertible.
f is leaky ReLU with slope 0.1 (or the identity for linear nets); the class scores are the
first 10 units of the last layer. Tensors carry a leading seed dimension S.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from floss.core import seeding

SLOPE = 0.1  # negative-side slope of the reference's leaky ReLU
N_CLASSES = 10
INITS = ("orthogonal", "gaussian")
INVERSES = ("solve", "inv")


@dataclass
class InvNet:
    weights: list[torch.Tensor]  # (S, n_l, n_l): a_l = u_{l-1} W_l + b_l
    biases: list[torch.Tensor]  # (S, n_l)
    widths: tuple[int, ...]  # (n_0, n_1, ..., n_L), n_0 = input size
    linear: bool = False
    slope: float = SLOPE
    seeds: tuple[int, ...] = field(default_factory=tuple)
    init: str = "unknown"  # how the weights were drawn (INITS), for the result files

    def __post_init__(self) -> None:
        if any(b > a for a, b in zip(self.widths[:-1], self.widths[1:])):
            raise ValueError(f"layer widths must not increase, got {list(self.widths)}")
        if self.widths[-1] < N_CLASSES:
            raise ValueError(f"the output layer needs >= {N_CLASSES} units, got {self.widths[-1]}")

    @property
    def n_layers(self) -> int:
        return len(self.weights)

    @property
    def n_seeds(self) -> int:
        return self.weights[0].shape[0]

    @property
    def dtype(self) -> torch.dtype:
        return self.weights[0].dtype

    @property
    def device(self) -> torch.device:
        return self.weights[0].device

    def parameters(self) -> list[torch.Tensor]:
        return [*self.weights, *self.biases]

    # --- transfer function ---------------------------------------------------------------------
    def f(self, a: torch.Tensor) -> torch.Tensor:
        return a if self.linear else torch.where(a >= 0, a, self.slope * a)

    def f_inv(self, y: torch.Tensor) -> torch.Tensor:
        return y if self.linear else torch.where(y >= 0, y, y / self.slope)

    def f_prime(self, y: torch.Tensor) -> torch.Tensor:
        """f' at the pre-activation, from the output (sign is preserved by f)."""
        if self.linear:
            return torch.ones_like(y)
        return torch.where(y >= 0, torch.ones_like(y), torch.full_like(y, self.slope))

    # --- passes --------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Activities [y_0, ..., y_L], each (S, B, n_l); x is (B, n_0) or (S, B, n_0)."""
        if x.dim() == 2:
            x = x.expand(self.n_seeds, *x.shape)
        ys = [x]
        for l, (w, b) in enumerate(zip(self.weights, self.biases)):
            u = ys[-1][..., : self.widths[l + 1]]
            ys.append(self.f(torch.baddbmm(b[:, None, :], u, w)))
        return ys

    def inverse_layer(self, l: int, y: torch.Tensor, inverse: ExactInverse) -> torch.Tensor:
        """u_{l-1} = (f^-1(y_l) - b_l) W_l^-1 for layer index l (0-based)."""
        return inverse.apply(self, l, self.f_inv(y) - self.biases[l][:, None, :])

    def inverse(
        self, y: torch.Tensor, forward: list[torch.Tensor], inverse: ExactInverse
    ) -> list[torch.Tensor]:
        """The exact inverse pass from output activity y; auxiliary units of a tower come from
        `forward`. Returns [x, y_1, ..., y_L] as the forward pass would have them."""
        out = [y]
        for l in range(self.n_layers - 1, -1, -1):
            u = self.inverse_layer(l, out[-1], inverse)
            out.append(torch.cat([u, forward[l][..., u.shape[-1] :]], -1))
        return out[::-1]


class ExactInverse:
    """Products r W_l^-1 for the current weights; call `reset` after each weight update.

    'inv' is the reference's method: a dense inverse of every W_l after every update.
    'solve' LU-factorises W_l once per step and solves x W_l = r against the batch (about
    6x cheaper than an inverse at n = 784); both are exact to rounding (backward stable).
    """

    def __init__(self, method: str = "solve") -> None:
        if method not in INVERSES:
            raise ValueError(f"inverse method {method!r} not allowed; allowed: {list(INVERSES)}")
        self.method = method
        self._cache: dict[int, tuple[torch.Tensor, ...]] = {}

    def reset(self) -> None:
        self._cache.clear()

    def apply(self, net: InvNet, l: int, r: torch.Tensor) -> torch.Tensor:
        if l not in self._cache:
            w = net.weights[l].detach()
            self._cache[l] = (
                (torch.linalg.inv(w),) if self.method == "inv" else torch.linalg.lu_factor(w)
            )
        cached = self._cache[l]
        if self.method == "inv":
            return torch.bmm(r, cached[0])
        return torch.linalg.lu_solve(*cached, r, left=False)

    def reconstruction_error(self, net: InvNet, l: int) -> torch.Tensor:
        """max over seeds of ||W W^-1 - I||_F / sqrt(n) with W^-1 as this method forms it."""
        w = net.weights[l].detach()
        eye = torch.eye(w.shape[-1], dtype=w.dtype, device=w.device).expand_as(w)
        winv = self.apply(net, l, eye.contiguous())  # I W^-1
        return (torch.bmm(w, winv) - eye).norm(dim=(-2, -1)).max() / w.shape[-1] ** 0.5


# --- initialisation ------------------------------------------------------------------------------
def haar_orthogonal(n: int, gen: torch.Generator) -> torch.Tensor:
    """Haar-random orthogonal matrix (QR of a Gaussian with R's diagonal made positive)."""
    q, r = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))
    return q * torch.sign(torch.diagonal(r))


def init_net(
    seeds: Sequence[int],
    widths: Sequence[int],
    init: str = "orthogonal",
    linear: bool = False,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> InvNet:
    """One network per seed. Weights: Haar orthogonal or Gaussian with std sqrt(2/(n+n));
    biases zero (docs/science.md §4.1). Layer l of seed s draws from stream ('net', s, l)."""
    if init not in INITS:
        raise ValueError(f"init {init!r} not allowed; allowed: {list(INITS)}")
    weights, biases = [], []
    for l, n in enumerate(widths[1:]):
        mats = []
        for s in seeds:
            gen = seeding.generator(s, "net", l)
            if init == "orthogonal":
                mats.append(haar_orthogonal(n, gen))
            else:
                mats.append(torch.randn(n, n, generator=gen, dtype=torch.float64) / n**0.5)
        weights.append(torch.stack(mats).to(dtype=dtype, device=device))
        biases.append(torch.zeros(len(seeds), n, dtype=dtype, device=device))
    return InvNet(weights, biases, tuple(widths), linear, seeds=tuple(seeds), init=init)


def square_widths(n_inputs: int, n_hidden: int) -> tuple[int, ...]:
    """n_hidden square hidden layers plus a square output layer, all n_inputs wide."""
    return (n_inputs,) * (n_hidden + 2)


def orth_error(w: torch.Tensor) -> torch.Tensor:
    """||W W^T - I||_F per seed, for (S, n, n) weights."""
    eye = torch.eye(w.shape[-1], dtype=w.dtype, device=w.device)
    return (torch.bmm(w, w.transpose(1, 2)) - eye).norm(dim=(-2, -1))
