"""Benchmark rows of the Hessian toolkit (docs/science.md §5): the top-1 Hessian eigenvalue
of the loss of a 6.7k-parameter vanilla RNN (N = 80: J, W_in, b, w_out, c and one x0 column =
6721 parameters) on delayed XOR, T = 300, B = 16.

The baseline is PyHessian 0.1's `eigenvalues()` loop written out here (the gradient graph built
once with create_graph, then power iteration on double-backward products, v <- Hv/||Hv||, stop
when the relative change of <v, Hv> is < 1e-3 or after 100 products), on the same loss, so the
ratio is measured in one run on the same model and data; it is the only ratio reported (the
PyHessian time in docs/science.md §5 was measured elsewhere, on another network). Ours:
Lanczos on the analytic HVP (`analytic_hvp.analytic`), stopped when the Ritz residual is
<= 1e-4 |lambda| (an eigenvalue lies within the residual). Times include building each
method's operator; the speed-up is the median of the per-round ratios, with their range.
Errors are relative to a float64 Lanczos run to residual 1e-10.
"""

from __future__ import annotations

import statistics

import torch

from floss.core.timing import elapsed, median_time
from floss.hessian import analytic_hvp, eigen, hvp
from floss.rnn.cells import init_networks
from floss.rnn.tasks import Task

N, STEPS, BATCH, DELAY = 80, 300, 16, 10


def problem(dtype=torch.float32):
    cell = init_networks("vanilla", [0], N, batch=1, dtype=dtype)
    task = Task.from_name("xor", DELAY, STEPS)
    inputs, targets = task.sample(BATCH, torch.Generator().manual_seed(0))
    return cell, inputs, targets, task.t0


def reference_value() -> float:
    cell, s, y, t0 = problem(torch.float64)
    op = analytic_hvp.analytic(cell, s, y, t0, analytic_hvp.NAMES)
    res = eigen.lanczos(op, 1, torch.Generator().manual_seed(0), max_iter=200, tol=1e-10)
    return float(res.values[0, 0])


def pyhessian_style(cell, s, y, t0, seed: int, tol: float = 1e-3, max_iter: int = 100):
    loss = analytic_hvp.task_loss(cell, s, y, t0)
    op = hvp.double_backward(loss, cell.param_dict(), analytic_hvp.NAMES)
    gen = torch.Generator().manual_seed(seed)
    v = torch.randn(1, 1, op.size, generator=gen)
    v = v / v.norm()
    value = None
    for _ in range(max_iter):
        hv = op(v)
        new = float((hv * v).sum())
        v = hv / hv.norm()
        if value is not None and abs(value - new) / (abs(value) + 1e-6) < tol:
            value = new
            break
        value = new
    return value, op.products


def ours(cell, s, y, t0, seed: int, tol: float = 1e-4):
    op = analytic_hvp.analytic(cell, s, y, t0, analytic_hvp.NAMES)
    res = eigen.lanczos(
        op, 1, torch.Generator().manual_seed(seed), max_iter=60, tol=tol, check_every=1
    )
    return float(res.values[0, 0]), op.products


def hvp_times(repeats: int) -> dict[str, float]:
    """Seconds per Hessian-vector product of each method, all 6721 parameters."""
    cell, s, y, t0 = problem()
    loss = analytic_hvp.task_loss(cell, s, y, t0)
    ops = {
        "double backward": hvp.double_backward(loss, cell.param_dict(), analytic_hvp.NAMES),
        "forward over reverse": hvp.forward_over_reverse(
            loss, cell.param_dict(), analytic_hvp.NAMES
        ),
        "analytic R-op": analytic_hvp.analytic(cell, s, y, t0, analytic_hvp.NAMES),
    }
    v = torch.randn(1, 1, ops["analytic R-op"].size, generator=torch.Generator().manual_seed(1))
    return {name: median_time(lambda op=op: op(v), repeats) for name, op in ops.items()}


def _solve(fn, cell, s, y, t0, seed: int) -> tuple[float, float, int]:
    """Seconds, eigenvalue and Hessian-vector products of one solver run."""
    found = []
    seconds = elapsed(lambda: found.append(fn(cell, s, y, t0, seed=seed)))
    return seconds, *found[0]


def rows(repeats: int = 5) -> list[dict]:
    ref = reference_value()
    cell, s, y, t0 = problem()
    for fn in (pyhessian_style, ours):  # warm-up
        _solve(fn, cell, s, y, t0, seed=0)
    pairs = []
    for r in range(repeats):  # alternate, so that drifts of the machine's speed cancel
        pairs.append((_solve(pyhessian_style, cell, s, y, t0, r), _solve(ours, cell, s, y, t0, r)))
    tb = statistics.median(b[0] for b, _ in pairs)
    to = statistics.median(o[0] for _, o in pairs)
    err_b = max(abs(b[1] - ref) / abs(ref) for b, _ in pairs)
    err_o = max(abs(o[1] - ref) / abs(ref) for _, o in pairs)
    ratios = [b[0] / o[0] for b, o in pairs]
    return [
        {
            "work": "top-1 Hessian eigenvalue, 6.7k-parameter vanilla RNN, T=300, B=16",
            "peer": "PyHessian-style power iteration (double backward), measured here",
            "peer_s": tb,
            "peer_products": statistics.median(b[2] for b, _ in pairs),
            "peer_rel_error": err_b,
            "ours_s": to,
            "ours_products": statistics.median(o[2] for _, o in pairs),
            "ours_rel_error": err_o,
            "speedup": statistics.median(ratios),
            "speedup_range": (min(ratios), max(ratios)),
            "reference_value": ref,
        }
    ]


def report(repeats: int, networks: list[int], device) -> str:
    """The Hessian timing table. One fixed problem (`networks` does not apply: the rows time
    one network's Hessian); the baselines are CPU code, so other devices get a note only."""
    title = f"# Hessian benchmark: medians of {repeats} rounds, {torch.get_num_threads()} thread(s)"
    if torch.device(device).type != "cpu":
        return f"{title}\nskipped on {device}: the baselines are CPU code (bench --device cpu)"
    print(title, flush=True)
    lines = [title]
    for row in rows(repeats):
        line = (
            f"{row['work']}: ours (Lanczos, analytic HVP) {row['ours_s']:.3f} s "
            f"({row['ours_products']:.0f} HVPs, rel. error {row['ours_rel_error']:.1e}); "
            f"{row['peer']} {row['peer_s']:.3f} s ({row['peer_products']:.0f} HVPs, "
            f"rel. error {row['peer_rel_error']:.1e}); speed-up {row['speedup']:.2f}x "
            f"(rounds {row['speedup_range'][0]:.2f}-{row['speedup_range'][1]:.2f}); "
            f"lambda_max = {row['reference_value']:.6g}"
        )
        print(line, flush=True)
        lines.append(line)
    for name, sec in hvp_times(repeats).items():
        line = f"one HVP over all 6721 parameters, {name}: {sec * 1e3:.1f} ms"
        print(line, flush=True)
        lines.append(line)
    return "\n".join(lines)
