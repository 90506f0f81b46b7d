"""Training 4 networks under 4 delays: one batched computation (batch_delays) against one
run per delay, in one process, alternated; also checks that the numbers agree.

    OMP_NUM_THREADS=1 python experiments/batch_delays_timing.py [epochs] [rounds]

Sizes of config.yaml's `training` block (N = 32, T = 100, B = 16, k = 24, xor delays
5/10/15/20, flossing during training). Start-up per job (~2.8 s CPU of Python, torch and
xarray imports here) comes on top for the separate jobs of the pipeline and is not counted.
"""

import statistics
import sys
import time

import numpy as np
import torch

from floss.flossing import stages
from floss.rnn.flossing import FlossingConfig, Schedule
from floss.rnn.tasks import Task
from floss.rnn.training import TrainConfig

torch.set_num_threads(1)
epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 60
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
net = stages.init("vanilla", 4, 4, 32, batch=16)
flossing = FlossingConfig(k=24, steps=55)
tasks = [Task(order=1, delay=d, steps=100) for d in (5, 10, 15, 20)]
cfg = TrainConfig(epochs=epochs, batch=16, schedule=Schedule(0, every=20, epochs=10))
ratios = []
for _ in range(rounds):
    t = time.perf_counter()
    alone = [stages.train(net, task, cfg, flossing) for task in tasks]
    t_alone = time.perf_counter() - t
    t = time.perf_counter()
    together = stages.train_tasks(net, tasks, cfg, flossing)
    t_together = time.perf_counter() - t
    ratios.append(t_alone / t_together)
    print(f"one run per delay {t_alone:.2f} s, batched {t_together:.2f} s", flush=True)
worst = max(
    float(np.nanmax(np.abs(a[n].values - b[n].values)))
    for a, b in zip(alone, together, strict=True)
    for n in a.data_vars
    if a[n].dtype.kind == "f" and a[n].size
)
print(
    f"speed-up median {statistics.median(ratios):.2f}x (min {min(ratios):.2f}, "
    f"max {max(ratios):.2f}) over {rounds} rounds; largest difference {worst:.1e}"
)
