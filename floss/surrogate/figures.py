"""Figures S1A-S2D of the surrogate-gradient-flossing README and a spiking panel (docs/science.md
§2.3).

Each figure has build(inputs, params) -> Dataset (exactly the plotted data, with the numbers
the docs compare with docs/science.md §2.3 as attrs) and plot(data, params) -> Figure.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from floss.core.figures import COLORS, chance_line, finish, legend_outside, network_lines, plt

MODE_COLORS = {"none": "#1f77b4", "periodic": "#ff7f0e", "adaptive": "#2ca02c"}
MODE_LABELS = {
    "none": "no flossing",
    "periodic": "periodic flossing (reference)",
    "adaptive": "adaptive flossing",
}
CHANCE = 0.6  # "stays at chance": final accuracy below this
CHANCE_LEVEL = 0.5  # the binary XOR target's chance accuracy


def _caption(params: dict, text: str) -> str:
    """The figure's text, sizes, what the scale reduces and the plan's `choices` (settings the
    paper does not fix or this scale changes)."""
    size = f"N = {params['n_neurons']}, {params['n_networks']} networks, {params['scale']} scale"
    reduced = f" Reduced: {params['reduced']}." if params.get("reduced") else ""
    choices = f" {params['choices']}" if params.get("choices") else ""
    return f"{text} {size}.{reduced}{choices}"


def _sorted(lam: np.ndarray) -> np.ndarray:
    return -np.sort(-lam, axis=-1)


# --- S1A / S1B ---------------------------------------------------------------------------------
def first_epoch_at(mean: np.ndarray, level: float) -> int:
    """First flossing epoch (1-based) at which the mean is >= level (-1: never)."""
    hit = np.flatnonzero(mean >= level)
    return int(hit[0]) + 1 if hit.size else -1


def build_s1a(inputs: dict[str, xr.Dataset], params: dict) -> xr.Dataset:
    gains = [float(c) for c in params.get("gains", [params["gain"]])]
    gs = [float(g) for g in params["sharpness"]]
    lam = np.stack(
        [
            np.stack([inputs[f"gain{c:g}_g{g:g}"]["flossing_lyapunov"].values[:, :, 0] for g in gs])
            for c in gains
        ]
    )
    ds = xr.Dataset(
        {"lambda1": (("gain", "sharpness", "network", "flossing_epoch"), lam)},
        coords={"gain": gains, "sharpness": gs, "flossing_epoch": np.arange(1, lam.shape[-1] + 1)},
        attrs={"reference_gain": float(params["gain"])},
    )
    ds["lambda1"].attrs.update(
        long_name="surrogate lambda_1 of the flossing window", units="1/step"
    )
    ds["gain"].attrs.update(long_name="coupling gain of J", units="1")
    ds["sharpness"].attrs.update(long_name="surrogate sharpness g", units="1")
    for i, c in enumerate(gains):
        for j, g in enumerate(gs):
            mean, tag = lam[i, j].mean(0), f"gain{c:g}_g{g:g}"
            ds.attrs[f"start_mean_{tag}"] = float(mean[0])
            ds.attrs[f"start_std_{tag}"] = float(lam[i, j, :, 0].std())
            ds.attrs[f"first_epoch_mean_ge_-0.02_{tag}"] = first_epoch_at(mean, -0.02)
            ds.attrs[f"final_mean_last10_{tag}"] = float(mean[-10:].mean())
    return ds


def plot_s1a(ds: xr.Dataset, params: dict):
    gains = ds["gain"].values
    fig, axes = plt.subplots(1, len(gains), figsize=(4.2 * len(gains) + 1.4, 3.8), sharey=True)
    x = ds["flossing_epoch"].values
    for ax, (i, c) in zip(np.atleast_1d(axes), enumerate(gains)):
        for j, g in enumerate(ds["sharpness"].values):
            lam = ds["lambda1"].values[i, j]
            network_lines(ax, x, lam, COLORS[j], f"g = {g:g}", alpha=0.25)
        ax.axhline(0, color="k", lw=0.6, ls=":")
        ax.set_xscale("log")
        ax.set_xlabel("flossing epoch")
        ref = " (reference)" if np.isclose(c, ds.attrs["reference_gain"]) else ""
        ax.set_title(f"coupling gain {c:g}{ref}")
    legend_outside(np.atleast_1d(axes)[-1], title="surrogate sharpness")  # same in each panel
    np.atleast_1d(axes)[0].set_ylabel(r"surrogate $\lambda_1$ (1/step)")
    fig.suptitle(r"S1A: surrogate flossing of $\lambda_1$, binary RNN")
    finish(
        fig,
        _caption(
            params,
            "Loss lambda_1^2, k = 1; thin: networks, thick: mean. docs/science.md §2.3: mean "
            "starts at -0.22 (g = 0.5) / -0.49 (g = 1), reaches -0.02 by epoch ~6 / ~101.",
        ),
    )
    return fig


def build_s1b(inputs: dict[str, xr.Dataset], params: dict) -> xr.Dataset:
    ks = [int(k) for k in params["ks"]]
    before = _sorted(inputs["before"]["lyapunov"].values)
    after = np.stack([_sorted(inputs[f"after_k{k}"]["lyapunov"].values) for k in ks])
    ds = xr.Dataset(
        {
            "lyapunov_before": (("network", "index"), before),
            "lyapunov_after": (("k", "network", "index"), after),
        },
        coords={"k": ks, "index": np.arange(1, before.shape[-1] + 1)},
    )
    for name in ("lyapunov_before", "lyapunov_after"):
        ds[name].attrs.update(long_name=f"surrogate Lyapunov spectrum ({name[9:]})", units="1/step")
    for i, k in enumerate(ks):
        mean = after[i].mean(0)
        ds.attrs[f"k{k}_max_abs_first_k"] = float(np.abs(after[i][:, :k]).max())
        if k < after.shape[-1]:
            ds.attrs[f"k{k}_mean_lambda_k+1"] = float(mean[k])
            ds.attrs[f"k{k}_before_mean_lambda_k+1"] = float(before.mean(0)[k])
        ds.attrs[f"k{k}_mean_last_exponent"] = float(mean[-1])
    ds.attrs["before_mean_last_exponent"] = float(before.mean(0)[-1])
    return ds


def plot_s1b(ds: xr.Dataset, params: dict):
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    i_ = ds["index"].values
    network_lines(ax, i_, ds["lyapunov_before"].values, "0.6", "before", alpha=0.3)
    for j, k in enumerate(ds["k"].values):
        c = COLORS[(j + 2) % len(COLORS)]
        network_lines(ax, i_, ds["lyapunov_after"].values[j], c, f"k = {k}", alpha=0.25)
        ax.axvline(k + 0.5, color=c, lw=0.6, ls=":")
    ax.axhline(0, color="k", lw=0.6, ls=":")
    ax.set_xlabel("index i")
    ax.set_ylabel(r"surrogate $\lambda_i$ (1/step)")
    ax.set_title("S1B: surrogate spectrum after flossing k exponents")
    legend_outside(ax)
    finish(
        fig,
        _caption(
            params,
            f"Sharpness g = {params['spectrum_sharpness']:g}, coupling gain {params['gain']:g}; "
            "gray: before. docs/science.md §2.3: first k within +-0.05 of 0, "
            "lambda_17 ~ -0.18 (k = 16), lambda_33 ~ -0.33 (k = 32).",
        ),
    )
    return fig


# --- S2 ----------------------------------------------------------------------------------------
def _train(inputs, d, mode, name):
    return inputs[f"d{d}_{mode}"][name].values  # (network, epoch)


def build_s2_curves(inputs: dict[str, xr.Dataset], params: dict) -> xr.Dataset:
    modes, d = list(params["modes"]), int(params["curve_delay"])
    acc = np.stack([_train(inputs, d, m, "accuracy") for m in modes])
    grad = np.stack([_train(inputs, d, m, "grad_norm_x0") for m in modes])
    ds = xr.Dataset(
        {
            "accuracy": (("mode", "network", "epoch"), acc),
            "grad_norm_h0": (("mode", "network", "epoch"), grad),
        },
        coords={"mode": modes, "epoch": np.arange(1, acc.shape[-1] + 1)},
        attrs={"delay": d},
    )
    ds["accuracy"].attrs.update(long_name="accuracy on the epoch's fresh batch", units="1")
    ds["grad_norm_h0"].attrs.update(long_name="surrogate ||dL/dh0||", units="1")
    w = int(params["final_window"])
    for i, m in enumerate(modes):
        final = acc[i][:, -w:].mean(1)
        ds.attrs[f"{m}_median_final_accuracy"] = float(np.median(final))
        ds.attrs[f"{m}_networks_above_0.95"] = int((final > 0.95).sum())
        ds.attrs[f"{m}_networks_at_chance"] = int((final < CHANCE).sum())
        ds.attrs[f"{m}_median_grad_norm_h0"] = float(np.median(grad[i]))
    return ds


def build_s2_delays(inputs: dict[str, xr.Dataset], params: dict) -> xr.Dataset:
    modes, delays, w = list(params["modes"]), list(params["delays"]), int(params["final_window"])
    acc = np.array(
        [[_train(inputs, d, m, "accuracy")[:, -w:].mean(1) for d in delays] for m in modes]
    )
    grad = np.array([[_train(inputs, d, m, "grad_norm_x0").mean(1) for d in delays] for m in modes])
    ds = xr.Dataset(
        {
            "final_accuracy": (("mode", "delay", "network"), acc),
            "mean_grad_norm_h0": (("mode", "delay", "network"), grad),
        },
        coords={"mode": modes, "delay": delays},
    )
    ds["final_accuracy"].attrs.update(
        long_name=f"accuracy averaged over the last {w} epochs", units="1"
    )
    ds["mean_grad_norm_h0"].attrs.update(
        long_name="surrogate ||dL/dh0|| averaged over training epochs", units="1"
    )
    ds["delay"].attrs.update(long_name="XOR delay d (y_t = x_(t-d/2) ^ x_(t-d))", units="step")
    for i, m in enumerate(modes):
        for j, d in enumerate(delays):
            ds.attrs[f"{m}_d{d}_mean_final_accuracy"] = float(acc[i, j].mean())
            ds.attrs[f"{m}_d{d}_geomean_grad_norm_h0"] = float(np.exp(np.log(grad[i, j]).mean()))
    return ds


def _modes_plot(ds, params, panel: str):
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    for m in ds["mode"].values:
        c, lab = MODE_COLORS.get(str(m), "k"), MODE_LABELS.get(str(m), str(m))
        if panel in ("A", "C"):
            name = "accuracy" if panel == "A" else "grad_norm_h0"
            y = ds[name].sel(mode=m).values
            network_lines(ax, ds["epoch"].values, y, c, lab, center="median", alpha=0.2)
        else:
            name = "final_accuracy" if panel == "B" else "mean_grad_norm_h0"
            y = ds[name].sel(mode=m).values  # (delay, network)
            d = ds["delay"].values
            ax.plot(np.repeat(d, y.shape[1]), y.ravel(), ".", color=c, alpha=0.4, ms=3)
            mid = y.mean(1) if panel == "B" else np.exp(np.log(y).mean(1))
            ax.plot(d, mid, "o-", color=c, label=lab)
    if panel in ("C", "D"):
        ax.set_yscale("log")
    ax.set_xlabel("training epoch" if panel in ("A", "C") else "delay d")
    ylabel = {
        "A": "accuracy",
        "B": "final accuracy",
        "C": r"$\|\partial L/\partial h_0\|$",
        "D": r"$\|\partial L/\partial h_0\|$ (mean over epochs)",
    }
    ax.set_ylabel(ylabel[panel])
    if panel in ("A", "B"):
        chance_line(ax, CHANCE_LEVEL)
    legend_outside(ax)
    return fig, ax


PAPER_S2 = {  # published values, docs/science.md §2.3
    "A": "Paper (d = 18, 3001 epochs, 9 networks): flossing median final accuracy 95.5% "
    "(5/9 > 95%); no flossing at chance in 9/9.",
    "B": "Paper: none 100/99.8/52.7/52.8/52.8 %, flossing 100/100/98.7/76.3/64.3 % for "
    "d = 10/14/18/22/26.",
    "C": "Paper: no flossing ~5e-6 (d <= 14) collapsing to ~2e-10 (d = 18); with flossing "
    "~1e-4 ... 1e-1.",
    "D": "Paper: no flossing ~5e-6 (d <= 14), 2e-10 (18), 4e-11 (22), 5e-12 (26); with "
    "flossing ~1e-4 ... 1e-1.",
}


def _s2_plot(panel: str):
    titles = {
        "A": "S2A: delayed XOR, accuracy during training",
        "B": "S2B: final accuracy vs delay",
        "C": r"S2C: $\|\partial L/\partial h_0\|$ during training",
        "D": r"S2D: $\|\partial L/\partial h_0\|$ vs delay",
    }

    def plot(ds: xr.Dataset, params: dict):
        fig, ax = _modes_plot(ds, params, panel)
        ax.set_title(titles[panel])
        what = {  # each panel's own reading, nothing of the others'
            "A": f"d = {params['curve_delay']}; accuracy on each epoch's fresh batch; thin: "
            "networks, thick: median.",
            "B": f"final accuracy: mean of the last {params['final_window']} epochs; dots: "
            "networks, line: mean.",
            "C": f"d = {params['curve_delay']}; thin: networks, thick: median.",
            "D": "norm averaged over training epochs; dots: networks, line: geometric mean.",
        }[panel]
        text = f"Binary RNN on delayed XOR, {what} {PAPER_S2[panel]}"
        finish(fig, _caption(params, text))
        return fig

    return plot


# --- spiking -----------------------------------------------------------------------------------
def build_s3(inputs: dict[str, xr.Dataset], params: dict) -> xr.Dataset:
    before = _sorted(inputs["before"]["lyapunov"].values)
    after = _sorted(inputs["after"]["lyapunov"].values)
    window = inputs["floss"]["flossing_lyapunov"].values  # (network, epoch, k)
    ds = xr.Dataset(
        {
            "lyapunov_before": (("network", "index"), before),
            "lyapunov_after": (("network", "index"), after),
            "lambda1": (("network", "flossing_epoch"), window[:, :, 0]),
            "lambda_k": (("network", "flossing_epoch"), window[:, :, -1]),
        },
        coords={
            "index": np.arange(1, before.shape[-1] + 1),
            "flossing_epoch": np.arange(1, window.shape[1] + 1),
        },
    )
    for name in ("lyapunov_before", "lyapunov_after", "lambda1", "lambda_k"):
        ds[name].attrs.update(long_name=f"surrogate exponents: {name}", units="1/step")
    k = int(params["k"])
    ds.attrs.update(
        mean_lambda1_before=float(before[:, 0].mean()),
        mean_lambda1_after=float(after[:, 0].mean()),
        max_abs_first_k_after=float(np.abs(after[:, :k]).max()),
        mean_lambda_k_before=float(before[:, k - 1].mean()),
        mean_lambda_k_after=float(after[:, k - 1].mean()),
    )
    return ds


def plot_s3(ds: xr.Dataset, params: dict):
    fig, (a, b) = plt.subplots(1, 2, figsize=(8.4, 3.6))
    i_ = ds["index"].values
    network_lines(a, i_, ds["lyapunov_before"].values, "0.6", "before", alpha=0.3)
    network_lines(a, i_, ds["lyapunov_after"].values, COLORS[3], "after", alpha=0.3)
    a.axvline(params["k"] + 0.5, color=COLORS[3], ls=":", lw=0.7)
    a.axhline(0, color="k", lw=0.6, ls=":")
    a.set_xlabel("index i (of 2N)")
    a.set_ylabel(r"surrogate $\lambda_i$ (1/step)")
    a.set_title(f"LIF spectrum, flossing k = {params['k']}")
    legend_outside(a)
    x = ds["flossing_epoch"].values
    network_lines(b, x, ds["lambda1"].values, COLORS[0], r"$\lambda_1$", alpha=0.3)
    network_lines(b, x, ds["lambda_k"].values, COLORS[1], rf"$\lambda_{{{params['k']}}}$")
    b.axhline(0, color="k", lw=0.6, ls=":")
    b.set_xlabel("flossing epoch")
    b.set_ylabel("flossing-window exponent (1/step)")
    legend_outside(b)
    text = (
        "Current-based LIF (dt 1 ms, tau_mem 10 ms, tau_syn 5 ms), 100 Poisson inputs at "
        "10 Hz, flossing loss mean(lambda^2) on (W_in, V); gray: before."
    )
    finish(fig, _caption(params, text))
    return fig


FIGURES = {
    "S1A_binary_lambda1": (build_s1a, plot_s1a),
    "S1B_binary_spectrum": (build_s1b, plot_s1b),
    "S2A_xor_accuracy": (build_s2_curves, _s2_plot("A")),
    "S2B_accuracy_vs_delay": (build_s2_delays, _s2_plot("B")),
    "S2C_gradient_vs_epoch": (build_s2_curves, _s2_plot("C")),
    "S2D_gradient_vs_delay": (build_s2_delays, _s2_plot("D")),
    "S3_spiking": (build_s3, plot_s3),
}
