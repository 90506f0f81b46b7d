"""The fixed criteria of the surrogate-flossing claims (floss/surrogate/claims.py): published
values of docs/science.md §2.3, their tolerances, and one measure(data, params) per claim that
reads only the figure's NetCDF data and parameters.

Every published number of §2.3 was read off the author's figures with a reading accuracy of
±1 % of the axis range; that reading accuracy is the tolerance of the number. The axis ranges
are not in docs/science.md: each is taken as the smallest round interval holding the panel's
published values (and 0), i.e. the tightest tolerance consistent with §2.3:

    S1A lambda_1 axis [-0.5, 0]          -> ±0.005 /step
    S1A log epoch axis 1 ... 1000        -> ±0.03 decades (x/÷ 1.07)
    S1B exponent axis [-0.4, 0.1]        -> ±0.005 /step
    S2A/S2B accuracy axis [0.5, 1]       -> ±0.005 (±0.5 percentage points)
    S2C/S2D log gradient axis 1e-12 ... 1 -> ±0.12 decades

Accuracies below figures.CHANCE (0.6: the published no-flossing values at chance are
52.7-52.8 %, the lowest published learned value 64.3 %) count as "at chance" = not learned;
published values at chance are compared as that category, not as numbers, and a flossing
accuracy at chance never counts as the published sign. Where a figure lacks the condition a
claim is about (a delay, a flossing mode, a sharpness, a k) the row is `not run`.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from floss.core.claims import NOT_RUN, Measurement, verdict
from floss.surrogate.figures import CHANCE, first_epoch_at

SRC = "docs/science.md §2.3; Engelken & Abbott, SurrogateGradientFlossing README, Fig. "
LAM1_TOL = 0.01 * 0.5  # 1 % of the S1A lambda_1 axis [-0.5, 0]
EPOCH_DEC = 0.01 * 3  # 1 % of the S1A log epoch axis, 3 decades
STEP_TOL = 0.01 * 0.5  # 1 % of the S1B exponent axis [-0.4, 0.1]
BAND = 0.05  # S1B: "the first k exponents lie within ±0.05 of 0" (a stated criterion)
ACC_TOL = 0.01 * 0.5  # 1 % of the accuracy axis [0.5, 1]
GRAD_DEC = 0.01 * 12  # 1 % of the log gradient axis, 12 decades

S1A_START = {0.5: -0.22, 1.0: -0.49}
S1A_EPOCH = {0.5: 6, 1.0: 101}  # first epoch with mean lambda_1 >= -0.02
S1A_LEVEL = -0.02
S1B_KS = (1, 16, 32)
S1B_STEP = {16: -0.18, 32: -0.33}  # lambda_(k+1) after flossing k
S2_DELAY = 18  # S2A, S2C: the training curves are at d = 18
S2A_MEDIAN, S2A_ABOVE, S2A_HIGH = 0.955, 5 / 9, 0.95  # median final accuracy, 5/9 above 95 %
S2B_NONE = {10: 1.0, 14: 0.998, 18: 0.527, 22: 0.528, 26: 0.528}
S2B_FLOSS = {10: 1.0, 14: 1.0, 18: 0.987, 22: 0.763, 26: 0.643}
S2_GRAD_NONE = {10: 5e-6, 14: 5e-6, 18: 2e-10, 22: 4e-11, 26: 5e-12}
S2_GRAD_BAND = (-4.0, -1.0)  # log10: "with flossing it stays between ~1e-4 and 1e-1"
FLOSS_MODES = ("adaptive", "periodic")  # both floss readings of "adaptive flossing" (§2.3)


def _sd(x) -> float:
    x = np.asarray(x, dtype=float).ravel()
    return float(x.std(ddof=1)) if x.size > 1 else math.nan


def _not_run(detail: str) -> Measurement:
    return Measurement(math.nan, math.nan, 0, NOT_RUN, detail)


def _log10(x) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(np.asarray(x, dtype=float))


def _modes(data: xr.Dataset) -> list[str]:
    return [str(m) for m in data["mode"].values]


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


# --- S1A ---------------------------------------------------------------------------------------
def _s1a(data: xr.Dataset, g: float):
    """lambda_1 (network, flossing_epoch) of sharpness g at the reference coupling gain
    (`reference_gain` = binary.gain; the other gains are drawn only), or None."""
    at = np.isclose(data["gain"].values, data.attrs["reference_gain"])
    hit = np.flatnonzero(np.isclose(data["sharpness"].values, g))
    lam = data["lambda1"].values[at]
    return lam[0, hit[0]].astype(float) if hit.size and len(lam) else None


def s1a_start(g: float):
    def measure(data: xr.Dataset, params: dict) -> Measurement:
        lam = _s1a(data, g)
        if lam is None:
            return _not_run(f"sharpness g = {g:g} not in this run")
        start = lam[:, 0]
        m = float(start.mean())
        sign = m < 0
        other = _s1a(data, 0.5) if g == 1.0 else None
        if other is not None:  # the published order: g = 1 starts lower than g = 0.5
            sign = sign and m < float(other[:, 0].mean())
        size = abs(m - S1A_START[g]) <= LAM1_TOL
        detail = f"mean start {m:.3f} (published {S1A_START[g]}, ±{LAM1_TOL:g})"
        return Measurement(m, _sd(start), len(start), verdict(size, sign), detail)

    return measure


def s1a_epoch(g: float):
    def measure(data: xr.Dataset, params: dict) -> Measurement:
        lam = _s1a(data, g)
        if lam is None:
            return _not_run(f"sharpness g = {g:g} not in this run")
        low, high = S1A_EPOCH[g] * 10**-EPOCH_DEC, S1A_EPOCH[g] * 10**EPOCH_DEC
        if lam.shape[1] < low:
            return _not_run(f"{lam.shape[1]} flossing epochs, fewer than the published ~{low:.0f}")
        epoch = first_epoch_at(lam.mean(0), S1A_LEVEL)
        sign = epoch > 0
        other = _s1a(data, 0.5) if g == 1.0 else None
        if other is not None and sign:  # the published order: slower for the sharper surrogate
            e05 = first_epoch_at(other.mean(0), S1A_LEVEL)
            sign = e05 > 0 and epoch > e05
        size = low <= epoch <= high
        detail = f"epoch {epoch} (-1: never; published ~{S1A_EPOCH[g]}, {low:.1f}-{high:.1f})"
        return Measurement(float(epoch), math.nan, lam.shape[0], verdict(size, sign), detail)

    return measure


# --- S1B ---------------------------------------------------------------------------------------
def _s1b(data: xr.Dataset, k: int):
    """(before, after) spectra (network, index) for flossing k, or None."""
    if k not in [int(x) for x in data["k"].values] or k > data.sizes["index"]:
        return None
    after = data["lyapunov_after"].sel(k=k).values.astype(float)
    return data["lyapunov_before"].values.astype(float), after


def s1b_band(k: int):
    def measure(data: xr.Dataset, params: dict) -> Measurement:
        pair = _s1b(data, k)
        if pair is None:
            return _not_run(f"k = {k} not in this run")
        before, after = pair
        per_net = np.abs(after[:, :k]).max(1)
        m = float(per_net.max())
        b, a = float(np.abs(before[:, :k]).mean()), float(np.abs(after[:, :k]).mean())
        detail = f"max |lambda_i<=k| {m:.3f} (criterion <= {BAND}); mean |.| {b:.3f} -> {a:.3f}"
        return Measurement(m, _sd(per_net), len(per_net), verdict(m <= BAND, a < b), detail)

    return measure


def s1b_step(k: int):
    def measure(data: xr.Dataset, params: dict) -> Measurement:
        pair = _s1b(data, k)
        if pair is None or k >= data.sizes["index"]:
            return _not_run(f"k = {k} (with an exponent k + 1) not in this run")
        after = pair[1][:, k]
        m = float(after.mean())
        size = abs(m - S1B_STEP[k]) <= STEP_TOL
        detail = f"mean lambda_{k + 1} {m:.3f} (published {S1B_STEP[k]}, ±{STEP_TOL:g})"
        return Measurement(m, _sd(after), len(after), verdict(size, m < -BAND), detail)

    return measure


def s1b_unflossed(data: xr.Dataset, params: dict) -> Measurement:
    """The tail of the spectrum, lambda_N (the reading of docs/surrogate.md), after - before."""
    n = data.sizes["index"]
    ks = [int(k) for k in data["k"].values if int(k) < n]
    if not ks:
        return _not_run("no k with unflossed exponents in this run")
    before = data["lyapunov_before"].values[:, -1].astype(float)
    last = {k: data["lyapunov_after"].sel(k=k).values[:, -1].astype(float) - before for k in ks}
    mean = {k: float(v.mean()) for k, v in last.items()}
    worst = max(ks, key=lambda k: mean[k])
    sign = all(v < 0 for v in mean.values())
    detail = "change of mean lambda_N: " + ", ".join(f"k {k}: {v:+.3f}" for k, v in mean.items())
    return Measurement(
        mean[worst], _sd(last[worst]), len(before), verdict(False, sign, True), detail
    )


# --- S2A / S2C (training curves at the curve delay) --------------------------------------------
def _final(data: xr.Dataset, mode: str, params: dict) -> np.ndarray:
    w = int(params.get("final_window", 1))
    return data["accuracy"].sel(mode=mode).values[:, -w:].astype(float).mean(1)


def _curve_delay(data: xr.Dataset, params: dict) -> int:
    return int(data.attrs.get("delay", params.get("curve_delay", -1)))


def s2a_learned(mode: str):
    def measure(data: xr.Dataset, params: dict) -> Measurement:
        d = _curve_delay(data, params)
        if d != S2_DELAY or mode not in _modes(data):
            return _not_run(f"curve delay d = {d}, modes {_modes(data)}: no d = 18 {mode} curve")
        final = _final(data, mode, params)
        med, n = float(np.median(final)), len(final)
        above = int((final > S2A_HIGH).sum())
        want = round(S2A_ABOVE * int(params.get("n_networks", n)))
        size = abs(med - S2A_MEDIAN) <= ACC_TOL and above == want
        sign = med >= CHANCE  # at chance (e.g. 0.5) is not learned
        if "none" in _modes(data):
            sign = sign and med > float(np.median(_final(data, "none", params)))
        detail = f"median {_pct(med)}, {above}/{n} > 95 % (published 95.5 % ±0.5, {want}/{n})"
        return Measurement(med, _sd(final), n, verdict(size, sign), detail)

    return measure


def s2a_chance(data: xr.Dataset, params: dict) -> Measurement:
    d = _curve_delay(data, params)
    if d != S2_DELAY or "none" not in _modes(data):
        return _not_run(f"curve delay d = {d}, modes {_modes(data)}: no d = 18 none curve")
    final = _final(data, "none", params)
    frac = float((final < CHANCE).mean())
    sign = float(np.median(final)) < CHANCE
    detail = f"{int((final < CHANCE).sum())}/{len(final)} below {CHANCE} (published 9/9)"
    return Measurement(frac, math.nan, len(final), verdict(frac == 1.0, sign), detail)


def _curve_level(data: xr.Dataset, mode: str):
    """log10 of the median-over-networks ||dL/dh0|| curve (epoch,) and per-network levels."""
    g = data["grad_norm_h0"].sel(mode=mode).values.astype(float)  # (network, epoch)
    return _log10(np.median(g, axis=0)), _log10(g).mean(1)


def s2c_none(data: xr.Dataset, params: dict) -> Measurement:
    d = _curve_delay(data, params)
    if d not in S2_GRAD_NONE or "none" not in _modes(data):
        return _not_run(f"curve delay d = {d}, modes {_modes(data)}: no published none level")
    curve, per_net = _curve_level(data, "none")
    level, pub = float(curve.mean()), math.log10(S2_GRAD_NONE[d])
    floss = [float(_curve_level(data, m)[0].mean()) for m in FLOSS_MODES if m in _modes(data)]
    sign = level < min(floss) if floss else level < S2_GRAD_BAND[0]
    size = abs(level - pub) <= GRAD_DEC
    detail = f"log10 level {level:.2f} (published {pub:.2f} ±{GRAD_DEC:g}); flossing {floss}"
    return Measurement(level, _sd(per_net), len(per_net), verdict(size, sign), detail)


def s2c_floss(mode: str):
    def measure(data: xr.Dataset, params: dict) -> Measurement:
        d = _curve_delay(data, params)
        if d not in S2_GRAD_NONE or mode not in _modes(data):
            return _not_run(f"curve delay d = {d}, modes {_modes(data)}: no {mode} curve")
        curve, per_net = _curve_level(data, mode)
        level, lo, hi = float(curve.mean()), float(curve.min()), float(curve.max())
        size = lo >= S2_GRAD_BAND[0] - GRAD_DEC and hi <= S2_GRAD_BAND[1] + GRAD_DEC
        if "none" in _modes(data):
            ref = float(_curve_level(data, "none")[0].mean())
        else:
            ref = math.log10(S2_GRAD_NONE[d])
        detail = f"log10 median curve {lo:.2f} ... {hi:.2f} (band -4 ... -1); no flossing {ref:.2f}"
        return Measurement(level, _sd(per_net), len(per_net), verdict(size, level > ref), detail)

    return measure


# --- S2B / S2D (against delay) -----------------------------------------------------------------
def _by_delay(data: xr.Dataset, name: str, mode: str, published: dict) -> dict[int, np.ndarray]:
    """Per-network values at the run's delays that have a published value."""
    if mode not in _modes(data):
        return {}
    ds = data[name].sel(mode=mode)
    return {
        int(d): ds.sel(delay=d).values.astype(float)
        for d in data["delay"].values
        if int(d) in published
    }


