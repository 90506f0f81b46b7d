"""F3, F5, F6 (claims 3, 5, 6 of docs/science.md §1.5): training vs delay under flossing schedules.

F3: early-training ||dL/dx0|| vs delay with the bound exp(lambda_1 t0).
F5: final accuracy, success rate and learning curves, no flossing vs preflossing.
F6: the same with flossing during training added; the largest learnable delay.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.lines import Line2D

from floss.core.figures import (
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

EARLY_EPOCHS = 50
CHANCE = 0.5  # binary targets


def _conditions(inputs, params):
    tasks = params["tasks"]  # label -> delays
    scheds = [s for s in params["schedules"] if any(k.endswith("_" + s) for k in inputs)]
    return tasks, scheds


def build(inputs: dict[str, xr.Dataset], params: dict) -> xr.Dataset:
    tasks, scheds = _conditions(inputs, params)
    thr = params["success_threshold"]
    data = {}
    for task, delays in tasks.items():
        acc = np.full((len(scheds), len(delays), params["n_networks"]), np.nan)
        grad = np.full_like(acc, np.nan)
        diverged = np.zeros_like(acc)
        for i, s in enumerate(scheds):
            for j, d in enumerate(delays):
                ev = inputs[f"eval_{task}_d{d}_{s}"]
                tr = inputs[f"train_{task}_d{d}_{s}"]
                a = ev["accuracy"].values.astype(float)
                diverged[i, j] = failed_mask(tr)
                a[failed_mask(tr)] = np.nan  # diverged networks count as failures below
                acc[i, j] = a
                early = tr["grad_norm_x0"].values[:, :EARLY_EPOCHS]
                grad[i, j] = np.exp(np.nanmean(np.log(early), axis=1))
        dims = ("schedule", f"delay_{task}", "network")
        data[f"final_accuracy_{task}"] = (dims, acc)
        data[f"success_{task}"] = (dims, np.where(np.isnan(acc), 0.0, acc >= thr).astype(float))
        data[f"grad_norm_x0_{task}"] = (dims, grad)
        data[f"diverged_{task}"] = (dims, diverged)
        cd = params.get("curve_delays", {}).get(task.rstrip("0123456789"))
        if cd in delays:
            curves = np.stack(
                [inputs[f"train_{task}_d{cd}_{s}"]["accuracy"].values for s in scheds]
            )
            data[f"curve_accuracy_{task}"] = (("schedule", "network", "epoch"), curves)
            data.update(_episodes(inputs, task, cd, scheds))
    coords = {"schedule": scheds, "epoch": np.arange(1, params["epochs"] + 1)}
    for task, delays in tasks.items():
        coords[f"delay_{task}"] = delays
    ds = xr.Dataset(data, coords=coords)
    for name in ds.data_vars:
        units = "1"
        ds[name].attrs.update(units=units, long_name=name.replace("_", " "))
    if "spectrum_none" in inputs:
        ds["lambda1"] = (
            ("schedule_bound",),
            [
                float(np.median(inputs[f"spectrum_{s}"]["lyapunov"].values[:, 0]))
                for s in ("none", "pre")
            ],
        )
        ds = ds.assign_coords(schedule_bound=["none", "pre"])
        ds["lambda1"].attrs.update(long_name="median lambda_1 before training", units="1/step")
    for task, delays in tasks.items():
        rate = ds[f"success_{task}"].mean("network").values
        for i, s in enumerate(scheds):
            ok = [d for d, r in zip(delays, rate[i]) if r >= 0.5]
            ds.attrs[f"largest_delay_success50_{task}_{s}"] = max(ok) if ok else 0
            ds.attrs[f"success_rate_{task}_{s}"] = " ".join(f"{r:.2f}" for r in rate[i])
    return ds


def _episodes(inputs, task, d, scheds) -> dict:
    """The epochs before which a curve run flossed during training (its accuracy drops there),
    from the run's flossing-step record; schedules that never flossed during training add none."""
    out = {}
    for s in scheds:
        tr = inputs[f"train_{task}_d{d}_{s}"]
        if "flossing_step_epoch" in tr.coords and tr["flossing_step_epoch"].size:
            epochs = np.unique(tr["flossing_step_epoch"].values)
            dim = f"episode_{task}_{s}"
            out[f"flossing_episode_epoch_{task}_{s}"] = ((dim,), epochs)
    return out


def _t0(task: str, d: int) -> int:
    return d * 2 ** (0 if task == "copy" else int(task[3:]))


