"""Cost of flossing and BPTT as a function of N, k and the number of networks M.

Per-epoch time is measured over `steps` time steps and scaled to an epoch of `epoch_steps`
(the cost per step does not depend on the step). Memory is the size of the tensors autograd
saves for the backward pass (exact and machine independent); on CUDA the allocator's peak is
recorded too. Expected scaling (docs/science.md §1.4): flossing O(T N^2 k) + O(T N k^2), BPTT
O(T B N^2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
import xarray as xr

from floss.core.timing import median_time
from floss.rnn.cells import init_networks
from floss.rnn.flossing import Flosser, FlossingConfig
from floss.rnn.tasks import Task
from floss.rnn.training import TrainConfig, Trainer

WORKS = ("flossing", "bptt")


# Wall-clock measurements differ from run to run; determinism checks skip such variables.
MEASURED = {"floss_measured": "wall-clock or allocator measurement: differs between runs"}


K_RULES = "an integer 1..N, N, or N/d with 1 <= d <= N"


def k_rule_problem(rule: str, neurons: Sequence[int]) -> str | None:
    """Why `rule` cannot give k for every N in `neurons` (None if it can)."""
    smallest = min(neurons)
    if rule == "N":
        return None
    text = rule[2:] if rule.startswith("N/") else rule
    if not text.isdigit() or int(text) < 1:
        return f"{rule!r} is not allowed; allowed: {K_RULES}"
    if int(text) > smallest:
        return f"{rule!r} exceeds N = {smallest}; allowed: {K_RULES}"
    return None


def k_values(n: int, rules: Sequence[str]) -> list[int]:
    """k for rules like '1', 'N/4', 'N' (checked by k_rule_problem)."""
    return [n if r == "N" else n // int(r[2:]) if r.startswith("N/") else int(r) for r in rules]


def _saved_bytes(fn: Callable[[], None]) -> int:
    """Bytes of all tensors autograd saves while running fn (storage counted once)."""
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor):
        storage = t.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return sum(seen.values())


def measure(
    work: str,
    n: int,
    k: int,
    m: int,
    steps: int,
    repeats: int,
    device="cpu",
    qr: str = "householder",
) -> tuple[float, int, int]:
    """(seconds for `steps` steps, saved bytes, CUDA peak bytes or -1) for all M networks."""
    device = torch.device(device)
    if work == "flossing":
        cell = init_networks("vanilla", list(range(m)), n, batch=1, device=device)
        step = Flosser(cell, FlossingConfig(k=k, steps=steps, transient=0, qr=qr)).step
    elif work == "bptt":
        cell = init_networks("vanilla", list(range(m)), n, batch=16, device=device)
        task = Task(order=0, delay=1, steps=steps)
        step = Trainer(cell, task, TrainConfig(epochs=1, batch=16, n_singular=0)).train_step
    else:
        raise ValueError(f"work {work!r} not allowed; allowed: {list(WORKS)}")
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    seconds = median_time(step, repeats, device)
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else -1
    return seconds, _saved_bytes(step), peak


def scan(
    neurons: Sequence[int],
    k_rules: Sequence[str],
    networks: Sequence[int],
    steps: int,
    epoch_steps: int,
    repeats: int,
    device="cpu",
    qr: str = "householder",
    progress: Callable[[int], None] | None = None,
) -> xr.Dataset:
    """Time per epoch and network, and memory, over the grid; NaN where a size is skipped."""
    shape = (len(WORKS), len(neurons), len(k_rules), len(networks))
    t, mem, peak = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    kk = np.zeros((len(neurons), len(k_rules)), dtype=np.int64)
    for i, n in enumerate(neurons):
        kk[i] = k_values(n, k_rules)
        for w, work in enumerate(WORKS):
            for j, k in enumerate(kk[i]):
                if work == "bptt" and j > 0:
                    continue  # BPTT does not depend on k
                for q, m in enumerate(networks):
                    sec, saved, cuda_peak = measure(work, n, int(k), m, steps, repeats, device, qr)
                    t[w, i, j, q] = sec * epoch_steps / steps / m
                    mem[w, i, j, q] = saved * epoch_steps / steps / m
                    peak[w, i, j, q] = cuda_peak / m if cuda_peak >= 0 else np.nan
                    if progress is not None:
                        progress(1)
    ds = xr.Dataset(
        {
            "seconds_per_epoch": (("work", "neurons", "k_rule", "networks"), t),
            "saved_bytes_per_epoch": (("work", "neurons", "k_rule", "networks"), mem),
            "cuda_peak_bytes": (("work", "neurons", "k_rule", "networks"), peak),
            "k": (("neurons", "k_rule"), kk),
        },
        coords={
            "work": list(WORKS),
            "neurons": list(neurons),
            "k_rule": list(k_rules),
            "networks": list(networks),
        },
    )
    ds["seconds_per_epoch"].attrs.update(
        long_name=f"wall time per epoch of {epoch_steps} steps and network",
        units="s",
        **MEASURED,
    )
    ds["saved_bytes_per_epoch"].attrs.update(
        long_name="tensors saved for the backward pass, per epoch and network", units="byte"
    )
    ds["cuda_peak_bytes"].attrs.update(
        long_name="CUDA allocator peak per network", units="byte", **MEASURED
    )
    ds["k"].attrs.update(long_name="flossed exponents", units="1")
    ds.attrs.update(steps_measured=steps, epoch_steps=epoch_steps, device=str(device), qr=qr)
    return ds


def fit_exponent(x: np.ndarray, y: np.ndarray) -> float:
    """Slope of log y against log x over the finite points (NaN if fewer than two)."""
    ok = np.isfinite(y) & (y > 0)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])