def s2b_none_short(data: xr.Dataset, params: dict) -> Measurement:
    acc = {d: v for d, v in _by_delay(data, "final_accuracy", "none", S2B_NONE).items() if d <= 14}
    if not acc:
        return _not_run("no d <= 14 with a published value (or no none mode) in this run")
    mean = {d: float(v.mean()) for d, v in acc.items()}
    d0 = min(mean, key=mean.get)
    size = all(abs(m - S2B_NONE[d]) <= ACC_TOL for d, m in mean.items())
    sign = all(m >= CHANCE for m in mean.values())
    detail = ", ".join(f"d {d}: {_pct(m)} (published {_pct(S2B_NONE[d])})" for d, m in mean.items())
    return Measurement(mean[d0], _sd(acc[d0]), len(acc[d0]), verdict(size, sign), detail)


def s2b_none_chance(data: xr.Dataset, params: dict) -> Measurement:
    acc = _by_delay(data, "final_accuracy", "none", S2B_NONE)
    long = {d: float(v.mean()) for d, v in acc.items() if d >= S2_DELAY}
    if not long:
        return _not_run("no d >= 18 with a published value (or no none mode) in this run")
    d0 = max(long, key=long.get)
    size = all(m < CHANCE for m in long.values())  # the published 52.7-52.8 % are chance
    sign = long[max(long)] < CHANCE  # at chance at the longest delay, if not from d = 18 on
    detail = ", ".join(f"d {d}: {_pct(m)}" for d, m in long.items()) + f" (chance < {CHANCE})"
    return Measurement(long[d0], _sd(acc[d0]), len(acc[d0]), verdict(size, sign), detail)


