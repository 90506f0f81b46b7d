"""Checkpoints of hessian-train (floss.core.checkpoint's contract).

The training is plain SGD, so the run state after `it` iterations is: the weights (and the
fixed feedback matrix), each network's minibatch sampler (its `input` generator's state, the
current permutation and the position in it: the sampler draws a new permutation per pass, so
the draws are not indexed by the iteration and the generator state is saved exactly), the
alive mask and every evaluation-point record so far. The curvature probes are indexed by the
evaluation point (floss.hessian.curvature), so a resumed run draws what the uninterrupted
one would have.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import xarray as xr

from floss.core import checkpoint

PARAM, REC = "param_", "rec_"


def key(sets: dict, seeds: Sequence[int], params: dict, dtype: torch.dtype) -> str:
    """The fingerprint of a hessian-train job: its options and the loaded data's values."""
    data = {}
    for split, seqs in sets.items():
        data[f"{split}_inputs"] = seqs.inputs.cpu().numpy()
        data[f"{split}_labels"] = seqs.labels.cpu().numpy()
    job = {**params, "seeds": list(seeds), "dtype": str(dtype)}
    return checkpoint.fingerprint(job, checkpoint.history_to_dataset(data, "data"))


def state(it: int, params: dict, feedback, sampler, alive, rec: dict) -> xr.Dataset:
    """hessian-train before iteration `it` (0-based)."""
    arrays = {f"{PARAM}{n}": v.cpu().numpy() for n, v in {**params, "feedback": feedback}.items()}
    arrays |= {f"{REC}{k}": np.stack(v) for k, v in rec.items()}
    arrays |= {
        "alive": alive.cpu().numpy().astype(np.int8),
        "generator": np.stack([g.get_state().numpy() for g in sampler.gens]),  # uint8
        "perm": torch.stack(sampler.perms).numpy(),
        "pos": np.asarray(sampler.pos, dtype=np.int64),
    }
    ds = checkpoint.history_to_dataset(arrays)
    ds.attrs["checkpoint_iteration"] = it
    return ds


def restore(ds: xr.Dataset, sampler, device) -> tuple[int, dict, torch.Tensor, torch.Tensor, dict]:
    """The iteration to continue at, weights, feedback, alive mask and records of `ds`;
    `sampler` is set to the saved state in place."""
    names = [k[len("hist_") :] for k in ds.data_vars if k.startswith("hist_")]
    h = checkpoint.history_from_dataset(ds, names)
    params = {
        n[len(PARAM) :]: torch.as_tensor(v, device=device)
        for n, v in h.items()
        if n.startswith(PARAM)
    }
    feedback = params.pop("feedback")
    rec = {n[len(REC) :]: list(v) for n, v in h.items() if n.startswith(REC)}
    for g, s in zip(sampler.gens, h["generator"]):
        g.set_state(torch.as_tensor(np.ascontiguousarray(s, dtype=np.uint8)))
    sampler.perms = [torch.as_tensor(p) for p in h["perm"]]
    sampler.pos = [int(p) for p in h["pos"]]
    alive = torch.as_tensor(h["alive"].astype(bool), device=device)
    return int(ds.attrs["checkpoint_iteration"]), params, feedback, alive, rec
