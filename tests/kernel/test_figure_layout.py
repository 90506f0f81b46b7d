"""Every figure of every family, rendered from synthetic stage outputs (tests/figure_inputs.py)
under the default config: no legend covers plotted data and no text overlaps another text,
measured with matplotlib's own geometry after a draw."""

from pathlib import Path

import numpy as np
import pytest
import yaml
from figure_inputs import figure_inputs
from matplotlib.collections import Collection, LineCollection, PathCollection
from matplotlib.lines import Line2D
from matplotlib.path import Path as MPath
from matplotlib.text import Text

from floss import families
from floss.core.figures import plt, style

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text())
FIGURES = [f for plan in families.plans().values() for f in plan.FIGURES]


def _draw(figure: str):
    inputs, params = figure_inputs(CONFIG, figure)
    build, plot = families.part(families.family_of(figure), "figures").FIGURES[figure]
    style()
    fig = plot(build(inputs, params), params)
    fig.canvas.draw()
    return fig, fig.canvas.get_renderer()


def _runs(xy: np.ndarray) -> list[np.ndarray]:
    """The finite stretches of a polyline (a NaN breaks a drawn line)."""
    ok = np.isfinite(xy).all(1)
    cuts = np.flatnonzero(np.diff(ok.astype(int))) + 1
    return [r for r in np.split(xy, cuts) if np.isfinite(r).all() and len(r)]


def _inside(points: np.ndarray, box) -> bool:
    p = points[np.isfinite(points).all(1)]
    return bool(
        ((p[:, 0] > box.x0) & (p[:, 0] < box.x1) & (p[:, 1] > box.y0) & (p[:, 1] < box.y1)).any()
    )


def _covers(artist, box, renderer) -> bool:
    """Whether `artist`'s drawn data reach into display box `box`."""
    if isinstance(artist, Line2D):
        xy = artist.get_transform().transform(np.asarray(artist.get_xydata(), float))
        if artist.get_marker() not in (None, "", "None", " ") and _inside(xy, box):
            return True
        if artist.get_linestyle() in ("None", "", " "):
            return False
        return any(
            _inside(r, box) if len(r) == 1 else MPath(r).intersects_bbox(box, filled=False)
            for r in _runs(xy)
        )
    if isinstance(artist, PathCollection):  # a scatter: markers at the offsets
        return _inside(artist.get_offset_transform().transform(artist.get_offsets()), box)
    if isinstance(artist, Collection):  # fills (areas) and line collections
        tr, filled = artist.get_transform(), not isinstance(artist, LineCollection)
        return any(tr.transform_path(p).intersects_bbox(box, filled) for p in artist.get_paths())
    ext = artist.get_window_extent(renderer)  # bars and spans
    return ext.x1 > box.x0 and ext.x0 < box.x1 and ext.y1 > box.y0 and ext.y0 < box.y1


def _data_artists(fig):
    for ax in fig.axes:
        for artist in [*ax.lines, *ax.collections, *ax.patches]:
            if artist.get_visible():
                yield ax, artist


def _legends(fig):
    return [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]


def _drawn_texts(fig) -> list[Text]:
    """Visible, non-empty texts; tick labels only of ticks inside the view (the others are
    positioned but not drawn)."""
    hidden = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            tol = 1e-9 * max(abs(lo), abs(hi), 1.0)
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                if not lo - tol <= tick.get_loc() <= hi + tol:
                    hidden.update({id(tick.label1), id(tick.label2)})
    return [
        t
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and id(t) not in hidden
    ]


@pytest.mark.parametrize("figure", FIGURES)
def test_no_legend_covers_data(figure):
    fig, renderer = _draw(figure)
    try:
        for legend in _legends(fig):
            box = legend.get_window_extent(renderer)
            covered = [
                f"{ax.get_title() or ax.get_ylabel()!r}: {artist}"
                for ax, artist in _data_artists(fig)
                if _covers(artist, box, renderer)
            ]
            assert not covered, f"{figure}: legend covers {covered}"
    finally:
        plt.close(fig)


@pytest.mark.parametrize("figure", FIGURES)
def test_accuracy_axes_show_chance(figure):
    """Accuracy axes (not success rates or train - test gaps) draw chance (0.5 binary, 0.1 ten
    classes) as a horizontal line inside their y limits."""
    fig, _ = _draw(figure)
    try:
        for ax in fig.axes:
            label = ax.get_ylabel()
            if "accuracy" not in label or label.startswith(("success", "train - test")):
                continue
            levels = {
                float(y[0])
                for line in ax.lines
                if len(y := np.asarray(line.get_ydata(), float)) == 2 and y[0] == y[1]
            }
            chance = levels & {0.5, 0.1}
            assert chance, f"{figure}: no chance line on {label!r}"
            assert ax.get_ylim()[0] < min(chance), f"{figure}: {label!r} hides chance"
    finally:
        plt.close(fig)


@pytest.mark.parametrize("figure", FIGURES)
def test_no_text_overlaps_another(figure):
    fig, renderer = _draw(figure)
    try:
        texts = [(t, t.get_window_extent(renderer)) for t in _drawn_texts(fig)]
        clashes = [
            (a.get_text()[:40], b.get_text()[:40])
            for i, (a, ea) in enumerate(texts)
            for b, eb in texts[i + 1 :]
            if min(ea.x1, eb.x1) > max(ea.x0, eb.x0) and min(ea.y1, eb.y1) > max(ea.y0, eb.y0)
        ]
        assert not clashes, f"{figure}: overlapping texts {clashes}"
    finally:
        plt.close(fig)