def s2b_floss_18(mode: str):
    def measure(data: xr.Dataset, params: dict) -> Measurement:
        acc = _by_delay(data, "final_accuracy", mode, S2B_FLOSS)
        if S2_DELAY not in acc:
            return _not_run(f"no d = 18 {mode} run")
        v = acc[S2_DELAY]
        m = float(v.mean())
        size = abs(m - S2B_FLOSS[S2_DELAY]) <= ACC_TOL
        sign = m >= CHANCE  # at chance (e.g. 0.5) is not learned
        none = _by_delay(data, "final_accuracy", "none", S2B_FLOSS).get(S2_DELAY)
        if none is not None:
            sign = sign and m > float(none.mean())
        detail = f"mean {_pct(m)} (published 98.7 % ±0.5)" + (
            f"; no flossing {_pct(float(none.mean()))}" if none is not None else ""
        )
        return Measurement(m, _sd(v), len(v), verdict(size, sign), detail)

    return measure


def s2b_floss_profile(mode: str):
    def measure(data: xr.Dataset, params: dict) -> Measurement:
        acc = _by_delay(data, "final_accuracy", mode, S2B_FLOSS)
        if not acc:
            return _not_run(f"no {mode} run at a published delay")
        mean = {d: float(v.mean()) for d, v in acc.items()}
        dev = {d: abs(m - S2B_FLOSS[d]) for d, m in mean.items()}
        d0 = max(dev, key=dev.get)
        none = {
            d: float(v.mean()) for d, v in _by_delay(data, "final_accuracy", "none", acc).items()
        }
        sign = all(m >= CHANCE for m in mean.values()) and all(
            mean[d] > n for d, n in none.items() if n < CHANCE
        )
        detail = ", ".join(f"d {d}: {_pct(m)} ({_pct(S2B_FLOSS[d])})" for d, m in mean.items())
        return Measurement(
            dev[d0], math.nan, len(acc[d0]), verdict(dev[d0] <= ACC_TOL, sign), detail
        )

    return measure


