"""Benchmark: per-network cost of flossing, spectra and BPTT, measured side by side.

The baselines are written here in the style of the public single-network PyTorch examples
(one network at a time, an explicit N x N Jacobian built with torch.diag each step, a QR
every step) and torch.nn.RNN for BPTT, so that ratios are measured in one run on one machine.
Times are medians over `repeats` runs after one warm-up; run with one torch thread.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

from floss.flossing import Flosser, FlossingConfig
from floss.lyapunov import analysis_spectrum
from floss.models import init_networks
from floss.tasks import Task
from floss.training import TrainConfig, Trainer

N, K, STEPS, BATCH = 80, 75, 300, 16


def _median_time(fn: Callable[[], None], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


# --- baselines (one network, explicit Jacobians) --------------------------------------------------
def _baseline_spectrum(J, W_in, b, x, inputs, q, grad: bool):
    ls = torch.zeros(q.shape[1])
    for s in inputs:
        dphi = 1 - torch.tanh(x) ** 2
        jac = J @ torch.diag(dphi)
        x = J @ torch.tanh(x) + b + W_in @ s
        q, r = torch.linalg.qr(jac @ q)
        ls = ls + torch.log(torch.abs(torch.diag(r)))
    return ls / len(inputs)


def baseline_flossing_epoch(repeats: int) -> float:
    gen = torch.Generator().manual_seed(0)
    J = (torch.randn(N, N, generator=gen) / N**0.5).requires_grad_()
    W_in = torch.randn(N, 1, generator=gen).requires_grad_()
    b = torch.zeros(N, requires_grad=True)
    opt = torch.optim.Adam([J, W_in, b], lr=1e-3)
    q0 = torch.linalg.qr(torch.randn(N, K, generator=gen))[0]

    def epoch():
        inputs = (torch.rand(STEPS, 1, generator=gen) < 0.5).float()
        opt.zero_grad()
        lam = _baseline_spectrum(J, W_in, b, torch.zeros(N), inputs, q0, True)
        (lam**2).mean().backward()
        opt.step()

    return _median_time(epoch, repeats)


def baseline_spectrum(repeats: int) -> float:
    gen = torch.Generator().manual_seed(0)
    J, W_in, b = (
        torch.randn(N, N, generator=gen) / N**0.5,
        torch.randn(N, 1, generator=gen),
        torch.zeros(N),
    )
    q0 = torch.linalg.qr(torch.randn(N, K, generator=gen))[0]

    def run():
        with torch.no_grad():
            inputs = (torch.rand(STEPS + 10, 1, generator=gen) < 0.5).float()
            _baseline_spectrum(J, W_in, b, torch.zeros(N), inputs, q0, False)

    return _median_time(run, repeats)


def baseline_bptt_epoch(repeats: int) -> float:
    rnn = torch.nn.RNN(1, N, nonlinearity="tanh")
    readout = torch.nn.Linear(N, 1)
    h0 = torch.zeros(1, BATCH, N, requires_grad=True)
    opt = torch.optim.Adam([*rnn.parameters(), *readout.parameters(), h0], lr=1e-3)
    task = Task(order=1, delay=10, steps=STEPS)
    gen = torch.Generator().manual_seed(0)

    def epoch():
        inputs, targets = task.sample(BATCH, gen)
        opt.zero_grad()
        out, _ = rnn(inputs, h0)
        logits = readout(out)[task.t0 - 1 :]
        torch.nn.functional.binary_cross_entropy_with_logits(
            logits, targets[task.t0 - 1 :]
        ).backward()
        for p in (*rnn.parameters(), *readout.parameters()):
            torch.nn.utils.clip_grad_norm_([p], 0.03)
        opt.step()

    return _median_time(epoch, repeats)


# --- floss ----------------------------------------------------------------------------------------
def floss_flossing_epoch(m: int, repeats: int, qr: str = "householder", interval: int = 1) -> float:
    cell = init_networks("vanilla", list(range(m)), N, batch=1)
    cfg = FlossingConfig(k=K, steps=STEPS, transient=0, interval=interval, qr=qr)
    return _median_time(Flosser(cell, cfg).step, repeats) / m


def floss_spectrum(m: int, repeats: int, qr: str = "householder") -> float:
    cell = init_networks("vanilla", list(range(m)), N, batch=1)
    return (
        _median_time(lambda: analysis_spectrum(cell, K, STEPS + 10, 10, "task", qr=qr), repeats) / m
    )


def floss_bptt_epoch(m: int, repeats: int) -> float:
    cell = init_networks("vanilla", list(range(m)), N, batch=BATCH)
    trainer = Trainer(
        cell, Task(order=1, delay=10, steps=STEPS), TrainConfig(epochs=1, batch=BATCH)
    )
    return _median_time(trainer.train_step, repeats) / m


def _paired(
    base: Callable[[], float], ours: Callable[[], float], rounds: int
) -> tuple[float, float, float]:
    """Median baseline time, median time of ours and median of the per-round ratios, with the
    two alternated so that drifts of the machine's speed cancel in the ratio."""
    pairs = [(base(), ours()) for _ in range(rounds)]
    ratios = [b / o for b, o in pairs]
    return (
        statistics.median(b for b, _ in pairs),
        statistics.median(o for _, o in pairs),
        statistics.median(ratios),
    )


ROWS = [
    ("flossing epoch, householder QR", baseline_flossing_epoch, floss_flossing_epoch),
    (
        "flossing epoch, cholesky QR",
        baseline_flossing_epoch,
        lambda m, r: floss_flossing_epoch(m, r, "cholesky"),
    ),
    ("no-grad spectrum, householder QR", baseline_spectrum, floss_spectrum),
    (
        "no-grad spectrum, cholesky QR",
        baseline_spectrum,
        lambda m, r: floss_spectrum(m, r, "cholesky"),
    ),
    ("BPTT epoch vs torch.nn.RNN", baseline_bptt_epoch, floss_bptt_epoch),
]
SIZES = (
    "flossing: N=80, k=75, 300 steps with gradient; spectrum: N=80, k=75, 310 steps; "
    "BPTT: N=80, B=16, T=300"
)


def main(networks: list[int], repeats: int, out: str | None) -> str:
    """Print (and write to `out`) the table; `repeats` alternated rounds per cell."""
    lines = [
        f"floss benchmark: seconds per network, medians of {repeats} alternated rounds, "
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)",
        SIZES,
        f"{'work':44s} {'networks':>8s} {'baseline':>9s} {'floss':>9s} {'speed-up':>9s}",
    ]
    for name, base_fn, ours_fn in ROWS:
        for m in networks:
            base, ours, ratio = _paired(
                lambda base_fn=base_fn: base_fn(1),
                lambda ours_fn=ours_fn, m=m: ours_fn(m, 1),
                repeats,
            )
            lines.append(f"{name:44s} {m:8d} {base:9.4f} {ours:9.4f} {ratio:8.2f}x")
            print(lines[-1], flush=True)
    text = "\n".join(lines)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text + "\n")
    return text
