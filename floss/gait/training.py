"""Training S seeds of one rule at once, with accuracy, orthogonality and alignment records
(docs/science.md §4.2-§4.4). Returns an xarray Dataset; writing it is left to
`floss.core.io.write`. With an output path and checkpoint_every > 0 the run state is saved
every that many batches to `<output>.ckpt`, and a rerun of the same job resumes from it
(floss.gait.resume)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import xarray as xr

from floss.core import checkpoint, seeding
from floss.gait import learning_rules, resume
from floss.gait.data import Split
from floss.gait.layers import N_CLASSES, ExactInverse, InvNet, orth_error

PROBES = ("gait", "tp")
DEFAULT_GAMMAS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 0.3, 1.0)


@dataclass
class GaitConfig:
    """One run. Defaults are the reference's (run.py) for the rule; batch and schedule are set
    by the caller (the reference: batch n_train / 1000, 100 epochs)."""

    rule: str = "gait"
    lr: float = 1e-4  # reference: 1e-4 for BP and GAIT, 1e-5 for TP
    reg: float = 0.1  # lambda; reference runs: BP 0, GAIT 0.1, TP 1000
    gamma: float = 1e-3
    form: str = "target"  # GAIT-prop targets as the reference forms them, or 'increment'
    epochs: int = 100
    batch: int = 60
    eval_every: int = 10  # batches between accuracy evaluations (reference: 10)
    record_every: int = 100  # batches between alignment / orthogonality records
    shuffle: bool = False  # the reference walks the training set in file order every epoch
    inverse: str = "solve"  # 'inv': the reference's dense inverse per layer per step
    gamma_sweep: Sequence[float] = field(default_factory=lambda: list(DEFAULT_GAMMAS))
    betas: tuple[float, float] = (0.9, 0.99)
    eps: float = 1e-8
    eval_chunk: int = 10000

    def __post_init__(self) -> None:
        if self.rule not in learning_rules.RULES:
            raise ValueError(
                f"rule {self.rule!r} not allowed; allowed: {sorted(learning_rules.RULES)}"
            )
        if self.form not in learning_rules.FORMS:
            raise ValueError(
                f"form {self.form!r} not allowed; allowed: {list(learning_rules.FORMS)}"
            )
        for key in ("lr", "gamma"):
            if not getattr(self, key) > 0:
                raise ValueError(f"{key} must be > 0, got {getattr(self, key)}")
        if self.reg < 0:
            raise ValueError(f"reg (lambda) must be >= 0, got {self.reg}")

    def as_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def evaluate(net: InvNet, x: torch.Tensor, y: torch.Tensor, chunk: int) -> tuple[np.ndarray, ...]:
    """Accuracy (argmax of the first 10 output units) and MSE over those units, per seed.
    The reference's logged loss misplaces a mean (docs/science.md §4.3); this one is the MSE."""
    correct = torch.zeros(net.n_seeds, dtype=torch.float64, device=x.device)
    sq = torch.zeros_like(correct)
    with torch.no_grad():
        for i in range(0, len(y), chunk):
            out = net.forward(x[i : i + chunk])[-1][..., :N_CLASSES]
            lab = y[i : i + chunk]
            correct += (out.argmax(-1) == lab).sum(-1)
            onehot = torch.nn.functional.one_hot(lab, N_CLASSES).to(out.dtype)
            sq += (out - onehot).square().sum((-2, -1)).double()
    return (correct / len(y)).cpu().numpy(), (sq / (len(y) * N_CLASSES)).cpu().numpy()


def alignment(net, ys, target, inverse, cfg: GaitConfig, gamma: float | None = None):
    """Per-layer cosine of GAIT-prop's and TP's weight updates with BP's on one batch: (2, S, L)."""
    ub = learning_rules.bp(net, ys, target)[0]
    g = cfg.gamma if gamma is None else gamma
    probes = [
        learning_rules.gait(net, ys, target, inverse, gamma=g, form=cfg.form)[0],
        learning_rules.tp(net, ys, target, inverse)[0],
    ]
    return torch.stack(
        [
            torch.stack([learning_rules.cosine(u[l], ub[l]) for l in range(net.n_layers)], -1)
            for u in probes
        ]
    )


