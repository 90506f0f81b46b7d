"""The computations of the Hessian stages (floss.hessian.cli parses and writes around them):

train               hessian-train: one learning rule, M seeds, curvature tracked (H1-H3)
network_curvature   hessian-curvature: the Hessian of the task loss of trained
                    gradient-flossing networks on their fixed evaluation set (H4)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import xarray as xr

from floss.core import io
from floss.core.errors import FlossError
from floss.hessian import analytic_hvp, data, hvp, learning_rules, training
from floss.hessian.curvature import CurvatureConfig, density, describe, measure
from floss.hessian.training import HessianTrainConfig
from floss.rnn.cells.vanilla import VanillaRNN
from floss.rnn.networks import cell_from_dataset

HVP_METHODS = ("double_backward", "forward_over_reverse", "analytic")


def train(
    source: Mapping[str, Any],
    seeds: Sequence[int],
    cfg: HessianTrainConfig,
    ccfg: CurvatureConfig,
    device="cpu",
    dtype=torch.float32,
    progress: Callable[..., None] | None = None,
    output: str | None = None,
    checkpoint_every: int = 0,
) -> xr.Dataset:
    """Train networks `seeds` by `cfg.rule` on the data set `source` (name, pad_rows,
    ext_time, split_seed, sizes of a bundled set, validation and the IDX paths of mnist),
    recording the curvature. With an `output` path and checkpoint_every > 0 the run state is
    saved to `<output>.ckpt` every that many iterations; a rerun resumes from it."""
    learning_rules.check(cfg.rule, cfg.feedback)
    paths = {k: source[k] for k in data.MNIST_KEYS if source.get(k) is not None}
    sets = data.load(
        source["name"],
        source["pad_rows"],
        source["ext_time"],
        source["split_seed"],
        sizes=source.get("sizes"),
        mnist_paths=paths,
        validation=source.get("validation") or data.MNIST_VALIDATION,
        dtype=dtype,
        device=device,
    )
    if cfg.batch > len(sets["train"]):
        raise FlossError(f"--batch {cfg.batch} exceeds the {len(sets['train'])} training images")
    if cfg.hessian_samples > len(sets["validation"]):
        raise FlossError(
            f"--hessian-samples exceeds the {len(sets['validation'])} validation images"
        )
    ds = training.train(
        sets, list(seeds), cfg, ccfg, device, dtype, progress, output, checkpoint_every
    )
    loaded = {k: source[k] for k in ("name", "pad_rows", "ext_time", "split_seed")}
    loaded |= {
        "source": sets["train"].source,
        "sizes": {k: len(v) for k, v in sets.items()},
        "steps": int(sets["train"].inputs.shape[0]),
    }
    ds.attrs["data"] = json.dumps(loaded | paths)
    return ds


def network_curvature(
    net: xr.Dataset,
    evalset: xr.Dataset,
    cfg: CurvatureConfig,
    names: Sequence[str] = ("J",),
    method: str = "analytic",
    source: str = "network",
    device="cpu",
    dtype=None,
) -> xr.Dataset:
    """Curvature of the true task loss of every network in `net` (file `source`) on the
    evaluation set `evalset` (written by `floss data`), over the parameters `names`."""
    if "inputs" not in evalset or "t0" not in evalset.attrs:
        name = evalset.encoding.get("source", "--data")
        raise FlossError(f"{name}: not an evaluation set (needs inputs, targets, attr t0)")
    if method not in HVP_METHODS:
        raise FlossError(f"--hvp {method!r} not allowed; allowed: {list(HVP_METHODS)}")
    cell = cell_from_dataset(net, source, dtype, device)
    if method == "analytic" and cell.model != VanillaRNN.model:
        raise FlossError(f"{source}: the analytic HVP needs a vanilla network, not {cell.model}")
    bad = [n for n in names if n not in cell.param_dims]
    if bad:
        raise FlossError(f"--params {bad} not allowed; allowed: {sorted(cell.param_dims)}")
    t0 = int(evalset.attrs["t0"])
    inputs = torch.as_tensor(evalset["inputs"].transpose("time", "sample", "channel").values)
    targets = torch.as_tensor(evalset["targets"].transpose("time", "sample", "output").values)
    loss = analytic_hvp.task_loss(cell, inputs, targets, t0)

    def make_op(copies: int) -> hvp.Operator:
        if method == "analytic":
            return analytic_hvp.analytic(cell, inputs, targets, t0, names, block=copies)
        if method == "forward_over_reverse":
            return hvp.forward_over_reverse(loss, cell.param_dict(), names)
        return hvp.double_backward(loss, cell.param_dict(), names, copies)

    seeds = [int(s) for s in cell.meta["seed"]]
    res = measure(make_op, cfg, seeds, 0)
    quad = density(make_op, cfg, seeds, 1) if cfg.slq_probes else None
    with torch.no_grad():
        task_loss = loss(cell.param_dict()).cpu().numpy()
    dims = {"topk": ("network", "rank"), "topk_residual": ("network", "rank")}
    ds = xr.Dataset(
        {k: (dims.get(k, ("network",)), v) for k, v in res.items()},
        coords={"network": np.arange(cell.n_networks), "rank": np.arange(1, cfg.top_k + 1)},
    )
    if quad is not None:
        ds["slq_nodes"] = (("network", "probe", "node"), quad.nodes.cpu().numpy())
        ds["slq_weights"] = (("network", "probe", "node"), quad.weights.cpu().numpy())
    ds["task_loss"] = (("network",), task_loss)
    ds["task_loss"].attrs.update(long_name="task loss (BCE) on the evaluation set", units="1")
    for name in ("status", "seed", "gain"):
        if name in net:
            ds[name] = net[name]
    ds.attrs.update(
        {k: evalset.attrs[k] for k in ("task", "order", "delay", "t0") if k in evalset.attrs}
    )
    params = {"curvature": cfg.as_dict(), "params": list(names), "hvp": method}
    ds.attrs.update(
        io.provenance("hessian-curvature", params, seeds=seeds, device=str(cell.device))
    )
    return describe(ds)
