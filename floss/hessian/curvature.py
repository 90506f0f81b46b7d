"""Curvature measures of a loss at fixed parameters (figures H1-H4).

`measure` runs, for M networks in lockstep: the reference power iteration (lambda = ||Hv||),
Lanczos top-k (signed) and the Hutchinson trace; `density` adds SLQ. Random starts come from
each network's own `eval` stream (index: evaluation point * 8 + method), so a network's
numbers do not depend on the networks batched with it.

The H4 stage that applies them to gradient-flossing networks is floss.hessian.stages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
import xarray as xr

from floss.core import seeding
from floss.hessian import eigen, hvp


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
