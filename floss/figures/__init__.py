"""Figures F1-F7 of the gradient-flossing paper's claims (SPEC §1.5).

Each figure module has `build(inputs, params) -> Dataset` (exactly the data it plots) and
`plot(data, params) -> Figure`; `render` does both and writes PDF, PNG and NetCDF.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import xarray as xr

from floss import io
from floss.figures import (
    architectures,
    jacobian,
    lambda_control,
    scaling,
    spectrum_k,
    training,
)
from floss.figures.common import save, style

FIGURES = {
    "F1_lambda_control": (lambda_control.build, lambda_control.plot),
    "F2_spectrum_k": (spectrum_k.build, spectrum_k.plot),
    "F3_gradient_delay": (training.build, lambda d, p: training.plot(d, p, "gradient")),
    "F4_long_term_jacobian": (jacobian.build, jacobian.plot),
    "F5_preflossing": (training.build, lambda d, p: training.plot(d, p, "pre")),
    "F6_flossing_during": (training.build, lambda d, p: training.plot(d, p, "during")),
    "F7_architectures": (architectures.build, architectures.plot),
    "F8_scaling": (scaling.build, scaling.plot),
}


Registry = Mapping[str, tuple[Callable, Callable]]


def render_from(
    registry: Registry,
    step: str,
    name: str,
    inputs: Mapping[str, xr.Dataset],
    params: dict,
    prefix: str | Path,
) -> xr.Dataset:
    """Build figure `name` of `registry` (name -> (build, plot)), plot it and write PDF, PNG
    and the NetCDF of the plotted data; `step` names the stage in the provenance."""
    if name not in registry:
        raise ValueError(f"unknown figure {name!r}; allowed: {sorted(registry)}")
    build, plot = registry[name]
    try:
        data = build(dict(inputs), params)
    except KeyError as exc:
        raise ValueError(f"figure {name}: missing input or parameter {exc}") from None
    if not data.data_vars:
        raise ValueError(f"figure {name}: the inputs hold no data to plot")
    style()
    data.attrs.update(io.provenance(step, {"figure": name, **params}))
    save(plot(data, params), data, prefix)
    return data


def render(
    name: str, inputs: Mapping[str, xr.Dataset], params: dict, prefix: str | Path
) -> xr.Dataset:
    return render_from(FIGURES, "figure", name, inputs, params, prefix)
