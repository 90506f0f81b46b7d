"""Benchmark: per-network cost of flossing, spectra and BPTT, measured side by side.

The baselines are written here in the style of the public single-network PyTorch examples
(one network at a time, an explicit N x N Jacobian built with torch.diag each step, a QR
every step) and torch.nn.RNN for BPTT, so that ratios are measured in one run on one machine.
Times are medians over `repeats` runs after one warm-up; run with one torch thread.

Each flossing and spectrum row names its numerical path (dtype, QR every m steps, QR method)
and reports that path's accuracy against float64 with a QR every step along the same
trajectory (floss.rnn.accuracy, as tests/rnn/test_qr.py) at gains 1 and 2.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from functools import partial

import torch

from floss.core.timing import median_time
from floss.rnn import accuracy
from floss.rnn.cells import init_networks
from floss.rnn.flossing import Flosser, FlossingConfig
from floss.rnn.lyapunov import analysis_spectrum
from floss.rnn.tasks import Task
from floss.rnn.training import TrainConfig, Trainer, default_pass_size

N, K, STEPS, BATCH = 80, 75, 300, 16


DEVICE = torch.device("cpu")


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

    return median_time(epoch, repeats, DEVICE)


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

    return median_time(run, repeats, DEVICE)


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

    return median_time(epoch, repeats, DEVICE)


# --- floss ----------------------------------------------------------------------------------------
def _cell(m: int, batch: int = 1, dtype: torch.dtype = torch.float32):
    return init_networks("vanilla", list(range(m)), N, batch=batch, dtype=dtype, device=DEVICE)


def floss_flossing_epoch(
    m: int, repeats: int, qr: str = "householder", interval: int = 1, dtype=torch.float32
) -> float:
    cfg = FlossingConfig(k=K, steps=STEPS, transient=0, interval=interval, qr=qr)
    return median_time(Flosser(_cell(m, dtype=dtype), cfg).step, repeats, DEVICE) / m


def floss_spectrum(
    m: int, repeats: int, qr: str = "householder", interval: int = 1, dtype=torch.float32
) -> float:
    cell = _cell(m, dtype=dtype)

    def run():
        analysis_spectrum(cell, K, STEPS + 10, 10, "task", interval=interval, qr=qr)

    return median_time(run, repeats, DEVICE) / m


def floss_bptt_epoch(m: int, repeats: int, networks_per_pass: int | None = None) -> float:
    cell = _cell(m, BATCH)
    config = TrainConfig(epochs=1, batch=BATCH)
    task = Task(order=1, delay=10, steps=STEPS)
    trainer = Trainer(cell, task, config, networks_per_pass=networks_per_pass)
    return median_time(trainer.train_step, repeats, DEVICE) / m


def _paired(
    base: Callable[[], float], ours: Callable[[], float], rounds: int
) -> tuple[float, float, list[float]]:
    """Median baseline time, median time of ours and the per-round ratios, with the two
    alternated so that drifts of the machine's speed cancel in the ratio."""
    pairs = [(base(), ours()) for _ in range(rounds)]
    return (
        statistics.median(b for b, _ in pairs),
        statistics.median(o for _, o in pairs),
        [b / o for b, o in pairs],
    )


#: numerical paths of the flossing and spectrum rows: (dtype, QR every m steps, QR method)
PATHS = {
    "float32, householder QR": (torch.float32, 1, "householder"),  # the reference default
    "float32, cholesky QR": (torch.float32, 1, "cholesky"),
    "float64, QR every 4 steps": (torch.float64, 4, "householder"),
}


#: (work, baseline, floss's timing of (networks, repeats), numerical path or None)
ROWS = [
    (f"{work}, {name}", base, partial(ours, qr=qr, interval=interval, dtype=dtype), path)
    for work, base, ours in (
        ("flossing epoch", baseline_flossing_epoch, floss_flossing_epoch),
        ("no-grad spectrum", baseline_spectrum, floss_spectrum),
    )
    for name, path in PATHS.items()
    for dtype, interval, qr in [path]
] + [("BPTT epoch vs torch.nn.RNN", baseline_bptt_epoch, floss_bptt_epoch, None)]
SIZES = (
    "flossing: N=80, k=75, 300 steps with gradient; spectrum: N=80, k=75, 310 steps; "
    "BPTT: N=80, B=16, T=300"
)


def path_accuracy(path, flossing: bool) -> str:
    """Errors of a numerical path at g = 1 / g = 2, as tests/rnn/test_qr.py measures them
    (networks 1-3): the largest exponent error (k = 75, 310 steps) and, for flossing, the
    largest relative error of the flossing gradient (Tp = 55)."""
    dtype, interval, qr = path
    exp, grad = [], []
    for gain in (1.0, 2.0):
        cell = init_networks("vanilla", [1, 2, 3], N, gains=gain, device=DEVICE)
        exp.append(
            accuracy.exponent_error(
                cell.to_dtype(dtype), K, STEPS + 10, 10, interval=interval, qr=qr
            )
        )
        if flossing:
            grad.append(accuracy.gradient_error(cell, K, 55, dtype, interval=interval, qr=qr))
    text = f"exp {exp[0]:.1e}/{exp[1]:.1e}"
    return text + (f" grad {grad[0]:.1e}/{grad[1]:.1e}" if flossing else "")


