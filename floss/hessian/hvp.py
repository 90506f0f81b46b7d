"""Hessian-vector products over a chosen parameter subset, for M independent networks at once.

A vector is flat over the chosen parameters (in the order of `names`, each flattened after its
leading network dim); operators act on blocks (M, K, P): K vectors per network. The loss is
a sum of per-network losses that share no parameters, so the Hessian of the sum is block
diagonal and one double-backward pass gives every network its own H_m v_m.

Builders:
- `double_backward`: the gradient graph is built once (create_graph) and each product is one
  backward pass through it, as the reference (grad of <grad, v>, docs/science.md §3.3).
  With `copies` = K the parameters are replicated K times along the network axis, so K
  vectors per network go through one pass (the same block-diagonal argument).
- `forward_over_reverse`: torch.func.jvp of torch.func.grad (no stored graph).
Both differentiate the loss exactly as given: pass the true loss (no stop-gradient).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch

#: params (each with a leading network axis M') -> per-network losses (M',)
LossFn = Callable[[dict[str, torch.Tensor]], torch.Tensor]


@dataclass(frozen=True)
class Space:
    """The flat layout of a parameter subset: names and per-network shapes."""

    names: tuple[str, ...]
    shapes: tuple[torch.Size, ...]

    @classmethod
    def of(cls, params: Mapping[str, torch.Tensor], names: Sequence[str]) -> Space:
        missing = [n for n in names if n not in params]
        if missing or not names:
            raise ValueError(
                f"Hessian parameters {list(names)}: unknown {missing}; allowed: {sorted(params)}"
            )
        return cls(tuple(names), tuple(params[n].shape[1:] for n in names))

    @property
    def size(self) -> int:
        return sum(s.numel() for s in self.shapes)

    def flatten(self, tensors: Sequence[torch.Tensor]) -> torch.Tensor:
        """Tensors (M', *shape) in `names` order -> (M', P)."""
        return torch.cat([t.reshape(t.shape[0], -1) for t in tensors], 1)

    def unflatten(self, v: torch.Tensor) -> list[torch.Tensor]:
        """(M', P) -> tensors (M', *shape)."""
        pieces = v.split([s.numel() for s in self.shapes], 1)
        return [p.reshape(v.shape[0], *s) for p, s in zip(pieces, self.shapes)]


class Operator:
    """v (M, K, P) -> H v (M, K, P), K vectors per network, `block` of them per pass."""

    def __init__(self, apply, space: Space, n_networks: int, dtype, device, block: int = 1):
        self._apply, self.space, self.block = apply, space, block
        self.n_networks, self.dtype, self.device = n_networks, dtype, torch.device(device)
        self.products = 0  # Hessian-vector products computed (per network)

    @property
    def size(self) -> int:
        return self.space.size

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        m, k, p = v.shape
        if m != self.n_networks or p != self.size:
            raise ValueError(f"vectors {tuple(v.shape)}; expected ({self.n_networks}, K, {p})")
        out = []
        for start in range(0, k, self.block):
            chunk = v[:, start : start + self.block]
            n = chunk.shape[1]
            if n < self.block:  # pad a short last chunk with zero vectors
                chunk = torch.cat([chunk, chunk.new_zeros(m, self.block - n, p)], 1)
            out.append(self._apply(chunk)[:, :n])
        self.products += k
        return torch.cat(out, 1)


def _networks(params: Mapping[str, torch.Tensor]) -> tuple[int, torch.dtype, torch.device]:
    first = next(iter(params.values()))
    return first.shape[0], first.dtype, first.device


def double_backward(
    loss_fn: LossFn,
    params: Mapping[str, torch.Tensor],
    names: Sequence[str],
    copies: int = 1,
) -> Operator:
    """Double-backprop HVPs of `loss_fn` over `names`, the other parameters held fixed."""
    space = Space.of(params, names)
    m, dtype, device = _networks(params)
    leaves = {}
    for n, p in params.items():
        rep = p.detach().repeat_interleave(copies, 0)
        leaves[n] = rep.requires_grad_() if n in names else rep
    wrt = [leaves[n] for n in names]
    grads = torch.autograd.grad(loss_fn(leaves).sum(), wrt, create_graph=True, allow_unused=True)
    # parameters that enter the loss linearly (or not at all) have a constant gradient
    live = [i for i, g in enumerate(grads) if g is not None and g.requires_grad]

    def apply(v: torch.Tensor) -> torch.Tensor:
        pieces = space.unflatten(v.reshape(m * copies, -1))
        if not live:
            return torch.zeros_like(v)
        hv = torch.autograd.grad(
            [grads[i] for i in live],
            wrt,
            [pieces[i] for i in live],
            retain_graph=True,
            allow_unused=True,
            materialize_grads=True,
        )
        return space.flatten(hv).reshape(m, copies, -1)

    return Operator(apply, space, m, dtype, device, block=copies)


def forward_over_reverse(
    loss_fn: LossFn, params: Mapping[str, torch.Tensor], names: Sequence[str]
) -> Operator:
    """HVPs as torch.func.jvp(torch.func.grad(loss)): one forward-mode pass per product."""
    from torch.func import grad, jvp

    _load_forward_ad()
    space = Space.of(params, names)
    m, dtype, device = _networks(params)
    fixed = {n: p.detach() for n, p in params.items() if n not in names}
    primal = {n: params[n].detach() for n in names}
    gradient = grad(lambda sub: loss_fn({**fixed, **sub}).sum())

    def apply(v: torch.Tensor) -> torch.Tensor:
        tangent = dict(zip(names, space.unflatten(v[:, 0])))
        _, hv = jvp(gradient, (primal,), (tangent,))
        return space.flatten([hv[n] for n in names])[:, None]

    return Operator(apply, space, m, dtype, device, block=1)


def _load_forward_ad() -> None:
    """torch's forward AD registers its jvp decompositions when the first dual tensor is made,
    each through torch.jit.script, which torch itself deprecates: a DeprecationWarning per
    decomposition that only torch can fix (floss scripts nothing). Make that first dual
    tensor here with the warning silenced; the registration, and every result, is the same."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated", DeprecationWarning)
        with torch.autograd.forward_ad.dual_level():
            torch.autograd.forward_ad.make_dual(torch.zeros(()), torch.zeros(()))


def dense(op: Operator) -> torch.Tensor:
    """The full Hessian (M, P, P) from P products (small parameter sets only)."""
    eye = torch.eye(op.size, dtype=op.dtype, device=op.device)
    return op(eye.expand(op.n_networks, -1, -1).contiguous())
