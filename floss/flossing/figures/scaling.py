"""F8: cost per epoch and network against N, k and M, with fitted power laws
(expected: flossing O(T N^2 k) + O(T N k^2), BPTT O(T B N^2); docs/science.md §1.4)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from floss.core.figures import COLORS, finish, legend_outside, plt
from floss.flossing.scaling import fit_exponent

STYLES = ("-", "--", ":", "-.")


def build(inputs: dict[str, xr.Dataset], params: dict) -> xr.Dataset:
    ds = inputs["timings"].copy()
    n = ds["neurons"].values.astype(float)
    for w in ds["work"].values:
        for kr in ds["k_rule"].values:
            for m in ds["networks"].values:
                y = ds["seconds_per_epoch"].sel(work=w, k_rule=kr, networks=m).values
                slope = fit_exponent(n, y)
                if np.isfinite(slope):
                    ds.attrs[f"exponent_{w}_k{kr}_M{m}"] = round(slope, 3)
    return ds


def plot(ds: xr.Dataset, params: dict):
    fig, axes = plt.subplots(2, 2, figsize=(12, 7.5))
    n = ds["neurons"].values.astype(float)
    for col, w in enumerate(ds["work"].values):
        for i, kr in enumerate(ds["k_rule"].values):
            for j, m in enumerate(ds["networks"].values):
                for row, var in enumerate(("seconds_per_epoch", "saved_bytes_per_epoch")):
                    y = ds[var].sel(work=w, k_rule=kr, networks=m).values
                    if not np.isfinite(y).any():
                        continue
                    slope = fit_exponent(n, y)
                    label = f"k = {kr}, M = {m}" if w == "flossing" else f"M = {m}"
                    axes[row, col].plot(
                        n,
                        y,
                        STYLES[j % 4],
                        marker="o",
                        ms=3,
                        color=COLORS[i % len(COLORS)],
                        label=f"{label} (slope {slope:.2f})",
                    )
        axes[0, col].set_title(f"{w}: time per epoch and network")
        axes[1, col].set_title(f"{w}: memory saved for the backward pass")
    for ax in axes.flat:
        ax.set(xscale="log", yscale="log", xlabel="N (neurons)")
        legend_outside(ax, fontsize=6)
    axes[0, 0].set_ylabel("seconds per epoch and network")
    axes[1, 0].set_ylabel("bytes per epoch and network")
    finish(
        fig,
        f"{ds.attrs.get('epoch_steps')} steps per epoch (measured over "
        f"{ds.attrs.get('steps_measured')}), device {ds.attrs.get('device')}, "
        f"{params['scale']} scale. Expected slopes: flossing 2 + (1 for k ~ N), BPTT 2.",
    )
    return fig
