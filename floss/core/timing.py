"""The one timer of the benchmarks and the scaling scan: median wall time of a callable
after a warm-up call, synchronising CUDA around each call so that queued kernels count."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch


def sync(device: torch.device | str = "cpu") -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def elapsed(fn: Callable[[], object], device: torch.device | str = "cpu") -> float:
    """Seconds one call of `fn` takes (CUDA work included)."""
    sync(device)
    t = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - t


def median_time(
    fn: Callable[[], object], repeats: int, device: torch.device | str = "cpu", warmup: bool = True
) -> float:
    """Median seconds of `repeats` calls of `fn`, after one untimed warm-up call."""
    if warmup:
        fn()
    return statistics.median(elapsed(fn, device) for _ in range(repeats))
