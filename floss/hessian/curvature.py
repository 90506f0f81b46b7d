"""Curvature measures of a loss at fixed parameters, and the flossing experiment (figure H4).

`measure` runs, for M networks in lockstep: the reference power iteration (lambda = ||Hv||),
Lanczos top-k (signed) and the Hutchinson trace; `density` adds SLQ. Random starts come from
each network's own `eval` stream (index: evaluation point * 8 + method), so a network's
numbers do not depend on the networks batched with it.

`networks` is the H4 stage: the Hessian of the true task loss of trained gradient-flossing
networks w.r.t. J (default), on a fixed evaluation set, with the analytic vanilla HVP.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
import xarray as xr

from floss import io, seeding
from floss.hessian import eigen, hvp, vanilla_hvp
from floss.models.vanilla import VanillaRNN

HVP_METHODS = ("double_backward", "forward_over_reverse", "analytic")


@dataclass(frozen=True)
class CurvatureConfig:
    """Defaults: the reference's power iteration (tol 1e-6 absolute, <= 500 products)."""

    power_tol: float = 1e-6
    power_max_iter: int = 500
    top_k: int = 5
    lanczos_max_iter: int = 100
    lanczos_tol: float = 1e-6
    trace_probes: int = 10
    slq_probes: int = 10
    slq_steps: int = 50

    def as_dict(self) -> dict:
        return asdict(self)


#: copies -> operator (copies = vectors per network per pass)
OpFactory = Callable[[int], hvp.Operator]


def _gens(seeds: Sequence[int], point: int, method: int) -> list[torch.Generator]:
    return seeding.generators(seeds, "eval", point * 8 + method)


def measure(
    make_op: OpFactory, cfg: CurvatureConfig, seeds: Sequence[int], point: int
) -> dict[str, np.ndarray]:
    """Power iteration, top-k Lanczos and Hutchinson trace for every network."""
    op = make_op(1)
    power = eigen.power_iteration(op, _gens(seeds, point, 0), cfg.power_tol, cfg.power_max_iter)
    lz = eigen.lanczos(op, cfg.top_k, _gens(seeds, point, 1), cfg.lanczos_max_iter, cfg.lanczos_tol)
    trace, err = eigen.hutchinson(
        make_op(cfg.trace_probes), cfg.trace_probes, _gens(seeds, point, 2)
    )
    out = {
        "lambda_max": power.value,
        "lambda_rayleigh": power.rayleigh,
        "power_iterations": power.iterations,
        "power_converged": power.converged.to(torch.int8),
        "topk": lz.values,
        "topk_residual": lz.residuals,
        "lanczos_iterations": lz.iterations,
        "trace": trace,
        "trace_stderr": err,
    }
    return {k: v.detach().cpu().numpy() for k, v in out.items()}


def density(
    make_op: OpFactory, cfg: CurvatureConfig, seeds: Sequence[int], point: int
) -> eigen.Quadrature:
    steps = min(cfg.slq_steps, make_op(1).size)
    return eigen.slq(make_op(cfg.slq_probes), cfg.slq_probes, steps, _gens(seeds, point, 3))


#: CF descriptions of the curvature variables: name -> (long_name, units)
DESCRIPTIONS = {
    "lambda_max": ("leading Hessian eigenvalue |lambda|max by power iteration (||Hv||)", "1"),
    "lambda_rayleigh": ("signed Rayleigh quotient <v, Hv> at the end of power iteration", "1"),
    "power_iterations": ("Hessian-vector products used by power iteration", "1"),
    "power_converged": ("power iteration met its tolerance (1) or hit max_iter (0)", "1"),
    "topk": ("top-k algebraic Hessian eigenvalues (Lanczos)", "1"),
    "topk_residual": ("Lanczos residual |beta_m s_mi| (an eigenvalue lies within it)", "1"),
    "lanczos_iterations": ("Lanczos steps until the top-k residuals met the tolerance", "1"),
    "trace": ("Hessian trace (Hutchinson)", "1"),
    "trace_stderr": ("standard error of the Hutchinson trace", "1"),
    "slq_nodes": ("stochastic Lanczos quadrature nodes (Ritz values)", "1"),
    "slq_weights": ("stochastic Lanczos quadrature weights (sum to 1 per probe)", "1"),
}


def describe(ds: xr.Dataset) -> xr.Dataset:
    for name, (long_name, units) in DESCRIPTIONS.items():
        for var in (name, f"final_{name}"):
            if var in ds:
                ds[var].attrs.update(long_name=long_name, units=units)
    return ds


# --- H4: gradient-flossing networks ---------------------------------------------------------
def networks(
    net: xr.Dataset,
    data: xr.Dataset,
    cfg: CurvatureConfig,
    names: Sequence[str] = ("J",),
    method: str = "analytic",
    source: str = "network",
    device="cpu",
    dtype=None,
) -> xr.Dataset:
    """Curvature of the true task loss of every network in `net` on the evaluation set
    `data` (written by `floss data`), over the parameters `names`."""
    if method not in HVP_METHODS:
        raise ValueError(f"--hvp {method!r} not allowed; allowed: {list(HVP_METHODS)}")
    cell = io.cell_from_dataset(net, source, dtype, device)
    if method == "analytic" and not isinstance(cell, VanillaRNN):
        raise ValueError(f"{source}: the analytic HVP needs a vanilla network, not {cell.model}")
    bad = [n for n in names if n not in cell.param_dims]
    if bad:
        raise ValueError(f"--params {bad} not allowed; allowed: {sorted(cell.param_dims)}")
    t0 = int(data.attrs["t0"])
    inputs = torch.as_tensor(data["inputs"].transpose("time", "sample", "channel").values)
    targets = torch.as_tensor(data["targets"].transpose("time", "sample", "output").values)
    loss = vanilla_hvp.task_loss(cell, inputs, targets, t0)

    def make_op(copies: int) -> hvp.Operator:
        if method == "analytic":
            return vanilla_hvp.analytic(cell, inputs, targets, t0, names, block=copies)
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
    ds.attrs.update({k: data.attrs[k] for k in ("task", "order", "delay", "t0") if k in data.attrs})
    params = {"curvature": cfg.as_dict(), "params": list(names), "hvp": method}
    ds.attrs.update(
        io.provenance("hessian-curvature", params, seeds=seeds, device=str(cell.device))
    )
    return describe(ds)
