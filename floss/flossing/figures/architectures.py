"""F7, claim 7 (docs/science.md §1.5): flossing works for GRU and LSTM networks, and for tasks of
higher temporal complexity (hierarchical XOR of order h)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from floss.core.figures import (
    COLORS,
    SCHEDULE_COLORS,
    SCHEDULE_LABELS,
    caption,
    chance_line,
    failed_mask,
    finish,
    legend_outside,
    network_lines,
    plt,
)

SCHEDS = ("none", "pre")
CHANCE = 0.5  # binary targets


def _acc(ev: xr.Dataset) -> np.ndarray:
    a = ev["accuracy"].values.astype(float)
    a[failed_mask(ev)] = np.nan
    return a


def build(inputs: dict[str, xr.Dataset], params: dict) -> xr.Dataset:
    models, orders = params["models"], [int(h) for h in params["orders"]]
    data, coords = {}, {"schedule": list(SCHEDS), "model": models, "order": orders}
    for m in models:
        lam = np.stack([inputs[f"{m}_{c}"]["lyapunov"].values for c in ("before", "after")])
        data[f"lyapunov_{m}"] = (("flossing", "network", f"exponent_{m}"), lam)
        coords[f"exponent_{m}"] = np.arange(1, lam.shape[-1] + 1)
    coords["flossing"] = ["before", "after"]
    data["accuracy_model"] = (
        ("schedule", "model", "network"),
        np.stack([[_acc(inputs[f"{m}_eval_{s}"]) for m in models] for s in SCHEDS]),
    )
    data["accuracy_order"] = (
        ("schedule", "order", "network"),
        np.stack([[_acc(inputs[f"order{h}_eval_{s}"]) for h in orders] for s in SCHEDS]),
    )
    ds = xr.Dataset(data, coords=coords)
    for name in ds.data_vars:
        ds[name].attrs.update(
            units="1/step" if name.startswith("lyap") else "1", long_name=name.replace("_", " ")
        )
    for i, s in enumerate(SCHEDS):
        for j, m in enumerate(models):
            ds.attrs[f"median_accuracy_{m}_{s}"] = float(
                np.nanmedian(ds["accuracy_model"].values[i, j])
            )
        for j, h in enumerate(orders):
            ds.attrs[f"median_accuracy_h{h}_{s}"] = float(
                np.nanmedian(ds["accuracy_order"].values[i, j])
            )
    return ds


def plot(ds: xr.Dataset, params: dict):
    models = list(ds["model"].values)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    a, b, c = axes
    for i, m in reversed(list(enumerate(models))):  # first model drawn on top
        lam = ds[f"lyapunov_{m}"].values
        idx = ds[f"exponent_{m}"].values
        col = COLORS[(i + 3) % len(COLORS)]
        network_lines(a, idx, lam[0], col, label=f"{m.upper()} before", ls="--", alpha=0.2)
        network_lines(a, idx, lam[1], col, label=f"{m.upper()} after flossing k = {params['k']}")
    a.axvline(params["k"] + 0.5, color="k", ls=":", lw=0.8)
    a.set(
        xlabel="exponent index i (LSTM state: [h, c], 2N)",
        ylabel=r"$\lambda_i$ (1/step)",
        title="spectra before (dashed) and after flossing",
    )
    width = 0.35
    for i, s in enumerate(ds["schedule"].values):
        acc = ds["accuracy_model"].values[i]
        x = np.arange(len(models)) + (i - 0.5) * width
        b.bar(
            x,
            np.nanmedian(acc, 1),
            width,
            color=SCHEDULE_COLORS[s],
            alpha=0.7,
            label=SCHEDULE_LABELS[s],
        )
        for j in range(len(models)):
            b.plot(np.full(acc.shape[1], x[j]), acc[j], "k.", ms=3)
        acc_h = ds["accuracy_order"].values[i]
        orders = ds["order"].values
        for j, h in enumerate(orders):
            c.plot(
                np.full(acc_h.shape[1], h + (i - 0.5) * 0.1),
                acc_h[j],
                "o",
                ms=3,
                color=SCHEDULE_COLORS[s],
                alpha=0.6,
            )
        c.plot(
            orders,
            np.nanmedian(acc_h, 1),
            color=SCHEDULE_COLORS[s],
            lw=1.5,
            label=SCHEDULE_LABELS[s],
        )
    b.set_xticks(np.arange(len(models)), [m.upper() for m in models])
    b.set(
        ylabel="final accuracy",
        ylim=(0, 1.02),  # bars from 0: their heights compare
        title=f"{params['task']}, d' = {params['delay']} (bars: median)",
    )
    c.set(
        xlabel="temporal complexity h (XOR of 2^h bits)",
        ylabel="final accuracy",
        title=f"vanilla RNN, d' = {params['order_delay']}",
    )
    c.set_xticks(ds["order"].values)
    for ax in (b, c):
        chance_line(ax, CHANCE)
    legend_outside(a)
    legend_outside(c)  # b's schedules are c's
    fig.suptitle("Other architectures and temporal complexity (claim 7)")
    finish(
        fig,
        caption(
            params,
            f"T = {params['steps']}, {params['epochs']} epochs; accuracy on "
            "a fixed evaluation set; dots: networks.",
        ),
    )
    return fig
