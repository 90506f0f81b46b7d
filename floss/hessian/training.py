"""Training the reference ReLU RNN with a learning rule, M seeds at once, with curvature
tracked at evaluation points (docs/science.md §3.1-§3.3, §3.5).

Each network draws its minibatches from its own `input` stream: a fresh permutation of the
training set per pass, taken `batch` at a time (as TF's next_batch). SGD (no momentum) on the
rule's gradient estimate. At `eval_points` evenly spaced iterations k = 0, every, ... (before
that iteration's update, as the reference) we record validation accuracy and CE, the
accuracy of the current training batch, and the curvature of the TRUE loss (CE + L2) over the
Hessian parameters (default W_rec) on a fixed evaluation batch: the first `hessian_samples`
validation images [CHANGED: the reference draws a fresh validation minibatch each time].
After the last iteration: accuracy on the full train / validation / test sets, the
generalization gap (train - test accuracy), the final curvature and the SLQ density.
A network whose loss or gradient turns non-finite is frozen and marked (status 1).
With an output path and checkpoint_every > 0 the run state is saved every that many
iterations to `<output>.ckpt` and a rerun of the same job resumes from it (floss.hessian.resume).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
import xarray as xr

from floss.core import checkpoint, io, seeding
from floss.hessian import curvature, hvp, learning_rules, model, resume
from floss.hessian.data import Sequences


@dataclass(frozen=True)
class HessianTrainConfig:
    """Training of the reference ReLU RNN by one learning rule (not floss.rnn.training)."""

    rule: str = "bptt"
    feedback: str = "symmetric"
    n_rec: int = 32  # reference 128
    reg_l2: float = 1e-2
    lr: float = 1e-2
    batch: int = 64  # reference 256
    iterations: int = 2000  # reference 10000 (bptt) / 16000 (three_factor)
    eval_points: int = 40
    hessian_params: tuple[str, ...] = ("W_rec",)
    hessian_samples: int = 0  # 0: the whole validation set
    hvp: str = "double_backward"

    def as_dict(self) -> dict:
        return asdict(self)


class Sampler:
    """Minibatch indices per network: its own shuffled passes over the training set."""

    def __init__(self, seeds, n: int, batch: int):
        if batch > n:
            raise ValueError(f"batch {batch} exceeds the {n} training images")
        self.gens = seeding.generators(seeds, "input")
        self.n, self.batch = n, batch
        self.perms = [torch.randperm(n, generator=g) for g in self.gens]
        self.pos = [0] * len(self.gens)

    def next(self) -> torch.Tensor:
        out = []
        for i, g in enumerate(self.gens):
            if self.pos[i] + self.batch > self.n:
                self.perms[i], self.pos[i] = torch.randperm(self.n, generator=g), 0
            out.append(self.perms[i][self.pos[i] : self.pos[i] + self.batch])
            self.pos[i] += self.batch
        return torch.stack(out)


def _evaluate(params, seqs: Sequences, chunk: int = 4096):
    """Accuracy and CE (M,) on a whole set, in chunks."""
    acc, ce = 0.0, 0.0
    with torch.no_grad():
        for start in range(0, len(seqs), chunk):
            part = seqs.take(slice(start, start + chunk))
            z = model.logits(params, part.inputs)
            acc = acc + model.accuracy(z, part.labels) * len(part)
            ce = ce + model.cross_entropy(z, part.labels) * len(part)
    return acc / len(seqs), ce / len(seqs)


def _operator_factory(params, batch: Sequences, cfg: HessianTrainConfig):
    loss = model.true_loss(batch.inputs, batch.labels, cfg.reg_l2)
    names = list(cfg.hessian_params)

    def make_op(copies: int) -> hvp.Operator:
        if cfg.hvp == "forward_over_reverse":
            return hvp.forward_over_reverse(loss, params, names)
        return hvp.double_backward(loss, params, names, copies)

    return make_op


def train(
    sets: dict[str, Sequences],
    seeds: list[int],
    cfg: HessianTrainConfig,
    ccfg: curvature.CurvatureConfig,
    device="cpu",
    dtype=torch.float32,
    progress: Callable[..., None] | None = None,
    output: str | None = None,
    checkpoint_every: int = 0,
) -> xr.Dataset:
    learning_rules.check(cfg.rule, cfg.feedback)
    if cfg.hvp not in ("double_backward", "forward_over_reverse"):
        raise ValueError(f"hvp {cfg.hvp!r}; allowed: ['double_backward', 'forward_over_reverse']")
    if cfg.iterations < cfg.eval_points:
        raise ValueError(f"iterations ({cfg.iterations}) < eval_points ({cfg.eval_points})")
    bad = [n for n in cfg.hessian_params if n not in model.PARAMS]
    if bad:
        raise ValueError(f"hessian params {bad} not allowed; allowed: {list(model.PARAMS)}")
    tr, val = sets["train"], sets["validation"]
    n_in = tr.inputs.shape[-1]
    params = model.init_params(seeds, n_in, cfg.n_rec, 10, dtype, device)
    feedback = params.pop("feedback")
    hbatch = val if cfg.hessian_samples == 0 else val.take(slice(0, cfg.hessian_samples))
    sampler = Sampler(seeds, len(tr), cfg.batch)
    every = cfg.iterations // cfg.eval_points
    alive = torch.ones(len(seeds), dtype=torch.bool, device=device)
    rec: dict[str, list] = {}
    saving = bool(output and checkpoint_every)
    job = {"train": cfg.as_dict(), "curvature": ccfg.as_dict()}
    key = resume.key(sets, seeds, job, dtype) if saving else ""
    ckpt = checkpoint.load(output, key) if saving else None
    start = 0
    if ckpt is not None:
        start, params, feedback, alive, rec = resume.restore(ckpt, sampler, device)
        if progress is not None:
            progress(start)

    def keep(values: dict) -> None:
        for k, v in values.items():
            rec.setdefault(k, []).append(np.asarray(v.cpu() if torch.is_tensor(v) else v))

    for it in range(start, cfg.iterations):
        idx = sampler.next().to(device)
        x, y = tr.inputs[:, idx], tr.labels[idx]
        loss, z, grads = learning_rules.gradients(
            params, x, y, cfg.reg_l2, cfg.rule, cfg.feedback, feedback
        )
        if it % every == 0 and it // every < cfg.eval_points:
            acc, ce = _evaluate(params, val)
            point = it // every
            keep({"iteration": it, "train_batch_accuracy": model.accuracy(z, y)})
            keep({"val_accuracy": acc, "val_loss": ce, "train_batch_loss": loss})
            make_op = _operator_factory(params, hbatch, cfg)
            keep(curvature.measure(make_op, ccfg, seeds, point))
        ok = torch.isfinite(loss)
        for g in grads.values():
            ok &= torch.isfinite(g.flatten(1)).all(1)
        alive &= ok
        for n, g in grads.items():
            step = torch.where(alive.view(-1, *[1] * (g.dim() - 1)), g, torch.zeros_like(g))
            params[n] = params[n] - cfg.lr * step
        if progress is not None:
            progress(1, loss=loss, val_accuracy=rec["val_accuracy"][-1])
        if saving and (it + 1) % checkpoint_every == 0 and it + 1 < cfg.iterations:
            ckpt = resume.state(it + 1, params, feedback, sampler, alive, rec)
            checkpoint.save(output, ckpt, key)
    return _dataset(params, feedback, sets, seeds, cfg, ccfg, rec, alive, hbatch)


def _dataset(params, feedback, sets, seeds, cfg, ccfg, rec, alive, hbatch) -> xr.Dataset:
    m = len(seeds)
    make_op = _operator_factory(params, hbatch, cfg)
    final = curvature.measure(make_op, ccfg, seeds, cfg.eval_points)
    quad = curvature.density(make_op, ccfg, seeds, cfg.eval_points + 1) if ccfg.slq_probes else None
    ds = xr.Dataset(coords={"network": np.arange(m), "point": np.arange(cfg.eval_points)})
    ds = ds.assign_coords(rank=np.arange(1, ccfg.top_k + 1))
    ds = ds.assign_coords(iteration=("point", np.asarray(rec.pop("iteration"))))
    ds["iteration"].attrs.update(long_name="training iteration (before its update)", units="1")
    for k, values in rec.items():
        arr = np.stack(values)  # (point, network, ...)
        dims = ("network", "point", "rank") if arr.ndim == 3 else ("network", "point")
        ds[k] = (dims, np.moveaxis(arr, 0, 1))
    for k, v in final.items():
        ds[f"final_{k}"] = (("network", "rank") if v.ndim == 2 else ("network",), v)
    if quad is not None:
        ds["slq_nodes"] = (("network", "probe", "node"), quad.nodes.cpu().numpy())
        ds["slq_weights"] = (("network", "probe", "node"), quad.weights.cpu().numpy())
    acc = {}
    for split, seqs in sets.items():
        a, ce = _evaluate(params, seqs)
        acc[split] = a.cpu().numpy()
        ds[f"{split}_accuracy"] = (("network",), acc[split])
        ds[f"{split}_accuracy"].attrs.update(long_name=f"final {split} accuracy", units="1")
        ds[f"{split}_loss"] = (("network",), ce.cpu().numpy())
        ds[f"{split}_loss"].attrs.update(long_name=f"final {split} cross-entropy", units="1")
    ds["generalization_gap"] = (("network",), acc["train"] - acc["test"])
    ds["generalization_gap"].attrs.update(long_name="train minus test accuracy", units="1")
    for name, value in {**params, "feedback": feedback}.items():
        dims, long_name = model.PARAM_DIMS[name]
        ds[name] = (("network", *dims), value.cpu().numpy())
        ds[name].attrs.update(long_name=long_name, units="1")
    ds["seed"] = (("network",), np.asarray(seeds, dtype=np.int64))
    ds["seed"].attrs.update(long_name="network seed", units="1")
    ds["status"] = (("network",), (~alive).cpu().numpy().astype(np.int8))
    ds["status"].attrs.update(long_name="0 ok, 1 diverged (frozen)", units="1")
    for k, (long_name, units) in {
        "val_accuracy": ("validation accuracy", "1"),
        "val_loss": ("validation cross-entropy", "1"),
        "train_batch_accuracy": ("accuracy on the current training batch", "1"),
        "train_batch_loss": ("loss (CE + L2) on the current training batch", "1"),
    }.items():
        ds[k].attrs.update(long_name=long_name, units=units)
    params_attr = {"train": cfg.as_dict(), "curvature": ccfg.as_dict()}
    ds.attrs.update(io.provenance("hessian-train", params_attr, seeds=seeds))
    ds.attrs.update(rule=cfg.rule, feedback=cfg.feedback)
    return curvature.describe(ds)
