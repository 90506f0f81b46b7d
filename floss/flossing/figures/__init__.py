"""Figures F1-F7 of the gradient-flossing paper's claims (docs/science.md §1.5).

Each figure module has `build(inputs, params) -> Dataset` (what it plots, and what the claims
measure; F3, F5 and F6 share one build) and `plot(data, params) -> Figure`;
floss.core.figures.render does both and writes PDF, PNG and NetCDF.
"""

from __future__ import annotations

from floss.flossing.figures import (
    architectures,
    jacobian,
    lambda_control,
    scaling,
    spectrum_k,
    training,
)

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
