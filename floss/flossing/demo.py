"""`floss demo`: flossing lambda_1 of three small networks toward -0.5, in seconds."""

from __future__ import annotations

from floss.rnn.cells import init_networks
from floss.rnn.flossing import Flosser, FlossingConfig
from floss.rnn.lyapunov import analysis_spectrum


def demo(epochs: int, device, progress) -> None:
    cell = init_networks("vanilla", [1, 2, 3], 32, gains=[0.3, 0.6, 0.9], batch=1, device=device)
    before = analysis_spectrum(cell, 1, 2000, 200, "task")[:, 0]
    Flosser(cell, FlossingConfig(k=1, target=-0.5, lr=5e-3, steps=100)).run(epochs, progress)
    after = analysis_spectrum(cell, 1, 2000, 200, "task")[:, 0]
    print(f"flossing lambda_1 toward -0.5 for {epochs} epochs (N=32, g = 0.3, 0.6, 0.9)")
    for m in range(3):
        print(f"network {m}: lambda_1 before {before[m]:+.3f}  after {after[m]:+.3f}  (1/step)")
