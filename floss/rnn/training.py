"""BPTT training of M networks at once, docs/science.md §1.3.

One epoch = one fresh batch (from each network's `input` stream, indexed by the epoch) = one
Adam step on all parameters, each parameter's gradient clipped per network to norm <= clip. Because
Adam is element-wise and the loss is a sum of per-network losses, training M networks
together gives the same result as training each alone.

Per epoch and network we record the loss, the accuracy on that fresh batch (computed from the
same forward pass, before the update, as the reference), ||dL/dx0|| and the top singular
values of dL/dJ (raw gradients, before clipping). A network whose loss or gradient turns
non-finite is marked failed (status 1) and frozen; the others go on.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from floss.core import seeding
from floss.rnn.cells.base import Cell
from floss.rnn.flossing import Flosser, Schedule
from floss.rnn.lyapunov import analysis_spectrum
from floss.rnn.optim import adam, clip_per_network, finite_per_network, masked_step
from floss.rnn.tasks import Task, accuracy, bce_loss

HISTORY = (
    "loss",
    "accuracy",
    "grad_norm_x0",
    "grad_sv_J",
    "flossing_epoch",
    "flossing_loss",
    "spectrum_epoch",
    "lyapunov",
)
STATUS = {
    0: "ok",
    1: "diverged (non-finite loss, gradient or exponent); frozen from failed_epoch on "
    "(0: in an earlier stage)",
}


@dataclass(frozen=True)
class TrainConfig:
    epochs: int
    batch: int = 16
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    clip: float = 0.03  # per parameter and network; <= 0 disables
    n_singular: int = 10  # top singular values of dL/dJ to keep
    spectrum_every: int = 0  # 0: no Lyapunov diagnostics during training
    spectrum_k: int = 1
    spectrum_steps: int = 500
    spectrum_transient: int = 100
    spectrum_input: str = "task"
    schedule: Schedule = field(default_factory=Schedule)

    def as_dict(self) -> dict:
        return asdict(self)


def forward(cell: Cell, inputs: torch.Tensor, targets: torch.Tensor, t0: int | Sequence[int]):
    """Loss and accuracy per network (M,) of a batch (T, M, B, S) from the trainable x0. t0:
    one loss-window start for all networks, or one per network (several task groups in one
    batched job); per network this is the same arithmetic as alone."""
    logits = cell.readout(cell.run(cell.drive(inputs)))
    starts = [t0] * cell.n_networks if isinstance(t0, int) else list(t0)
    loss, acc, a = [], [], 0
    for t, run in itertools.groupby(starts):  # networks in a row with the same t0
        b = a + len(list(run))
        y, z = logits[:, a:b], targets[:, a:b]
        loss.append(bce_loss(y, z, t))
        acc.append(accuracy(y.detach(), z, t))
        a = b
    return torch.cat(loss), torch.cat(acc)


#: bytes of one (T, networks, B, D) tensor of a forward/backward pass on a CPU: below glibc's
#: 32 MB mmap threshold, so the pass's big tensors are reused from the heap instead of paged
#: in anew each epoch, and J and dL/dJ of a pass's networks stay near L2 size; one pass of
#: 100 networks at N = 80, T = 300, B = 16 took 1.3-1.6x the CPU time per network of passes
#: of 20 (docs/performance.md, "BPTT at M = 100")
CPU_PASS_BYTES = 30 * 2**20


def default_pass_size(cell: Cell, steps: int, batch: int) -> int:
    """Networks per forward/backward pass: all of them off a CPU, else CPU_PASS_BYTES' worth."""
    if cell.device.type != "cpu":
        return cell.n_networks
    per_network = steps * batch * cell.state_size * cell.x0.element_size()
    return max(2, CPU_PASS_BYTES // per_network)


def passes(networks: int, most: int) -> list[tuple[int, int]]:
    """(first, stop) ranges of at most `most` networks covering all of them (one more where
    a single network would be left over: a pass of one network takes another path in torch's
    readout product, and its last bits differ), never fewer than two unless there is one."""
    starts = list(range(0, networks, max(2, most)))
    if len(starts) > 1 and networks - starts[-1] == 1:
        starts.pop()
    return list(zip(starts, [*starts[1:], networks]))


class Trainer:
    #: histories of epoch numbers (int64 arrays; the others are stacked per-epoch values)
    EPOCH_HISTORIES: tuple[str, ...] = ("flossing_epoch", "spectrum_epoch")

    def __init__(
        self,
        cell: Cell,
        task: Task | Sequence[Task],
        config: TrainConfig,
        flosser: Flosser | None = None,
        networks_per_pass: int | None = None,
    ):
        # several tasks: the networks form len(tasks) equal contiguous groups, one per task
        # (one batched job for networks of one shape under several delays)
        self.tasks = (task,) if isinstance(task, Task) else tuple(task)
        if not self.tasks or cell.n_networks % len(self.tasks):
            raise ValueError(
                f"{cell.n_networks} networks cannot form {len(self.tasks)} equal task groups"
            )
        task = self.tasks[0]
        if any(t.channels != task.channels or t.steps != task.steps for t in self.tasks):
            raise ValueError("batched tasks must agree in steps and channels")
        if cell.batch_size != config.batch:
            raise ValueError(
                f"batch {config.batch} differs from the networks' x0 columns ({cell.batch_size})"
            )
        if cell.n_inputs != task.channels or cell.n_outputs != task.channels:
            raise ValueError(
                f"task has {task.channels} channels; networks have {cell.n_inputs} inputs "
                f"and {cell.n_outputs} outputs"
            )
        needs_floss = config.schedule.pre_epochs > 0 or config.schedule.max_episodes > 0
        if needs_floss and flosser is None:
            raise ValueError("the flossing schedule needs a Flosser")
        self.cell, self.task, self.config, self.flosser = cell, task, config, flosser
        #: the forward/backward pass runs over slices of this many networks (per network the
        #: same arithmetic, bit for bit: tests/rnn/test_training.py)
        self.networks_per_pass = networks_per_pass or default_pass_size(
            cell, task.steps, config.batch
        )
        self.params = list(cell.param_dict().values())
        self.optimizer = adam(self.params, config.lr, config.betas, config.eps)
        self.seeds = [int(s) for s in cell.meta["seed"]]
        self.alive = torch.ones(cell.n_networks, dtype=torch.bool, device=cell.device)
        self.failed_epoch = np.full(cell.n_networks, -1, dtype=np.int64)
        self.episodes_done = 0
        self.epoch = 0
        self.hist: dict[str, list] = {k: [] for k in HISTORY}

    def _mark_failed(self, ok: torch.Tensor) -> None:
        self.failed_epoch[(self.alive & ~ok).cpu().numpy()] = self.epoch
        self.alive &= ok

    def _spectrum(self) -> np.ndarray:
        cfg = self.config
        lam = analysis_spectrum(
            self.cell,
            cfg.spectrum_k,
            cfg.spectrum_steps,
            cfg.spectrum_transient,
            cfg.spectrum_input,
        )
        return lam.cpu().numpy()

    def train_step(self) -> dict[str, torch.Tensor]:
        cell, cfg = self.cell, self.config
        gens = seeding.generators(self.seeds, "input", self.epoch)
        size = cell.n_networks // len(self.tasks)
        pairs = [
            t.sample_networks(cfg.batch, gens[i * size : (i + 1) * size])
            for i, t in enumerate(self.tasks)
        ]
        inputs = torch.cat([p[0] for p in pairs], 1).to(cell.device)
        targets = torch.cat([p[1] for p in pairs], 1).to(cell.device)
        loss, acc = self._backward(inputs, targets, size)
        rec = getattr(cell, cell.recurrent).grad.flatten(1, -2)
        stats = {
            "loss": loss.detach(),
            "accuracy": acc,
            "grad_norm_x0": cell.x0.grad.flatten(1).norm(dim=1),
            "grad_sv_J": (
                torch.linalg.svdvals(torch.nan_to_num(rec))[:, : cfg.n_singular]
                if cfg.n_singular > 0
                else rec.new_zeros(rec.shape[0], 0)
            ),
        }
        self._mark_failed(finite_per_network(self.params, loss))
        if cfg.clip > 0:
            clip_per_network(self.params, cfg.clip)
        masked_step(self.optimizer, self.params, self.alive)
        return stats

    def _backward(self, inputs: torch.Tensor, targets: torch.Tensor, size: int):
        """Loss and accuracy per network, and the gradients of the live networks' summed loss
        in each parameter's .grad, computed pass by pass over slices of networks (a copy of
        the slice's parameters is the leaf of that pass's graph)."""
        cell, params = self.cell, self.params
        grads = [torch.zeros_like(p) for p in params]
        for p in params:
            p.grad = None
        loss, acc = [], []
        t0 = [t.t0 for t in self.tasks for _ in range(size)]
        for a, b in passes(cell.n_networks, self.networks_per_pass):
            sub = cell if (a, b) == (0, cell.n_networks) else cell.select(range(a, b))
            part_loss, part_acc = forward(sub, inputs[:, a:b], targets[:, a:b], t0[a:b])
            alive = self.alive[a:b]
            torch.where(alive, part_loss, torch.zeros_like(part_loss)).sum().backward()
            for g, p in zip(grads, sub.param_dict().values()):
                g[a:b] = p.grad
            loss.append(part_loss.detach())
            acc.append(part_acc)
        for p, g in zip(params, grads):
            p.grad = g
        return torch.cat(loss), torch.cat(acc)

    def run(
        self, progress: Callable[[int], None] | None = None, epochs: int | None = None
    ) -> dict[str, np.ndarray]:
        """Train up to `epochs` more epochs (default: to config.epochs), flossing before each
        as `floss_before` says; the history accumulates in self.hist. Returns `result()`."""
        cfg, h = self.config, self.hist
        if cfg.spectrum_every and self.epoch == 0 and not h["spectrum_epoch"]:
            h["spectrum_epoch"].append(0)
            h["lyapunov"].append(self._spectrum())
        stop = cfg.epochs if epochs is None else min(cfg.epochs, self.epoch + epochs)
        while self.epoch < stop:
            self.epoch += 1
            self.floss_before(self.epoch)
            for k, v in self.train_step().items():
                # a copy: arrays that share small torch tensors kept 10^4 epochs pinned
                # ~2 MB of freed memory each (8 GB by epoch ~4000 at N = 80, T = 300)
                h[k].append(v.detach().cpu().numpy().copy())
            if cfg.spectrum_every and self.epoch % cfg.spectrum_every == 0:
                h["spectrum_epoch"].append(self.epoch)
                h["lyapunov"].append(self._spectrum())
            if progress is not None:
                progress(1, loss=h["loss"][-1], accuracy=h["accuracy"][-1])
        return self.result()

    def floss_before(self, epoch: int) -> None:
        """The flossing before training epoch `epoch` (1-based): here the config's Schedule.
        A subclass with another policy overrides this (and only this) part of `run`."""
        n_floss, during = self.config.schedule.flossing_before(epoch, self.episodes_done)
        if n_floss:
            self.floss(n_floss)
            self.episodes_done += int(during)

    def floss(self, steps: int, **step_options: Any) -> None:
        """`steps` flossing steps of the live networks, recorded in the history (at the
        current epoch); networks that diverge are marked failed."""
        h = self.hist
        self.flosser.alive &= self.alive
        out = self.flosser.run(steps, **step_options)
        h["flossing_epoch"] += [self.epoch] * steps
        h["flossing_loss"] += list(out["loss"])
        self._mark_failed(self.flosser.alive)

    def empty_history(self, name: str) -> np.ndarray:
        """The array of history `name` before its first entry."""
        m, k = self.cell.n_networks, self.config.spectrum_k
        empty = {"flossing_loss": (0, m), "lyapunov": (0, m, k), "grad_sv_J": (0, m, 0)}
        return np.zeros(empty.get(name, (0, m)), dtype=np.float32)

    def result(self) -> dict[str, np.ndarray]:
        """The history so far as arrays (epoch first), plus status and failed_epoch."""
        out = {}
        for name, values in self.hist.items():
            if name in self.EPOCH_HISTORIES:
                out[name] = np.asarray(values, dtype=np.int64)
            elif values:
                out[name] = np.stack(values)
            else:
                out[name] = self.empty_history(name)
        out["status"] = (~self.alive).cpu().numpy().astype(np.int8)
        out["failed_epoch"] = self.failed_epoch.copy()
        return out

    def restore(
        self,
        arrays: dict[str, np.ndarray],
        epoch: int,
        episodes_done: int,
        alive: np.ndarray,
        failed_epoch: np.ndarray,
    ) -> None:
        """Continue from a `result()` taken after `epoch` epochs (for resuming a killed run);
        every history this trainer keeps (a subclass's too) comes from `arrays`."""
        self.hist = {k: list(arrays[k]) for k in self.hist}
        self.epoch, self.episodes_done = int(epoch), int(episodes_done)
        self.alive = torch.as_tensor(alive, dtype=torch.bool, device=self.cell.device)
        self.failed_epoch = np.asarray(failed_epoch, dtype=np.int64).copy()