def _grad_levels(data: xr.Dataset, mode: str) -> dict[int, tuple[float, float, int]]:
    """log10 geometric mean over networks, its s.d. (decades) and n, per published delay."""
    out = {}
    for d, v in _by_delay(data, "mean_grad_norm_h0", mode, S2_GRAD_NONE).items():
        lv = _log10(v)
        out[d] = (float(lv.mean()), _sd(lv), len(lv))
    return out


def s2d_none(data: xr.Dataset, params: dict) -> Measurement:
    lev = _grad_levels(data, "none")
    if not lev:
        return _not_run("no none run at a published delay")
    dev = {d: abs(v[0] - math.log10(S2_GRAD_NONE[d])) for d, v in lev.items()}
    d0 = max(dev, key=dev.get)
    size = dev[d0] <= GRAD_DEC
    short, long = min(lev), max(lev)
    if S2_GRAD_NONE[long] < S2_GRAD_NONE[short]:  # the published collapse with d
        sign = lev[long][0] < lev[short][0]
    else:
        sign = size
    detail = ", ".join(
        f"d {d}: {v[0]:.2f} ({math.log10(S2_GRAD_NONE[d]):.2f})" for d, v in lev.items()
    )
    return Measurement(dev[d0], math.nan, lev[d0][2], verdict(size, sign), "log10 " + detail)