def gamma_sweep(net: InvNet, x, labels, inverse, cfg: GaitConfig) -> tuple[np.ndarray, ...]:
    """GAIT-prop's alignment with BP vs gamma at fixed weights (S, G, L), and TP's (S, L)."""
    ys = net.forward(x)
    target = learning_rules.output_target(ys[-1], labels)
    rows = [alignment(net, ys, target, inverse, cfg, g) for g in cfg.gamma_sweep]
    return (
        torch.stack([r[0] for r in rows], 1).cpu().numpy(),
        rows[0][1].cpu().numpy(),
    )


def _batch(data: Split, step: int, per_epoch: int, cfg: GaitConfig, seeds) -> tuple:
    b, epoch = step % per_epoch, step // per_epoch
    if not cfg.shuffle:
        sl = slice(b * cfg.batch, (b + 1) * cfg.batch)
        return data.x_train[sl], data.y_train[sl]
    idx = torch.stack(
        [
            torch.randperm(len(data.y_train), generator=seeding.generator(s, "input", epoch))
            for s in seeds
        ]
    )[:, b * cfg.batch : (b + 1) * cfg.batch].to(data.x_train.device)
    return data.x_train[idx], data.y_train[idx]


def train(
    net: InvNet,
    data: Split,
    cfg: GaitConfig,
    progress: Callable[..., None] | None = None,
    output: str | None = None,
    checkpoint_every: int = 0,
) -> xr.Dataset:
    """Train every seed of `net` in place with cfg.rule and torch's Adam; checkpointed every
    `checkpoint_every` batches (not epochs: the shared setting, 100-500, is sized for loops
    of thousands of steps, and a run here has about 100 epochs)."""
    per_epoch = len(data.y_train) // cfg.batch
    if per_epoch < 1:
        raise ValueError(f"batch {cfg.batch} exceeds the {len(data.y_train)} training images")
    total = cfg.epochs * per_epoch
    params = net.parameters()
    for p in params:
        p.requires_grad_(False)
    # torch's Adam (with bias correction); the reference's moments lack it (docs/science.md §4.2)
    opt = torch.optim.Adam(params, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps)
    inverse = ExactInverse(cfg.inverse)
    fixed = (data.x_train[: cfg.batch], data.y_train[: cfg.batch])
    hist: dict[str, list] = {k: [] for k in ("eval_step", "acc", "mse", "rec_step", "orth", "al")}
    saving = bool(output and checkpoint_every)
    key = resume.key(net, data, cfg.as_dict()) if saving else ""  # before any update
    ckpt = checkpoint.load(output, key) if saving else None
    start = 0
    if ckpt is None:
        sweep0 = gamma_sweep(net, *fixed, inverse, cfg)
    else:
        start, sweep0 = resume.restore(ckpt, net, opt, hist)
        if progress is not None:
            progress(start)

    def do_eval(step: int) -> None:
        tr = evaluate(net, data.x_train, data.y_train, cfg.eval_chunk)
        te = evaluate(net, data.x_test, data.y_test, cfg.eval_chunk)
        hist["eval_step"].append(step)
        hist["acc"].append([tr[0], te[0]])
        hist["mse"].append([tr[1], te[1]])

    for step in range(start, total + 1):
        if step % cfg.eval_every == 0 or step == total:
            do_eval(step)
        x, labels = _batch(data, min(step, total - 1), per_epoch, cfg, net.seeds)
        ys = net.forward(x)
        target = learning_rules.output_target(ys[-1], labels)
        if step % cfg.record_every == 0 or step == total:
            hist["rec_step"].append(step)
            hist["orth"].append(torch.stack([orth_error(w) for w in net.weights], -1).cpu())
            hist["al"].append(alignment(net, ys, target, inverse, cfg).cpu())
        if step == total:
            break
        dw, db = learning_rules.updates(
            cfg.rule, net, ys, target, inverse, gamma=cfg.gamma, form=cfg.form
        )
        for l, (w, b) in enumerate(zip(net.weights, net.biases)):
            w.grad = -dw[l] + cfg.reg * learning_rules.orth_grad(w) if cfg.reg else -dw[l]
            b.grad = -db[l]
        opt.step()
        inverse.reset()
        if progress is not None:  # the latest evaluation's test accuracy and MSE
            progress(1, test_accuracy=hist["acc"][-1][1], test_mse=hist["mse"][-1][1])
        if saving and (step + 1) % checkpoint_every == 0 and step + 1 < total:
            checkpoint.save(output, resume.state(step + 1, net, opt, hist, sweep0), key)
    sweep1 = gamma_sweep(net, *fixed, inverse, cfg)
    recon = max(float(inverse.reconstruction_error(net, l)) for l in range(net.n_layers))
    return _dataset(net, cfg, hist, (sweep0, sweep1), per_epoch, recon)


