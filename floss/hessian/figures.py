"""Figures H1-H4 of the Hessian experiments. Each has build(inputs, params) -> Dataset (exactly
the plotted data) and plot(data, params) -> Figure; floss.core.figures.render writes PDF, PNG
and NetCDF. Captions come from floss.hessian.plan.model_caption, as the report's do."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
import xarray as xr

from floss.core.figures import (
    SCHEDULE_COLORS,
    SCHEDULE_LABELS,
    chance_line,
    finish,
    legend_outside,
    network_lines,
    plt,
)
from floss.hessian.curvature import describe
from floss.hessian.eigen import Quadrature
from floss.hessian.plan import model_caption

RULE_COLORS = {"bptt": "#1f77b4", "three_factor": "#d62728"}
RULE_LABELS = {"bptt": "BPTT", "three_factor": "three-factor"}
DIGITS_CHANCE = 0.1  # H1-H3: ten digit classes
BINARY_CHANCE = 0.5  # H4: the flossing networks' binary targets


def _label(key: str) -> tuple[str, str]:
    rule, _, feedback = key.rpartition("_")
    name = RULE_LABELS.get(rule, rule) + (" (random feedback)" if feedback == "random" else "")
    return name, RULE_COLORS.get(rule, "0.3")


def _caption(figure: str, params: dict, extra: str) -> str:
    """The model, the figure's own text, then the plan's choices (as floss.core.figures.caption
    appends them for the flossing figures)."""
    return " ".join(s for s in (model_caption(figure, params), extra, params.get("choices")) if s)


# --- H1 ----------------------------------------------------------------------------------------
def build_h1(inputs: Mapping[str, xr.Dataset], params: dict) -> xr.Dataset:
    out = xr.Dataset()
    for key, ds in inputs.items():
        dim = f"point_{key}"
        out[f"iteration_{key}"] = ((dim,), ds["iteration"].values, ds["iteration"].attrs)
        for var in ("lambda_max", "val_accuracy"):
            out[f"{var}_{key}"] = (("network", dim), ds[var].values, ds[var].attrs)
    return out


def plot_h1(data: xr.Dataset, params: dict):
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    keys = [k[len("iteration_") :] for k in data.data_vars if k.startswith("iteration_")]
    for key in keys:
        name, color = _label(key)
        x = data[f"iteration_{key}"].values
        network_lines(axes[0], x, data[f"lambda_max_{key}"].values, color, name)
        network_lines(axes[1], x, data[f"val_accuracy_{key}"].values, color, name)
    # log axis: on MNIST rows the initial networks' lambda_max spans 1 to ~1e4, the trained ~1e2
    axes[0].set(
        xlabel="training iteration", ylabel=r"leading eigenvalue $\lambda_{max}$", yscale="log"
    )
    axes[1].set(xlabel="training iteration", ylabel="validation accuracy")
    chance_line(axes[1], DIGITS_CHANCE)
    legend_outside(axes[1])  # the rules' colours are the same in both panels
    finish(
        fig,
        _caption(
            "H1_curvature_training", params, "Thin: seeds; thick: mean (docs/science.md §3.3)."
        ),
    )
    return fig


# --- H2 ----------------------------------------------------------------------------------------
def build_h2(inputs: Mapping[str, xr.Dataset], params: dict) -> xr.Dataset:
    out = xr.Dataset()
    for key, ds in inputs.items():
        for var in ("final_lambda_max", "generalization_gap", "test_accuracy", "train_accuracy"):
            out[f"{var}_{key}"] = ((f"network_{key}",), ds[var].values, ds[var].attrs)
        if "final_lambda_rayleigh" in ds:  # the sign check of claim H2.e (floss.hessian.claims)
            var = ds["final_lambda_rayleigh"]
            out[f"final_lambda_rayleigh_{key}"] = ((f"network_{key}",), var.values, var.attrs)
    lam, gap, test = (
        np.concatenate([out[k].values for k in out.data_vars if k.startswith(f"{v}_")])
        for v in ("final_lambda_max", "generalization_gap", "test_accuracy")
    )
    out.attrs["pearson_gap"] = float(np.corrcoef(lam, gap)[0, 1]) if len(lam) > 2 else np.nan
    out.attrs["pearson_test"] = float(np.corrcoef(lam, test)[0, 1]) if len(lam) > 2 else np.nan
    return out


def plot_h2(data: xr.Dataset, params: dict):
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    keys = [k[len("final_lambda_max_") :] for k in data.data_vars if "final_lambda_max_" in k]
    for key in keys:
        name, color = _label(key)
        lam = data[f"final_lambda_max_{key}"].values
        axes[0].scatter(lam, data[f"generalization_gap_{key}"].values, color=color, label=name)
        axes[1].scatter(lam, data[f"test_accuracy_{key}"].values, color=color, label=name)
    axes[0].set(xlabel=r"final $\lambda_{max}$", ylabel="train - test accuracy")
    axes[1].set(xlabel=r"final $\lambda_{max}$", ylabel="test accuracy")
    axes[0].set_title(f"Pearson r = {data.attrs['pearson_gap']:.2f}", fontsize=8)
    axes[1].set_title(f"Pearson r = {data.attrs['pearson_test']:.2f}", fontsize=8)
    chance_line(axes[1], DIGITS_CHANCE)
    legend_outside(axes[1])
    finish(
        fig,
        _caption("H2_generalization", params, "One point per network (all rules pooled for r)."),
    )
    return fig


# --- H3 ----------------------------------------------------------------------------------------
def build_h3(inputs: Mapping[str, xr.Dataset], params: dict) -> xr.Dataset:
    lo = min(float(ds["slq_nodes"].min()) for ds in inputs.values())
    hi = max(float(ds["slq_nodes"].max()) for ds in inputs.values())
    pad = 0.05 * (hi - lo) + 1e-3
    grid = np.linspace(lo - pad, hi + pad, 600)
    sigma = 0.01 * (hi - lo + 2 * pad)
    out = xr.Dataset(coords={"eigenvalue": grid})
    out.attrs["sigma"] = sigma
    for key, ds in inputs.items():
        quad = Quadrature(
            torch.as_tensor(ds["slq_nodes"].values), torch.as_tensor(ds["slq_weights"].values)
        )
        out[f"density_{key}"] = (
            (f"network_{key}", "eigenvalue"),
            quad.density(grid, sigma).numpy(),
        )
        out[f"density_{key}"].attrs.update(long_name="spectral density (SLQ)", units="1")
    return out


def plot_h3(data: xr.Dataset, params: dict):
    fig, ax = plt.subplots(figsize=(5, 3.2))
    x = data["eigenvalue"].values
    for key in [k[len("density_") :] for k in data.data_vars]:
        name, color = _label(key)
        dens = np.clip(data[f"density_{key}"].values, 1e-12, None)
        network_lines(ax, x, dens, color, name)
    ax.set(xlabel="Hessian eigenvalue", ylabel="density", yscale="log", ylim=(1e-7, None))
    legend_outside(ax)
    finish(
        fig,
        _caption(
            "H3_spectral_density",
            params,
            f"Final networks; SLQ smoothed by Gaussians, sigma = "
            f"{data.attrs['sigma']:.3g}. Thin: seeds; thick: mean.",
        ),
    )
    return fig


# --- H4 ----------------------------------------------------------------------------------------
H4_VARS = ("lambda_max", "lambda_rayleigh", "trace", "task_loss", "accuracy")


def build_h4(inputs: Mapping[str, xr.Dataset], params: dict) -> xr.Dataset:
    task, delays, scheds = params["task"], params["delays"], params["schedules"]
    first = inputs[f"curvature_{task}_d{delays[0]}_{scheds[0]}"]
    m = first.sizes["network"]
    arrays = {v: np.full((len(scheds), len(delays), m), np.nan) for v in H4_VARS}
    for i, s in enumerate(scheds):
        for j, d in enumerate(delays):
            cur = inputs[f"curvature_{task}_d{d}_{s}"]
            ev = inputs[f"eval_{task}_d{d}_{s}"]
            for v in H4_VARS[:-1]:
                arrays[v][i, j] = cur[v].values
            arrays["accuracy"][i, j] = ev["accuracy"].values
    out = xr.Dataset(
        {v: (("schedule", "delay", "network"), a) for v, a in arrays.items()},
        coords={"schedule": list(scheds), "delay": list(delays), "network": np.arange(m)},
    )
    out["accuracy"].attrs.update(long_name="accuracy on the fixed evaluation set", units="1")
    out["task_loss"].attrs.update(first["task_loss"].attrs)
    return describe(out)


def plot_h4(data: xr.Dataset, params: dict):
    panels = [
        ("lambda_max", r"$\lambda_{max}$ of $\partial^2 L/\partial J^2$", "log"),
        ("trace", "trace (Hutchinson)", "symlog"),
        ("accuracy", "evaluation accuracy", None),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    delays = data["delay"].values
    for s in data["schedule"].values:
        color = SCHEDULE_COLORS.get(s, "0.3")
        for ax, (var, label, scale) in zip(axes, panels):
            y = data[var].sel(schedule=s).values  # (delay, network)
            for col in y.T:
                ax.scatter(delays, col, color=color, s=8, alpha=0.5)
            ax.plot(
                delays, np.nanmedian(y, 1), color=color, lw=1.8, label=SCHEDULE_LABELS.get(s, s)
            )
            ax.set(xlabel="delay d'", ylabel=label)
            if scale:
                ax.set_yscale(scale)
    chance_line(axes[2], BINARY_CHANCE)
    legend_outside(axes[2])
    finish(fig, _caption("H4_flossing_curvature", params, "Dots: networks; lines: median."))
    return fig


FIGURES = {
    "H1_curvature_training": (build_h1, plot_h1),
    "H2_generalization": (build_h2, plot_h2),
    "H3_spectral_density": (build_h3, plot_h3),
    "H4_flossing_curvature": (build_h4, plot_h4),
}