def saved_bytes_per_network(m: int, qr: str = "householder", interval: int = 1) -> float:
    """Bytes autograd keeps for the backward pass of one flossing epoch, per network (each
    storage counted once): the memory that grows with T and k."""
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    cfg = FlossingConfig(k=K, steps=STEPS, transient=0, interval=interval, qr=qr)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        Flosser(_cell(m), cfg).step()
    return sum(storages.values()) / m


def _section_intervals(networks: int, repeats: int) -> list[str]:
    lines = [
        "",
        f"re-orthonormalisation interval m (flossing epoch with gradient, M = {networks}, "
        "float32, householder; error: max over k of |lambda at m - float64 at m = 1| along "
        "the same trajectory, 1/step)",
        f"{'m':>3s} {'s/network':>10s} {'vs m=1':>7s} {'max |error|':>12s} {'saved MB/net':>13s}",
    ]
    t1 = None
    for m_int in (1, 2, 5, 10):
        t = floss_flossing_epoch(networks, repeats, interval=m_int)
        t1 = t1 or t
        err = accuracy.exponent_error(_cell(networks), K, STEPS, 0, interval=m_int)
        mb = saved_bytes_per_network(networks, interval=m_int) / 2**20
        lines.append(f"{m_int:3d} {t:10.4f} {t1 / t:6.2f}x {err:12.2e} {mb:13.1f}")
        print(lines[-1], flush=True)
    return lines


def _section_bptt_networks(networks: list[int], repeats: int) -> list[str]:
    """BPTT seconds per network at each M over those at M = 10, alternated round by round,
    with the Trainer's passes over slices of networks (default) and with one pass."""
    sizes = [m for m in networks if m != 10]
    lines = [
        "",
        "BPTT epoch per network at M over M = 10 (median of per-round ratios, range; default: "
        f"passes of {default_pass_size(_cell(2, BATCH), STEPS, BATCH)} networks on a CPU; "
        "one pass: all M networks at once)",
        f"{'M':>5s} {'default':>18s} {'one pass':>18s}",
    ]
    ratios: dict[tuple[int, int | None], list[float]] = {}
    for _ in range(repeats):
        ten = floss_bptt_epoch(10, 3)
        for m in sizes:
            for per in (None, m):
                ratios.setdefault((m, per), []).append(floss_bptt_epoch(m, 3, per) / ten)
    for m in sizes:
        cells = [ratios[m, per] for per in (None, m)]
        text = [f"{statistics.median(r):.2f} ({min(r):.2f}-{max(r):.2f})" for r in cells]
        lines.append(f"{m:5d} {text[0]:>18s} {text[1]:>18s}")
        print(lines[-1], flush=True)
    return lines


def report(repeats: int, networks: list[int], device: torch.device | str = "cpu") -> str:
    """The table (also printed row by row); `repeats` alternated rounds per cell. On a GPU
    only floss's own rows are timed (the baselines are the CPU peers of docs/science.md §5)."""
    global DEVICE
    DEVICE = torch.device(device)
    lines = [
        f"floss benchmark: seconds per network, medians of {repeats} alternated rounds, "
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), device {DEVICE}",
        SIZES,
        "ratio range: smallest and largest per-round ratio; accuracy: at g = 1 / g = 2 against "
        "float64 with a QR every step, same trajectory (largest exponent error; flossing: "
        "also the largest relative error of the flossing gradient)",
        f"{'work':44s} {'networks':>8s} {'baseline':>9s} {'floss':>9s} {'speed-up':>9s} "
        f"{'ratio range':>11s}  accuracy",
    ]
    for name, base_fn, ours_fn, path in ROWS:
        acc = path_accuracy(path, name.startswith("flossing")) if path else "-"
        for m in networks:
            if DEVICE.type != "cpu":
                ours = statistics.median(ours_fn(m, 1) for _ in range(repeats))
                cells = f"{'-':>9s} {ours:9.4f} {'-':>9s} {'-':>11s}"
            else:
                base, ours, ratios = _paired(
                    lambda base_fn=base_fn: base_fn(1),
                    lambda ours_fn=ours_fn, m=m: ours_fn(m, 1),
                    repeats,
                )
                spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
                cells = f"{base:9.4f} {ours:9.4f} {statistics.median(ratios):8.2f}x {spread:>11s}"
            lines.append(f"{name:44s} {m:8d} {cells}  {acc}")
            print(lines[-1], flush=True)
    lines += _section_intervals(min(10, max(networks)), repeats)
    if DEVICE.type == "cpu" and 10 in networks and len(networks) > 1:
        lines += _section_bptt_networks(networks, repeats)
    return "\n".join(lines)
