"""Shared pieces of the figure modules: style, captions, per-network lines, saving."""

from __future__ import annotations

import io as _io
from collections.abc import Callable, Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from floss.core import io  # noqa: E402
from floss.core.errors import FlossError  # noqa: E402

COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]
SCHEDULE_COLORS = {"none": "#1f77b4", "pre": "#ff7f0e", "pre-during": "#2ca02c"}
SCHEDULE_LABELS = {
    "none": "no flossing",
    "pre": "preflossing",
    "pre-during": "pre + during training",
}
STATUS_FAILED = 1


def style() -> None:
    plt.rcParams.update(
        {
            "figure.dpi": 110,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": 9,
            "legend.fontsize": 8,
            "legend.frameon": False,
        }
    )


def caption(params: dict, extra: str = "") -> str:
    """Sizes and scale, the figure's own text, then the choices it depends on (the plan's
    params["choices"]: settings the paper does not fix or this scale changes)."""
    text = (
        f"N = {params['n_neurons']}, {params['n_networks']} networks per condition, "
        f"{params['scale']} scale."
    )
    return " ".join(s for s in (text, extra, params.get("choices", "")) if s)


def legend_outside(ax, **kw):
    """Legend right of the axes: inside them it covers some data whatever the corner."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kw)


def chance_line(ax, level: float) -> None:
    """Dashed reference at chance accuracy, labelled right of the axes; the y axis runs from
    below chance to 1, so accuracies at chance are read as chance (not as structure)."""
    ax.axhline(level, color="0.35", ls="--", lw=0.9, zorder=1)
    ax.annotate(
        f"chance\n{level:g}",
        (1.0, level),
        xycoords=("axes fraction", "data"),
        xytext=(3, 0),
        textcoords="offset points",
        va="center",
        fontsize=7,
        color="0.35",
    )
    lo, hi = ax.get_ylim()
    ax.set_ylim(min(lo, level - 0.05), max(hi, 1.02))


def finish(fig, text: str) -> None:
    """Tight layout, then the caption hanging below everything drawn (tick and axis labels,
    legends); saving with bbox_inches='tight' keeps it."""
    fig.tight_layout()
    renderer = fig.canvas.get_renderer()
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes]
    boxes += [legend.get_window_extent(renderer) for legend in fig.legends]
    top = min(b.y0 for b in boxes) - 4  # display pixels
    fig.text(
        0.01,
        top / fig.bbox.height,
        text,
        fontsize=7.5,
        ha="left",
        va="top",
        wrap=True,
        color="0.25",
    )


def network_lines(ax, x, y, color, label=None, center="mean", alpha=0.35, ls="-"):
    """Thin line per network (rows of y) and a thick mean/median line."""
    y = np.asarray(y, dtype=float)
    for row in np.atleast_2d(y):
        ax.plot(x, row, color=color, lw=0.6, alpha=alpha, ls=ls)
    mid = np.nanmedian(y, 0) if center == "median" else np.nanmean(y, 0)
    ax.plot(x, mid, color=color, lw=1.8, label=label, ls=ls)


def save(fig, data: xr.Dataset, prefix: str | Path) -> list[Path]:
    """Write PREFIX.pdf, PREFIX.png (atomically) and PREFIX.nc with the figure's data (its
    build: what it plots, and what the claims measure beyond that)."""
    prefix = Path(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("pdf", "png"):
        buf = _io.BytesIO()
        fig.savefig(buf, format=ext, bbox_inches="tight", metadata=_metadata(ext))
        paths.append(_atomic_bytes(prefix.with_suffix(f".{ext}"), buf.getvalue()))
    plt.close(fig)
    paths.append(io.write(data, prefix.with_suffix(".nc")))
    return paths


def _metadata(ext: str) -> dict:
    # no creation dates, so equal data give equal files
    return {"CreationDate": None} if ext == "pdf" else {"Software": "floss"}


def _atomic_bytes(path: Path, payload: bytes) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(payload)
    tmp.replace(path)
    return path


def failed_mask(ds: xr.Dataset) -> np.ndarray:
    """Networks a training run marked as diverged."""
    if "status" in ds:
        return ds["status"].values == STATUS_FAILED
    return np.zeros(ds.sizes["network"], dtype=bool)


Registry = Mapping[str, tuple[Callable, Callable]]


def render(
    registry: Registry,
    name: str,
    inputs: Mapping[str, xr.Dataset],
    params: dict,
    prefix: str | Path,
) -> xr.Dataset:
    """Build figure `name` of `registry` (name -> (build, plot)), plot it and write PDF, PNG
    and the NetCDF of the plotted data. Every family's figures go through here."""
    if name not in registry:
        raise FlossError(f"unknown figure {name!r}; allowed: {sorted(registry)}")
    build, plot = registry[name]
    try:
        data = build(dict(inputs), params)
    except KeyError as exc:
        raise FlossError(f"figure {name}: missing input or parameter {exc}") from None
    if not data.data_vars:
        raise FlossError(f"figure {name}: the inputs hold no data to plot")
    style()
    data.attrs.update(io.provenance("figure", {"figure": name, **params}))
    save(plot(data, params), data, prefix)
    return data
