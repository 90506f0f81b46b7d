"""F2, claim 2 (docs/science.md §1.5): flossing k exponents puts the first k near the target with a
step at i = k + 1; the unflossed exponents stay below."""

from __future__ import annotations

import numpy as np
import xarray as xr

from floss.core.figures import COLORS, caption, finish, legend_outside, network_lines, plt


def build(inputs: dict[str, xr.Dataset], params: dict) -> xr.Dataset:
    ks = [int(k) for k in params["ks"]]
    conds = ["before"] + [f"after_k{k}" for k in ks]
    lam = np.stack([inputs[c]["lyapunov"].values for c in conds])
    ds = xr.Dataset(
        {"lyapunov": (("condition", "network", "exponent"), lam)},
        coords={
            "condition": conds,
            "k": ("condition", [0, *ks]),
            "exponent": np.arange(1, lam.shape[-1] + 1),
        },
    )
    ds["lyapunov"].attrs.update(
        long_name="Lyapunov exponent (long no-grad spectrum)", units="1/step"
    )
    for i, k in enumerate(ks, start=1):
        mean = lam[i].mean(0)
        ds.attrs[f"k{k}_max_abs_first_k"] = float(np.abs(lam[i][:, :k]).max())
        if k < lam.shape[-1]:
            ds.attrs[f"k{k}_lambda_k_plus_1_mean"] = float(mean[k])
    return ds


def plot(ds: xr.Dataset, params: dict):
    fig, ax = plt.subplots(figsize=(6.2, 4.2))
    idx = ds["exponent"].values
    network_lines(ax, idx, ds["lyapunov"].values[0], "0.55", label="before flossing")
    for i, k in enumerate(ds["k"].values[1:], start=1):
        c = COLORS[i % len(COLORS)]
        network_lines(ax, idx, ds["lyapunov"].values[i], c, label=f"after flossing k = {k}")
        ax.axvline(k + 0.5, color=c, ls=":", lw=1)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xlabel("exponent index i")
    ax.set_ylabel(r"Lyapunov exponent $\lambda_i$ (1/step)")
    ax.set_title("Spectrum after flossing k exponents to 0 (claim 2)")
    legend_outside(ax)
    finish(fig, caption(params, "Thin lines: networks; thick: mean; dotted: i = k + 1/2."))
    return fig
