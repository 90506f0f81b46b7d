"""Benchmark rows: one GAIT-prop and one TP training step of the paper's net (784 wide, 4 hidden
layers, batch 60) against one BP step of the same net, with exact inverses formed by an LU
solve against the batch ('solve', ours) or by a dense inverse per layer per step ('inv', the
reference's method). Medians over repeats after one warm-up (floss.core.timing); run with one torch
thread."""

from __future__ import annotations

import torch

from floss.core.timing import median_time
from floss.gait import learning_rules
from floss.gait.layers import ExactInverse, init_net, square_widths

WIDTH, HIDDEN, BATCH = 784, 4, 60  # the paper's MNIST net and batch


def _step_fn(rule: str, reg: float, inverse: str, width: int, hidden: int, batch: int, device):
    net = init_net([1], square_widths(width, hidden), device=device)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(batch, width, generator=gen, dtype=torch.float64).to(device)
    labels = torch.randint(0, 10, (batch,), generator=gen).to(device)
    params = net.parameters()
    opt = torch.optim.Adam(params, lr=1e-4, betas=(0.9, 0.99), eps=1e-8)
    inv = ExactInverse(inverse)

    def step() -> None:
        ys = net.forward(x)
        target = learning_rules.output_target(ys[-1], labels)
        dw, db = learning_rules.updates(rule, net, ys, target, inv, gamma=1e-3)
        for l, (w, b) in enumerate(zip(net.weights, net.biases)):
            w.grad = -dw[l] + reg * learning_rules.orth_grad(w) if reg else -dw[l]
            b.grad = -db[l]
        opt.step()
        inv.reset()

    return step, net, inv


CASES = (
    # name, rule, lambda, inverse
    ("BP step (lambda 0)", "bp", 0.0, "solve"),
    ("GAIT-prop step, LU solve (lambda 0)", "gait", 0.0, "solve"),
    ("GAIT-prop step, dense inv (lambda 0)", "gait", 0.0, "inv"),
    ("TP step, LU solve (lambda 0)", "tp", 0.0, "solve"),
    ("TP step, dense inv (lambda 0)", "tp", 0.0, "inv"),
    ("BP step (lambda 0.1)", "bp", 0.1, "solve"),
    ("GAIT-prop step, LU solve (lambda 0.1)", "gait", 0.1, "solve"),
    ("GAIT-prop step, dense inv (lambda 0.1)", "gait", 0.1, "inv"),
)


def rows(width: int, hidden: int, batch: int, repeats: int, device) -> list[dict]:
    """One row per case: seconds per step, ratio to the BP step at the same lambda and the
    inverse's reconstruction error max_l ||W_l W_l^-1 - I||_F / sqrt(n)."""
    out, base = [], {}
    for name, rule, reg, inverse in CASES:
        step, net, inv = _step_fn(rule, reg, inverse, width, hidden, batch, device)
        t = median_time(step, repeats, device)
        if rule == "bp":
            base[reg] = t
        err = max(float(inv.reconstruction_error(net, l)) for l in range(1, net.n_layers))
        out.append(
            {
                "work": name,
                "seconds": t,
                "ratio_to_bp": t / base[reg],
                "reconstruction_error": float("nan") if rule == "bp" else err,
            }
        )
    return out


def report(repeats: int, networks: list[int], device: torch.device | str = "cpu") -> str:
    """The table of the paper's net (WIDTH wide, HIDDEN hidden layers, batch BATCH), rows
    printed as they come. One network each: `networks` (the other families' M) is not used."""
    return table(WIDTH, HIDDEN, BATCH, repeats, torch.device(device))


def table(width: int, hidden: int, batch: int, repeats: int, device: torch.device) -> str:
    lines = [
        f"GAIT-prop benchmark: seconds per training step, {width} wide, {hidden} hidden layers, "
        f"batch {batch}, float64, medians of {repeats}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} thread(s), {device}",
        f"{'work':40s} {'seconds':>9s} {'vs BP':>7s} {'||WW^-1-I||/sqrt(n)':>20s}",
    ]
    for r in rows(width, hidden, batch, repeats, device):
        lines.append(
            f"{r['work']:40s} {r['seconds']:9.4f} {r['ratio_to_bp']:6.2f}x "
            f"{r['reconstruction_error']:20.2e}"
        )
        print(lines[-1], flush=True)
    return "\n".join(lines)
