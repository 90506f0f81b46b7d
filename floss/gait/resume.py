"""Checkpoints of gait-train (floss.core.checkpoint's contract).

The run state before batch `step` is: the weights and biases, torch's Adam (moments and its
step count), the accuracy / orthogonality / alignment records so far and the initial gamma
sweep. The minibatches are indexed by the step (file order, or a permutation drawn from the
seed's `input` stream indexed by the epoch) and nothing else is random, so a resumed run
computes what the uninterrupted one would have.
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from floss.core import checkpoint
from floss.gait.layers import InvNet

ADAM = "adam"
NUMPY = ("eval_step", "acc", "mse")  # histories kept as numpy values
TORCH = ("rec_step", "orth", "al")  # orth and al as CPU tensors
SWEEP = ("sweep_gait", "sweep_tp")


class Params:
    """The net's tensors by name (W0, b0, W1, ...), as floss.core.checkpoint's optimiser
    helpers expect of a cell; each layer has its own dims (a tower's widths differ)."""

    def __init__(self, net: InvNet) -> None:
        self.param_dims: dict[str, tuple[str, ...]] = {}
        for l, (w, b) in enumerate(zip(net.weights, net.biases)):
            setattr(self, f"W{l}", w)
            setattr(self, f"b{l}", b)
            self.param_dims[f"W{l}"] = (f"W{l}_in", f"W{l}_out")
            self.param_dims[f"b{l}"] = (f"b{l}_unit",)

    @property
    def names(self) -> list[str]:
        return list(self.param_dims)


def key(net: InvNet, data, params: dict) -> str:
    """The fingerprint of a gait-train job: its options, the initial network (seeds, init,
    widths, dtype) and the data's values."""
    arrays = {n: getattr(data, n).cpu().numpy() for n in ("x_train", "y_train", "x_test", "y_test")}
    arrays |= {n: getattr(Params(net), n).cpu().numpy() for n in Params(net).names}
    job = {**params, "widths": list(net.widths), "linear": net.linear, "slope": net.slope}
    return checkpoint.fingerprint(job, checkpoint.history_to_dataset(arrays, "job"))


def state(
    step: int, net: InvNet, opt: torch.optim.Optimizer, hist: dict, sweep0: tuple
) -> xr.Dataset:
    view = Params(net)
    arrays = {n: getattr(view, n).cpu().numpy() for n in view.names}
    arrays |= {k: np.asarray(hist[k]) for k in NUMPY}
    arrays |= {"rec_step": np.asarray(hist["rec_step"])}
    arrays |= {k: torch.stack(hist[k]).numpy() for k in ("orth", "al")}
    arrays |= dict(zip(SWEEP, sweep0))
    ds = checkpoint.history_to_dataset(arrays)
    adam = checkpoint.optimizer_to_dataset(opt, view, view.names, ADAM)
    ds = ds.merge(adam)
    ds.attrs.update(adam.attrs, checkpoint_step=step)
    return ds


def restore(ds: xr.Dataset, net: InvNet, opt: torch.optim.Optimizer, hist: dict) -> tuple:
    """Set `net` (in place: `opt` holds its tensors), `opt` and `hist` to the checkpoint's;
    the step to continue at and the initial gamma sweep."""
    view = Params(net)
    h = checkpoint.history_from_dataset(ds, [*view.names, *NUMPY, *TORCH, *SWEEP])
    for n in view.names:
        getattr(view, n).copy_(torch.as_tensor(h[n]))
    checkpoint.optimizer_from_dataset(opt, view, view.names, ds, ADAM)
    for k in NUMPY:
        hist[k] = list(h[k])
    hist["rec_step"] = list(h["rec_step"])
    for k in ("orth", "al"):
        hist[k] = [torch.as_tensor(a) for a in h[k]]
    return int(ds.attrs["checkpoint_step"]), tuple(h[k] for k in SWEEP)
