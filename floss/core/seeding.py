"""Per-network random streams.

Every network m carries one integer seed; each random quantity (weights, initial state,
inputs, the Lyapunov basis, ...) is drawn from its own stream derived from (seed, stream).
A network's results therefore depend only on its own seed, not on which other networks
are batched with it or on its position in the batch. Streams that are redrawn (a fresh batch
every epoch) take the epoch or step as `index`, as the reference seeds each epoch's data by
its epoch number; a run resumed at step n then draws exactly what an uninterrupted run would.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

STREAMS = {
    "net": 0,  # weights (reference: sNet)
    "ic": 1,  # initial state x0 (sIC)
    "input": 2,  # training inputs (sIn)
    "ons": 3,  # initial orthonormal basis of the Lyapunov code (sONS)
    "floss_input": 4,  # inputs seen while flossing
    "eval": 5,  # fixed evaluation sets
    "spectrum_input": 6,  # inputs of analysis spectra
}


def stream_seed(seed: int, stream: str, index: int | None = None) -> int:
    """A 63-bit seed for `stream` (and optionally its `index`-th draw) of network `seed`."""
    if stream not in STREAMS:
        raise ValueError(f"unknown random stream {stream!r}; allowed: {sorted(STREAMS)}")
    key = [int(seed), STREAMS[stream]] + ([] if index is None else [int(index)])
    if min(key) < 0:
        raise ValueError(f"seeds and indices must be >= 0, got {key}")
    state = np.random.SeedSequence(key).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1]))


def generator(seed: int, stream: str, index: int | None = None) -> torch.Generator:
    """A CPU generator for one network's stream (CPU so that CUDA runs draw the same numbers)."""
    return torch.Generator().manual_seed(stream_seed(seed, stream, index))


def generators(
    seeds: Sequence[int], stream: str, index: int | None = None
) -> list[torch.Generator]:
    return [generator(s, stream, index) for s in seeds]


def network_seeds(seed: int, n_networks: int) -> list[int]:
    """Network m of a condition gets seed `seed + m` (every family's convention)."""
    if n_networks < 1:
        raise ValueError(f"n_networks must be >= 1, got {n_networks}")
    return [seed + m for m in range(n_networks)]