def plot(ds: xr.Dataset, params: dict, kind: str):
    tasks = [t for t in params["tasks"] if f"final_accuracy_{t}" in ds]
    if kind == "gradient":
        return _plot_gradient(ds, params, tasks)
    ncol = 3
    fig, axes = plt.subplots(len(tasks), ncol, figsize=(11, 3.3 * len(tasks)), squeeze=False)
    for r, task in enumerate(tasks):
        delays = ds[f"delay_{task}"].values
        a, b, c = axes[r]
        for i, s in enumerate(ds["schedule"].values):
            col = SCHEDULE_COLORS[s]
            acc = ds[f"final_accuracy_{task}"].values[i]
            jitter = (i - 1) * 0.15 * (delays[1] - delays[0] if len(delays) > 1 else 1)
            div = ds[f"diverged_{task}"].values[i].astype(bool)
            for j, d in enumerate(delays):
                x = np.full(acc.shape[1], d + jitter)
                a.plot(x, acc[j], "o", ms=3, color=col, alpha=0.6)
                a.plot(x[div[j]], np.full(div[j].sum(), 0.45), "x", ms=6, color=col)
            if div.any():  # diverged networks: crosses below chance level
                a.plot([], [], "x", color=col, label=f"{SCHEDULE_LABELS[s]}: diverged")
            a.plot(delays, np.nanmedian(acc, 1), color=col, lw=1.5, label=SCHEDULE_LABELS[s])
            b.plot(
                delays,
                ds[f"success_{task}"].values[i].mean(1),
                "o-",
                color=col,
                label=SCHEDULE_LABELS[s],
            )
            if f"curve_accuracy_{task}" in ds:
                network_lines(
                    c,
                    ds["epoch"].values,
                    ds[f"curve_accuracy_{task}"].values[i],
                    col,
                    label=SCHEDULE_LABELS[s],
                    center="median",
                )
        name = "delayed copy" if task == "copy" else f"delayed XOR (h = {task[3:]})"
        a.set(xlabel="delay d' (steps)", ylabel="final accuracy", title=f"{name}: final accuracy")
        b.set(
            xlabel="delay d' (steps)",
            ylabel=f"success rate (acc >= {params['success_threshold']:g})",
            ylim=(-0.05, 1.05),
            title="success rate",
        )
        cd = params.get("curve_delays", {}).get(task.rstrip("0123456789"))
        c.set(
            xlabel="training epoch",
            ylabel="accuracy (fresh batch)",
            title=f"learning curves, d' = {cd}",
        )
        a.axhline(params["success_threshold"], color="k", ls=":", lw=0.8)
        chance_line(a, CHANCE)
        if f"curve_accuracy_{task}" in ds:
            chance_line(c, CHANCE)
        # one legend per row: the schedules' colours are the same in all three panels
        legend_outside(c, handles=a.get_legend_handles_labels()[0] + _mark_episodes(c, ds, task))
    claim = "claim 5" if kind == "pre" else "claim 6"
    fig.suptitle(f"Training vs delay with flossing schedules ({claim})")
    finish(
        fig,
        caption(
            params,
            f"T = {params['steps']}, {params['epochs']} epochs; accuracy "
            "on a fixed evaluation set; diverged networks count as failures (crosses below "
            f"chance); thin lines: networks, thick: median.{_episodes_text(ds, tasks)}",
        ),
    )
    return fig


def _mark_episodes(ax, ds, task) -> list[Line2D]:
    """Dotted verticals where a curve run flossed (before epoch e, so at e - 1/2); their
    legend handles."""
    handles = []
    for s in ds["schedule"].values:
        name = f"flossing_episode_epoch_{task}_{s}"
        if name in ds:
            for e in ds[name].values:
                ax.axvline(e - 0.5, color=SCHEDULE_COLORS[s], ls=":", lw=1)
            label = f"{SCHEDULE_LABELS[s]}: flossing episode"
            handles.append(Line2D([], [], color=SCHEDULE_COLORS[s], ls=":", lw=1, label=label))
    return handles


def _episodes_text(ds, tasks) -> str:
    marked = {
        s: ds[f"flossing_episode_epoch_{t}_{s}"].values.tolist()
        for t in tasks
        for s in ds["schedule"].values
        if f"flossing_episode_epoch_{t}_{s}" in ds
    }
    return "".join(
        f" Dotted verticals in the learning curves: {SCHEDULE_LABELS[s]} flossing episodes "
        f"(before epochs {', '.join(map(str, e))}), where the accuracy can drop."
        for s, e in marked.items()
    )


def _plot_gradient(ds, params, tasks):
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 4), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        delays = ds[f"delay_{task}"].values
        t0 = np.array([_t0(task, d) for d in delays])
        for i, s in enumerate(ds["schedule"].values):
            g = ds[f"grad_norm_x0_{task}"].values[i]
            col = SCHEDULE_COLORS[s]
            for j, d in enumerate(delays):
                ax.plot(np.full(g.shape[1], d), g[j], "o", ms=3, color=col, alpha=0.6)
            med = np.nanmedian(g, 1)
            ax.plot(delays, med, color=col, lw=1.5, label=SCHEDULE_LABELS[s])
            if "lambda1" in ds and s in ds["schedule_bound"].values:
                lam = float(ds["lambda1"].sel(schedule_bound=s))
                bound = med[0] * np.exp(lam * (t0 - t0[0]))
                ax.plot(
                    delays,
                    bound,
                    ls="--",
                    color=col,
                    lw=1,
                    label=rf"$\propto e^{{\lambda_1 t_0}}$, $\lambda_1$ = {lam:.2f}",
                )
        ax.set_yscale("log")
        name = "delayed copy" if task == "copy" else f"delayed XOR (h = {task[3:]})"
        ax.set(
            xlabel="delay d' (steps)",
            ylabel=r"$\|\partial L/\partial x_0\|$ (first "
            f"{EARLY_EPOCHS} epochs, geometric mean)",
            title=name,
        )
    legend_outside(axes[0, -1])  # the same schedules and bounds in every panel
    fig.suptitle("Gradient norm vs delay (claim 3)")
    finish(
        fig,
        caption(
            params,
            "Dashed: exp(lambda_1 t0) through the first delay, with "
            "lambda_1 of the networks before training; t0 = d' 2^h.",
        ),
    )
    return fig