def s2d_floss(mode: str):
    def measure(data: xr.Dataset, params: dict) -> Measurement:
        lev = _grad_levels(data, mode)
        if not lev:
            return _not_run(f"no {mode} run at a published delay")
        d0 = min(lev, key=lambda d: lev[d][0])
        lo, hi = S2_GRAD_BAND[0] - GRAD_DEC, S2_GRAD_BAND[1] + GRAD_DEC
        size = all(lo <= v[0] <= hi for v in lev.values())
        none = _grad_levels(data, "none")
        ref = {d: none[d][0] if d in none else math.log10(S2_GRAD_NONE[d]) for d in lev}
        sign = all(lev[d][0] > ref[d] for d in lev)
        detail = ", ".join(f"d {d}: {v[0]:.2f} (none {ref[d]:.2f})" for d, v in lev.items())
        m = lev[d0]
        return Measurement(m[0], m[1], m[2], verdict(size, sign), "log10 " + detail)

    return measure


# --- S3 ----------------------------------------------------------------------------------------
def s3_spectrum(data: xr.Dataset, params: dict) -> Measurement:
    k = int(params["k"])
    before = np.abs(data["lyapunov_before"].values[:, :k].astype(float)).mean(1)
    after = np.abs(data["lyapunov_after"].values[:, :k].astype(float)).mean(1)
    b, a = float(before.mean()), float(after.mean())
    detail = f"mean |lambda_i<={k}| {b:.4f} before -> {a:.4f} after"
    return Measurement(a, _sd(after), len(after), verdict(False, a < b, True), detail)


def s3_window(data: xr.Dataset, params: dict) -> Measurement:
    lam = np.abs(data["lambda_k"].values.astype(float))  # (network, flossing_epoch)
    tail = max(1, math.ceil(lam.shape[1] / 10))
    start, end = lam[:, 0], lam[:, -tail:].mean(1)
    s, e = float(start.mean()), float(end.mean())
    detail = f"mean |lambda_k| epoch 1 {s:.4f} -> last {tail} epochs {e:.4f}"
    return Measurement(e, _sd(end), len(end), verdict(False, e < s, True), detail)
