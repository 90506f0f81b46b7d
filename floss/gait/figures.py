"""Figures G1 (accuracy over training) and G2 (update alignment with BP) from `gait-train`
results labelled DATASET/VARIANT/RULE (docs/science.md §4.4)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.lines import Line2D

from floss.core.figures import COLORS, chance_line, finish, legend_outside
from floss.gait.plan import RULE_LABELS, RULES, parse_runs

RULE_COLORS = {"bp": COLORS[0], "gait": COLORS[1], "tp": COLORS[2]}
INIT_STYLES = {"orthogonal": "-", "gaussian": "-."}
RULE_STYLES = {"gait": "-", "bp": ":", "tp": "--"}  # G2: the rule a net was trained by
CHANCE = 0.1  # ten classes


def _keys(runs, pos: int) -> list[str]:
    return list(dict.fromkeys(k[pos] for k in runs))


def _spread(da: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    return da.mean("seed").values, da.std("seed").values


# --- G1 -------------------------------------------------------------------------------------------
def build_g1(inputs: dict[str, xr.Dataset], params: dict) -> xr.Dataset:
    runs = parse_runs(inputs)
    out = xr.Dataset()
    for (dset, var, rule), ds in runs.items():
        tag = f"{dset}_{var}_{rule}"
        for split in ("train", "test"):
            mean, std = _spread(ds[f"{split}_accuracy"])
            for stat, v in (("mean", mean), ("std", std)):
                out[f"{split}_accuracy_{stat}_{tag}"] = xr.DataArray(
                    v,
                    dims=(f"eval_{tag}",),
                    coords={f"epoch_{tag}": (f"eval_{tag}", ds["eval_epoch"].values)},
                    attrs={"long_name": f"{split} accuracy, {stat} over seeds", "units": "1"},
                )
        out.update(_per_seed_accuracy(ds, tag))
    return out


def _per_seed_accuracy(ds: xr.Dataset, tag: str) -> dict[str, xr.DataArray]:
    """Per-seed final and peak accuracy of one run (the accuracy table's numbers, for the
    claims): dims seed_TAG, coordinate = the seeds."""
    test = ds["test_accuracy"]
    peak_at = ds["eval_epoch"].values[test.argmax("eval").values]
    values = {
        "final_test_accuracy": (test.isel(eval=-1).values, "final test accuracy", "1"),
        "peak_test_accuracy": (test.max("eval").values, "peak test accuracy over training", "1"),
        "final_train_accuracy": (
            ds["train_accuracy"].isel(eval=-1).values,
            "final training accuracy",
            "1",
        ),
        "peak_test_epoch": (peak_at, "epoch of the peak test accuracy", "1"),
    }
    dim = f"seed_{tag}"
    return {
        f"{name}_{tag}": xr.DataArray(
            v,
            dims=(dim,),
            coords={dim: ds["seed"].values},
            attrs={"long_name": f"{long_name}, per seed", "units": units},
        )
        for name, (v, long_name, units) in values.items()
    }


def plot_g1(data: xr.Dataset, params: dict):
    names = [v for v in data.data_vars if v.startswith("test_accuracy_mean_")]
    tags = [n.removeprefix("test_accuracy_mean_").rsplit("_", 1)[0] for n in names]
    dsets = list(dict.fromkeys(t.split("_", 1)[0] for t in tags))
    variants = list(dict.fromkeys(t.split("_", 1)[1] for t in tags))
    fig, axes = plt.subplots(
        len(variants), len(dsets), figsize=(3.4 * len(dsets), 2.6 * len(variants)), squeeze=False
    )
    for i, var in enumerate(variants):
        for j, dset in enumerate(dsets):
            ax = axes[i, j]
            for rule in RULES:
                tag = f"{dset}_{var}_{rule}"
                if f"test_accuracy_mean_{tag}" not in data:
                    continue
                for split, ls in (("train", "--"), ("test", "-")):
                    m = data[f"{split}_accuracy_mean_{tag}"]
                    s = data[f"{split}_accuracy_std_{tag}"].values
                    x = m[f"epoch_{tag}"].values
                    label = f"{RULE_LABELS[rule]} {split}"
                    ax.plot(x, m.values, ls=ls, color=RULE_COLORS[rule], lw=1.3, label=label)
                    ax.fill_between(x, m - s, m + s, color=RULE_COLORS[rule], alpha=0.2, lw=0)
            ax.set_title(f"{dset}, {var}")
            ax.set_xlabel("epoch")
            ax.set_ylabel("accuracy")
            ax.set_ylim(0, 1)
            chance_line(ax, CHANCE)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3)
    finish(
        fig,
        "G1. Train (dashed) and test (solid) accuracy of BP, GAIT-prop and TP; mean over "
        f"seeds, band = 1 s.d. {params.get('choices', '')}",
    )
    return fig


# --- G2 -------------------------------------------------------------------------------------------
def build_g2(inputs: dict[str, xr.Dataset], params: dict) -> xr.Dataset:
    runs = parse_runs(inputs)
    variant = params.get("variant") or _keys(runs, 1)[0]
    out = xr.Dataset()
    for (dset, var, rule), ds in runs.items():
        if var != variant:
            continue
        tag = f"{dset}_{rule}"
        # the run's initial weights decide what its initial gamma sweep tests (the theorem
        # needs orthogonal W): from the file, else from the config (figure params)
        init = ds.attrs.get("init") or params.get("init", {}).get(rule, "unknown")
        out.attrs[f"init_{tag}"] = init
        coords = {f"epoch_{tag}": (f"record_{tag}", ds["record_epoch"].values), "layer": ds.layer}
        dims = (f"record_{tag}", "layer")
        for probe in ("gait", "tp"):
            out[f"alignment_{probe}_{tag}"] = xr.DataArray(
                ds["alignment"].sel(probe=probe).mean("seed").values,
                dims=dims,
                coords=coords,
                attrs={"long_name": f"cos({probe} update, BP update), mean over seeds"},
            )
        out[f"orth_error_{tag}"] = xr.DataArray(
            ds["orth_error"].mean("seed").values,
            dims=dims,
            coords=coords,
            attrs={"long_name": "||W W^T - I||_F, mean over seeds"},
        )
        # per seed, for the claims (dims seed_TAG): GAIT-prop probe and orthogonality error over
        # training, and the gamma sweep at the initial weights
        seed = {f"seed_{tag}": ds["seed"].values}
        sweep = (("gamma", "layer"), {"gamma": ds.gamma, "layer": ds.layer})
        per_seed = {
            "alignment_gait": (
                ds["alignment"].sel(probe="gait"),
                (dims, coords),
                "cos(gait update, BP update)",
            ),
            "orth_error": (ds["orth_error"], (dims, coords), "||W W^T - I||_F"),
            "gamma_alignment_initial": (
                ds["gamma_alignment"].sel(when="initial"),
                sweep,
                "cos(GAIT-prop update, BP update) vs gamma, initial weights",
            ),
        }
        for name, (da, (d, c), long_name) in per_seed.items():
            out[f"per_seed_{name}_{tag}"] = xr.DataArray(
                da.transpose("seed", ...).values,
                dims=(f"seed_{tag}", *d),
                coords={**seed, **c},
                attrs={"long_name": f"{long_name}, per seed", "units": "1"},
            )
        for when in ("initial", "final"):
            out[f"gamma_alignment_{when}_{tag}"] = xr.DataArray(
                ds["gamma_alignment"].sel(when=when).mean("seed").values,
                dims=("gamma", "layer"),
                coords={"gamma": ds.gamma, "layer": ds.layer},
                attrs={"long_name": f"cos(GAIT-prop update, BP update) vs gamma, {when} weights"},
            )
    for v in out.data_vars.values():
        v.attrs.setdefault("units", "1")
    out.attrs["variant"] = variant
    return out


def plot_g2(data: xr.Dataset, params: dict):
    dsets = list(dict.fromkeys(v.split("_")[-2] for v in data.data_vars if v.startswith("orth_")))
    fig, axes = plt.subplots(len(dsets), 4, figsize=(13.5, 2.8 * len(dsets)), squeeze=False)
    layers, rules, inits = {}, [], []  # what the key lists, in drawing order
    for i, dset in enumerate(dsets):
        ax_g, ax_t, ax_o, ax_y = axes[i]
        shown: set[str] = set()
        for rule in RULES:
            tag = f"{dset}_{rule}"
            if f"orth_error_{tag}" not in data:
                continue
            orth = data[f"orth_error_{tag}"]
            x = orth[f"epoch_{tag}"].values
            if rule not in rules:
                rules.append(rule)
            ls = RULE_STYLES[rule]
            for k, layer in enumerate(orth.layer.values):
                c = layers.setdefault(int(layer), COLORS[k % len(COLORS)])
                ga = data[f"alignment_gait_{tag}"].sel(layer=layer)
                ax_g.plot(x, ga, ls=ls, color=c, lw=1.2)
                ax_t.plot(x, data[f"alignment_tp_{tag}"].sel(layer=layer), ls=ls, color=c)
                ax_o.plot(x, orth.sel(layer=layer), ls=ls, color=c, lw=1.2)
            init = data.attrs.get(f"init_{tag}")
            for when, lw in (("initial", 2.2), ("final", 1.2)):
                if when == "initial":
                    if init in shown:
                        continue  # the same kind of initial weights is drawn once
                    shown.add(init)
                    if init not in inits:  # `shown` is per row; the key is per figure
                        inits.append(init)
                ga = data[f"gamma_alignment_{when}_{tag}"]
                for k, layer in enumerate(ga.layer.values):
                    ax_y.plot(
                        ga.gamma,
                        ga.sel(layer=layer),
                        ls=ls if when == "final" else INIT_STYLES.get(init, "-"),
                        color=COLORS[k % len(COLORS)],
                        lw=lw,
                        alpha=0.35 if when == "initial" else 1.0,
                    )
        ax_g.set_title(f"{dset}: cos(GAIT-prop, BP)")
        ax_t.set_title(f"{dset}: cos(TP, BP)")
        ax_o.set_title(f"{dset}: " + r"$\|WW^T-I\|_F$")
        ax_y.set_title(f"{dset}: cos(GAIT-prop, BP) vs $\\gamma$")
        for ax in (ax_g, ax_t, ax_o):
            ax.set_xlabel("epoch")
        ax_g.set_ylabel("cosine")
        ax_y.set_xscale("log")
        ax_y.set_xlabel(r"$\gamma$ (fixed weights)")
        for ax in (ax_g, ax_t, ax_y):
            ax.set_ylim(-0.1, 1.05)
    legend_outside(axes[0, -1], handles=_g2_handles(layers, rules, inits), fontsize=7)
    finish(
        fig,
        "G2. Cosine of each rule's weight update with BP's on the same batch, per layer, in "
        "nets trained by GAIT-prop (solid), BP (dotted) and TP (dashed), beside the "
        "orthogonality error; right: GAIT-prop's alignment vs gamma at the final weights of each "
        "net (thick faint: initial weights, solid orthogonal, dash-dot Gaussian). "
        f"Variant {data.attrs.get('variant')}. {params.get('choices', '')}",
    )
    return fig


def _g2_handles(layers: dict, rules: list, inits: list) -> list[Line2D]:
    """G2's key: colour = layer, line style = the rule a net was trained by, thick faint =
    initial weights (their style: orthogonal or Gaussian)."""
    out = [Line2D([], [], color=c, lw=1.2, label=f"layer {k}") for k, c in layers.items()]
    out += [
        Line2D([], [], color="0.2", ls=RULE_STYLES[r], lw=1.2, label=f"{RULE_LABELS[r]}-trained")
        for r in rules
    ]
    out += [
        Line2D(
            [],
            [],
            color="0.2",
            ls=INIT_STYLES.get(i, "-"),
            lw=2.2,
            alpha=0.35,
            label=f"initial weights ({i})",
        )
        for i in inits
    ]
    return out


FIGURES = {"G1_gait_accuracy": (build_g1, plot_g1), "G2_gait_alignment": (build_g2, plot_g2)}