def _dataset(net, cfg, hist, sweeps, per_epoch, recon) -> xr.Dataset:
    acc = np.asarray(hist["acc"])  # (E, 2, S)
    mse = np.asarray(hist["mse"])
    eval_steps = np.asarray(hist["eval_step"])
    rec_steps = np.asarray(hist["rec_step"])
    orth = torch.stack(hist["orth"]).numpy()  # (R, S, L)
    al = torch.stack(hist["al"]).numpy()  # (R, 2, S, L)
    d = {
        "train_accuracy": (("seed", "eval"), acc[:, 0].T, "training-set accuracy", "1"),
        "test_accuracy": (("seed", "eval"), acc[:, 1].T, "test-set accuracy", "1"),
        "train_mse": (("seed", "eval"), mse[:, 0].T, "training-set MSE (10 outputs)", "1"),
        "test_mse": (("seed", "eval"), mse[:, 1].T, "test-set MSE (10 outputs)", "1"),
        "orth_error": (
            ("seed", "record", "layer"),
            orth.transpose(1, 0, 2),
            "||W W^T - I||_F per layer",
            "1",
        ),
        "alignment": (
            ("probe", "seed", "record", "layer"),
            al.transpose(1, 2, 0, 3),
            "cosine of the probe rule's weight update with BP's on the same batch",
            "1",
        ),
        "gamma_alignment": (
            ("when", "seed", "gamma", "layer"),
            np.stack([sweeps[0][0], sweeps[1][0]]),
            "cosine of GAIT-prop's weight update with BP's at fixed weights",
            "1",
        ),
        "tp_alignment": (
            ("when", "seed", "layer"),
            np.stack([sweeps[0][1], sweeps[1][1]]),
            "cosine of TP's weight update with BP's at fixed weights",
            "1",
        ),
    }
    ds = xr.Dataset(
        {k: (dims, v, {"long_name": ln, "units": u}) for k, (dims, v, ln, u) in d.items()},
        coords={
            "seed": list(net.seeds),
            "eval_step": ("eval", eval_steps),
            "eval_epoch": ("eval", eval_steps / per_epoch),
            "record_step": ("record", rec_steps),
            "record_epoch": ("record", rec_steps / per_epoch),
            "layer": np.arange(1, net.n_layers + 1),
            "probe": list(PROBES),
            "gamma": np.asarray(cfg.gamma_sweep, dtype=float),
            "when": ["initial", "final"],
        },
    )
    ds.attrs.update(
        rule=cfg.rule,
        init=net.init,
        widths=list(net.widths),
        linear=int(net.linear),
        batches_per_epoch=per_epoch,
        inverse_reconstruction_error=recon,
    )
    return ds
