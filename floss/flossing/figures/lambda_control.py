"""F1, claim 1 (docs/science.md §1.5): lambda_1 driven to targets from networks with g ~ U(0, 1)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from floss.core.figures import COLORS, caption, finish, legend_outside, plt
from floss.flossing.plan import fmt


def first_epoch_within(lam: np.ndarray, target: float, tol: float) -> tuple[int, float]:
    """First epoch (1-based) at which every network is within target +- tol (-1: never), and
    the fraction of the later epochs at which they all are (the window estimate is noisy)."""
    inside = np.all(np.abs(lam - target) <= tol, axis=0)  # lam (network, epoch)
    if not inside.any():
        return -1, 0.0
    first = int(np.argmax(inside))
    return first + 1, float(inside[first:].mean())


def build(inputs: dict[str, xr.Dataset], params: dict) -> xr.Dataset:
    targets = [float(t) for t in params["targets"]]
    lam = np.stack(
        [inputs[f"floss_t{fmt(t)}"]["flossing_lyapunov"].values[:, :, 0] for t in targets]
    )
    check = np.stack([inputs[f"check_t{fmt(t)}"]["lyapunov"].values[:, 0] for t in targets])
    ds = xr.Dataset(
        {
            "lambda1": (("target", "network", "flossing_epoch"), lam),
            "lambda1_check": (("target", "network"), check),
            "gain": (("network",), inputs["init"]["gain"].values),
        },
        coords={"target": targets, "flossing_epoch": np.arange(1, lam.shape[-1] + 1)},
    )
    ds["lambda1"].attrs.update(
        long_name="lambda_1 of the flossing window (Tp steps)", units="1/step"
    )
    ds["lambda1_check"].attrs.update(
        long_name="lambda_1 of a long no-grad spectrum after flossing", units="1/step"
    )
    tol = params.get("tolerance", 0.1)
    for i, t in enumerate(targets):
        ds.attrs[f"first_epoch_all_within_{tol:g}_t{fmt(t)}"] = first_epoch_within(lam[i], t, tol)
        ds.attrs[f"first_epoch_all_within_{tol / 2:g}_t{fmt(t)}"] = first_epoch_within(
            lam[i], t, tol / 2
        )
        ds.attrs[f"check_max_abs_deviation_t{fmt(t)}"] = float(np.abs(check[i] - t).max())
    return ds


def plot(ds: xr.Dataset, params: dict):
    fig, ax = plt.subplots(figsize=(6.2, 4.2))
    epochs = ds["flossing_epoch"].values
    tol = params.get("tolerance", 0.1)
    for i, t in enumerate(ds["target"].values):
        c = COLORS[i % len(COLORS)]
        for row in ds["lambda1"].values[i]:
            ax.plot(epochs, row, color=c, lw=0.7, alpha=0.6)
        ax.axhspan(t - tol, t + tol, color=c, alpha=0.08, lw=0)
        ax.axhline(t, color=c, ls="--", lw=1, label=rf"target $\lambda_1$ = {t:g}")
        x = np.full(ds.sizes["network"], epochs[-1] * 1.04)
        ax.plot(x, ds["lambda1_check"].values[i], "o", ms=3, color=c, mec="k", mew=0.4)
    ax.set_xlabel("flossing epoch")
    ax.set_ylabel(r"largest Lyapunov exponent $\lambda_1$ (1/step)")
    ax.set_title(r"Flossing drives $\lambda_1$ to a target (claim 1)")
    legend_outside(ax)
    finish(
        fig,
        caption(
            params,
            f"g ~ U(0, 1) per network; thin lines: one network each "
            f"(window estimate); dots: long no-grad spectrum after flossing; "
            f"bands: target +- {tol:g}.",
        ),
    )
    return fig
