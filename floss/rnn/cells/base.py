"""The recurrent-cell interface shared by every model.

All tensors carry a leading network axis M: M independent networks advance in one batched
tensor operation. Parameters are stored in the layout of the network NetCDF file (the
`network` axis first, then the dims named in `param_dims`), so I/O is a plain copy.

Shapes used throughout (D = state size, Dd = size of the per-step input drive):
    inputs   (T, M, B, S)     drive  (T, M, B, Dd)    states (T, M, B, D)
    tangent-space block V (M, D, k) for one trajectory per network (state (M, D)).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn


class Cell(nn.Module):
    model: ClassVar[str]
    #: dims of each parameter after the leading `network` dim (the file contract)
    param_dims: ClassVar[dict[str, tuple[str, ...]]]
    #: parameters that flossing updates (docs/science.md §1.4: input weights, recurrent weights,
    #: biases)
    flossed: ClassVar[tuple[str, ...]]
    #: the recurrent weight whose gradient's singular values are logged (docs/science.md §1.3)
    recurrent: ClassVar[str]

    def __init__(self, params: Mapping[str, torch.Tensor], meta: Mapping[str, Any] | None = None):
        super().__init__()
        missing = set(self.param_dims) - set(params)
        if missing:
            raise ValueError(f"{self.model} network lacks variables {sorted(missing)}")
        for name, dims in self.param_dims.items():
            value = params[name]
            if value.dim() != len(dims) + 1:
                raise ValueError(
                    f"{self.model} variable {name} must have dims {('network', *dims)}, "
                    f"got shape {tuple(value.shape)}"
                )
            self.register_parameter(name, nn.Parameter(value.detach().clone()))
        #: per-network and global descriptors (gain, seed, ...): numpy arrays or scalars
        self.meta: dict[str, Any] = dict(meta or {})
        self._check_shapes()

    # --- sizes -----------------------------------------------------------------------
    @property
    def n_networks(self) -> int:
        return self.x0.shape[0]

    @property
    def state_size(self) -> int:
        return self.x0.shape[1]

    @property
    def batch_size(self) -> int:
        """Number of trainable initial states per network (columns of x0)."""
        return self.x0.shape[2]

    @property
    def n_neurons(self) -> int:
        return self.w_out.shape[2]

    @property
    def n_outputs(self) -> int:
        return self.w_out.shape[1]

    @property
    def n_inputs(self) -> int:
        raise NotImplementedError

    @property
    def dtype(self) -> torch.dtype:
        return self.x0.dtype

    @property
    def device(self) -> torch.device:
        return self.x0.device

    def _check_shapes(self) -> None:
        sizes: dict[str, int] = {"network": self.x0.shape[0]}
        for name, dims in self.param_dims.items():
            for dim, n in zip(("network", *dims), getattr(self, name).shape):
                if sizes.setdefault(dim, n) != n:
                    raise ValueError(
                        f"{self.model} variable {name}: dim {dim} has size {n}, "
                        f"elsewhere {sizes[dim]}"
                    )

    def param_dict(self) -> dict[str, torch.Tensor]:
        return {name: getattr(self, name) for name in self.param_dims}

    # --- dynamics (implemented by each cell) ----------------------------------------------
    def drive(self, inputs: torch.Tensor) -> torch.Tensor:
        """Input-dependent part of each step, precomputed for all steps: (..., M, B, Dd)."""
        raise NotImplementedError

    def step(self, state: torch.Tensor, drive: torch.Tensor) -> torch.Tensor:
        """One step of the map: state (M, B, D), drive (M, B, Dd) -> (M, B, D)."""
        raise NotImplementedError

    def tangent_step(
        self, state: torch.Tensor, drive: torch.Tensor, basis: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Step one trajectory per network and push a tangent block through its Jacobian.

        state (M, D), drive (M, Dd), basis (M, D, k) -> (next state (M, D), D_t basis (M, D, k)),
        where D_t = d state_t / d state_{t-1} is evaluated at the given (previous) state.
        """
        raise NotImplementedError

    def readout(self, states: torch.Tensor) -> torch.Tensor:
        """Output logits (..., M, B, R) of states (..., M, B, D)."""
        raise NotImplementedError

    # --- derived helpers ---------------------------------------------------------------
    def initial_state(self) -> torch.Tensor:
        """x0 as a batch of states, (M, B, D)."""
        return self.x0.transpose(1, 2)

    def zero_drive(self, steps: int, batch: int = 1) -> torch.Tensor:
        """The drive of zero input, (steps, M, batch, Dd)."""
        zeros = torch.zeros(
            1, self.n_networks, 1, self.n_inputs, dtype=self.dtype, device=self.device
        )
        return self.drive(zeros).expand(steps, -1, batch, -1)

    def run(self, drive: torch.Tensor, state: torch.Tensor | None = None) -> torch.Tensor:
        """States after each step, (T, M, B, D), from `state` (default x0)."""
        x = self.initial_state() if state is None else state
        out = []
        for d in drive.unbind(0):  # not `for d in drive`: see lyapunov.spectrum
            x = self.step(x, d)
            out.append(x)
        return torch.stack(out)

    def jacobian(self, state: torch.Tensor, drive: torch.Tensor) -> torch.Tensor:
        """Dense state Jacobian (M, D, D) at state (M, D), built from `tangent_step`."""
        eye = torch.eye(self.state_size, dtype=self.dtype, device=self.device)
        return self.tangent_step(state, drive, eye.expand(self.n_networks, -1, -1))[1]

    @torch.no_grad()
    def relax_initial_state(self, noise: torch.Tensor, steps: int) -> torch.Tensor:
        """x0 made by `steps` input-free steps from `noise` (M, D, B), docs/science.md §1.1."""
        x = noise.transpose(1, 2).to(self.dtype)
        drive = self.zero_drive(1, x.shape[1])[0]
        for _ in range(steps):
            x = self.step(x, drive)
        return x.transpose(1, 2).contiguous()

    # --- selection and conversion ---------------------------------------------------------
    def _rebuild(self, params: Mapping[str, torch.Tensor], meta: Mapping[str, Any]) -> Cell:
        return type(self)(params, meta)

    def select(self, index: Sequence[int] | torch.Tensor) -> Cell:
        """A new cell holding only the networks `index` (copies)."""
        idx = torch.as_tensor(index, dtype=torch.long, device=self.device)
        params = {n: p.detach()[idx] for n, p in self.param_dict().items()}
        meta = {k: _take(v, idx.cpu().numpy(), self.n_networks) for k, v in self.meta.items()}
        return self._rebuild(params, meta)

    def to_dtype(self, dtype: torch.dtype) -> Cell:
        """A copy with parameters in `dtype`."""
        params = {n: p.detach().to(dtype) for n, p in self.param_dict().items()}
        return self._rebuild(params, self.meta)


def concat(cells: Sequence[Cell]) -> Cell:
    """Stack the networks of several cells of the same model and sizes."""
    first = cells[0]
    params = {n: torch.cat([c.param_dict()[n].detach() for c in cells]) for n in first.param_dims}
    meta = {}
    for k, v in first.meta.items():
        if isinstance(v, np.ndarray) and v.shape[:1] == (first.n_networks,):
            meta[k] = np.concatenate([c.meta[k] for c in cells])
        else:
            meta[k] = v
    return first._rebuild(params, meta)


def _take(value: Any, idx: np.ndarray, n_networks: int) -> Any:
    if isinstance(value, np.ndarray) and value.shape[:1] == (n_networks,):
        return value[idx]
    return value
