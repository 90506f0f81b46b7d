"""Timing rows of the surrogate models (seconds per network, medians after one warm-up).

Each binary-RNN row has the rate RNN's cost of the same work beside it (the sizes of the
gradient-flossing benchmark: N = 80, k = 75, T = 300, B = 16), so the price of the surrogate
Jacobian and the Heaviside autograd function can be read off; the LIF rows use the
reference example's sizes (N = 64, 2N = 128 states, k = 50, 1000 steps with the second half
accumulated).
"""

from __future__ import annotations

import torch

from floss.core.errors import FlossError
from floss.core.timing import median_time
from floss.rnn.cells import init_networks
from floss.rnn.flossing import FlossingConfig
from floss.rnn.tasks import Task
from floss.rnn.training import TrainConfig
from floss.surrogate.flossing import SurrogateFlosser
from floss.surrogate.spectrum import surrogate_spectrum
from floss.surrogate.training import FlossingPolicy, SurrogateTrainer

N, K, STEPS, BATCH = 80, 75, 300, 16


def _flossing(model: str, m: int, repeats: int) -> float:
    if model == "spiking":
        cell = init_networks("spiking", list(range(m)), 64)
        cfg = FlossingConfig(k=50, steps=1000, transient=500)
    else:
        cell = init_networks(model, list(range(m)), N, batch=1)
        cfg = FlossingConfig(k=K, steps=STEPS, transient=0)
    return median_time(SurrogateFlosser(cell, cfg).step, repeats) / m


def _bptt(model: str, m: int, repeats: int) -> float:
    cell = init_networks(model, list(range(m)), N, batch=BATCH)
    cfg = TrainConfig(epochs=1, batch=BATCH, n_singular=0)
    trainer = SurrogateTrainer(cell, Task(1, 5, STEPS), cfg, FlossingPolicy("none"))
    return median_time(trainer.train_step, repeats) / m


def _spectrum(model: str, m: int, repeats: int) -> float:
    if model == "spiking":
        cell = init_networks("spiking", list(range(m)), 64)
        return median_time(lambda: surrogate_spectrum(cell, 128, 1000, 500), repeats) / m
    cell = init_networks(model, list(range(m)), N, batch=1)
    return median_time(lambda: surrogate_spectrum(cell, K, STEPS + 10, 10), repeats) / m


ROWS = (
    ("flossing epoch, N=80, k=75, T=300", _flossing, ("binary", "vanilla")),
    ("BPTT epoch, N=80, B=16, T=300", _bptt, ("binary", "vanilla")),
    ("no-grad spectrum, N=80, k=75, 310 steps", _spectrum, ("binary", "vanilla")),
    ("LIF flossing epoch, N=64, k=50, 1000 steps", _flossing, ("spiking",)),
    ("LIF no-grad spectrum, 2N=128, 1000 steps", _spectrum, ("spiking",)),
)


def rows(repeats: int = 3, networks: tuple[int, ...] = (1, 10)):
    """(work, networks, surrogate model s/network, rate RNN s/network or None), row by row."""
    for work, fn, models in ROWS:
        for m in networks if models[0] == "binary" else (1,):
            ours = fn(models[0], m, repeats)
            rate = fn(models[1], m, repeats) if len(models) > 1 else None
            yield work, m, ours, rate


def report(repeats: int, networks: list[int], device: torch.device | str = "cpu") -> str:
    """The surrogate table (also printed row by row); CPU only (the rate RNN is its peer)."""
    if torch.device(device).type != "cpu":
        raise FlossError(f"--device {device}: the surrogate benchmark runs on cpu only")
    lines = [
        f"surrogate models: seconds per network, medians of {repeats}, torch {torch.__version__},"
        f" {torch.get_num_threads()} thread(s), cpu",
        f"{'work':44s} {'networks':>8s} {'surrogate':>10s} {'rate RNN':>9s} {'ratio':>6s}",
    ]
    for work, m, ours, rate in rows(repeats, tuple(networks)):
        r = f"{rate:9.4f} {ours / rate:6.2f}" if rate else f"{'-':>9s} {'-':>6s}"
        lines.append(f"{work:44s} {m:8d} {ours:10.4f} {r}")
        print(lines[-1], flush=True)
    return "\n".join(lines)
